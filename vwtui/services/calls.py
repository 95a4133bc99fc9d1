"""Each mutating AWS call of a recovery, described once: what boto3 is sent and the `aws` line.

An `AwsCall` is a service (boto3's client name), an operation (the API's name) and the
parameters exactly as boto3 takes them. `call.params` is what `AwsService.call` sends;
`call.cli(config)` is the `aws ...` command line that makes the same request, rendered from
those same parameters, so the line shown on screen and written to the journal cannot drift
from the request. tests/test_aws_calls.py parses every builder's line with the AWS CLI's own
parser and compares the result with `call.params`.

Pure: no boto3/botocore here (the recovery plan imports this module for its lines, and the
recovery package stays free of them). The flag names follow botocore's `xform_name`,
reimplemented.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vwtui.config import Config

# The tags every instance a recovery creates carries: made by vwtui, and by which run (the run
# tag is how a resumed run recognises the instance it asked for: adoption).
CREATED_BY_TAG = ("created-by", "vwtui")
RUN_TAG = "vwtui-run"
# RDS limits a tag value to 256 characters.
TAG_VALUE_MAX = 256

# Shown in a line built before the value exists (the plan before the run starts).
RUN_ID_PLACEHOLDER = "<run-id>"


@dataclass(frozen=True, slots=True)
class AwsCall:
    """One AWS request: `params` is what boto3 sends, `cli()` the same request as a CLI line."""

    service: str  # boto3's client name: rds, backup, route53
    operation: str  # the API operation: RestoreDBInstanceToPointInTime
    params: Mapping[str, Any]

    @property
    def cli_operation(self) -> str:
        """The CLI's name of the operation: restore-db-instance-to-point-in-time."""
        return kebab(self.operation)

    def cli(self, config: Config | None = None) -> str:
        """`aws <service> <operation> --param value ...`, then the config's --region,
        --profile and --endpoint-url; every word shell-quoted."""
        words = ["aws", self.service, self.cli_operation]
        for name, value in self.params.items():
            words += _flag(name, value)
        return _join(words, config)


def wait_available_line(config: Config | None, identifier: str) -> str:
    """`aws rds wait db-instance-available ...`: the runbook's wait (a CLI waiter, no API
    operation of its own), rendered like the calls."""
    words = ["aws", "rds", "wait", "db-instance-available",
             *_flag("DBInstanceIdentifier", identifier)]
    return _join(words, config)


def describe_restore_job(job_id: str) -> AwsCall:
    """backup:DescribeRestoreJob (read-only: the wait of scenario 3)."""
    return AwsCall("backup", "DescribeRestoreJob", {"RestoreJobId": job_id})


# ---- the mutating calls: one builder per RecoveryOps method, same name, same arguments -----

def restore_to_point_in_time(source: str, target: str, restore_time: datetime, *,
                             subnet_group: str | None = None,
                             security_groups: Sequence[str] = (),
                             instance_class: str | None = None,
                             run_id: str | None = None,
                             settings: Mapping[str, Any] | None = None) -> AwsCall:
    """rds:RestoreDBInstanceToPointInTime (scenario 1). `run_id` None: no run tag. `settings`:
    more parameters as the API takes them (the source's settings: MultiAZ, ...)."""
    params: dict[str, Any] = {
        "SourceDBInstanceIdentifier": source,
        "TargetDBInstanceIdentifier": target,
        "RestoreTime": restore_time.astimezone(UTC),
    }
    params.update(_new_instance(subnet_group, security_groups, instance_class, run_id,
                                settings))
    return AwsCall("rds", "RestoreDBInstanceToPointInTime", params)


def restore_from_snapshot(snapshot_id: str, target: str, *, subnet_group: str | None = None,
                          security_groups: Sequence[str] = (),
                          instance_class: str | None = None,
                          run_id: str | None = None,
                          settings: Mapping[str, Any] | None = None) -> AwsCall:
    """rds:RestoreDBInstanceFromDBSnapshot (scenario 2). `run_id` None: no run tag."""
    params: dict[str, Any] = {"DBInstanceIdentifier": target,
                              "DBSnapshotIdentifier": snapshot_id}
    params.update(_new_instance(subnet_group, security_groups, instance_class, run_id,
                                settings))
    return AwsCall("rds", "RestoreDBInstanceFromDBSnapshot", params)


