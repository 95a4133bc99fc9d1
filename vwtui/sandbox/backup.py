"""The AWS Backup half of the shim: jobs, recovery points and restores, in REST-JSON.

moto 5.2.5 implements vaults and plans (and the shim leaves those to it) but answers 404 to
recovery points, backup jobs, restore jobs and backup selections. This module keeps them and
answers them as AWS Backup does: server-side filters (ByState, ByCreatedAfter, ...),
NextToken/MaxResults paging, epoch-second timestamps. A restore job goes PENDING -> RUNNING ->
COMPLETED over `restore_seconds` and makes a real RDS instance in moto's backend (status
"creating" until the job completes) named by the job's Metadata DBInstanceIdentifier.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from moto.backup.models import BackupBackend, backup_backends

from vwtui.sandbox.backup_model import (
    BackupJob,
    RecoveryPoint,
    RestoreJob,
    Selection,
    SourceInstance,
    _instance_kwargs,
    _page,
    _Refused,
    _snake,
    security_group_ids,
    source_of,
)
from vwtui.sandbox.rds import RdsShim
from vwtui.sandbox.state import SandboxState, aware
from vwtui.sandbox.wire import (
    Response,
    WireRequest,
    error_response,
    json_response,
    parse_time,
)


class BackupShim:
    """AWS Backup state and handlers; every method runs under the sandbox lock."""

    def __init__(self, state: SandboxState, rds: RdsShim) -> None:
        self.state = state
        self.rds = rds
        self.recovery_points: dict[str, RecoveryPoint] = {}
        self.backup_jobs: dict[str, BackupJob] = {}
        self.restore_jobs: dict[str, RestoreJob] = {}
        self.selections: dict[str, Selection] = {}
        self._counts: tuple[int, dict[str, int]] | None = None

    @property
    def backend(self) -> BackupBackend:
        return backup_backends[self.state.account][self.state.region]

    # ---- the request cycle -----------------------------------------------------------------

    OPERATIONS = frozenset({
        "ListRecoveryPointsByBackupVault", "ListRecoveryPointsByResource",
        "DescribeRecoveryPoint", "GetRecoveryPointRestoreMetadata",
        "ListBackupJobs", "DescribeBackupJob", "StartBackupJob",
        "StartRestoreJob", "DescribeRestoreJob", "ListRestoreJobs",
        "CreateBackupSelection", "ListBackupSelections", "GetBackupSelection",
        "DeleteBackupSelection",
    })

    def handles(self, operation: str | None) -> bool:
        return operation in self.OPERATIONS

    def handle(self, request: WireRequest) -> Response:
        handler = getattr(self, _snake(request.operation or ""))
        try:
            return handler(request)
        except _Refused as exc:
            return error_response(request, exc.status, exc.code, exc.message)

    def advance(self) -> None:
        """Move sandbox-started backup and restore jobs along the sandbox clock."""
        now = self.state.clock.now()
        for job in self.backup_jobs.values():
            if job.finishes is not None and job.state in ("CREATED", "RUNNING"):
                self._advance_backup_job(job, now)
        for restore in self.restore_jobs.values():
            if restore.status in ("PENDING", "RUNNING"):
                self._advance_restore_job(restore, now)
        vault_counts = self._vault_counts()
        for name, vault in self.backend.vaults.items():
            # moto lists vaults from num_of_recovery_points and describes one from the
            # attribute named after the API field.
            vault.num_of_recovery_points = vault_counts.get(name, 0)
            # (moto's Vault does not declare it: its serializer looks it up by that name.)
            vault.number_of_recovery_points = vault_counts.get(name, 0)  # type: ignore[attr-defined]

    def _vault_counts(self) -> dict[str, int]:
        """Recovery points per vault, counted again only when the number of points changed
        (points are added, never moved): a scaled vault holds 10,000 and every request asks."""
        total = len(self.recovery_points)
        cached = self._counts
        if cached is None or cached[0] != total:
            counts: dict[str, int] = {}
            for point in self.recovery_points.values():
                counts[point.vault] = counts.get(point.vault, 0) + 1
            cached = self._counts = (total, counts)
        return cached[1]

    # ---- recovery points -------------------------------------------------------------------

    def list_recovery_points_by_backup_vault(self, request: WireRequest) -> Response:
        vault = request.path_params.get("backupVaultName", "")
        self._vault(vault)
        after = parse_time(request.param("createdAfter"))
        before = parse_time(request.param("createdBefore"))
        resource_arn = request.param("resourceArn")
        resource_type = request.param("resourceType")
        points = [
            p for p in self.recovery_points.values()
            if p.vault == vault
            and (after is None or p.created >= after)
            and (before is None or p.created <= before)
            and (resource_arn is None or p.resource_arn == resource_arn)
            and (resource_type is None or resource_type == p.resource_type)
        ]
        points.sort(key=lambda p: p.created, reverse=True)
        page, token = _page(points, request)
        return json_response({"RecoveryPoints": [self._point_json(p) for p in page],
                              **({"NextToken": token} if token else {})})

    def list_recovery_points_by_resource(self, request: WireRequest) -> Response:
        resource_arn = request.path_params.get("resourceArn", "")
        points = sorted((p for p in self.recovery_points.values()
                         if p.resource_arn == resource_arn),
                        key=lambda p: p.created, reverse=True)
        page, token = _page(points, request)
        items = []
        for p in page:
            item = self._point_json(p)
            items.append({k: item[k] for k in (
                "RecoveryPointArn", "CreationDate", "Status", "EncryptionKeyArn",
                "BackupSizeInBytes", "BackupVaultName", "IsParent", "ResourceName",
                "VaultType") if k in item})
        return json_response({"RecoveryPoints": items, **({"NextToken": token} if token else {})})

    def describe_recovery_point(self, request: WireRequest) -> Response:
        point = self._point(request.path_params.get("recoveryPointArn", ""),
                            request.path_params.get("backupVaultName"))
        return json_response(self._point_json(point))

    def get_recovery_point_restore_metadata(self, request: WireRequest) -> Response:
        point = self._point(request.path_params.get("recoveryPointArn", ""),
                            request.path_params.get("backupVaultName"))
        return json_response({
            "BackupVaultArn": self._vault(point.vault).backup_vault_arn,
            "RecoveryPointArn": point.arn,
            "RestoreMetadata": self.restore_metadata(point),
            "ResourceType": "RDS",
        })

    @staticmethod
    def restore_metadata(point: RecoveryPoint) -> dict[str, str]:
        """What AWS Backup suggests as StartRestoreJob Metadata for an RDS recovery point."""
        src = point.source
        metadata = {
            "DBInstanceIdentifier": src.identifier,
            "DBInstanceClass": src.instance_class,
            "Engine": src.engine,
            "EngineVersion": src.engine_version,
            "Port": str(src.port),
            "MultiAZ": "false",
            "StorageType": "gp3",
            "AllocatedStorage": str(src.allocated_storage),
        }
        if src.subnet_group:
            metadata["DBSubnetGroupName"] = src.subnet_group
        if src.security_groups:
            metadata["VpcSecurityGroupIds"] = json.dumps(list(src.security_groups),
                                                         separators=(",", ":"))
        if src.kms_key_id:
            metadata["KmsKeyId"] = src.kms_key_id
        return metadata

    def _point_json(self, p: RecoveryPoint) -> dict[str, Any]:
        vault = self.backend.vaults.get(p.vault)
        item: dict[str, Any] = {
            "RecoveryPointArn": p.arn,
            "BackupVaultName": p.vault,
            "BackupVaultArn": vault.backup_vault_arn if vault else self.state.arn(
                "backup", f"backup-vault:{p.vault}"),
            "ResourceArn": p.resource_arn,
            "ResourceType": p.resource_type,
            "ResourceName": p.source.identifier,
            "IamRoleArn": p.iam_role_arn,
            "Status": p.status,
            "CreationDate": p.created,
            "InitiationDate": p.created,
            "BackupSizeInBytes": p.size_bytes,
            "IsEncrypted": p.encrypted,
            "StorageClass": "WARM",
            "IsParent": False,
            "VaultType": "BACKUP_VAULT",
        }
        if p.completed:
            item["CompletionDate"] = p.completed
        if p.encryption_key_arn:
            item["EncryptionKeyArn"] = p.encryption_key_arn
        if p.created_by:
            item["CreatedBy"] = p.created_by
        if p.delete_after_days is not None:
            item["Lifecycle"] = {"DeleteAfterDays": p.delete_after_days}
            item["CalculatedLifecycle"] = {
                "DeleteAt": p.created + timedelta(days=p.delete_after_days)}
        return item

    # ---- backup jobs -----------------------------------------------------------------------

    def list_backup_jobs(self, request: WireRequest) -> Response:
        state = request.param("state")
        vault = request.param("backupVaultName")
        resource_arn = request.param("resourceArn")
        after = parse_time(request.param("createdAfter"))
        before = parse_time(request.param("createdBefore"))
        jobs = [
            j for j in self.backup_jobs.values()
            if (state is None or j.state == state)
            and (vault is None or j.vault == vault)
            and (resource_arn is None or j.resource_arn == resource_arn)
            and (after is None or j.created >= after)
            and (before is None or j.created <= before)
        ]
        jobs.sort(key=lambda j: j.created, reverse=True)
        page, token = _page(jobs, request)
        return json_response({"BackupJobs": [self._job_json(j) for j in page],
                              **({"NextToken": token} if token else {})})

    def describe_backup_job(self, request: WireRequest) -> Response:
        job_id = request.path_params.get("backupJobId", "")
        job = self.backup_jobs.get(job_id)
        if job is None:
            raise _Refused(404, "ResourceNotFoundException", f"Backup job {job_id} not found.")
        return json_response(self._job_json(job))

    def start_backup_job(self, request: WireRequest) -> Response:
        body = request.json()
        vault_name = str(body.get("BackupVaultName", ""))
        self._vault(vault_name)
        resource_arn = str(body.get("ResourceArn", ""))
        if ":rds:" not in resource_arn or ":db:" not in resource_arn:
            raise _Refused(400, "InvalidParameterValueException",
                           f"Invalid resource ARN {resource_arn!r}: the sandbox backs up RDS "
                           f"DB instances (arn:aws:rds:REGION:ACCOUNT:db:NAME).")
        now = self.state.clock.now()
        lifecycle = body.get("Lifecycle") or {}
        job = BackupJob(
            job_id=self.state.next_id("backup-job").upper(), vault=vault_name,
            resource_arn=resource_arn, created=now, state="CREATED",
            iam_role_arn=str(body.get("IamRoleArn", "")),
            finishes=now + timedelta(seconds=self.state.restore_seconds),
            delete_after_days=lifecycle.get("DeleteAfterDays"))
        self.backup_jobs[job.job_id] = job
        return json_response({"BackupJobId": job.job_id, "CreationDate": now,
                              "IsParent": False})

    def _advance_backup_job(self, job: BackupJob, now: datetime) -> None:
        assert job.finishes is not None
        identifier = job.resource_arn.rsplit(":", 1)[-1]
        db = self.rds.backend.databases.get(identifier)
        if db is None:
            job.state, job.completed = "FAILED", now
            job.status_message = f"Resource {job.resource_arn} was not found."
            return
        if now < job.finishes:
            job.state = "RUNNING"
            return
        point = self.add_recovery_point(
            vault=job.vault, source=source_of(db), created=job.created,
            completed=job.finishes, iam_role_arn=job.iam_role_arn,
            size_bytes=int(db.allocated_storage) * 1024 ** 3 * 45 // 100,
            delete_after_days=job.delete_after_days)
        job.state, job.completed = "COMPLETED", job.finishes
        job.recovery_point_arn, job.size_bytes = point.arn, point.size_bytes

    def _job_json(self, j: BackupJob) -> dict[str, Any]:
        now = self.state.clock.now()
        vault = self.backend.vaults.get(j.vault)
        item: dict[str, Any] = {
            "AccountId": self.state.account,
            "BackupJobId": j.job_id,
            "BackupVaultName": j.vault,
            "BackupVaultArn": vault.backup_vault_arn if vault else self.state.arn(
                "backup", f"backup-vault:{j.vault}"),
            "ResourceArn": j.resource_arn,
            "ResourceType": j.resource_type,
            "ResourceName": j.resource_arn.rsplit(":", 1)[-1],
            "CreationDate": j.created,
            "State": j.state,
            "IamRoleArn": j.iam_role_arn,
            "BackupSizeInBytes": j.size_bytes,
            "StartBy": j.created + timedelta(hours=1),
            "BackupType": "",
            "IsParent": False,
        }
        if j.state == "COMPLETED":
            item["PercentDone"] = "100.0"
        elif j.state == "RUNNING" and j.finishes is not None:
            total = (j.finishes - j.created).total_seconds() or 1.0
            done = min(99.0, (now - j.created).total_seconds() / total * 100)
            item["PercentDone"] = f"{done:.1f}"
        if j.completed:
            item["CompletionDate"] = j.completed
        if j.recovery_point_arn:
            item["RecoveryPointArn"] = j.recovery_point_arn
        if j.status_message:
            item["StatusMessage"] = j.status_message
        if j.created_by:
            item["CreatedBy"] = j.created_by
        return item

    # ---- restore jobs ----------------------------------------------------------------------

    def start_restore_job(self, request: WireRequest) -> Response:
        body = request.json()
        token = body.get("IdempotencyToken")
        if token:
            for existing in self.restore_jobs.values():
                if existing.idempotency_token == token:
                    return json_response({"RestoreJobId": existing.job_id})
        point = self._point(str(body.get("RecoveryPointArn", "")), None)
        if point.status != "COMPLETED":
            raise _Refused(400, "InvalidRequestException",
                           f"Recovery point {point.arn} is {point.status}; only a COMPLETED "
                           f"recovery point can be restored.")
        metadata = {str(k): str(v) for k, v in (body.get("Metadata") or {}).items()}
        if not metadata.get("DBInstanceIdentifier"):
            raise _Refused(400, "InvalidParameterValueException",
                           "Restore metadata must include DBInstanceIdentifier, the name of "
                           "the DB instance to create.")
        if "VpcSecurityGroupIds" in metadata:
            security_group_ids(metadata["VpcSecurityGroupIds"])  # refused now, as AWS does
        now = self.state.clock.now()
        job = RestoreJob(
            job_id=self.state.next_id("restore-job").upper(), recovery_point_arn=point.arn,
            metadata=metadata, iam_role_arn=body.get("IamRoleArn"), created=now,
            finishes=now + timedelta(seconds=self.state.restore_seconds),
            idempotency_token=token)
        self.restore_jobs[job.job_id] = job
        return json_response({"RestoreJobId": job.job_id})

    def _advance_restore_job(self, job: RestoreJob, now: datetime) -> None:
        """PENDING for the first tenth of the time, then the instance exists and it RUNs."""
        running_at = job.created + (job.finishes - job.created) / 10
        if now < running_at:
            return
        if job.status == "PENDING":
            point = self.recovery_points[job.recovery_point_arn]
            identifier = job.metadata["DBInstanceIdentifier"].lower()
            if identifier in self.rds.backend.databases:
                job.status, job.completed = "FAILED", now
                job.status_message = (f"DB instance {identifier} already exists. Choose another "
                                      f"DBInstanceIdentifier in the restore metadata.")
                return
            db = self.rds.create_instance(
                _instance_kwargs(point, job.metadata),
                f"Restored from AWS Backup recovery point {point.arn}")
            self.state.restored(db.db_instance_identifier, point.created)
            # The instance turns "available" when the job completes, not before.
            self.rds.pending[db.db_instance_identifier] = job.finishes
            job.status = "RUNNING"
            job.created_resource_arn = db.arn
        if now >= job.finishes:
            job.status, job.completed = "COMPLETED", job.finishes

    def describe_restore_job(self, request: WireRequest) -> Response:
        job_id = request.path_params.get("restoreJobId", "")
        job = self.restore_jobs.get(job_id)
        if job is None:
            raise _Refused(404, "ResourceNotFoundException", f"Restore job {job_id} not found.")
        return json_response(self._restore_json(job))

    def list_restore_jobs(self, request: WireRequest) -> Response:
        status = request.param("status")
        after = parse_time(request.param("createdAfter"))
        jobs = sorted((j for j in self.restore_jobs.values()
                       if (status is None or j.status == status)
                       and (after is None or j.created >= after)),
                      key=lambda j: j.created, reverse=True)
        page, token = _page(jobs, request)
        return json_response({"RestoreJobs": [self._restore_json(j) for j in page],
                              **({"NextToken": token} if token else {})})

    def _restore_json(self, j: RestoreJob) -> dict[str, Any]:
        now = self.state.clock.now()
        point = self.recovery_points.get(j.recovery_point_arn)
        total = (j.finishes - j.created).total_seconds() or 1.0
        done = {"PENDING": 0.0, "COMPLETED": 100.0}.get(
            j.status, min(99.0, (now - j.created).total_seconds() / total * 100))
        item: dict[str, Any] = {
            "AccountId": self.state.account,
            "RestoreJobId": j.job_id,
            "RecoveryPointArn": j.recovery_point_arn,
            "CreationDate": j.created,
            "Status": j.status,
            "PercentDone": f"{done:.2f}%",
            "ExpectedCompletionTimeMinutes": max(1, math.ceil(total / 60)),
            "ResourceType": "RDS",
            "BackupSizeInBytes": point.size_bytes if point else 0,
        }
        if j.iam_role_arn:
            item["IamRoleArn"] = j.iam_role_arn
        if point:
            item["RecoveryPointCreationDate"] = point.created
        if j.created_resource_arn:
            item["CreatedResourceArn"] = j.created_resource_arn
        if j.completed:
            item["CompletionDate"] = j.completed
        if j.status_message:
            item["StatusMessage"] = j.status_message
        return item

    # ---- backup selections (moto has plans but not their selections) -----------------------

    def create_backup_selection(self, request: WireRequest) -> Response:
        plan_id = request.path_params.get("backupPlanId", "")
        self._plan(plan_id)
        body = request.json()
        now = self.state.clock.now()
        selection = Selection(selection_id=self.state.next_id("selection"), plan_id=plan_id,
                              body=dict(body.get("BackupSelection") or {}), created=now,
                              creator_request_id=body.get("CreatorRequestId"))
        self.selections[selection.selection_id] = selection
        return json_response({"SelectionId": selection.selection_id, "BackupPlanId": plan_id,
                              "CreationDate": now})

    def list_backup_selections(self, request: WireRequest) -> Response:
        plan_id = request.path_params.get("backupPlanId", "")
        self._plan(plan_id)
        items = [{"SelectionId": s.selection_id, "BackupPlanId": s.plan_id,
                  "SelectionName": s.body.get("SelectionName"), "CreationDate": s.created,
                  "IamRoleArn": s.body.get("IamRoleArn")}
                 for s in self.selections.values() if s.plan_id == plan_id]
        page, token = _page(items, request)
        return json_response({"BackupSelectionsList": page,
                              **({"NextToken": token} if token else {})})

    def get_backup_selection(self, request: WireRequest) -> Response:
        selection = self._selection(request)
        return json_response({"BackupSelection": selection.body,
                              "SelectionId": selection.selection_id,
                              "BackupPlanId": selection.plan_id,
                              "CreationDate": selection.created,
                              **({"CreatorRequestId": selection.creator_request_id}
                                 if selection.creator_request_id else {})})

    def delete_backup_selection(self, request: WireRequest) -> Response:
        selection = self._selection(request)
        del self.selections[selection.selection_id]
        return 200, [("Content-Type", "application/json")], b""

    def _selection(self, request: WireRequest) -> Selection:
        selection_id = request.path_params.get("selectionId", "")
        selection = self.selections.get(selection_id)
        if selection is None or selection.plan_id != request.path_params.get("backupPlanId"):
            raise _Refused(404, "ResourceNotFoundException",
                           f"Backup selection {selection_id} not found.")
        return selection

    # ---- seeding and lookups ---------------------------------------------------------------

    def add_recovery_point(self, *, vault: str, source: SourceInstance, created: datetime,
                           completed: datetime | None, iam_role_arn: str, size_bytes: int,
                           delete_after_days: int | None, status: str = "COMPLETED",
                           created_by: dict[str, str] | None = None) -> RecoveryPoint:
        """A recovery point of an RDS instance, as AWS Backup names them."""
        job_ref = self.state.next_id("recovery-point")
        vault_model = self.backend.vaults.get(vault)
        key = vault_model.encryption_key_arn if vault_model else None
        point = RecoveryPoint(
            arn=self.state.arn("rds", f"snapshot:awsbackup:job-{job_ref}"), vault=vault,
            resource_arn=self.state.arn("rds", f"db:{source.identifier}"), source=source,
            created=aware(created), completed=aware(completed) if completed else None,
            status=status, size_bytes=size_bytes, encrypted=True,
            encryption_key_arn=key or source.kms_key_id, iam_role_arn=iam_role_arn,
            delete_after_days=delete_after_days, created_by=created_by)
        self.recovery_points[point.arn] = point
        return point

    def add_backup_job(self, job: BackupJob) -> None:
        self.backup_jobs[job.job_id] = job

    def _vault(self, name: str) -> Any:
        vault = self.backend.vaults.get(name)
        if vault is None:
            raise _Refused(404, "ResourceNotFoundException",
                           f"Backup vault {name} does not exist in this account and region.")
        return vault

    def _plan(self, plan_id: str) -> Any:
        plan = self.backend.plans.get(plan_id)
        if plan is None or plan.deletion_date is not None:
            raise _Refused(404, "ResourceNotFoundException", f"Backup plan {plan_id} not found.")
        return plan

    def _point(self, arn: str, vault: str | None) -> RecoveryPoint:
        point = self.recovery_points.get(arn)
        if point is None or (vault is not None and point.vault != vault):
            raise _Refused(404, "ResourceNotFoundException",
                           f"Recovery point {arn} was not found"
                           + (f" in backup vault {vault}." if vault else "."))
        return point


__all__ = ["BackupJob", "BackupShim", "RecoveryPoint", "RestoreJob", "Selection",
           "SourceInstance", "security_group_ids", "source_of"]
