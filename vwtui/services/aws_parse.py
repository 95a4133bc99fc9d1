"""AWS responses as model objects: each `*_from` takes one boto3 response dict (or one item
of a list call) and answers the `vwtui.model` object, so nothing above the service layer sees a
response dict. Times become aware UTC datetimes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from vwtui.instance_settings import read_settings
from vwtui.model import (
    Alarm,
    AlarmState,
    BackupJob,
    BackupPlan,
    BackupRule,
    CopyAction,
    Instance,
    RecoveryPoint,
    RestoreJob,
    Snapshot,
    Trail,
)


def instance_from(d: dict[str, Any]) -> Instance:
    endpoint = d.get("Endpoint") or {}
    subnet = d.get("DBSubnetGroup") or {}
    return Instance(
        identifier=d["DBInstanceIdentifier"],
        arn=d.get("DBInstanceArn", ""),
        status=d.get("DBInstanceStatus", "unknown"),
        engine=d.get("Engine", ""),
        engine_version=d.get("EngineVersion", ""),
        instance_class=d.get("DBInstanceClass", ""),
        allocated_storage_gb=int(d.get("AllocatedStorage") or 0),
        storage_encrypted=bool(d.get("StorageEncrypted")),
        kms_key_id=d.get("KmsKeyId"),
        backup_retention_days=int(d.get("BackupRetentionPeriod") or 0),
        latest_restorable_time=_aware(d.get("LatestRestorableTime")),
        subnet_group=subnet.get("DBSubnetGroupName"),
        security_groups=tuple(g["VpcSecurityGroupId"] for g in d.get("VpcSecurityGroups", [])
                              if g.get("VpcSecurityGroupId")),
        endpoint_address=endpoint.get("Address"),
        endpoint_port=endpoint.get("Port"),
        multi_az=bool(d.get("MultiAZ")),
        created=_aware(d.get("InstanceCreateTime")),
        tags=tuple((t["Key"], t["Value"]) for t in d.get("TagList", [])),
        backup_window=d.get("PreferredBackupWindow"),
        settings=read_settings(d),
    )


def snapshot_from(d: dict[str, Any]) -> Snapshot:
    return Snapshot(
        identifier=d["DBSnapshotIdentifier"],
        arn=d.get("DBSnapshotArn", ""),
        instance_identifier=d.get("DBInstanceIdentifier", ""),
        snapshot_type=d.get("SnapshotType", ""),
        created=_aware(d.get("SnapshotCreateTime")),
        status=d.get("Status", "unknown"),
        allocated_storage_gb=int(d.get("AllocatedStorage") or 0),
        encrypted=bool(d.get("Encrypted")),
        engine=d.get("Engine", ""),
        engine_version=d.get("EngineVersion", ""),
    )


def recovery_point_from(d: dict[str, Any], vault: str) -> RecoveryPoint:
    lifecycle = d.get("Lifecycle") or {}
    return RecoveryPoint(
        arn=d["RecoveryPointArn"],
        vault=d.get("BackupVaultName", vault),
        resource_arn=d.get("ResourceArn", ""),
        resource_type=d.get("ResourceType", ""),
        created=_aware(d.get("CreationDate")),
        completed=_aware(d.get("CompletionDate")),
        status=d.get("Status", "UNKNOWN"),
        size_bytes=d.get("BackupSizeInBytes"),
        encrypted=bool(d.get("IsEncrypted")),
        delete_after_days=lifecycle.get("DeleteAfterDays"),
        iam_role_arn=d.get("IamRoleArn"),
    )


def backup_job_from(d: dict[str, Any]) -> BackupJob:
    return BackupJob(
        job_id=d["BackupJobId"],
        vault=d.get("BackupVaultName", ""),
        resource_arn=d.get("ResourceArn", ""),
        state=d.get("State", "UNKNOWN"),
        status_message=d.get("StatusMessage"),
        created=_aware(d.get("CreationDate")),
        completed=_aware(d.get("CompletionDate")),
        size_bytes=d.get("BackupSizeInBytes"),
        percent_done=d.get("PercentDone"),
    )


def restore_job_from(d: dict[str, Any]) -> RestoreJob:
    expected = d.get("ExpectedCompletionTimeMinutes")
    return RestoreJob(
        job_id=d["RestoreJobId"],
        status=d.get("Status", "UNKNOWN"),
        percent_done=d.get("PercentDone"),
        expected_minutes=int(expected) if expected is not None else None,
        created_resource_arn=d.get("CreatedResourceArn"),
        status_message=d.get("StatusMessage"),
        created=_aware(d.get("CreationDate")),
        completed=_aware(d.get("CompletionDate")),
        recovery_point_arn=d.get("RecoveryPointArn"),
    )


def alarm_from(d: dict[str, Any]) -> Alarm:
    try:
        state = AlarmState(d.get("StateValue", "INSUFFICIENT_DATA"))
    except ValueError:
        state = AlarmState.INSUFFICIENT_DATA
    return Alarm(
        name=d["AlarmName"],
        state=state,
        reason=d.get("StateReason", ""),
        updated=_aware(d.get("StateUpdatedTimestamp")),
        metric=d.get("MetricName"),
        namespace=d.get("Namespace"),
        threshold=d.get("Threshold"),
        alarm_actions=tuple(d.get("AlarmActions", [])),
    )


# ---- helpers -----------------------------------------------------------------------------------

def _aware(value: Any) -> datetime | None:
    """botocore gives aware datetimes; make sure, and normalise to UTC."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