def start_restore_job(recovery_point_arn: str, metadata: Mapping[str, str], *,
                      role_arn: str) -> AwsCall:
    """backup:StartRestoreJob of an RDS recovery point (scenario 3). AWS Backup takes every
    metadata value as a string (lists JSON-encoded: see plan.restore_job_metadata)."""
    return AwsCall("backup", "StartRestoreJob", {
        "RecoveryPointArn": recovery_point_arn,
        "IamRoleArn": role_arn,
        "Metadata": dict(metadata),
        "ResourceType": "RDS",
    })


def rename_instance(identifier: str, new_identifier: str) -> AwsCall:
    """rds:ModifyDBInstance with NewDBInstanceIdentifier, applied immediately (swap B)."""
    return AwsCall("rds", "ModifyDBInstance", {
        "DBInstanceIdentifier": identifier,
        "NewDBInstanceIdentifier": new_identifier,
        "ApplyImmediately": True,
    })


def modify_instance(identifier: str, settings: Mapping[str, Any]) -> AwsCall:
    """rds:ModifyDBInstance of the run's own instance with `settings` (the source's settings
    a restore could not take, or the parity step's fixes), applied immediately."""
    params: dict[str, Any] = {"DBInstanceIdentifier": identifier, **settings,
                              "ApplyImmediately": True}
    return AwsCall("rds", "ModifyDBInstance", params)


def add_tags(arn: str, tags: Sequence[tuple[str, str]]) -> AwsCall:
    """rds:AddTagsToResource: the source's tags on the run's own instance."""
    return AwsCall("rds", "AddTagsToResource", {
        "ResourceName": arn, "Tags": [{"Key": k, "Value": v} for k, v in tags]})


def disable_deletion_protection(identifier: str) -> AwsCall:
    """rds:ModifyDBInstance turning deletion protection off (cleanup of an `-old-` instance
    that kept the source's protection), applied immediately."""
    return AwsCall("rds", "ModifyDBInstance", {"DBInstanceIdentifier": identifier,
                                               "DeletionProtection": False,
                                               "ApplyImmediately": True})


def upsert_record(zone_id: str, record: str, value: str, *, ttl: int) -> AwsCall:
    """route53:ChangeResourceRecordSets, one CNAME UPSERT of `record` to `value` (swap A)."""
    return AwsCall("route53", "ChangeResourceRecordSets", {
        "HostedZoneId": zone_id,
        "ChangeBatch": {"Comment": "vwtui recovery swap", "Changes": [{
            "Action": "UPSERT",
            "ResourceRecordSet": {"Name": dotted(record), "Type": "CNAME", "TTL": ttl,
                                  "ResourceRecords": [{"Value": value}]}}]},
    })


def delete_instance(identifier: str, *, skip_final_snapshot: bool = False,
                    now: datetime) -> AwsCall:
    """rds:DeleteDBInstance, with a final snapshot named from `now` unless skipped."""
    params: dict[str, Any] = {"DBInstanceIdentifier": identifier}
    if not skip_final_snapshot:
        params["FinalDBSnapshotIdentifier"] = final_snapshot_identifier(identifier, now)
    params["SkipFinalSnapshot"] = skip_final_snapshot
    return AwsCall("rds", "DeleteDBInstance", params)


# ---- back under protection (issue 13, part 3): the fixes of the instance now serving --------

def add_to_backup_selection(plan_id: str, selection_name: str, role_arn: str,
                            resource_arns: Sequence[str], *,
                            request_id: str | None = None) -> AwsCall:
    """backup:CreateBackupSelection: a selection of the plan listing `resource_arns` by ARN
    (AWS Backup cannot edit a selection in place; a second one adds to what the plan backs
    up). `request_id` (CreatorRequestId) makes a retry of the same fix idempotent."""
    params: dict[str, Any] = {
        "BackupPlanId": plan_id,
        "BackupSelection": {"SelectionName": selection_name, "IamRoleArn": role_arn,
                            "Resources": list(resource_arns)},
    }
    if request_id:
        params["CreatorRequestId"] = request_id
    return AwsCall("backup", "CreateBackupSelection", params)


def tag_instance(instance_arn: str, tags: Sequence[tuple[str, str]]) -> AwsCall:
    """rds:AddTagsToResource: the tags a backup selection by tag looks for (the same call as
    `add_tags`, under the protection step's name)."""
    return add_tags(instance_arn, tags)


def put_metric_alarm(alarm: Mapping[str, Any]) -> AwsCall:
    """cloudwatch:PutMetricAlarm with the alarm's whole definition (it replaces the alarm)."""
    return AwsCall("cloudwatch", "PutMetricAlarm", dict(alarm))


