"""The restore step: RestoreDBInstanceToPointInTime, RestoreDBInstanceFromDBSnapshot or an AWS
Backup restore job, checked first and never issued twice (an instance or a job this run already
asked for is adopted, after a restart or a lost answer)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from vwtui.errors import AwsError, InvalidParameter, VwtuiError
from vwtui.recovery import troubleshooting as ts
from vwtui.recovery.plan import (
    RecoveryInputError,
    RecoveryRequest,
    Scenario,
    build_plan,
    check_recovery_point,
    check_restore_time,
    check_snapshot,
    restore_extra_params,
    restore_job_metadata,
)
from vwtui.recovery.state import StepFailed, StepKey, StepState, StepStatus
from vwtui.recovery.steps import Outcome, StepContext
from vwtui.services.calls import RUN_TAG

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.model import Instance, PitrWindow, RecoveryPoint, RestoreJob, Snapshot



T = TypeVar("T")


class SourceReads(Protocol):
    async def instance(self, identifier: str) -> Instance: ...


class RestoreReads(SourceReads, Protocol):
    async def pitr_window(self, identifier: str) -> PitrWindow: ...

    async def snapshot(self, snapshot_id: str) -> Snapshot: ...

    async def recovery_point(self, vault: str, arn: str) -> RecoveryPoint | None: ...


class RestoreOps(Protocol):
    async def instance_or_none(self, identifier: str) -> Instance | None: ...

    async def restore_to_point_in_time(
            self, source: str, target: str, restore_time: datetime, *,
            subnet_group: str | None = ..., security_groups: Sequence[str] = ...,
            instance_class: str | None = ..., run_id: str | None = ...,
            settings: Mapping[str, Any] | None = ...) -> Instance: ...

    async def restore_from_snapshot(
            self, snapshot_id: str, target: str, *, subnet_group: str | None = ...,
            security_groups: Sequence[str] = ..., instance_class: str | None = ...,
            run_id: str | None = ..., settings: Mapping[str, Any] | None = ...) -> Instance: ...

    async def start_restore_job(self, recovery_point_arn: str, metadata: Mapping[str, str], *,
                                role_arn: str | None = ...) -> str: ...

    async def restore_jobs_since(self, since: datetime) -> list[RestoreJob]: ...

    def cli_command(self, operation: str, *args: object, **kwargs: object) -> str: ...


@dataclass(frozen=True, slots=True)
class RestoreSettings:
    """A request with its restore settings filled in, and where each came from."""

    request: RecoveryRequest
    network_from: str  # "config", "source instance", "config + source instance", "unknown"
    class_from: str  # "config", "source instance", "unknown"
    problem: str | None = None  # why the source instance could not be read
    source_class: str | None = None  # the source instance's class, when it was read

    def class_warning(self) -> str | None:
        """When the configured class is not the source's: what the swap then leaves."""
        klass, source = self.request.instance_class, self.source_class
        if not (klass and source) or klass == source:
            return None
        return (f"The restore's class {klass} is not {self.request.source}'s ({source}): "
                f"after the swap, the application runs on {klass}.")


async def restore_settings(aws: SourceReads, config: Config,
                           request: RecoveryRequest) -> RestoreSettings:
    """Fill in the subnet group, security groups and instance class of a restore: the
    request's own when set, else config.restore's, else the source instance's
    (rds:DescribeDBInstances, read-only). The class follows the source by default, as AWS's
    own default does: a restore smaller than the instance it replaces would leave production
    short of memory after the swap. When the source cannot be read, what is unknown stays
    None (AWS then uses the snapshot's network defaults and its original class)."""
    cfg = config.restore
    subnet = request.subnet_group or cfg.subnet_group or None
    groups = tuple(request.security_groups or cfg.security_groups)
    klass = request.instance_class or cfg.instance_class or None
    configured = (subnet is not None, bool(groups))
    problem = None
    try:
        source: Instance | None = await aws.instance(request.source)
    except VwtuiError as exc:
        source, problem = None, f"Cannot read {request.source}: {exc}"
    source_class = None
    if source is not None:
        source_class = source.instance_class or None
        network_from = ("config" if all(configured) else "config + source instance"
                        if any(configured) else "source instance")
        class_from = "config" if klass else "source instance"
        subnet = subnet or source.subnet_group or None
        groups = groups or tuple(source.security_groups)
        klass = klass or source.instance_class or None
    else:
        network_from = "config" if all(configured) else "unknown"
        class_from = "config" if klass else "unknown"
    # Every other setting the restore takes comes from the source too (kept in the request,
    # so the plan, the journal and a resumed run send the same).
    source_settings = (source.settings if source is not None else ()) or \
        request.source_settings
    filled = dataclasses.replace(request, subnet_group=subnet, security_groups=groups,
                                 instance_class=klass, source_settings=source_settings)
    return RestoreSettings(filled, network_from, class_from, problem, source_class)


