"""Every mutating AWS call's CLI line is the same request as its boto3 parameters.

Each builder's `call.cli(config)` is run through the AWS CLI's own parser (awscli 1.46,
`create_clidriver()`), stopped before any HTTP request: the parameters the CLI would hand
botocore, after its shorthand/JSON parsing and customizations, and validated by the service
model, must equal `call.params`. The CLI runs in a child interpreter: importing awscli
redirects the top-level `botocore` import to its own vendored copy, which must not leak into
the test process's boto3.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from vwtui.config import AwsConfig, Config
from vwtui.recovery.plan import restore_job_metadata
from vwtui.services import backup_ops, calls, diagnostics, recovery_ops
from vwtui.services.calls import RUN_ID_PLACEHOLDER, AwsCall, iso_z

TARGET = "video-window-recovery-202511111200"
WHEN = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
RUN_ID = f"20251111T120000Z-{TARGET}-4242"
GROUPS = ("sg-0a1b2c3d4e5f60718", "sg-0f1e2d3c4b5a69788")
POINT = "arn:aws:backup:eu-west-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B"
ROLE = "arn:aws:iam::123456789012:role/video-window-backup-role"
PROFILE = "vwtui-parse-test"

# A source instance with every setting the catalog knows set (normalised, as read).
SOURCE_SETTINGS: dict[str, Any] = {
    "DBInstanceClass": "db.r6g.large", "MultiAZ": True,
    "DBParameterGroupName": "video-window-postgres16", "OptionGroupName": "video-window-og",
    "DBSubnetGroupName": "video-window-db-subnets", "VpcSecurityGroupIds": GROUPS,
    "Port": 5433, "PubliclyAccessible": False, "StorageType": "io2", "AllocatedStorage": 500,
    "Iops": 12000, "StorageThroughput": None, "MaxAllocatedStorage": 1000,
    "EnableIAMDatabaseAuthentication": True,
    "EnableCloudwatchLogsExports": ("postgresql", "upgrade"), "CopyTagsToSnapshot": True,
    "AutoMinorVersionUpgrade": False, "CACertificateIdentifier": "rds-ca-rsa2048-g1",
    "NetworkType": "IPV4", "BackupRetentionPeriod": 14, "PreferredBackupWindow": "03:00-04:00",
    "PreferredMaintenanceWindow": "sun:04:30-sun:05:00", "MonitoringInterval": 60,
    "MonitoringRoleArn": "arn:aws:iam::123456789012:role/rds-monitoring",
    "EnablePerformanceInsights": True,
    "PerformanceInsightsKMSKeyId": "arn:aws:kms:eu-west-1:123456789012:key/abc",
    "PerformanceInsightsRetentionPeriod": 731,
    "Tags": (("Application", "video-window"), ("Cost Center", "video, window")),
    "StorageEncrypted": True, "DeletionProtection": True, "EngineVersion": "16.4",
    "AvailabilityZone": "eu-west-1a",
}


def _settings(path: str) -> dict[str, Any]:
    from vwtui.instance_settings import RestorePath, restore_choices

    return {c.key: c.value for c in restore_choices(SOURCE_SETTINGS, RestorePath(path), {},
                                                    {"DeletionProtection": False})
            if c.key not in ("DBInstanceClass", "DBSubnetGroupName", "VpcSecurityGroupIds")}


def _all_fixes() -> dict[str, Any]:
    from vwtui.instance_settings import after_restore

    params, _ = after_restore(SOURCE_SETTINGS, __import__(
        "vwtui.instance_settings", fromlist=["RestorePath"]).RestorePath.SNAPSHOT, {})
    return {**params, "MultiAZ": True, "DBPortNumber": 5433, "DBParameterGroupName": "pg",
            "CloudwatchLogsExportConfiguration": {"EnableLogTypes": ["postgresql"],
                                                  "DisableLogTypes": ["upgrade"]},
            "EnableIAMDatabaseAuthentication": True, "CopyTagsToSnapshot": False,
            "VpcSecurityGroupIds": list(GROUPS)}


# At least one case per mutating call (test_every_mutating_call_has_a_case holds it).
CASES: dict[str, list[AwsCall]] = {
    "restore_to_point_in_time": [
        calls.restore_to_point_in_time(
            "video-window", TARGET, datetime(2025, 11, 11, 11, 0, tzinfo=UTC),
            subnet_group="video-window-db-subnets", security_groups=GROUPS,
            instance_class="db.t3.medium", run_id=RUN_ID),
        # Microseconds, no options, no run tag.
        calls.restore_to_point_in_time("video-window", TARGET,
                                       datetime(2025, 11, 11, 11, 0, 5, 250000, tzinfo=UTC)),
        # The plan's line, before the run id exists.
        calls.restore_to_point_in_time("video-window", TARGET, WHEN, run_id=RUN_ID_PLACEHOLDER),
        # A tag value the shorthand cannot carry: the line falls back to JSON.
        calls.restore_to_point_in_time("video-window", TARGET, WHEN,
                                       run_id="a run, with=odd 'chars'"),
        # Every setting the restore takes, from the source (a tag with a space and a comma).
        calls.restore_to_point_in_time("video-window", TARGET, WHEN, run_id=RUN_ID,
                                       subnet_group="video-window-db-subnets",
                                       security_groups=GROUPS, instance_class="db.r6g.large",
                                       settings=_settings("pitr")),
    ],
    "restore_from_snapshot": [
        calls.restore_from_snapshot(
            "rds:video-window-2025-11-11-03-00", TARGET, subnet_group="video-window-db-subnets",
            security_groups=GROUPS, instance_class="db.t3.medium", run_id=RUN_ID),
        calls.restore_from_snapshot("rds:video-window-2025-11-11-03-00", TARGET, run_id=RUN_ID,
                                    settings=_settings("snapshot")),
    ],
    "start_restore_job": [
        calls.start_restore_job(
            POINT, restore_job_metadata(TARGET, "db.t3.medium", "video-window-db-subnets",
                                        GROUPS), role_arn=ROLE),
        calls.start_restore_job(POINT, restore_job_metadata(TARGET, None, None, ()),
                                role_arn=ROLE),
        calls.start_restore_job(POINT, restore_job_metadata(
            TARGET, "db.r6g.large", "video-window-db-subnets", GROUPS,
            _settings("aws-backup")), role_arn=ROLE),
    ],
    "modify_instance": [
        calls.modify_instance(TARGET, _all_fixes()),
        calls.modify_instance(TARGET, {"PreferredMaintenanceWindow": "sun:04:30-sun:05:00"}),
    ],
    "add_tags": [
        calls.add_tags(f"arn:aws:rds:eu-west-1:123456789012:db:{TARGET}",
                       [("Application", "video-window"), ("Cost Center", "video, window")]),
    ],
    "disable_deletion_protection": [
        calls.disable_deletion_protection("video-window-old-202511111200"),
    ],
    "rename_instance": [calls.rename_instance("video-window", "video-window-old-202511111200")],
    "upsert_record": [
        calls.upsert_record("Z0123456789ABCDEFGHIJ", "db.videowindow.internal",
                            f"{TARGET}.abcdefghijkl.eu-west-1.rds.amazonaws.com", ttl=60),
    ],
    "delete_instance": [
        calls.delete_instance("video-window-old-202511111200", now=WHEN),
        calls.delete_instance(TARGET, skip_final_snapshot=True, now=WHEN),
    ],
    "add_to_backup_selection": [
        calls.add_to_backup_selection(
            "8a1c5e6f-1111-4222-8333-944455556666", f"vwtui-{TARGET}", ROLE,
            [f"arn:aws:rds:eu-west-1:123456789012:db:{TARGET}"],
            request_id=f"{RUN_ID}-protection"),
    ],
    "tag_instance": [
        calls.tag_instance(f"arn:aws:rds:eu-west-1:123456789012:db:{TARGET}",
                           [("BackupPlan", "video-window-database-backup-plan")]),
    ],
    "put_metric_alarm": [
        # The runbook's backup-age alarm moved to the new instance, every setting kept.
        calls.put_metric_alarm({
            "AlarmName": "video-window-backup-age",
            "AlarmDescription": "Newest backup of video-window is older than 25 hours.",
            "ActionsEnabled": True,
            "OKActions": ["arn:aws:sns:eu-west-1:123456789012:video-window-backup-notifications"],
            "AlarmActions": [
                "arn:aws:sns:eu-west-1:123456789012:video-window-backup-notifications"],
            "MetricName": "TimeSinceLastBackup", "Namespace": "VideoWindow/Backup",
            "Statistic": "Maximum",
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": TARGET}],
            "Period": 3600, "Unit": "Seconds", "EvaluationPeriods": 1, "Threshold": 90000.0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "breaching"}),
    ],
    "enable_deletion_protection": [calls.enable_deletion_protection(TARGET)],
    "set_backup_retention": [calls.set_backup_retention(TARGET, 7)],
}
# The manual backup of troubleshooting (calls.BACKUP_MUTATING, ManualBackupOps' methods).
ACTION_ID = "backup-job-video-window-20251111T120000Z"
RDS_ARN = "arn:aws:rds:eu-west-1:123456789012:db:video-window"
BACKUP_CASES: dict[str, list[AwsCall]] = {
    "start_backup_job": [
        calls.start_backup_job("video-window-backup-vault", RDS_ARN, role_arn=ROLE,
                               action_id=ACTION_ID, delete_after_days=30),
        calls.start_backup_job("video-window-backup-vault", RDS_ARN, role_arn=ROLE,
                               action_id=ACTION_ID),
    ],
    "create_db_snapshot": [
        calls.create_db_snapshot(
            "video-window", calls.manual_snapshot_identifier("video-window", WHEN),
            action_id="rds-snapshot-video-window-20251111T120000Z"),
    ],
}
# The read-only lines the plan shows, parsed the same way.
READ_ONLY = [calls.describe_restore_job("4E2C1F7A-0B4D-4A8E-9C3B-0D1E2F3A4B5C"),
             calls.describe_backup_job("4E2C1F7A-0B4D-4A8E-9C3B-0D1E2F3A4B5D"),
             calls.describe_db_snapshot("video-window-manual-202511111200")]

CONFIG = Config(aws=AwsConfig(region="eu-west-1", profile=PROFILE,
                              endpoint_url="http://127.0.0.1:9"))

# Runs in the child: each argv through the CLI driver; the API parameters captured when the
# CLI hands them to botocore, then stopped at before-call (after the model's validation and
# serialisation, before any HTTP request).
_PARSER = r"""
import json, sys
from awscli.clidriver import create_clidriver