def enable_deletion_protection(identifier: str) -> AwsCall:
    """rds:ModifyDBInstance with DeletionProtection, applied immediately."""
    return AwsCall("rds", "ModifyDBInstance", {
        "DBInstanceIdentifier": identifier,
        "DeletionProtection": True,
        "ApplyImmediately": True,
    })


def set_backup_retention(identifier: str, days: int) -> AwsCall:
    """rds:ModifyDBInstance with BackupRetentionPeriod (automated backups, the PITR window),
    applied immediately."""
    return AwsCall("rds", "ModifyDBInstance", {
        "DBInstanceIdentifier": identifier,
        "BackupRetentionPeriod": days,
        "ApplyImmediately": True,
    })


# Every mutating call, by the name of the RecoveryOps method that makes it. A builder added
# without an entry here, or an entry without a case in the CLI parse test, fails the tests.
MUTATING: dict[str, Callable[..., AwsCall]] = {
    "restore_to_point_in_time": restore_to_point_in_time,
    "restore_from_snapshot": restore_from_snapshot,
    "start_restore_job": start_restore_job,
    "rename_instance": rename_instance,
    "upsert_record": upsert_record,
    "delete_instance": delete_instance,
    "add_to_backup_selection": add_to_backup_selection,
    "tag_instance": tag_instance,
    "put_metric_alarm": put_metric_alarm,
    "enable_deletion_protection": enable_deletion_protection,
    "set_backup_retention": set_backup_retention,
    "modify_instance": modify_instance,
    "add_tags": add_tags,
    "disable_deletion_protection": disable_deletion_protection,
}


# ---- the manual backup of troubleshooting ("Manually trigger backup if necessary") ---------

# The tag a manual backup carries, valued with its action id: how a lost answer is found in
# AWS before the backup is asked for again.
ACTION_TAG = "vwtui-action"


def start_backup_job(vault: str, resource_arn: str, *, role_arn: str, action_id: str,
                     delete_after_days: int | None = None) -> AwsCall:
    """backup:StartBackupJob, an on-demand job of one resource into the plan's vault with the
    plan's role. The action id is the idempotency token (AWS answers a repeat of the same
    token with the same job) and tags the recovery point."""
    params: dict[str, Any] = {
        "BackupVaultName": vault,
        "ResourceArn": resource_arn,
        "IamRoleArn": role_arn,
        "IdempotencyToken": action_id,
    }
    if delete_after_days:
        params["Lifecycle"] = {"DeleteAfterDays": delete_after_days}
    params["RecoveryPointTags"] = {CREATED_BY_TAG[0]: CREATED_BY_TAG[1],
                                   ACTION_TAG: action_id[:TAG_VALUE_MAX]}
    return AwsCall("backup", "StartBackupJob", params)


def create_db_snapshot(instance: str, snapshot_id: str, *, action_id: str) -> AwsCall:
    """rds:CreateDBSnapshot, a manual snapshot named <instance>-manual-YYYYMMDDHHMM."""
    return AwsCall("rds", "CreateDBSnapshot", {
        "DBSnapshotIdentifier": snapshot_id,
        "DBInstanceIdentifier": instance,
        "Tags": [{"Key": CREATED_BY_TAG[0], "Value": CREATED_BY_TAG[1]},
                 {"Key": ACTION_TAG, "Value": action_id[:TAG_VALUE_MAX]}],
    })


def describe_backup_job(job_id: str) -> AwsCall:
    """backup:DescribeBackupJob (read-only: following a manual backup job)."""
    return AwsCall("backup", "DescribeBackupJob", {"BackupJobId": job_id})


def describe_db_snapshot(snapshot_id: str) -> AwsCall:
    """rds:DescribeDBSnapshots of one snapshot (read-only: following a manual snapshot)."""
    return AwsCall("rds", "DescribeDBSnapshots", {"DBSnapshotIdentifier": snapshot_id})


# The mutating calls of troubleshooting, by the name of the ManualBackupOps method that makes
# each (held by the same tests as MUTATING).
BACKUP_MUTATING: dict[str, Callable[..., AwsCall]] = {
    "start_backup_job": start_backup_job,
    "create_db_snapshot": create_db_snapshot,
}


def manual_snapshot_identifier(instance: str, now: datetime) -> str:
    """A manual snapshot taken from troubleshooting: <instance>-manual-YYYYMMDDHHMM."""
    return f"{instance}-manual-{now.astimezone(UTC):%Y%m%d%H%M}"


# ---- names ---------------------------------------------------------------------------------

def final_snapshot_identifier(identifier: str, now: datetime) -> str:
    """The final snapshot taken before a delete: <identifier>-final-YYYYMMDDHHMM."""
    return f"{identifier}-final-{now.astimezone(UTC):%Y%m%d%H%M}"