class RestoreStep:
    """Scenarios 1-3's restore."""

    def __init__(self, reads: RestoreReads, ops: RestoreOps) -> None:
        self.reads = reads
        self.ops = ops

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        state = ctx.state
        req = state.request
        if state.restore_issued:
            return StepStatus.DONE, (f"Restore of {req.target} already issued before the "
                                     f"restart; not issued again.")
        if not (req.subnet_group and req.security_groups and req.instance_class
                and req.source_settings):
            req = (await restore_settings(self.reads, ctx.config, req)).request
        extra = restore_extra_params(req, ctx.config)
        subnet, groups = req.subnet_group, req.security_groups
        await self._check_inputs(ctx)
        if req.scenario is Scenario.AWS_BACKUP:
            return await self._start_restore_job(ctx, step, req)
        adopted = await self._adopt_existing(ctx)
        if adopted is not None:
            return StepStatus.DONE, adopted
        if req.scenario is Scenario.PITR:
            assert req.restore_time is not None
            step.command = self.ops.cli_command(
                "restore_to_point_in_time", req.source, req.target, req.restore_time,
                subnet_group=subnet, security_groups=groups, instance_class=req.instance_class,
                run_id=state.run_id, settings=extra)
            if state.dry_run:
                return StepStatus.DONE, f"Dry run: not issued. Would run: {step.command}"
            await ctx.before_mutation(f"restore {req.target}")
            call = self.ops.restore_to_point_in_time(
                req.source, req.target, req.restore_time, subnet_group=subnet,
                security_groups=groups, instance_class=req.instance_class, run_id=state.run_id,
                settings=extra)
        else:
            assert req.snapshot_id is not None
            step.command = self.ops.cli_command(
                "restore_from_snapshot", req.snapshot_id, req.target, subnet_group=subnet,
                security_groups=groups, instance_class=req.instance_class, run_id=state.run_id,
                settings=extra)
            if state.dry_run:
                return StepStatus.DONE, f"Dry run: not issued. Would run: {step.command}"
            await ctx.before_mutation(f"restore {req.target}")
            call = self.ops.restore_from_snapshot(
                req.snapshot_id, req.target, subnet_group=subnet, security_groups=groups,
                instance_class=req.instance_class, run_id=state.run_id, settings=extra)
        try:
            instance = await call
        except InvalidParameter as exc:
            if exc.code in ("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"):
                adopted = await self._adopt_existing(ctx)
                if adopted is not None:
                    return StepStatus.DONE, adopted
            raise
        ctx.record(state.issued([req.target]))
        state.new_instance = instance
        return StepStatus.DONE, f"Restore issued: {req.target} is {instance.status}."

    async def _check_inputs(self, ctx: StepContext) -> None:
        """Read-only checks before anything is issued (also what a dry run proves)."""
        state = ctx.state
        req = state.request
        if req.scenario is Scenario.PITR:
            assert req.restore_time is not None
            window = await self.reads.pitr_window(req.source)
            check_restore_time(window, req.restore_time, ctx.now())
        elif req.scenario is Scenario.SNAPSHOT:
            assert req.snapshot_id is not None
            snapshot = await self.reads.snapshot(req.snapshot_id)
            _as_step_failure(check_snapshot, snapshot, req.source)
            state.restore_point = state.restore_point or snapshot.created
        elif req.scenario is Scenario.AWS_BACKUP:
            vault = ctx.config.backup.vault
            assert req.recovery_point_arn is not None
            point = await self.reads.recovery_point(vault, req.recovery_point_arn)
            if point is None:
                raise StepFailed(f"Recovery point {req.recovery_point_arn} was not found in "
                                 f"{vault} (deleted, expired, or in another vault); pick "
                                 f"another one.")
            _as_step_failure(check_recovery_point, point, req.source)
            state.restore_point = state.restore_point or point.created
        # An AWS Backup job's instance carries no tag of ours: after an attempt, the job
        # finder decides whether it is this run's.
        if not state.restore_issued and not (req.scenario is Scenario.AWS_BACKUP
                                             and state.restore_attempted):
            existing = await self.ops.instance_or_none(req.target)
            if existing is not None and not is_ours(ctx, existing):
                raise StepFailed(
                    f"An instance named {req.target} already exists and this run did not "
                    f"create it. Instance name conflict: use a unique identifier.",
                    ts.restore_failed(ctx.config, req.scenario, req.source, req.target))

    async def _adopt_existing(self, ctx: StepContext) -> str | None:
        """After a restart (or a lost answer), an instance this run already asked for is
        taken over instead of being requested again."""
        state = ctx.state
        if state.dry_run:
            return None
        existing = await self.ops.instance_or_none(state.request.target)
        if existing is None or not is_ours(ctx, existing):
            return None
        ctx.record(state.issued([state.request.target], adopted=True))
        state.new_instance = existing
        return (f"{state.request.target} already exists ({existing.status}): the restore was "
                f"issued before the restart; not issued again.")

    async def _start_restore_job(self, ctx: StepContext, step: StepState,
                                 req: RecoveryRequest) -> Outcome:
        """Scenario 3: the request `req` has its restore settings filled in."""
        state = ctx.state
        assert req.recovery_point_arn is not None
        metadata = restore_job_metadata(req.target, req.instance_class, req.subnet_group,
                                        req.security_groups,
                                        restore_extra_params(req, ctx.config))
        step.command = self.ops.cli_command("start_restore_job", req.recovery_point_arn,
                                            metadata)
        if state.dry_run:
            return StepStatus.DONE, f"Dry run: not issued. Would run: {step.command}"
        if state.restore_attempted:
            found = await self._find_started_job(ctx, step, req)
            if found is not None:
                ctx.record(state.issued([req.target], job_id=found, adopted=True))
                show_restore_job_id(ctx)
                return StepStatus.DONE, (f"Restore job {found} was started before the restart; "
                                         f"not started again.")
        await ctx.before_mutation(f"start a restore job for {req.target}")
        job_id = await self.ops.start_restore_job(req.recovery_point_arn, metadata)
        ctx.record(state.issued([req.target], job_id=job_id))
        show_restore_job_id(ctx)
        return StepStatus.DONE, f"Restore job {job_id} started for {req.target}."

    async def _find_started_job(self, ctx: StepContext, step: StepState,
                                req: RecoveryRequest) -> str | None:
        """This run's restore job, if an earlier attempt started one (ListRestoreJobs): of
        this recovery point, since the step began, creating this target when AWS says what
        it creates. Another restore running in the account is never taken for ours; fail
        closed when AWS cannot say, or when more than one job could be ours."""
        since = (step.started_at or ctx.state.clock.started_at) - timedelta(minutes=2)
        try:
            jobs = await self.ops.restore_jobs_since(since)
        except AwsError as exc:
            raise StepFailed(
                f"vwtui stopped while starting the restore job and cannot tell whether AWS "
                f"started it ({exc.message}). Check `aws backup list-restore-jobs`; skip this "
                f"step with the job id as reason if one runs, or retry to start one.") from None
        ours = [j for j in jobs if (j.created or since) >= since
                and j.status not in ("FAILED", "ABORTED")
                and j.recovery_point_arn == req.recovery_point_arn
                and (j.created_resource_arn is None
                     or j.created_resource_arn.endswith(f":db:{req.target}"))]
        if len(ours) > 1:
            ids = ", ".join(j.job_id for j in ours)
            raise StepFailed(
                f"Several restore jobs of this recovery point started since the step began "
                f"({ids}); vwtui cannot tell which is this run's. Stop the extra ones in AWS "
                f"Backup, then retry; or skip this step naming the job to follow.")
        return ours[0].job_id if ours else None


def _as_step_failure(check: Callable[[T, str], None], item: T, source: str) -> None:
    try:
        check(item, source)
    except RecoveryInputError as exc:
        raise StepFailed(exc.message) from None


def is_ours(ctx: StepContext, instance: Instance) -> bool:
    """Tagged with this run's id (every restore this run sends carries the tag). An instance
    of the same name without it is someone else's (another engineer in the same minute): it
    is never adopted, so never swapped in nor deleted by this run."""
    return (RUN_TAG, ctx.state.run_id) in instance.tags


def show_restore_job_id(ctx: StepContext) -> None:
    """Once the restore job's id is known, the wait step's command names it instead of the
    plan's `<restore-job-id>` placeholder."""
    state = ctx.state
    wait = state.step(StepKey.WAIT)
    if not state.restore_job_id or wait is None:
        return
    planned = build_plan(state.request, ctx.config, now=state.clock.started_at,
                         restore_job_id=state.restore_job_id, run_id=state.run_id)
    wait.command = next((p.command for p in planned if p.key == StepKey.WAIT), wait.command)