class Stop(Exception):
    pass

out = []
for argv in json.load(sys.stdin):
    seen = {}
    driver = create_clidriver()
    events = driver.session.get_component("event_emitter")

    def capture(params, model, **kwargs):
        seen["operation"] = model.name
        seen["params"] = json.loads(json.dumps(params, default=str))
        # Members botocore fills itself (an idempotency token), for boto3 as for the CLI.
        seen["filled"] = [name for name, shape in model.input_shape.members.items()
                          if shape.metadata.get("idempotencyToken")]

    def stop(**kwargs):
        seen["validated"] = True
        raise Stop()

    events.register_last("before-parameter-build", capture)
    events.register_last("before-call", stop)
    driver.main(argv)
    out.append(seen)
print(json.dumps(out))
"""


def parse_with_aws_cli(lines: list[str], tmp_path: Path) -> list[dict[str, Any]]:
    """What the AWS CLI would send for each line (see _PARSER)."""
    import shlex

    pytest.importorskip("awscli")
    config_file = tmp_path / "aws-config"
    config_file.write_text(f"[profile {PROFILE}]\nregion = eu-west-1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(config_file),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_EC2_METADATA_DISABLED="true")
    argvs = []
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "aws", line
        argvs.append(words[1:])
    done = subprocess.run([sys.executable, "-c", _PARSER], input=json.dumps(argvs), env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    parsed: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    for line, seen in zip(lines, parsed, strict=True):
        assert seen.get("validated"), f"the AWS CLI refused:\n{line}\n{done.stderr}"
    return parsed


def as_sent(expected: Any, parsed: Any) -> Any:
    """`parsed` with the CLI's timestamp strings read as times where boto3 is sent a time
    (the CLI hands botocore the text; botocore serialises both the same way)."""
    if isinstance(expected, datetime) and isinstance(parsed, str):
        return datetime.fromisoformat(parsed.replace("Z", "+00:00"))
    if isinstance(expected, Mapping) and isinstance(parsed, dict):
        return {k: as_sent(expected.get(k), v) for k, v in parsed.items()}
    if isinstance(expected, list) and isinstance(parsed, list) and len(expected) == len(parsed):
        return [as_sent(e, p) for e, p in zip(expected, parsed, strict=True)]
    return parsed


def typed(value: Any) -> str:
    """A comparison that tells True from 1 and "60" from 60."""
    return json.dumps(value, sort_keys=True, default=lambda v: ["datetime", iso_z(v)])


def test_every_mutating_call_has_a_case() -> None:
    assert set(CASES) == set(calls.MUTATING)
    # And every builder is one RecoveryOps method's call: same name, same leading arguments.
    for name, builder in calls.MUTATING.items():
        method = getattr(recovery_ops.RecoveryOps, name)
        positional = [p.name for p in inspect.signature(builder).parameters.values()
                      if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert list(inspect.signature(method).parameters)[1:len(positional) + 1] == positional
    assert set(BACKUP_CASES) == set(calls.BACKUP_MUTATING)
    for name, builder in calls.BACKUP_MUTATING.items():
        method = getattr(backup_ops.ManualBackupOps, name)
        assert list(inspect.signature(method).parameters)[1:] == \
            list(inspect.signature(builder).parameters)


def test_every_cli_line_parses_to_the_parameters_the_call_sends(tmp_path: Path) -> None:
    cases = [call for name in calls.MUTATING for call in CASES[name]] + READ_ONLY + \
        [call for name in calls.BACKUP_MUTATING for call in BACKUP_CASES[name]]
    parsed = parse_with_aws_cli([call.cli(CONFIG) for call in cases], tmp_path)
    for call, seen in zip(cases, parsed, strict=True):
        line = call.cli(CONFIG)
        assert seen["operation"] == call.operation, line
        sent = {k: v for k, v in seen["params"].items()
                if k in call.params or k not in seen["filled"]}
        assert typed(as_sent(call.params, sent)) == typed(call.params), line


def test_the_lines_carry_what_the_drift_had_lost() -> None:
    restore = CASES["restore_to_point_in_time"][0].cli(CONFIG)
    assert f"--tags Key=created-by,Value=vwtui Key=vwtui-run,Value={RUN_ID}" in restore
    assert f"--vpc-security-group-ids {GROUPS[0]} {GROUPS[1]}" in restore
    assert restore.endswith(f"--region eu-west-1 --profile {PROFILE} "
                            f"--endpoint-url http://127.0.0.1:9")
    assert "'Key=vwtui-run,Value=<run-id>'" in CASES["restore_to_point_in_time"][2].cli(CONFIG)
    assert "--resource-type RDS" in CASES["start_restore_job"][0].cli(CONFIG)
    snapshot = BACKUP_CASES["create_db_snapshot"][0].cli(CONFIG)
    assert snapshot.startswith("aws rds create-db-snapshot --db-snapshot-identifier "
                               "video-window-manual-202511111200 --db-instance-identifier "
                               "video-window --tags Key=created-by,Value=vwtui ")
    job = BACKUP_CASES["start_backup_job"][0].cli(CONFIG)
    assert f"--idempotency-token {ACTION_ID}" in job
    assert "--lifecycle '{\"DeleteAfterDays\":30}'" in job


def test_the_wait_line_is_the_cli_waiter() -> None:
    assert calls.wait_available_line(CONFIG, TARGET) == (
        f"aws rds wait db-instance-available --db-instance-identifier {TARGET} "
        f"--region eu-west-1 --profile {PROFILE} --endpoint-url http://127.0.0.1:9")


@pytest.mark.parametrize("module", [recovery_ops, backup_ops, diagnostics],
                         ids=["recovery_ops", "backup_ops", "diagnostics"])
def test_recovery_ops_sends_mutations_only_through_an_aws_call(module: Any) -> None:
    # Every literal `self.aws.call("service", "Operation", ...)` (or `.paginate`) left in
    # RecoveryOps, ManualBackupOps and the diagnostics reads; a mutation goes through
    # `_send(call)`, whose parameters are the CLI line's.
    tree = ast.parse(inspect.getsource(module))
    literal_ops = [str(node.args[1].value) for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                   and node.func.attr in ("call", "paginate") and len(node.args) >= 2
                   and isinstance(node.args[1], ast.Constant)]
    assert literal_ops, "the scan found no calls at all"
    assert all(op.startswith(("Describe", "List", "Get")) for op in literal_ops), literal_ops


def test_cli_command_is_the_rendering_of_the_call_the_method_makes() -> None:
    from vwtui.services.aws import AwsService

    ops = recovery_ops.RecoveryOps(AwsService(CONFIG), now=lambda: WHEN)
    assert ops.cli_command("restore_to_point_in_time", "video-window", TARGET, WHEN,
                           security_groups=GROUPS, run_id=RUN_ID) == \
        calls.restore_to_point_in_time("video-window", TARGET, WHEN, security_groups=GROUPS,
                                       run_id=RUN_ID).cli(CONFIG)
    # Without the run id (the runner does not pass it yet) the line says so, never omits it.
    assert "Value=<run-id>" in ops.cli_command("restore_from_snapshot", "snap", TARGET)
    assert ops.cli_command("delete_instance", TARGET) == \
        calls.delete_instance(TARGET, now=WHEN).cli(CONFIG)
    assert ops.cli_command("upsert_record", "Z1", "db.example", "new.example") == \
        calls.upsert_record("Z1", "db.example", "new.example", ttl=CONFIG.dns.ttl).cli(CONFIG)
    assert ops.aws_call("start_restore_job", POINT, {"DBInstanceIdentifier": TARGET}) \
        .params["IamRoleArn"] == CONFIG.backup.restore_role_arn


def test_the_restores_carry_the_source_settings_and_backup_never_sends_multi_az_false() -> None:
    pitr = CASES["restore_to_point_in_time"][-1].params
    assert pitr["MultiAZ"] is True and pitr["DBParameterGroupName"] == "video-window-postgres16"
    assert pitr["EnableCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert pitr["DeletionProtection"] is False  # on again after the swap, not before
    assert {"Key": "Cost Center", "Value": "video, window"} in pitr["Tags"]
    assert pitr["Tags"][-2:] == [{"Key": "created-by", "Value": "vwtui"},
                                 {"Key": "vwtui-run", "Value": RUN_ID}]
    metadata = CASES["start_restore_job"][-1].params["Metadata"]
    assert metadata["MultiAZ"] == "true"
    assert metadata["EnableCloudwatchLogsExports"] == '["postgresql","upgrade"]'
    assert all(isinstance(v, str) for v in metadata.values())
    assert "MultiAZ" not in CASES["start_restore_job"][1].params["Metadata"]