def retired_identifier(source: str, now: datetime) -> str:
    """The name the rename swap gives the instance it replaces: <source>-old-YYYYMMDDHHMM."""
    return f"{source}-old-{now.astimezone(UTC):%Y%m%d%H%M}"


def dotted(name: str) -> str:
    """A DNS name with its trailing dot, as Route53 stores it."""
    return name if name.endswith(".") else name + "."


def recovery_tags(run_id: str | None) -> list[dict[str, str]]:
    """The tags of an instance a recovery creates (no run tag when the run id is None)."""
    tags = [{"Key": CREATED_BY_TAG[0], "Value": CREATED_BY_TAG[1]}]
    if run_id:
        tags.append({"Key": RUN_TAG, "Value": run_id[:TAG_VALUE_MAX]})
    return tags


def _new_instance(subnet_group: str | None, security_groups: Sequence[str],
                  instance_class: str | None, run_id: str | None,
                  settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The parameters both RDS restores share; absent ones are AWS's default. The source's
    tags (in `settings`) come first, then the run's own."""
    settings = dict(settings or {})
    source_tags = list(settings.pop("Tags", None) or [])
    params: dict[str, Any] = dict(settings)
    if instance_class:
        params["DBInstanceClass"] = instance_class
    if subnet_group:
        params["DBSubnetGroupName"] = subnet_group
    if security_groups:
        params["VpcSecurityGroupIds"] = list(security_groups)
    own = {t["Key"] for t in recovery_tags(run_id)}
    params["Tags"] = [t for t in source_tags if t["Key"] not in own] + recovery_tags(run_id)
    return params


# ---- rendering -----------------------------------------------------------------------------

# botocore.xform_name's rules (the CLI names its operations and options with them).
_FIRST_CAP = re.compile(r"(.)([A-Z][a-z]+)")
_END_CAP = re.compile(r"([a-z0-9])([A-Z])")
_TRAILING_CAPS_PLURAL = re.compile(r"[A-Z]{2,}s$")  # "ARNs" -> "-arns"
# A shorthand word the CLI parses back unchanged (no quoting, escaping or separators).
_SHORTHAND_SAFE = re.compile(r"[A-Za-z0-9_.:/@<>+-]+")


def kebab(name: str) -> str:
    """An API name as the CLI spells it: DBInstanceIdentifier -> db-instance-identifier."""
    special = _TRAILING_CAPS_PLURAL.search(name)
    if special is not None:
        name = f"{name[:-len(special.group())]}-{special.group().lower()}"
    return _END_CAP.sub(r"\1-\2", _FIRST_CAP.sub(r"\1-\2", name)).lower()


def _flag(name: str, value: Any) -> list[str]:
    """The CLI words for one parameter (unquoted)."""
    flag = "--" + kebab(name)
    if isinstance(value, bool):
        return [flag] if value else ["--no-" + kebab(name)]
    if isinstance(value, datetime):
        return [flag, iso_z(value)]
    if isinstance(value, (str, int, float)):
        return [flag, str(value)]
    if isinstance(value, Mapping):
        return [flag, _json(value)]
    if isinstance(value, Sequence):
        items = list(value)
        if all(isinstance(v, str) for v in items):
            return [flag, *items]
        if all(_shorthand_ok(v) for v in items):
            return [flag, *(",".join(f"{k}={v}" for k, v in item.items()) for item in items)]
        return [flag, _json(items)]
    raise TypeError(f"No CLI rendering for {name}={value!r}")


def _shorthand_ok(item: object) -> bool:
    """A flat structure of plain words: Key=created-by,Value=vwtui."""
    return isinstance(item, Mapping) and bool(item) and all(
        isinstance(k, str) and isinstance(v, str) and _SHORTHAND_SAFE.fullmatch(k)
        and _SHORTHAND_SAFE.fullmatch(v) for k, v in item.items())


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), default=_json_default)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return iso_z(value)
    raise TypeError(f"No JSON rendering for {value!r}")


def _join(words: list[str], config: Config | None) -> str:
    if config is not None:
        for flag, value in (("--region", config.aws.region),
                            ("--profile", config.aws.profile),
                            ("--endpoint-url", config.aws.endpoint_url)):
            if value:
                words += [flag, value]
    return " ".join(shlex.quote(w) for w in words)


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z (seconds, or microseconds when there are any)."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S") if utc.microsecond == 0 else \
        utc.isoformat(timespec="microseconds").split("+")[0]
    return text + "Z"
