"""A recovery run: the runbook's steps, one at a time, journaled, resumable.

`RecoveryRun` is owned by the App (it outlives any screen). The screen calls `run_step()` (or
`run_until_blocked()`) in an async worker and listens through `subscribe()`; the run never
blocks the event loop (AWS calls go through the async services, waits are `asyncio.sleep`).

Nothing runs by itself after a failure: a failed step stays failed until the engineer picks
`retry()`, `skip(reason)` or `abort(cleanup)`. Every step is journaled before it starts and when
it ends; `RecoveryRun.resume()` rebuilds the run from its journal and picks up an operation
already under way in AWS instead of issuing it again.

This module does I/O only through the services it is given (AwsService, PgService,
RecoveryOps) and the journal.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vwtui.errors import AwsError, DatabaseError, GuardrailError, InvalidParameter, VwtuiError
from vwtui.model import Instance, utcnow
from vwtui.recovery import journal as jr
from vwtui.recovery import troubleshooting as ts
from vwtui.recovery.clock import RtoClock
from vwtui.recovery.plan import (
    SWAP_CHECKLIST_AFTER,
    SWAP_CHECKLIST_BEFORE,
    PlannedStep,
    RecoveryRequest,
    Scenario,
    SwapMethod,
    build_plan,
    check_request,
    check_restore_time,
    host_override_note,
    name_stamp,
    no_record_note,
    restore_job_metadata,
    retired_identifier,
)
from vwtui.recovery.state import ChecklistItem, StepState, StepStatus, Troubleshooting
from vwtui.recovery.verify import (
    Baseline,
    ReferenceKind,
    Verification,
    judge,
    load_baseline,
    save_baseline,
)
from vwtui.services.guardrails import check_not_protected, check_owned
from vwtui.services.recovery_ops import RUN_TAG, CrossRegionStatus, RecoveryOps

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.services.aws import AwsService
    from vwtui.services.pg import PgService

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 15.0
# swap_result["method"] of a Route53 swap with no DNS record of the source's own.
MANUAL_SWAP = "manual"
# RDS states a restore never leaves by itself: the wait fails on them.
FAILED_STATES = frozenset({
    "failed", "incompatible-restore", "incompatible-parameters", "incompatible-network",
    "incompatible-option-group", "storage-full", "inaccessible-encryption-credentials",
    "restore-error", "deleting",
})
# A new instance may not be visible to DescribeDBInstances for a moment after the restore call.
MISSING_POLLS_ALLOWED = 5


class RecoveryStateError(VwtuiError):
    """An action that does not fit the run's state (a step already running, a failed step)."""

    title = "Not now"


class StepFailed(VwtuiError):
    """A step failed; carries the runbook's troubleshooting for the case."""

    title = "Step failed"

    def __init__(self, message: str, troubleshooting: Troubleshooting | None = None) -> None:
        super().__init__(message)
        self.troubleshooting = troubleshooting


@dataclass(frozen=True, slots=True)
class RunUpdate:
    """What a listener is told: a step changed, a poll reported progress, the run ended."""

    kind: str  # "step" | "progress" | "checklist" | "finished"
    step: StepState | None
    message: str
    time: datetime


Listener = Callable[[RunUpdate], None]


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


