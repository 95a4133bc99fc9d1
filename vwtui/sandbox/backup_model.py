"""What the AWS Backup shim keeps: recovery points, backup and restore jobs, selections, and
the small helpers that turn them into moto RDS instances and pages of answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vwtui.sandbox.wire import WireRequest, decode_token, encode_token


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class SourceInstance:
    """What a recovery point remembers of the instance it was taken from (to restore it)."""

    identifier: str
    instance_class: str
    engine: str
    engine_version: str
    allocated_storage: int
    kms_key_id: str | None
    subnet_group: str | None
    security_groups: list[str]
    port: int
    master_username: str
    backup_retention: int
    tags: list[dict[str, str]] = field(default_factory=list)


@dataclass
class RecoveryPoint:
    arn: str
    vault: str
    resource_arn: str
    source: SourceInstance
    created: datetime
    completed: datetime | None
    status: str
    size_bytes: int
    encrypted: bool
    encryption_key_arn: str | None
    iam_role_arn: str
    delete_after_days: int | None
    created_by: dict[str, str] | None = None
    # AWS Backup's resource type (the scaled sandbox shares the vault with EBS, EFS, ...).
    resource_type: str = "RDS"


@dataclass
class BackupJob:
    job_id: str
    vault: str
    resource_arn: str
    created: datetime
    state: str
    iam_role_arn: str
    completed: datetime | None = None
    recovery_point_arn: str | None = None
    status_message: str | None = None
    size_bytes: int = 0
    created_by: dict[str, str] | None = None
    # For jobs started in the sandbox: when they finish, and the lifecycle to give the point.
    finishes: datetime | None = None
    delete_after_days: int | None = None
    resource_type: str = "RDS"


@dataclass
class RestoreJob:
    job_id: str
    recovery_point_arn: str
    metadata: dict[str, str]
    iam_role_arn: str | None
    created: datetime
    finishes: datetime
    status: str = "PENDING"
    status_message: str | None = None
    created_resource_arn: str | None = None
    completed: datetime | None = None
    idempotency_token: str | None = None


@dataclass
class Selection:
    selection_id: str
    plan_id: str
    body: dict[str, Any]
    created: datetime
    creator_request_id: str | None


def source_of(db: Any) -> SourceInstance:
    """Capture a moto DB instance's settings at backup time."""
    return SourceInstance(
        identifier=db.db_instance_identifier, instance_class=db.db_instance_class,
        engine=db.engine, engine_version=db.engine_version,
        allocated_storage=int(db.allocated_storage), kms_key_id=db.kms_key_id,
        subnet_group=getattr(db, "_db_subnet_group_name", None),
        security_groups=list(db.vpc_security_group_ids), port=int(db.port),
        master_username=db.master_username or "postgres",
        backup_retention=int(db.backup_retention_period), tags=list(db.tags))


def _instance_kwargs(point: RecoveryPoint, metadata: dict[str, str]) -> dict[str, Any]:
    """moto create_db_instance arguments for restoring `point` with the job's metadata."""
    src = point.source
    groups = security_group_ids(metadata.get("VpcSecurityGroupIds") or "[]")
    kwargs: dict[str, Any] = {
        "db_instance_identifier": metadata["DBInstanceIdentifier"].lower(),
        "db_instance_class": metadata.get("DBInstanceClass") or src.instance_class,
        "engine": metadata.get("Engine") or src.engine,
        "engine_version": src.engine_version,
        "allocated_storage": max(src.allocated_storage,
                                 int(metadata.get("AllocatedStorage") or 0)),
        "storage_type": "gp3",
        "storage_encrypted": bool(point.encrypted and src.kms_key_id),
        "kms_key_id": src.kms_key_id,
        "db_subnet_group_name": metadata.get("DBSubnetGroupName") or src.subnet_group,
        "vpc_security_group_ids": groups or list(src.security_groups),
        "port": int(metadata.get("Port") or src.port),
        "master_username": src.master_username,
        "multi_az": metadata.get("MultiAZ", "false").lower() == "true",
        "backup_retention_period": src.backup_retention,
        "preferred_backup_window": metadata.get("PreferredBackupWindow") or "03:00-04:00",
        # AWS Backup's restore cannot take a maintenance window: RDS picks one.
        "preferred_maintenance_window": "wed:06:38-wed:07:08",
        "tags": list(src.tags),
    }
    # The other RDS settings the metadata may carry (AWS Backup hands them to the snapshot
    # restore); what it does not carry is RDS's default.
    flags = {"DeletionProtection": "deletion_protection",
             "EnableIAMDatabaseAuthentication": "enable_iam_database_authentication",
             "CopyTagsToSnapshot": "copy_tags_to_snapshot",
             "PubliclyAccessible": "publicly_accessible",
             "AutoMinorVersionUpgrade": "auto_minor_version_upgrade"}
    for key, attribute in flags.items():
        if key in metadata:
            kwargs[attribute] = metadata[key].lower() == "true"
    texts = {"DBParameterGroupName": "db_parameter_group_name",
             "OptionGroupName": "option_group_name", "StorageType": "storage_type",
             "CACertificateIdentifier": "ca_certificate_identifier",
             "NetworkType": "network_type"}
    for key, attribute in texts.items():
        if metadata.get(key):
            kwargs[attribute] = metadata[key]
    if metadata.get("BackupRetentionPeriod"):
        kwargs["backup_retention_period"] = int(metadata["BackupRetentionPeriod"])
    if metadata.get("EnableCloudwatchLogsExports"):
        kwargs["enable_cloudwatch_logs_exports"] = json.loads(
            metadata["EnableCloudwatchLogsExports"])
    return kwargs


def security_group_ids(value: str) -> list[str]:
    """The restore metadata's VpcSecurityGroupIds. AWS Backup's metadata is a map of strings,
    so a list is a JSON-array-encoded string, '["sg-1","sg-2"]' (AWS Backup developer guide:
    "Restore testing inferred metadata", format for list-typed values; what
    GetRecoveryPointRestoreMetadata answers). Anything else is refused."""
    try:
        groups = json.loads(value)
    except ValueError:
        groups = None
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise _Refused(400, "InvalidParameterValueException",
                       f"VpcSecurityGroupIds in the restore metadata must be a JSON array of "
                       f"security group ids, e.g. [\"sg-1\",\"sg-2\"]; got {value!r}.")
    return groups


def _page(items: list[Any], request: WireRequest) -> tuple[list[Any], str | None]:
    raw = request.param("maxResults")
    try:
        size = int(raw) if raw else 100
    except ValueError:
        size = 0
    if not 1 <= size <= 1000:
        raise _Refused(400, "InvalidParameterValueException",
                       f"MaxResults must be between 1 and 1000, got {raw}.")
    offset = decode_token(request.param("nextToken"))
    if offset is None:
        raise _Refused(400, "InvalidParameterValueException",
                       "The NextToken is not valid: pass the NextToken of the previous page.")
    page = items[offset:offset + size]
    return page, encode_token(offset + size) if offset + size < len(items) else None


def _snake(operation: str) -> str:
    from botocore import xform_name

    return xform_name(operation)
