"""An RDS instance's configuration, setting by setting: what a restore carries over from the
source, what a modify-db-instance applies afterwards, and how the new instance compares.

Pure: no boto3 here (services, the plan and the parity step all use it). Which parameters each
restore API accepts was read from botocore's service model (botocore 1.44:
`get_service_model('rds').operation_model(op).input_shape.members`);
tests/test_instance_settings.py compares RESTORE_ACCEPTS with that model, so a botocore that
adds or drops one fails the tests instead of silently changing what is sent.

A setting's value is normalised as read from DescribeDBInstances: lists become sorted tuples,
tags a sorted tuple of (key, value) pairs without vwtui's own tags (the run's marks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# The tags a recovery puts on what it creates (also in services.calls): the run's marks, never
# a difference from the source.
_OWN_TAG_KEYS = frozenset({"created-by", "vwtui-run"})


class Verdict(StrEnum):
    MUST_MATCH = "must match"
    MAY_DIFFER = "may differ"
    ON_PURPOSE = "differs on purpose"


class RestorePath(StrEnum):
    PITR = "pitr"
    SNAPSHOT = "snapshot"
    BACKUP = "aws-backup"


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: `key` is its restore/modify parameter name where it has one."""

    key: str
    label: str
    read: Callable[[Mapping[str, Any]], Any]
    verdict: Verdict = Verdict.MUST_MATCH
    # ModifyDBInstance's parameter for it ("" when a modify cannot change it).
    modify_param: str = ""
    why_may_differ: str = ""