def _newest_key(item: Any) -> datetime:
    return item.created or datetime.min.replace(tzinfo=UTC)


# ---- backup verification: response -> model (issue 4) -------------------------------------------

def backup_plan_from(d: dict[str, Any]) -> BackupPlan:
    """A GetBackupPlan response as a BackupPlan."""
    plan = d.get("BackupPlan") or {}
    rules = []
    for rule in plan.get("Rules", []):
        lifecycle = rule.get("Lifecycle") or {}
        copies = tuple(
            CopyAction(destination_vault_arn=c.get("DestinationBackupVaultArn", ""),
                       delete_after_days=(c.get("Lifecycle") or {}).get("DeleteAfterDays"))
            for c in rule.get("CopyActions", []))
        rules.append(BackupRule(name=rule.get("RuleName", ""),
                                target_vault=rule.get("TargetBackupVaultName", ""),
                                schedule=rule.get("ScheduleExpression"),
                                delete_after_days=lifecycle.get("DeleteAfterDays"),
                                copy_actions=copies,
                                schedule_timezone=rule.get("ScheduleExpressionTimezone")))
    return BackupPlan(plan_id=d.get("BackupPlanId", ""), name=plan.get("BackupPlanName", ""),
                      arn=d.get("BackupPlanArn", ""), rules=tuple(rules))


def _pattern_names_source(pattern: str | None, source: str) -> bool:
    """Whether an EventBridge event pattern (JSON text) matches events from `source`."""
    if not pattern:
        return False
    try:
        sources = json.loads(pattern).get("source", [])
    except (ValueError, AttributeError):
        return False
    return source in (sources if isinstance(sources, list) else [sources])


def trail_from(d: dict[str, Any], status: dict[str, Any], selectors: dict[str, Any]) -> Trail:
    """A DescribeTrails item with its GetTrailStatus and GetEventSelectors answers."""
    management: bool | None = None
    basic = selectors.get("EventSelectors")
    if basic:
        management = any(s.get("IncludeManagementEvents", True) for s in basic)
    elif selectors.get("AdvancedEventSelectors"):
        management = any(
            any(f.get("Field") == "eventCategory" and "Management" in (f.get("Equals") or [])
                for f in a.get("FieldSelectors") or [])
            for a in selectors["AdvancedEventSelectors"])
    return Trail(name=d.get("Name", ""), arn=d.get("TrailARN", ""),
                 home_region=d.get("HomeRegion", ""),
                 multi_region=bool(d.get("IsMultiRegionTrail")),
                 logging=bool(status.get("IsLogging")), management_events=management)
