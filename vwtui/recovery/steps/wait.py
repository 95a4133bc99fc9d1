"""The wait step: the restore job to COMPLETED (scenario 3), then the instance to `available`,
polled without blocking the screen; a state RDS never leaves by itself fails it."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from vwtui import fmt
from vwtui.recovery import journal as jr
from vwtui.recovery import troubleshooting as ts
from vwtui.recovery.clock import aws_restore_eta
from vwtui.recovery.plan import Scenario, post_restore_settings
from vwtui.recovery.state import StepFailed, StepState, StepStatus
from vwtui.recovery.steps import Outcome, StepContext

if TYPE_CHECKING:
    from vwtui.model import Instance, RestoreJob

# RDS states a restore never leaves by itself: the wait fails on them.
FAILED_STATES = frozenset({
    "failed", "incompatible-restore", "incompatible-parameters", "incompatible-network",
    "incompatible-option-group", "storage-full", "inaccessible-encryption-credentials",
    "restore-error", "deleting",
})
# A new instance may not be visible to DescribeDBInstances for a moment after the restore call.
MISSING_POLLS_ALLOWED = 5


class WaitReads(Protocol):
    async def instance_or_none(self, identifier: str) -> Instance | None: ...

    async def restore_job(self, job_id: str) -> RestoreJob: ...


class SettingsOps(Protocol):
    async def modify_instance(self, identifier: str, settings: Mapping[str, Any], *,
                              owned: Collection[str]) -> Instance: ...

    async def add_tags(self, arn: str, tags: Sequence[tuple[str, str]], *,
                       owned: Collection[str]) -> None: ...

    def cli_command(self, operation: str, *args: object, **kwargs: object) -> str: ...


class WaitStep:
    def __init__(self, reads: WaitReads, ops: SettingsOps | None = None) -> None:
        self.reads = reads
        self.ops = ops

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        state = ctx.state
        req = state.request
        if state.dry_run:
            return StepStatus.DONE, ("Dry run: would poll "
                                     + ("the restore job, then " if state.restore_job_id
                                        or req.scenario is Scenario.AWS_BACKUP else "")
                                     + f"{req.target} until available.")
        target = req.target
        if req.scenario is Scenario.AWS_BACKUP:
            target = await self._wait_restore_job(ctx, step)
        polls = missing = 0
        last_status = None
        while True:
            polls += 1
            instance = await self.reads.instance_or_none(target)
            if instance is None:
                missing += 1
                if missing > MISSING_POLLS_ALLOWED:
                    raise StepFailed(
                        f"{target} does not exist: the restore did not create it, or it was "
                        f"deleted.", ts.restore_failed(ctx.config, req.scenario, req.source,
                                                       target, await ctx.events()))
                status = "not visible yet"
            else:
                missing = 0
                status = instance.status
                state.new_instance = instance
            if status != last_status:
                ctx.note(jr.STEP_PROGRESS, step=step.key, instance=target, status=status)
                last_status = status
            ctx.progress(step, f"{target}: {status} (poll {polls})")
            if status == "available":
                assert instance is not None
                applied = await self._apply_source_settings(ctx, step, instance)
                return StepStatus.DONE, (f"{target} is available at "
                                         f"{instance.endpoint_address}.{applied}")
            if status in FAILED_STATES:
                raise StepFailed(
                    f"{target} ended {status}: the restore failed.",
                    ts.restore_failed(ctx.config, req.scenario, req.source, target,
                                      await ctx.events()))
            await asyncio.sleep(ctx.poll_interval)

    async def _apply_source_settings(self, ctx: StepContext, step: StepState,
                                     instance: Instance) -> str:
        """The source's settings the restore could not take (maintenance window, monitoring,
        Performance Insights; tags after an AWS Backup restore): one guarded modify of the
        run's own instance, journaled first. Returns what to add to the step's detail."""
        state = ctx.state
        params, tags = post_restore_settings(state.request, ctx.config)
        if not (params or tags) or self.ops is None:
            return ""
        target = instance.identifier
        lines = []
        if params:
            lines.append(self.ops.cli_command("modify_instance", target, params))
        if tags:
            lines.append(self.ops.cli_command("add_tags", instance.arn, tags))
        ctx.progress(step, f"{target}: applying {state.request.source}'s other settings")
        await ctx.before_mutation(f"apply {state.request.source}'s settings to {target}")
        ctx.note(jr.STEP_PROGRESS, step=step.key, commands=lines)
        if params:
            state.new_instance = await self.ops.modify_instance(target, params,
                                                                owned=state.owned)
        if tags:
            await self.ops.add_tags(instance.arn, tags, owned=state.owned)
        said = [*params] + (["tags"] if tags else [])
        return f" Applied {state.request.source}'s {', '.join(said)} (modify-db-instance)."

    async def _wait_restore_job(self, ctx: StepContext, step: StepState) -> str:
        """Poll the restore job to COMPLETED; the created instance's identifier."""
        state = ctx.state
        req = state.request
        if not state.restore_job_id:
            raise StepFailed("No restore job id is known for this run; rerun the restore step "
                             "or skip the wait with a reason.")
        polls = 0
        last = None
        while True:
            polls += 1
            job = await self.reads.restore_job(state.restore_job_id)
            if job.status != last:
                ctx.note(jr.STEP_PROGRESS, step=step.key, restore_job_id=job.job_id,
                         status=job.status)
                last = job.status
            # AWS's own estimate, when it gives one, drives the run's ETA for this step.
            now = ctx.now()
            step.aws_eta = aws_restore_eta(job, now)
            eta = f", about {job.expected_minutes} min" if job.expected_minutes else ""
            if step.aws_eta is not None:
                eta += f", done about {fmt.clock(step.aws_eta, seconds=False, zone=True)}"
            # AWS Backup's PercentDone is a string that may already end in "%".
            pct = f" {job.percent_done.rstrip('%')}%" if job.percent_done else ""
            ctx.progress(step, f"restore job {job.status}{pct}{eta} (poll {polls})")
            if job.status == "COMPLETED":
                arn = job.created_resource_arn or ""
                return arn.rsplit(":", 1)[-1] if ":db:" in arn else req.target
            if job.status in ("FAILED", "ABORTED"):
                raise StepFailed(
                    f"Restore job {job.job_id} ended {job.status}"
                    + (f": {job.status_message}" if job.status_message else "."),
                    ts.restore_job_failed(ctx.config, job.job_id, job.status,
                                          job.status_message, req.target,
                                          await ctx.events()))
            await asyncio.sleep(ctx.poll_interval)