def _get(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda d: d.get(name)


def _first(name: str, field: str) -> Callable[[Mapping[str, Any]], Any]:
    def read(d: Mapping[str, Any]) -> Any:
        items = d.get(name) or []
        return items[0].get(field) if items else None
    return read


def _sorted(name: str, field: str | None = None) -> Callable[[Mapping[str, Any]], Any]:
    def read(d: Mapping[str, Any]) -> Any:
        items = d.get(name) or []
        return tuple(sorted(str(i[field] if field else i) for i in items))
    return read


def _port(d: Mapping[str, Any]) -> Any:
    return (d.get("Endpoint") or {}).get("Port") or d.get("DbInstancePort") or None


def _subnet(d: Mapping[str, Any]) -> Any:
    return (d.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")


def _tags(d: Mapping[str, Any]) -> Any:
    return tuple(sorted((str(t["Key"]), str(t["Value"])) for t in d.get("TagList") or []
                        if t.get("Key") not in _OWN_TAG_KEYS))


SETTINGS: tuple[Setting, ...] = (
    Setting("DBInstanceClass", "instance class", _get("DBInstanceClass"),
            modify_param="DBInstanceClass"),
    Setting("MultiAZ", "Multi-AZ", _get("MultiAZ"), modify_param="MultiAZ"),
    Setting("DBParameterGroupName", "parameter group",
            _first("DBParameterGroups", "DBParameterGroupName"),
            modify_param="DBParameterGroupName"),
    Setting("OptionGroupName", "option group",
            _first("OptionGroupMemberships", "OptionGroupName"),
            modify_param="OptionGroupName"),
    Setting("DBSubnetGroupName", "subnet group", _subnet, modify_param="DBSubnetGroupName"),
    Setting("VpcSecurityGroupIds", "security groups",
            _sorted("VpcSecurityGroups", "VpcSecurityGroupId"),
            modify_param="VpcSecurityGroupIds"),
    Setting("Port", "port", _port, modify_param="DBPortNumber"),
    Setting("PubliclyAccessible", "publicly accessible", _get("PubliclyAccessible"),
            modify_param="PubliclyAccessible"),
    Setting("StorageType", "storage type", _get("StorageType"), modify_param="StorageType"),
    Setting("AllocatedStorage", "allocated storage (GiB)", _get("AllocatedStorage"),
            modify_param="AllocatedStorage"),
    Setting("Iops", "IOPS", _get("Iops"), modify_param="Iops"),
    Setting("StorageThroughput", "storage throughput", _get("StorageThroughput"),
            modify_param="StorageThroughput"),
    Setting("MaxAllocatedStorage", "storage autoscaling limit", _get("MaxAllocatedStorage"),
            modify_param="MaxAllocatedStorage"),
    Setting("EnableIAMDatabaseAuthentication", "IAM authentication",
            _get("IAMDatabaseAuthenticationEnabled"),
            modify_param="EnableIAMDatabaseAuthentication"),
    Setting("EnableCloudwatchLogsExports", "log exports",
            _sorted("EnabledCloudwatchLogsExports"),
            modify_param="CloudwatchLogsExportConfiguration"),
    Setting("CopyTagsToSnapshot", "copy tags to snapshots", _get("CopyTagsToSnapshot"),
            modify_param="CopyTagsToSnapshot"),
    Setting("AutoMinorVersionUpgrade", "auto minor upgrades", _get("AutoMinorVersionUpgrade"),
            modify_param="AutoMinorVersionUpgrade"),
    Setting("CACertificateIdentifier", "CA certificate", _get("CACertificateIdentifier"),
            modify_param="CACertificateIdentifier"),
    Setting("NetworkType", "network type", _get("NetworkType"), modify_param="NetworkType"),
    Setting("BackupRetentionPeriod", "backup retention (days)", _get("BackupRetentionPeriod"),
            modify_param="BackupRetentionPeriod"),
    Setting("PreferredBackupWindow", "backup window", _get("PreferredBackupWindow"),
            modify_param="PreferredBackupWindow"),
    Setting("PreferredMaintenanceWindow", "maintenance window",
            _get("PreferredMaintenanceWindow"), modify_param="PreferredMaintenanceWindow"),
    Setting("MonitoringInterval", "enhanced monitoring (s)", _get("MonitoringInterval"),
            modify_param="MonitoringInterval"),
    Setting("MonitoringRoleArn", "monitoring role", _get("MonitoringRoleArn"),
            modify_param="MonitoringRoleArn"),
    Setting("EnablePerformanceInsights", "Performance Insights",
            _get("PerformanceInsightsEnabled"), modify_param="EnablePerformanceInsights"),
    Setting("PerformanceInsightsKMSKeyId", "PI KMS key", _get("PerformanceInsightsKMSKeyId"),
            modify_param="PerformanceInsightsKMSKeyId"),
    Setting("PerformanceInsightsRetentionPeriod", "PI retention (days)",
            _get("PerformanceInsightsRetentionPeriod"),
            modify_param="PerformanceInsightsRetentionPeriod"),
    Setting("Tags", "tags", _tags),
    Setting("StorageEncrypted", "storage encrypted", _get("StorageEncrypted")),
    Setting("DeletionProtection", "deletion protection", _get("DeletionProtection"),
            Verdict.MAY_DIFFER, modify_param="DeletionProtection",
            why_may_differ="off until the swap, so an abort can delete the new instance; "
                           "on again once it serves production"),
    Setting("EngineVersion", "engine version", _get("EngineVersion"), Verdict.MAY_DIFFER,
            why_may_differ="a restore runs the version the backup was taken on"),
    Setting("AvailabilityZone", "availability zone", _get("AvailabilityZone"),
            Verdict.MAY_DIFFER, why_may_differ="AWS places a new instance"),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}

# Of SETTINGS, what each restore accepts (RestoreDBInstanceToPointInTime,
# RestoreDBInstanceFromDBSnapshot, and AWS Backup's RDS metadata, which AWS Backup hands to
# the snapshot restore: map of strings, so no Tags). Read from botocore's service model; held
# to it by tests/test_instance_settings.py. AvailabilityZone is accepted but never sent (AWS
# places the instance; with Multi-AZ it refuses one).
_COMMON = frozenset({
    "DBInstanceClass", "Port", "DBSubnetGroupName", "MultiAZ", "PubliclyAccessible",
    "AutoMinorVersionUpgrade", "Iops", "StorageThroughput", "OptionGroupName",
    "CopyTagsToSnapshot", "Tags", "StorageType", "VpcSecurityGroupIds",
    "EnableIAMDatabaseAuthentication", "EnableCloudwatchLogsExports", "DBParameterGroupName",
    "DeletionProtection", "NetworkType", "AllocatedStorage", "BackupRetentionPeriod",
    "PreferredBackupWindow", "CACertificateIdentifier",
})
RESTORE_ACCEPTS: dict[RestorePath, frozenset[str]] = {
    RestorePath.PITR: _COMMON | {"MaxAllocatedStorage"},
    RestorePath.SNAPSHOT: _COMMON,
    RestorePath.BACKUP: _COMMON - {"Tags"},
}
NEVER_SENT = frozenset({"AvailabilityZone"})

# gp3 below this size (PostgreSQL) runs at a baseline that RDS reports but refuses to be given.
GP3_BASELINE_BELOW_GIB = 400


def read_settings(raw: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Every setting of SETTINGS from one DescribeDBInstances item, normalised."""
    return tuple((s.key, s.read(raw)) for s in SETTINGS)


def _sendable(key: str, values: Mapping[str, Any]) -> bool:
    """A value AWS would take back as given (None, or a baseline it refuses, is not sent)."""
    value = values.get(key)
    if value is None or key in NEVER_SENT:
        return False
    if key in ("DBParameterGroupName", "OptionGroupName") and str(value).startswith("default"):
        return False  # AWS's default group (default.postgres16, default:postgres-16) anyway
    if key in ("Iops", "StorageThroughput"):
        storage = values.get("StorageType")
        if storage not in ("io1", "io2", "gp3"):
            return False
        if storage == "gp3" and int(values.get("AllocatedStorage") or 0) < \
                GP3_BASELINE_BELOW_GIB:
            return False
    # MaxAllocatedStorage equal to the size: autoscaling off (RDS reports the size itself).
    return not (key == "MaxAllocatedStorage" and value == values.get("AllocatedStorage"))


def api_value(key: str, value: Any) -> Any:
    """A normalised value as the restore API takes it."""
    if key == "Tags":
        return [{"Key": k, "Value": v} for k, v in value]
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True, slots=True)
class Chosen:
    """One restore setting: its value (API form) and where it came from."""

    key: str
    value: Any
    origin: str  # "source", "config", "vwtui"


def restore_choices(source: Mapping[str, Any], path: RestorePath,
                    overrides: Mapping[str, Any],
                    deliberate: Mapping[str, Any] | None = None) -> list[Chosen]:
    """The settings a restore of `path` sends: the source's, unless config overrides them
    (`overrides`: API name -> value), or vwtui sets them on purpose (`deliberate`)."""
    deliberate = deliberate or {}
    chosen: list[Chosen] = []
    accepted = RESTORE_ACCEPTS[path]
    for setting in SETTINGS:
        key = setting.key
        if key not in accepted or key in NEVER_SENT:
            continue
        if key in overrides:
            chosen.append(Chosen(key, api_value(key, overrides[key]), "config"))
        elif key in deliberate:
            chosen.append(Chosen(key, deliberate[key], "vwtui"))
        elif _sendable(key, source) and (key != "Tags" or source.get(key)):
            chosen.append(Chosen(key, api_value(key, source[key]), "source"))
    return chosen


def backup_metadata_value(value: Any) -> str:
    """AWS Backup's metadata is a map of strings: booleans lower case, lists JSON arrays."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return json.dumps(list(value), separators=(",", ":"))
    return str(value)


# ---- comparing -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Difference:
    key: str
    label: str
    source: Any
    new: Any
    verdict: Verdict
    why: str = ""
    fixable: bool = False

    @property
    def must_fix(self) -> bool:
        return self.verdict is Verdict.MUST_MATCH


@dataclass(frozen=True, slots=True)
class Comparison:
    """The new instance's settings side by side with the source's."""

    source: str
    new: str
    rows: tuple[tuple[Setting, Any, Any], ...]  # every setting compared: (setting, src, new)
    differences: tuple[Difference, ...]

    @property
    def compared(self) -> int:
        return len(self.rows)

    @property
    def must_match_left(self) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if d.must_fix)

    @property
    def fixable(self) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if d.must_fix and d.fixable)

    def summary(self) -> str:
        must = len(self.must_match_left)
        other = len(self.differences) - must
        if not self.differences:
            return f"{self.compared} settings compared: all as {self.source}."
        return (f"{self.compared} settings compared: {must} must match but differ, "
                f"{other} differ as allowed.")


def compare(source_id: str, source: Mapping[str, Any], new_id: str, new: Mapping[str, Any],
            overrides: Mapping[str, Any]) -> Comparison:
    """Each setting of the new instance against the source's; a difference the config asks for
    (`overrides`) is on purpose, one of a MAY_DIFFER setting allowed, any other must be fixed."""
    rows = []
    diffs = []
    for setting in SETTINGS:
        src, got = source.get(setting.key), new.get(setting.key)
        rows.append((setting, src, got))
        if _same(setting.key, src, got, source):
            continue
        if setting.key in overrides:
            verdict, why = Verdict.ON_PURPOSE, "set by config (restore.*)"
        else:
            verdict, why = setting.verdict, setting.why_may_differ
        fixable = bool(setting.modify_param or setting.key == "Tags") and src is not None
        diffs.append(Difference(setting.key, setting.label, src, got, verdict, why, fixable))
    return Comparison(source_id, new_id, tuple(rows), tuple(diffs))


def _same(key: str, src: Any, got: Any, source: Mapping[str, Any]) -> bool:
    if src == got:
        return True
    if key == "Tags":
        # The source's tags all present (the new instance may carry more: the run's marks).
        return set(src or ()) <= set(got or ())
    if key in ("Iops", "StorageThroughput", "MaxAllocatedStorage") and \
            not _sendable(key, source):
        return True  # a baseline or "off": nothing to carry over
    return src is None  # nothing known of the source to match


def modify_fixes(comparison: Comparison, new: Mapping[str, Any],
                 keys: set[str] | None = None) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """ModifyDBInstance parameters (without the identifier) that make the new instance match,
    and the tags to add; only differences that must match (or `keys`, when given)."""
    params: dict[str, Any] = {}
    tags: list[tuple[str, str]] = []
    for diff in comparison.differences:
        wanted = diff.key in keys if keys is not None else diff.must_fix
        if not wanted or not diff.fixable:
            continue
        setting = BY_KEY[diff.key]
        if diff.key == "Tags":
            tags = [t for t in diff.source if t not in set(diff.new or ())]
        elif diff.key == "EnableCloudwatchLogsExports":
            have, want = set(diff.new or ()), set(diff.source or ())
            config: dict[str, Any] = {}
            if want - have:
                config["EnableLogTypes"] = sorted(want - have)
            if have - want:
                config["DisableLogTypes"] = sorted(have - want)
            params[setting.modify_param] = config
        else:
            params[setting.modify_param] = api_value(diff.key, diff.source)
    if "MonitoringInterval" in params and "MonitoringRoleArn" not in params and \
            new.get("MonitoringRoleArn") is None:
        role = next((d.source for d in comparison.differences
                     if d.key == "MonitoringRoleArn"), None)
        if role:
            params["MonitoringRoleArn"] = role
    return params, tags


def after_restore(source: Mapping[str, Any], path: RestorePath,
                  overrides: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """What a restore of `path` cannot take and a modify must apply right after it: the
    source's settings outside RESTORE_ACCEPTS (not overridden by config), and for AWS Backup
    the source's tags."""
    params: dict[str, Any] = {}
    for setting in SETTINGS:
        key = setting.key
        if key in RESTORE_ACCEPTS[path] or key in overrides or key == "Tags" or \
                not setting.modify_param or setting.verdict is not Verdict.MUST_MATCH:
            continue
        if not _sendable(key, source):
            continue
        if key in ("MonitoringInterval",) and not source.get(key):
            continue  # 0: off, RDS's default
        if key == "EnablePerformanceInsights" and not source.get(key):
            continue
        params[setting.modify_param] = api_value(key, source[key])
    tags: list[tuple[str, str]] = []
    if "Tags" not in RESTORE_ACCEPTS[path]:
        tags = list(source.get("Tags") or ())
    return params, tags
