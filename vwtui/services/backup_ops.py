"""The manual backup of troubleshooting ("Manually trigger backup if necessary"), guarded.

Two kinds: an AWS Backup on-demand job of the instance into the plan's vault with the plan's
role (backup:StartBackupJob), or a manual RDS snapshot named <instance>-manual-YYYYMMDDHHMM
(rds:CreateDBSnapshot). Each request is an `AwsCall` (vwtui.services.calls): the line shown
before the engineer confirms is the rendering of exactly what is sent.

Guardrails, here in the service layer: a read-only session refuses; the intent is journaled
(vwtui.actions_journal) before the request and the answer after it; a backup of the same kind
and instance is refused while one is on its way or when one completed today; an intent whose
answer was lost is looked for in AWS (the snapshot by its name, the job among the on-demand jobs
of the instance since the intent) before anything is asked again. One process at a time decides
(a lock file beside the journal), and within it one coroutine at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from vwtui import safefile
from vwtui.actions_journal import (
    ASKED,
    COMPLETED,
    FAILED,
    NOT_MADE,
    Action,
    ActionsJournal,
)
from vwtui.errors import AwsError, AwsUnavailable, GuardrailError, NotFound, SessionError
from vwtui.model import utcnow
from vwtui.services import calls, guardrails
from vwtui.services.aws import AwsService
from vwtui.services.calls import AwsCall

BACKUP_JOB = "backup-job"
RDS_SNAPSHOT = "rds-snapshot"
KINDS = (BACKUP_JOB, RDS_SNAPSHOT)

# An intent with no answer and nothing in AWS is taken as never made only after this long: the
# request may still be on its way (or AWS slow to list the new job).
ANSWER_GRACE = timedelta(minutes=2)

# AWS Backup job states (DescribeBackupJob) and RDS snapshot statuses that end a backup.
_JOB_DONE = {"COMPLETED": COMPLETED, "FAILED": FAILED, "ABORTED": FAILED, "EXPIRED": FAILED,
             "PARTIAL": FAILED}
_SNAPSHOT_DONE = {"available": COMPLETED, "failed": FAILED, "deleted": FAILED,
                  "incompatible-restore": FAILED}

_locks: dict[tuple[str, int], asyncio.Lock] = {}


@dataclass(frozen=True, slots=True)
class PreparedBackup:
    """A manual backup ready to be confirmed: the call and its `aws` line, and why it would be
    refused now (None: it may be sent)."""

    kind: str
    instance: str
    action_id: str
    call: AwsCall
    command: str
    refusal: str | None
    notes: tuple[str, ...] = ()
    resource_arn: str | None = None


@dataclass(frozen=True, slots=True)
class BackupProgress:
    """Where a manual backup stands, as AWS says now."""

    action: Action
    aws_state: str
    percent: float | None
    state: str  # actions_journal state: running, completed, failed
    message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state in (COMPLETED, FAILED)


class ManualBackupOps:
    """Start and follow a manual backup, with its guardrails and its journal."""

    def __init__(self, aws: AwsService, journal: ActionsJournal | None = None, *,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.aws = aws
        self.config = aws.config
        self.journal = journal or ActionsJournal()
        self._now = now

    # ---- the calls (one per AwsCall builder of calls.BACKUP_MUTATING) ---------------------

    async def start_backup_job(self, vault: str, resource_arn: str, *, role_arn: str,
                               action_id: str, delete_after_days: int | None = None) -> str:
        """backup:StartBackupJob; the job id. Refused on a read-only session."""
        call = calls.start_backup_job(vault, resource_arn, role_arn=role_arn,
                                      action_id=action_id, delete_after_days=delete_after_days)
        guardrails.check_writable(self.config, f"start a backup job of {resource_arn}")
        data = await self._send(call)
        return str(data["BackupJobId"])

    async def create_db_snapshot(self, instance: str, snapshot_id: str, *,
                                 action_id: str) -> str:
        """rds:CreateDBSnapshot; the snapshot identifier. Refused on a read-only session."""
        call = calls.create_db_snapshot(instance, snapshot_id, action_id=action_id)
        guardrails.check_writable(self.config, f"snapshot {instance}")
        data = await self._send(call)
        return str(data["DBSnapshot"]["DBSnapshotIdentifier"])

    # ---- prepare, start, follow -------------------------------------------------------------

    async def prepare(self, kind: str, instance: str) -> PreparedBackup:
        """The call a manual backup of `instance` would send, and whether it would be refused
        (read-only, one on its way, one done today). Reads only: the instance (its ARN), the
        plan (its vault and role), and AWS for an earlier intent whose answer was lost."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        now = self._now()
        action_id = f"{kind}-{instance}-{now:%Y%m%dT%H%M%SZ}"
        notes: list[str] = []
        resource_arn: str | None = None
        if kind == RDS_SNAPSHOT:
            call = calls.create_db_snapshot(
                instance, calls.manual_snapshot_identifier(instance, now), action_id=action_id)
        else:
            resource_arn = (await self.aws.instance(instance)).arn
            vault, role, where = await self.plan_vault_and_role()
            notes.append(where)
            call = calls.start_backup_job(vault, resource_arn, role_arn=role,
                                          action_id=action_id,
                                          delete_after_days=self.config.backup.retention_days)
        refusal: str | None = None
        try:
            guardrails.check_writable(self.config, _doing(kind, instance))
            actions = await self.resolve_lost(kind, instance)
            guardrails.check_not_issued_twice(kind, instance, actions, now)
        except GuardrailError as exc:
            refusal = exc.message
        return PreparedBackup(kind=kind, instance=instance, action_id=action_id, call=call,
                              command=call.cli(self.config), refusal=refusal,
                              notes=tuple(notes), resource_arn=resource_arn)

    async def start(self, prepared: PreparedBackup) -> Action:
        """Send the prepared call, once: every guardrail again (under the lock), the intent
        journaled before the request, the answer after it. The action, running."""
        async with self._decide():
            guardrails.check_writable(self.config, _doing(prepared.kind, prepared.instance))
            actions = await self.resolve_lost(prepared.kind, prepared.instance)
            guardrails.check_not_issued_twice(prepared.kind, prepared.instance, actions,
                                              self._now())
            params = prepared.call.params
            snapshot = params.get("DBSnapshotIdentifier")
            self.journal.asked(prepared.action_id, prepared.kind, prepared.instance,
                               prepared.command, self._now(), resource=snapshot,
                               vault=params.get("BackupVaultName"),
                               resource_arn=params.get("ResourceArn"))
            try:
                if prepared.kind == RDS_SNAPSHOT:
                    resource = await self.create_db_snapshot(
                        prepared.instance, str(snapshot), action_id=prepared.action_id)
                else:
                    lifecycle = params.get("Lifecycle") or {}
                    resource = await self.start_backup_job(
                        str(params["BackupVaultName"]), str(params["ResourceArn"]),
                        role_arn=str(params["IamRoleArn"]), action_id=prepared.action_id,
                        delete_after_days=lifecycle.get("DeleteAfterDays"))
            except (AwsUnavailable, SessionError):
                # The answer may be lost after AWS acted: the intent stays open, and the next
                # attempt looks in AWS first.
                raise
            except AwsError as exc:
                # AWS answered with a refusal: nothing was made.
                self.journal.ended(prepared.action_id, FAILED, exc.message, self._now())
                raise
            self.journal.started(prepared.action_id, resource, self._now())
        found = {a.action_id: a for a in self.journal.actions()}
        return found[prepared.action_id]

    async def progress(self, action: Action) -> BackupProgress:
        """backup:DescribeBackupJob or rds:DescribeDBSnapshots of a running manual backup;
        its end is journaled once."""
        if action.resource_id is None:
            raise ValueError("progress() needs an action AWS answered (a job or snapshot id)")
        if action.kind == BACKUP_JOB:
            call = calls.describe_backup_job(action.resource_id)
            data = await self.aws.call(call.service, call.operation, **call.params)
            aws_state = str(data.get("State", "UNKNOWN"))
            state = _JOB_DONE.get(aws_state, "running")
            percent = _float(data.get("PercentDone"))
            message = data.get("StatusMessage")
            extra = {"recovery_point": data.get("RecoveryPointArn"),
                     "size_bytes": data.get("BackupSizeInBytes")}
        else:
            call = calls.describe_db_snapshot(action.resource_id)
            data = await self.aws.call(call.service, call.operation, **call.params)
            found = (data.get("DBSnapshots") or [{}])[0]
            aws_state = str(found.get("Status", "unknown"))
            state = _SNAPSHOT_DONE.get(aws_state, "running")
            percent = _float(found.get("PercentProgress"))
            message = None
            extra = {"size_gb": found.get("AllocatedStorage")}
        if state == COMPLETED:
            percent = 100.0
        if state in (COMPLETED, FAILED) and action.open:
            self.journal.ended(action.action_id, state, message or aws_state, self._now())
        return BackupProgress(action=action, aws_state=aws_state, percent=percent, state=state,
                              message=message, extra=extra)

    def actions(self, kind: str | None = None, instance: str | None = None) -> list[Action]:
        """The journal's manual backups (of a kind and instance when given), oldest first."""
        return [a for a in self.journal.actions()
                if (kind is None or a.kind == kind)
                and (instance is None or a.instance == instance)]

    async def resolve_lost(self, kind: str, instance: str) -> list[Action]:
        """The journal's actions of `kind` on `instance`, each asked one without an answer
        looked for in AWS first: found, it is journaled as started (and followed); not found
        after ANSWER_GRACE, as never made. Reads only."""
        for action in self.actions(kind, instance):
            if action.state != ASKED:
                continue
            resource = await self._look_for(action)
            if resource is not None:
                self.journal.started(action.action_id, resource, self._now())
            elif self._now() - action.asked_at > ANSWER_GRACE:
                self.journal.ended(action.action_id, NOT_MADE,
                                   "the answer was lost and AWS shows nothing made",
                                   self._now())
        return self.actions(kind, instance)

    async def plan_vault_and_role(self) -> tuple[str, str, str]:
        """The backup plan's vault (its first rule's target) and role (its selection's), with
        where they came from; the config's vault and role when the plan cannot say."""
        backup = self.config.backup
        try:
            plan = await self.aws.backup_plan(backup.plan)
            if plan is None or not plan.rules:
                raise NotFound(f"no backup plan {backup.plan}")
            vault = plan.rules[0].target_vault or backup.vault
            selections = await self.aws.paginate("backup", "ListBackupSelections",
                                                 "BackupSelectionsList",
                                                 BackupPlanId=plan.plan_id)
            role = next((str(s["IamRoleArn"]) for s in selections if s.get("IamRoleArn")), None)
            if role is None:
                return vault, backup.restore_role_arn, (
                    f"vault from plan {backup.plan}; it selects nothing, so the role is the "
                    f"config's")
            return vault, role, f"vault and role from plan {backup.plan}"
        except AwsError as exc:
            return backup.vault, backup.restore_role_arn, (
                f"the plan could not be read ({exc.message}): vault and role from the config")

    # ---- plumbing ---------------------------------------------------------------------------

    async def _look_for(self, action: Action) -> str | None:
        """The job or snapshot an intent made, if AWS shows one."""
        if action.kind == RDS_SNAPSHOT:
            if action.resource_id is None:
                return None
            try:
                await self.aws.snapshot(action.resource_id)
            except NotFound:
                return None
            return action.resource_id
        params: dict[str, Any] = {"ByCreatedAfter": action.asked_at - timedelta(minutes=1)}
        if action.resource_arn:
            params["ByResourceArn"] = action.resource_arn
        if action.vault:
            params["ByBackupVaultName"] = action.vault
        jobs = await self.aws.paginate("backup", "ListBackupJobs", "BackupJobs", **params)
        # Ours is on demand: a plan's scheduled job names its plan in CreatedBy.
        ours = [j for j in jobs if not (j.get("CreatedBy") or {}).get("BackupPlanId")]
        ours.sort(key=lambda j: str(j.get("CreationDate", "")))
        return str(ours[0]["BackupJobId"]) if ours else None

    async def _send(self, call: AwsCall) -> dict[str, Any]:
        return await self.aws.call(call.service, call.operation, **call.params)

    @contextlib.asynccontextmanager
    async def _decide(self) -> AsyncIterator[None]:
        """One decision at a time: in this process (a lock per journal and event loop), and
        across processes (a lock file beside the journal, not waited for)."""
        key = (str(self.journal.path), id(asyncio.get_running_loop()))
        lock = _locks.setdefault(key, asyncio.Lock())
        if lock.locked():
            raise GuardrailError("Refused: a manual backup is being asked for right now in "
                                 "this session; wait for its answer.")
        async with lock:
            safefile.private_dir(self.journal.path.parent)
            fd = safefile.open_append(self.journal.path.with_suffix(".lock"))
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise GuardrailError(
                        "Refused: another vwtui is asking for a manual backup right now; "
                        "wait for its answer, then look again.") from None
                yield
            finally:
                os.close(fd)


def _doing(kind: str, instance: str) -> str:
    return (f"start an AWS Backup job of {instance}" if kind == BACKUP_JOB
            else f"snapshot {instance}")


def _float(value: object) -> float | None:
    try:
        return float(str(value).rstrip("%")) if value not in (None, "") else None
    except ValueError:
        return None