async def restore_settings(aws: AwsService, config: Config,
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
    filled = dataclasses.replace(request, subnet_group=subnet, security_groups=groups,
                                 instance_class=klass)
    return RestoreSettings(filled, network_from, class_from, problem, source_class)


class RecoveryRun:
    """One recovery: its request, plan, steps, RTO clock, and what it created in AWS."""

    def __init__(self, *, request: RecoveryRequest, config: Config, aws: AwsService,
                 pg: PgService, journal: jr.Journal, started_at: datetime,
                 plan: tuple[PlannedStep, ...], ops: RecoveryOps | None = None,
                 poll_interval: float = DEFAULT_POLL_SECONDS, state_base: Path | None = None,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.request = request
        self.config = config
        self.aws = aws
        self.pg = pg
        self.ops = ops or RecoveryOps(aws, now=now)
        self.journal = journal
        self.plan = plan
        self.poll_interval = poll_interval
        self.state_base = state_base or jr.state_dir()
        self._now = now
        self.clock = RtoClock(started_at, target=timedelta(hours=config.objectives.rto_hours),
                              rpo_target=timedelta(hours=config.objectives.rpo_hours))
        self.steps: list[StepState] = [
            StepState(key=p.key, title=p.title, estimate=p.estimate, command=p.command,
                      mutating=p.mutating) for p in plan]
        swap = self.step("swap")
        if swap is not None:
            swap.checklist = [ChecklistItem(k, label)
                              for k, label in SWAP_CHECKLIST_BEFORE + SWAP_CHECKLIST_AFTER]
        self.created: list[str] = []
        self.renamed: dict[str, str] = {}
        self.deleted: list[str] = []
        self.restore_job_id: str | None = None
        self.restore_issued = False
        self.restore_point: datetime | None = request.restore_point or (
            request.restore_time if request.scenario is Scenario.PITR else None)
        self.new_instance: Instance | None = None
        self.verification: Verification | None = None
        self.swap_result: dict[str, Any] | None = None
        self.cross_region: CrossRegionStatus | None = None
        self.finished = False
        self.outcome: str | None = None
        # Why the task running a step may be cancelled (journaled with the interruption).
        self.interrupt_reason: str | None = None
        self._listeners: list[Listener] = []
        self._busy = False
        self._resumed_restore_attempt = False
        self._swap_old_value: str | None = None

    # ---- construction ---------------------------------------------------------------------

    @classmethod
    async def start(cls, request: RecoveryRequest, config: Config, aws: AwsService,
                    pg: PgService, *, state_base: Path | None = None,
                    poll_interval: float = DEFAULT_POLL_SECONDS,
                    now: Callable[[], datetime] = utcnow) -> RecoveryRun:
        """A new run: checks the request, opens its journal, records the start (the RTO
        clock's origin), the plan and the caller identity. Nothing runs yet."""
        check_request(request)
        if request.scenario is not Scenario.CROSS_REGION:
            # The plan and the journal show the network and class the restore will use.
            request = (await restore_settings(aws, config, request)).request
        started = now()
        run_id = jr.new_run_id(started, request.target or request.source)
        journal = jr.Journal.create(run_id, jr.runs_dir(state_base))
        journal.caller_arn = await _caller_arn(aws)
        plan = build_plan(request, config, now=started)
        journal.append(jr.RUN_START, **jr.start_record_fields(
            request, [_plan_json(p) for p in plan], started))
        return cls(request=request, config=config, aws=aws, pg=pg, journal=journal,
                   started_at=started, plan=plan, poll_interval=poll_interval,
                   state_base=state_base, now=now)

    @classmethod
    async def resume(cls, journal_path: Path, config: Config, aws: AwsService, pg: PgService,
                     *, state_base: Path | None = None,
                     poll_interval: float = DEFAULT_POLL_SECONDS,
                     now: Callable[[], datetime] = utcnow) -> RecoveryRun:
        """Rebuild an unfinished run from its journal: the clock keeps its original start,
        finished steps stay finished, and what AWS was already doing is picked up (a restore
        already issued is polled, a known restore job described), never issued twice."""
        record = jr.load_run(journal_path)
        if record.finished:
            raise RecoveryStateError(
                f"Run {record.run_id} already ended ({record.outcome}); nothing to resume.")
        journal = jr.Journal.open(journal_path)
        journal.caller_arn = await _caller_arn(aws) or record.caller_arn
        plan = build_plan(record.request, config, now=record.started_at)
        run = cls(request=record.request, config=config, aws=aws, pg=pg, journal=journal,
                  started_at=record.started_at, plan=plan, poll_interval=poll_interval,
                  state_base=state_base, now=now)
        run._restore_from(record)
        journal.append(jr.RUN_RESUME, pid=os.getpid(), current=run.current.key
                       if run.current else None)
        return run

    def _restore_from(self, record: jr.RunRecord) -> None:
        for step in self.steps:
            saved = record.steps.get(step.key)
            if saved is None:
                continue
            step.started_at = saved.started_at
            step.detail = saved.detail
            if saved.outcome in ("done", "skipped"):
                step.status = StepStatus(saved.outcome)
                step.ended_at = saved.ended_at
                step.skip_reason = saved.skip_reason
            elif saved.outcome == "failed":
                step.status = StepStatus.FAILED
                step.error = saved.error
                step.ended_at = saved.ended_at
            # running / waiting / interrupted: pending again, its start kept; run_step decides
            # from what AWS says (never issuing anything twice).
            if step.key == "restore" and saved.outcome in ("running", "failed",
                                                           "interrupted"):
                # The request may have reached AWS before vwtui stopped.
                self._resumed_restore_attempt = True
        self.created = list(record.created)
        self.renamed = dict(record.renamed)
        self.deleted = list(record.deleted)
        self.restore_job_id = record.restore_job_id
        self._show_restore_job_id()
        self.restore_issued = record.restore_issued
        self.restore_point = record.restore_point or self.restore_point
        swap = self.step("swap")
        if swap is not None:
            for item in swap.checklist:
                item.ticked_at = record.ticks.get(item.key)
        if record.swap_intent is not None:
            self._swap_old_value = str(record.swap_intent.get("old_value") or "")
        if record.swap:
            self.swap_result = {k: record.swap.get(k) for k in
                                ("method", "zone_id", "record", "old_value", "new_value",
                                 "replaced", "retired")}

    # ---- what the screen reads ------------------------------------------------------------

    @property
    def run_id(self) -> str:
        return self.journal.run_id

    @property
    def journal_path(self) -> Path:
        return self.journal.path

    @property
    def dry_run(self) -> bool:
        return self.request.dry_run

    @property
    def owned(self) -> frozenset[str]:
        """What this run may delete: the instances it created or renamed."""
        return frozenset(self.created) | frozenset(self.renamed.values())

    @property
    def serving(self) -> frozenset[str]:
        """The instance the swap put in service (none before the swap): the restored one,
        under its own name after a Route53 or by-hand swap, under the source's after a rename.
        Never deleted by this run."""
        if self.swap_result is None:
            return frozenset()
        if self.request.swap is SwapMethod.RENAME:
            return frozenset({self.request.source})
        return frozenset({self.request.target})

    @property
    def current(self) -> StepState | None:
        """The first step not done or skipped (None once every step is)."""
        return next((s for s in self.steps if not s.status.finished), None)

    @property
    def busy(self) -> bool:
        return self._busy

    def step(self, key: str) -> StepState | None:
        return next((s for s in self.steps if s.key == key), None)

    def remaining_estimates(self, now: datetime | None = None) -> list[timedelta]:
        moment = now or self._now()
        return [s.remaining_estimate(moment) for s in self.steps]

    def eta(self, now: datetime | None = None) -> datetime:
        moment = now or self._now()
        return self.clock.eta(moment, self.remaining_estimates(moment))

    @property
    def rpo_achieved(self) -> timedelta | None:
        return self.clock.rpo_achieved(self.request.incident_time, self.restore_point)

    @property
    def replaced(self) -> str:
        """The instance the swap replaced (cleanup deletes it)."""
        if self.swap_result and self.swap_result.get("replaced"):
            return str(self.swap_result["replaced"])
        if self.request.swap is SwapMethod.RENAME:
            return retired_identifier(self.request.source,
                                      name_stamp(self.request, self.clock.started_at))
        return self.request.source

    # ---- listeners ------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` on every change; returns the function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)
        return unsubscribe

    def _notify(self, kind: str, step: StepState | None, message: str = "") -> None:
        update = RunUpdate(kind, step, message, self._now())
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception:  # a broken screen must not break the recovery
                log.exception("recovery listener failed")

    # ---- running steps --------------------------------------------------------------------

    async def run_step(self) -> StepState | None:
        """Run the current step (the first not done or skipped). Returns it, in its new state;
        None when the run is over. A failed step is not re-run: retry, skip or abort it."""
        step = self.current
        if self.finished:
            raise RecoveryStateError(f"The run has ended ({self.outcome}).")
        if step is None:
            self._finish("finished")
            return None
        if step.status is StepStatus.FAILED:
            raise RecoveryStateError(
                f"{step.title} failed: {step.error}. Retry it, skip it with a reason, or abort.")
        if self._busy:
            raise RecoveryStateError(f"{step.title} is already running.")
        handler = {
            "restore": self._restore, "wait": self._wait, "verify": self._verify,
            "swap": self._swap, "cleanup": self._cleanup, "prerequisites": self._prerequisites,
        }[step.key]
        self._busy = True
        try:
            await self._execute(step, handler)
        finally:
            self._busy = False
        if self.current is None and not self.finished:
            self._finish("finished")
        return step

    async def run_until_blocked(self) -> StepState | None:
        """Run steps in order until one waits on the engineer, fails, or the run ends."""
        last: StepState | None = None
        while not self.finished:
            step = self.current
            if step is None or step.status is StepStatus.FAILED:
                break
            last = await self.run_step()
            if last is None or last.status in (StepStatus.WAITING, StepStatus.FAILED):
                break
        return last

    async def _execute(self, step: StepState,
                       handler: Callable[[StepState], Any]) -> None:
        now = self._now()
        first = step.started_at is None
        step.started_at = step.started_at or now
        step.ended_at = None
        step.error = None
        step.troubleshooting = None
        step.status = StepStatus.RUNNING
        if first or step.key not in ("swap", "cleanup"):
            self.journal.append(jr.STEP_START, step=step.key, at=step.started_at,
                                command=step.command,
                                dry_run=self.dry_run)
        self._notify("step", step, f"{step.title}: running")
        try:
            status, detail = await handler(step)
        except StepFailed as exc:
            self._fail(step, exc.message, exc.troubleshooting)
            return
        except VwtuiError as exc:  # AWS, PostgreSQL, guardrail, input: said plainly
            self._fail(step, exc.message, await self._troubleshooting_for(step, exc))
            return
        except asyncio.CancelledError:
            step.status = StepStatus.PENDING
            step.progress = ""
            self.journal.append(jr.STEP_END, step=step.key, outcome="interrupted",
                                detail=self.interrupt_reason
                                or "the worker running it was cancelled")
            self._notify("step", step, f"{step.title}: interrupted")
            raise
        step.status = status
        step.detail = detail
        if status.finished:
            step.ended_at = self._now()
            step.progress = ""
        self.journal.append(jr.STEP_END, step=step.key, outcome=status.value, detail=detail,
                            at=step.ended_at,
                            dry_run=self.dry_run)
        self._notify("step", step, f"{step.title}: {status.value}")

    def _fail(self, step: StepState, message: str,
              troubleshooting: Troubleshooting | None) -> None:
        step.status = StepStatus.FAILED
        step.error = message
        step.ended_at = self._now()
        step.progress = ""
        step.troubleshooting = troubleshooting
        self.journal.append(jr.STEP_END, step=step.key, outcome="failed", error=message,
                            at=step.ended_at,
                            dry_run=self.dry_run)
        self._notify("step", step, f"{step.title} failed: {message}")

    async def _troubleshooting_for(self, step: StepState,
                                   exc: VwtuiError) -> Troubleshooting | None:
        if step.key in ("restore", "wait"):
            return ts.restore_failed(self.config, self.request.scenario, self.request.source,
                                     self.request.target, await self._events())
        if step.key == "verify" and isinstance(exc, DatabaseError):
            # No connection: no data was judged, so the data's causes would mislead.
            return ts.database_unreachable(self.config, self.request.target, exc.message)
        if step.key == "verify" and isinstance(exc, AwsError):
            return ts.aws_call_failed(step.key, exc.message)
        if step.key == "verify":
            return ts.verify_failed(self.config, self.request.target)
        if step.key in ("swap", "cleanup"):
            return ts.aws_call_failed(step.key, exc.message)
        return None

    async def _events(self) -> tuple[Any, ...]:
        """RDS events of the new instance (runbook: "Check RDS restore events"); best effort."""
        if self.dry_run:
            return ()
        try:
            return tuple(await self.aws.rds_events(self.request.target, hours=24))
        except AwsError:
            return ()

    # ---- the engineer's choices after a failure --------------------------------------------

    async def retry(self) -> StepState | None:
        """Run the failed step again."""
        step = self.current
        if step is None or step.status is not StepStatus.FAILED:
            raise RecoveryStateError("There is no failed step to retry.")
        step.status = StepStatus.PENDING
        if step.key == "restore":
            # The failed attempt may have reached AWS (an answer lost to a timeout): look for
            # what it started before asking again.
            self._resumed_restore_attempt = True
        self.journal.append(jr.STEP_END, step=step.key, outcome="retry")
        return await self.run_step()

    def skip(self, reason: str) -> StepState:
        """Skip the current step, with the engineer's reason (required)."""
        step = self.current
        if step is None:
            raise RecoveryStateError("There is no step left to skip.")
        if self._busy:
            raise RecoveryStateError(f"{step.title} is running; wait for it to stop first.")
        if not reason.strip():
            raise RecoveryStateError("Say why the step is skipped: the journal keeps the reason.")
        now = self._now()
        step.status = StepStatus.SKIPPED
        step.skip_reason = reason.strip()
        step.started_at = step.started_at or now
        step.ended_at = now
        step.progress = ""
        self.journal.append(jr.STEP_END, step=step.key, outcome="skipped", at=now,
                            skip_reason=step.skip_reason)
        self._notify("step", step, f"{step.title}: skipped ({step.skip_reason})")
        if self.current is None:
            self._finish("finished")
        return step

    async def abort(self, cleanup: bool, *, typed_confirmation: str = "",
                    skip_final_snapshot: bool = False) -> list[str]:
        """End the run. With `cleanup`, delete what the run created and still owns (typed
        confirmation of its identifier required, final snapshot unless declined); returns the
        identifiers deleted. A refused delete raises and leaves the run open."""
        if self._busy:
            raise RecoveryStateError("A step is running; wait for it to stop before aborting.")
        if self.finished:
            raise RecoveryStateError(f"The run has already ended ({self.outcome}).")
        deleted: list[str] = []
        if cleanup and not self.dry_run:
            for identifier in self.cleanup_candidates():
                final = await self.ops.delete_instance(
                    identifier, owned=self.owned, typed_confirmation=typed_confirmation,
                    skip_final_snapshot=skip_final_snapshot, serving=self.serving)
                self.deleted.append(identifier)
                deleted.append(identifier)
                self.journal.append(jr.DELETE_ISSUED, identifier=identifier,
                                    final_snapshot=final, during="abort")
        for step in self.steps:
            if not step.status.finished and step.status is not StepStatus.FAILED:
                step.status = StepStatus.SKIPPED
                step.skip_reason = "run aborted"
        self._finish("aborted", cleaned=deleted)
        return deleted

    def cleanup_candidates(self) -> list[str]:
        """What an abort with cleanup would delete: instances this run created that exist
        under their own name, were not deleted, and are not in service after the swap (a
        renamed-in recovery instance is kept, and so is one a DNS record now points at)."""
        keep = set(self.renamed) | self.serving | set(self.deleted)
        return [i for i in self.created if i not in keep]

    def _finish(self, outcome: str, **fields: Any) -> None:
        if self.finished:
            return
        at = self._now()
        self.finished = True
        self.outcome = outcome
        self.clock = self.clock.stopped(at)
        self.journal.append(jr.RUN_END, outcome=outcome, finished_at=at,
                            rto_seconds=self.clock.elapsed(at).total_seconds(),
                            rpo_seconds=self.rpo_achieved.total_seconds()
                            if self.rpo_achieved is not None else None, **fields)
        self._notify("finished", None, f"Run {outcome}")

    # ---- the engineer's ticks and confirmations --------------------------------------------

    def tick(self, item_key: str) -> ChecklistItem:
        """Tick a manual item of the swap (timestamped, journaled). Resume only after the swap."""
        swap = self.step("swap")
        if swap is None:
            raise RecoveryStateError("This run has no swap step.")
        item = next((i for i in swap.checklist if i.key == item_key), None)
        if item is None:
            raise RecoveryStateError(f"No checklist item {item_key!r}.")
        if self.current is not swap:
            raise RecoveryStateError("Tick the swap's items when the swap is the current step.")
        after = {k for k, _ in SWAP_CHECKLIST_AFTER}
        if item_key in after and self.swap_result is None:
            raise RecoveryStateError("Resume the application only after the swap has run.")
        if item.ticked_at is None:
            item.ticked_at = self._now()
            self.journal.append(jr.TICK, step="swap", item=item_key, ticked_at=item.ticked_at)
        self._notify("checklist", swap, f"{item.label}: ticked")
        return item

    async def confirm_cleanup(self, typed_confirmation: str, *,
                              skip_final_snapshot: bool = False) -> StepState:
        """Delete the instance the swap replaced, once the engineer typed its identifier.

        The guardrails of RecoveryOps decide; a refusal raises GuardrailError and leaves the
        step waiting (skip it with a reason if the instance must stay)."""
        step = self.step("cleanup")
        if step is None or self.current is not step:
            raise RecoveryStateError("Cleanup is not the current step.")
        if self._busy:
            raise RecoveryStateError("Cleanup is already running.")
        identifier = self.replaced
        self._busy = True
        try:
            try:
                final = await self.ops.delete_instance(
                    identifier, owned=self.owned, typed_confirmation=typed_confirmation,
                    skip_final_snapshot=skip_final_snapshot, serving=self.serving)
            except GuardrailError as exc:
                step.error = exc.message
                self.journal.append(jr.STEP_END, step=step.key, outcome="waiting",
                                    error=exc.message)
                self._notify("step", step, exc.message)
                raise
            except AwsError as exc:
                self._fail(step, exc.message, ts.aws_call_failed("cleanup", exc.message))
                return step
            self.deleted.append(identifier)
            self.journal.append(jr.DELETE_ISSUED, identifier=identifier, final_snapshot=final)
            step.status = StepStatus.DONE
            step.error = None
            step.ended_at = self._now()
            step.detail = (f"Deleting {identifier}; final snapshot {final}." if final else
                           f"Deleting {identifier}; final snapshot declined.")
            self.journal.append(jr.STEP_END, step=step.key, outcome="done", detail=step.detail,
                                at=step.ended_at)
            self._notify("step", step, step.detail)
        finally:
            self._busy = False
        if self.current is None:
            self._finish("finished")
        return step

    # ---- step handlers ---------------------------------------------------------------------
    # Each returns (status, detail) or raises; _execute journals and notifies.

    async def _restore(self, step: StepState) -> tuple[StepStatus, str]:
        req = self.request
        if self.restore_issued:
            return StepStatus.DONE, (f"Restore of {req.target} already issued before the "
                                     f"restart; not issued again.")
        if not (req.subnet_group and req.security_groups and req.instance_class):
            req = (await restore_settings(self.aws, self.config, req)).request
        subnet, groups = req.subnet_group, req.security_groups
        await self._check_inputs()
        if req.scenario is Scenario.AWS_BACKUP:
            return await self._start_restore_job(step, req)
        adopted = await self._adopt_existing()
        if adopted is not None:
            return StepStatus.DONE, adopted
        if req.scenario is Scenario.PITR:
            assert req.restore_time is not None
            step.command = self.ops.cli_command(
                "restore_to_point_in_time", req.source, req.target, req.restore_time,
                subnet_group=subnet, security_groups=groups, instance_class=req.instance_class)
            if self.dry_run:
                return StepStatus.DONE, f"Dry run: not issued. Would run: {step.command}"
            call = self.ops.restore_to_point_in_time(
                req.source, req.target, req.restore_time, subnet_group=subnet,
                security_groups=groups, instance_class=req.instance_class, run_id=self.run_id)
        else:
            assert req.snapshot_id is not None
            step.command = self.ops.cli_command(
                "restore_from_snapshot", req.snapshot_id, req.target, subnet_group=subnet,
                security_groups=groups, instance_class=req.instance_class)
            if self.dry_run:
                return StepStatus.DONE, f"Dry run: not issued. Would run: {step.command}"
            call = self.ops.restore_from_snapshot(
                req.snapshot_id, req.target, subnet_group=subnet, security_groups=groups,
                instance_class=req.instance_class, run_id=self.run_id)
        try:
            instance = await call
        except InvalidParameter as exc:
            if exc.code in ("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"):
                adopted = await self._adopt_existing()
                if adopted is not None:
                    return StepStatus.DONE, adopted
            raise
        self._record_issued(created=[req.target])
        self.new_instance = instance
        return StepStatus.DONE, f"Restore issued: {req.target} is {instance.status}."

    async def _check_inputs(self) -> None:
        """Read-only checks before anything is issued (also what a dry run proves)."""
        req = self.request
        if req.scenario is Scenario.PITR:
            assert req.restore_time is not None
            window = await self.aws.pitr_window(req.source)
            check_restore_time(window, req.restore_time, self._now())
        elif req.scenario is Scenario.SNAPSHOT:
            assert req.snapshot_id is not None
            snapshot = await self.aws.snapshot(req.snapshot_id)
            if snapshot.instance_identifier != req.source:
                raise StepFailed(f"Snapshot {snapshot.identifier} is of "
                                 f"{snapshot.instance_identifier}, not of {req.source}; pick "
                                 f"one of {req.source}.")
            if snapshot.status != "available":
                raise StepFailed(f"Snapshot {snapshot.identifier} is {snapshot.status}, not "
                                 f"available; pick another one.")
            self.restore_point = self.restore_point or snapshot.created
        elif req.scenario is Scenario.AWS_BACKUP:
            vault = self.config.backup.vault
            points = await self.aws.recovery_points(vault)
            point = next((p for p in points if p.arn == req.recovery_point_arn), None)
            if point is None:
                raise StepFailed(f"Recovery point {req.recovery_point_arn} was not found in "
                                 f"{vault} (deleted, expired, or in another vault); pick "
                                 f"another one.")
            if not point.resource_arn.endswith(f":db:{req.source}"):
                raise StepFailed(f"Recovery point {point.arn} is of {point.resource_arn}, not "
                                 f"of {req.source}; pick one of {req.source}.")
            if point.status != "COMPLETED":
                raise StepFailed(f"Recovery point {point.arn} is {point.status}, not "
                                 f"COMPLETED; pick another one.")
            self.restore_point = self.restore_point or point.created
        if not self.restore_issued:
            existing = await self.ops.instance_or_none(req.target)
            if existing is not None and not self._is_ours(existing):
                raise StepFailed(
                    f"An instance named {req.target} already exists and this run did not "
                    f"create it. Instance name conflict: use a unique identifier.",
                    ts.restore_failed(self.config, req.scenario, req.source, req.target))

    def _is_ours(self, instance: Instance) -> bool:
        """Tagged with this run's id; or untagged while the journal shows this run had asked
        for the restore before it was interrupted."""
        if (RUN_TAG, self.run_id) in instance.tags:
            return True
        return self._resumed_restore_attempt and not any(k == RUN_TAG for k, _ in instance.tags)

    async def _adopt_existing(self) -> str | None:
        """After a restart (or a lost answer), an instance this run already asked for is
        taken over instead of being requested again."""
        if self.dry_run:
            return None
        existing = await self.ops.instance_or_none(self.request.target)
        if existing is None or not self._is_ours(existing):
            return None
        self._record_issued(created=[self.request.target], adopted=True)
        self.new_instance = existing
        return (f"{self.request.target} already exists ({existing.status}): the restore was "
                f"issued before the restart; not issued again.")

    def _record_issued(self, *, created: list[str], job_id: str | None = None,
                       adopted: bool = False) -> None:
        for identifier in created:
            if identifier not in self.created:
                self.created.append(identifier)
        self.restore_issued = True
        self.restore_job_id = job_id or self.restore_job_id
        self._show_restore_job_id()
        self.journal.append(jr.RESTORE_ISSUED, step="restore", created=created,
                            restore_job_id=self.restore_job_id, restore_point=self.restore_point,
                            adopted=adopted)

    def _show_restore_job_id(self) -> None:
        """Once the restore job's id is known, the wait step's command names it instead of
        the plan's `<restore-job-id>` placeholder."""
        wait = self.step("wait")
        if not self.restore_job_id or wait is None:
            return
        planned = build_plan(self.request, self.config, now=self.clock.started_at,
                             restore_job_id=self.restore_job_id)
        wait.command = next((p.command for p in planned if p.key == "wait"), wait.command)

    async def _start_restore_job(self, step: StepState,
                                 req: RecoveryRequest) -> tuple[StepStatus, str]:
        """Scenario 3: the request `req` has its restore settings filled in."""
        assert req.recovery_point_arn is not None
        metadata = restore_job_metadata(req.target, req.instance_class, req.subnet_group,
                                        req.security_groups)
        step.command = self.ops.cli_command("start_restore_job", req.recovery_point_arn,
                                            metadata)
        if self.dry_run:
            return StepStatus.DONE, f"Dry run: not issued. Would run: {step.command}"
        if self._resumed_restore_attempt:
            found = await self._find_started_job(step, req)
            if found is not None:
                self._record_issued(created=[req.target], job_id=found, adopted=True)
                return StepStatus.DONE, (f"Restore job {found} was started before the restart; "
                                         f"not started again.")
        job_id = await self.ops.start_restore_job(req.recovery_point_arn, metadata)
        self._record_issued(created=[req.target], job_id=job_id)
        return StepStatus.DONE, f"Restore job {job_id} started for {req.target}."

    async def _find_started_job(self, step: StepState, req: RecoveryRequest) -> str | None:
        """This run's restore job, if an earlier attempt started one (ListRestoreJobs): of
        this recovery point, since the step began, creating this target when AWS says what
        it creates. Another restore running in the account is never taken for ours; fail
        closed when AWS cannot say, or when more than one job could be ours."""
        since = (step.started_at or self.clock.started_at) - timedelta(minutes=2)
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

    async def _wait(self, step: StepState) -> tuple[StepStatus, str]:
        req = self.request
        if self.dry_run:
            return StepStatus.DONE, ("Dry run: would poll "
                                     + ("the restore job, then " if self.restore_job_id
                                        or req.scenario is Scenario.AWS_BACKUP else "")
                                     + f"{req.target} until available.")
        target = req.target
        if req.scenario is Scenario.AWS_BACKUP:
            target = await self._wait_restore_job(step)
        polls = missing = 0
        last_status = None
        while True:
            polls += 1
            instance = await self.ops.instance_or_none(target)
            if instance is None:
                missing += 1
                if missing > MISSING_POLLS_ALLOWED:
                    raise StepFailed(
                        f"{target} does not exist: the restore did not create it, or it was "
                        f"deleted.", ts.restore_failed(self.config, req.scenario, req.source,
                                                       target, await self._events()))
                status = "not visible yet"
            else:
                missing = 0
                status = instance.status
                self.new_instance = instance
            if status != last_status:
                self.journal.append(jr.STEP_PROGRESS, step=step.key, instance=target,
                                    status=status)
                last_status = status
            step.progress = f"{target}: {status} (poll {polls})"
            self._notify("progress", step, step.progress)
            if status == "available":
                endpoint = instance.endpoint_address if instance else None
                return StepStatus.DONE, f"{target} is available at {endpoint}."
            if status in FAILED_STATES:
                raise StepFailed(
                    f"{target} ended {status}: the restore failed.",
                    ts.restore_failed(self.config, req.scenario, req.source, target,
                                      await self._events()))
            await asyncio.sleep(self.poll_interval)

    async def _wait_restore_job(self, step: StepState) -> str:
        """Poll the restore job to COMPLETED; the created instance's identifier."""
        req = self.request
        if not self.restore_job_id:
            raise StepFailed("No restore job id is known for this run; rerun the restore step "
                             "or skip the wait with a reason.")
        polls = 0
        last = None
        while True:
            polls += 1
            job = await self.ops.restore_job(self.restore_job_id)
            if job.status != last:
                self.journal.append(jr.STEP_PROGRESS, step=step.key,
                                    restore_job_id=job.job_id, status=job.status)
                last = job.status
            eta = f", about {job.expected_minutes} min" if job.expected_minutes else ""
            # AWS Backup's PercentDone is a string that may already end in "%".
            pct = f" {job.percent_done.rstrip('%')}%" if job.percent_done else ""
            step.progress = f"restore job {job.status}{pct}{eta} (poll {polls})"
            self._notify("progress", step, step.progress)
            if job.status == "COMPLETED":
                arn = job.created_resource_arn or ""
                return arn.rsplit(":", 1)[-1] if ":db:" in arn else req.target
            if job.status in ("FAILED", "ABORTED"):
                raise StepFailed(
                    f"Restore job {job.job_id} ended {job.status}"
                    + (f": {job.status_message}" if job.status_message else "."),
                    ts.restore_job_failed(self.config, job.job_id, job.status,
                                          job.status_message, req.target,
                                          await self._events()))
            await asyncio.sleep(self.poll_interval)

    async def _verify(self, step: StepState) -> tuple[StepStatus, str]:
        req = self.request
        if self.dry_run:
            return StepStatus.DONE, (f"Dry run: would run the validation queries against "
                                     f"{req.target} and judge them.")
        instance = self.new_instance
        if instance is None or not instance.endpoint_address:
            instance = await self.aws.instance(req.target)
            self.new_instance = instance
        report = await self.pg.validate(instance.endpoint_address, instance.endpoint_port)
        reference, kind = await self._reference()
        self.verification = judge(report, restore_point=self.restore_point,
                                  reference=reference, reference_kind=kind)
        summary = self.verification.summary()
        where = ""
        if self.config.database.host:  # say where the figures were read
            where = f" · {host_override_note(self.config, req.target)}"
        if not self.verification.passed:
            failed = "; ".join(f"{c.title}: {c.detail}" for c in self.verification.failures)
            raise StepFailed(f"Validation failed: {failed}{where}",
                             ts.verify_failed(self.config, req.target))
        return StepStatus.DONE, summary + where

    async def _reference(self) -> tuple[Baseline | None, ReferenceKind]:
        """The source's figures when it is reachable (recorded as the new baseline), else the
        recorded baseline, else none."""
        source = self.request.source
        if self.config.database.host:
            # Every connection goes to database.host: "the source" read there is the very
            # database being verified, a reference that always agrees. The recorded one only.
            baseline = load_baseline(self.state_base, source)
            return baseline, ReferenceKind.BASELINE if baseline else ReferenceKind.NONE
        try:
            instance = await self.aws.instance(source)
            report = await self.pg.validate(instance.endpoint_address, instance.endpoint_port)
        except (AwsError, DatabaseError):
            baseline = load_baseline(self.state_base, source)
            return baseline, ReferenceKind.BASELINE if baseline else ReferenceKind.NONE
        if any(r.error for r in report.results):
            baseline = load_baseline(self.state_base, source)
            return baseline, ReferenceKind.BASELINE if baseline else ReferenceKind.NONE
        baseline = Baseline.from_report(source, report)
        try:
            save_baseline(self.state_base, baseline)
        except OSError as exc:
            log.warning("could not record the baseline: %s", exc)
        return baseline, ReferenceKind.SOURCE

    async def _swap(self, step: StepState) -> tuple[StepStatus, str]:
        req = self.request
        if self.dry_run:
            if step.command is None:
                return StepStatus.DONE, f"Dry run: no AWS call. {no_record_note(req.source)}"
            return StepStatus.DONE, f"Dry run: would run: {step.command}"
        before = [i for i in step.checklist if i.key in dict(SWAP_CHECKLIST_BEFORE)]
        pending = [i.label for i in before if not i.ticked]
        if pending:
            return StepStatus.WAITING, f"Tick first: {', '.join(pending)}. Then run the swap."
        if self.swap_result is None:
            if req.swap is SwapMethod.ROUTE53 and self.swap_record is None:
                await self._swap_by_hand(step)
            elif req.swap is SwapMethod.ROUTE53:
                await self._swap_route53(step)
            else:
                await self._swap_rename(step)
        after = [i.label for i in step.checklist
                 if i.key in dict(SWAP_CHECKLIST_AFTER) and not i.ticked]
        assert self.swap_result is not None
        done = self._swap_summary()
        if after:
            return StepStatus.WAITING, f"{done} Tick when done: {', '.join(after)}."
        return StepStatus.DONE, done

    @property
    def swap_record(self) -> str | None:
        """The DNS record this recovery's Route53 swap repoints; None: it changes no DNS."""
        return self.config.dns_record_for(self.request.source)

    def _swap_summary(self) -> str:
        result = self.swap_result or {}
        if result.get("method") == MANUAL_SWAP:
            return (f"No DNS changed: point the application at {result.get('new_value')} by "
                    f"hand (no DNS record is configured for {self.request.source}).")
        if result.get("method") == SwapMethod.ROUTE53.value:
            return (f"{result.get('record')} now points at {result.get('new_value')} "
                    f"(was {result.get('old_value') or 'absent'}; kept for rollback).")
        return (f"{self.request.source} renamed to {result.get('retired')}, "
                f"{self.request.target} renamed to {self.request.source}.")

    async def _new_endpoint(self) -> str:
        """The restored instance's endpoint address (read again when not known yet)."""
        req = self.request
        instance = self.new_instance
        if instance is None or not instance.endpoint_address:
            instance = await self.aws.instance(req.target)
            self.new_instance = instance
        if not instance.endpoint_address:
            raise StepFailed(f"{req.target} has no endpoint yet; wait until it is available.")
        return instance.endpoint_address

    async def _swap_by_hand(self, step: StepState) -> None:
        """No DNS record of this source's own: nothing changes in AWS; the engineer points
        the application at the new endpoint (shown, and journaled)."""
        endpoint = await self._new_endpoint()
        self.swap_result = {"method": MANUAL_SWAP, "record": None, "old_value": None,
                            "new_value": endpoint, "replaced": None}
        self.journal.append(jr.SWAP_DONE, step=step.key, **self.swap_result)

    async def _swap_route53(self, step: StepState) -> None:
        req = self.request
        endpoint = await self._new_endpoint()
        zone_id = await self.ops.hosted_zone_id(self.config.dns.zone)
        record = self.swap_record
        assert record is not None
        step.command = self.ops.cli_command("upsert_record", zone_id, record, endpoint)
        # The value to roll back to is journaled before the change: a crash between the
        # UPSERT and its record must not lose it.
        old = self._swap_old_value
        if old is None:
            old = await self.ops.record_value(zone_id, record) or ""
            self._swap_old_value = old
            self.journal.append(jr.SWAP_INTENT, step=step.key, command=step.command,
                                zone_id=zone_id, record=record, old_value=old)
        await self.ops.upsert_record(zone_id, record, endpoint, source=req.source)
        old = old or None
        # What the record pointed at before: never this run's own target (the record may
        # already have held the new endpoint, e.g. UPSERTed by hand from the plan's command).
        replaced = await self._instance_at(old)
        if replaced is None or replaced == req.target:
            replaced = req.source
        self.swap_result = {"method": SwapMethod.ROUTE53.value, "zone_id": zone_id,
                            "record": record, "old_value": old,
                            "new_value": endpoint, "replaced": replaced}
        self.journal.append(jr.SWAP_DONE, step=step.key, **self.swap_result)

    async def _instance_at(self, address: str | None) -> str | None:
        """The instance whose endpoint is `address` (what the record pointed at before)."""
        if not address:
            return None
        try:
            instances = await self.aws.instances()
        except AwsError:
            return None
        wanted = address.rstrip(".")
        return next((i.identifier for i in instances
                     if (i.endpoint_address or "").rstrip(".") == wanted), None)

    async def _swap_rename(self, step: StepState) -> None:
        req = self.request
        retired = retired_identifier(req.source, name_stamp(req, self.clock.started_at))
        if req.source not in self.renamed:
            self.journal.append(jr.STEP_PROGRESS, step=step.key, command=self.ops.cli_command(
                "rename_instance", req.source, retired))
            await self.ops.rename_instance(req.source, retired)
            self.renamed[req.source] = retired
            self.journal.append(jr.RENAMED, step=step.key, old=req.source, new=retired)
        # RDS frees the old name only when the rename is done (minutes, in real AWS).
        polls = 0
        while req.target not in self.renamed and \
                await self.ops.instance_or_none(req.source) is not None:
            polls += 1
            step.progress = f"waiting for RDS to free the name {req.source} (poll {polls})"
            self._notify("progress", step, step.progress)
            await asyncio.sleep(self.poll_interval)
        if req.target not in self.renamed:
            self.journal.append(jr.STEP_PROGRESS, step=step.key, command=self.ops.cli_command(
                "rename_instance", req.target, req.source))
            await self.ops.rename_instance(req.target, req.source)
            self.renamed[req.target] = req.source
            self.journal.append(jr.RENAMED, step=step.key, old=req.target, new=req.source)
        self.swap_result = {"method": SwapMethod.RENAME.value, "retired": retired,
                            "replaced": retired, "old_value": req.source,
                            "new_value": req.target}
        self.journal.append(jr.SWAP_DONE, step=step.key, **self.swap_result)

    async def _cleanup(self, step: StepState) -> tuple[StepStatus, str]:
        identifier = self.replaced
        step.command = None if self.config.is_protected(identifier) else \
            self.ops.cli_command("delete_instance", identifier)
        if identifier in self.deleted:  # issued before a restart: never asked for twice
            return StepStatus.DONE, f"Delete of {identifier} already issued before the restart."
        owned = self.owned
        if self.dry_run:  # what the run would own by now
            owned = owned | {self.request.target} | (
                {identifier} if self.request.swap is SwapMethod.RENAME else set())
        try:
            check_not_protected(self.config, identifier, "delete")
            check_owned(identifier, owned, "delete")
        except GuardrailError as exc:
            if self.dry_run:
                return StepStatus.DONE, f"Dry run: cleanup would stop here: {exc.message}"
            return StepStatus.WAITING, (f"{exc.message} Skip this step with a reason to finish "
                                        f"the run.")
        if self.dry_run:
            return StepStatus.DONE, f"Dry run: would run: {step.command}"
        return StepStatus.WAITING, (f"Type {identifier} to delete it; a final snapshot is "
                                    f"taken unless you decline it.")

    async def _prerequisites(self, step: StepState) -> tuple[StepStatus, str]:
        status = await self.ops.cross_region_prerequisites(self.request.source)
        self.cross_region = status
        verdict = "configured" if status.configured else "not configured"
        return StepStatus.DONE, f"Cross-region DR is {verdict}. " + " ".join(status.lines())


async def _caller_arn(aws: AwsService) -> str | None:
    try:
        return (await aws.caller_identity()).arn
    except AwsError:
        return None


def _plan_json(step: PlannedStep) -> dict[str, Any]:
    return {"key": step.key, "title": step.title,
            "estimate_seconds": step.estimate.total_seconds(), "mutating": step.mutating,
            "command": step.command}
