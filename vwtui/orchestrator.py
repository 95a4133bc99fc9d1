"""The driver of a recovery run: runs the step executors in order and writes the journal.

It sits above both `vwtui.recovery` (the pure run state, the plans, the step executors) and
`vwtui.services` (AWS, PostgreSQL, the guarded mutating calls): it gives each executor the
services as the narrow protocol it needs. Nothing in `services/` imports `recovery/`.

`RecoveryRun` is owned by the App (it outlives any screen). The screen calls `run_step()` (or
`run_until_blocked()`) in an async worker and listens through `subscribe()`; the run never
blocks the event loop (AWS calls go through the async services, waits are `asyncio.sleep`).

Nothing runs by itself after a failure: a failed step stays failed until the engineer picks
`retry()`, `skip(reason)` or `abort(cleanup)`. Every step is journaled before it starts and when
it ends; `RecoveryRun.resume()` rebuilds the run from its journal and picks up an operation
already under way in AWS instead of issuing it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from vwtui.errors import AwsError, DatabaseError, GuardrailError, UnsafePathError, VwtuiError
from vwtui.model import CallerIdentity, RdsEvent, utcnow
from vwtui.recovery import history, ownership
from vwtui.recovery import journal as jr
from vwtui.recovery import troubleshooting as ts
from vwtui.recovery.clock import RtoClock
from vwtui.recovery.history import RunKind
from vwtui.recovery.lock import RunLock
from vwtui.recovery.plan import (
    PlannedStep,
    RecoveryRequest,
    Scenario,
    build_plan,
    check_request,
)
from vwtui.recovery.state import (
    ChecklistItem,
    Record,
    RecoveryStateError,
    RunState,
    RunUpdate,
    StepFailed,
    StepKey,
    StepState,
    StepStatus,
    SwapResult,
    Troubleshooting,
    UpdateKind,
)
from vwtui.recovery.steps import Outcome
from vwtui.recovery.steps.cleanup import CleanupStep
from vwtui.recovery.steps.drill import DrillVerifyStep, RtoStep, SmokeStep
from vwtui.recovery.steps.parity import ParityStep
from vwtui.recovery.steps.prerequisites import PrerequisitesStep
from vwtui.recovery.steps.protection import ProtectionStep
from vwtui.recovery.steps.restore import RestoreSettings as RestoreSettings
from vwtui.recovery.steps.restore import RestoreStep, restore_settings, show_restore_job_id
from vwtui.recovery.steps.swap import RenameSwap, Route53Swap, SwapByHand, SwapStep
from vwtui.recovery.steps.verify import VerifyStep
from vwtui.recovery.steps.wait import WaitStep
from vwtui.recovery.verify import Verification
from vwtui.services.protection import read_protection
from vwtui.services.recovery_ops import RecoveryOps

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.model import Instance
    from vwtui.services.aws import AwsService
    from vwtui.services.pg import PgService

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_POLL_SECONDS = 15.0
Listener = Callable[[RunUpdate], None]

__all__ = ["DEFAULT_POLL_SECONDS", "RecoveryRun", "RecoveryStateError", "RestoreSettings",
           "RunUpdate", "StepFailed", "restore_settings"]


class _Reads:
    """The read calls the executors need, from the AWS facade and the guarded ops."""

    def __init__(self, aws: AwsService, ops: RecoveryOps) -> None:
        self.instance = aws.instance
        self.instances = aws.instances
        self.pitr_window = aws.pitr_window
        self.snapshot = aws.snapshot
        self.instance_or_none = ops.instance_or_none
        self.restore_job = ops.restore_job
        self.cross_region_prerequisites = ops.cross_region_prerequisites
        self.recovery_points = aws.recovery_points
        self._aws = aws
        self.recovery_point = aws.recovery_point

    async def read_protection(self, identifier: str) -> Any:
        """What the protection step judges (vwtui.services.protection)."""
        config = self._aws.config
        return await read_protection(
            self._aws, identifier, plan_name=config.backup.plan,
            alarm_names=(config.alarms.backup_age, config.alarms.backup_failure))


class RecoveryRun:
    """One recovery: its state (`vwtui.recovery.state.RunState`), its journal, the services
    it acts through, and the executors of its steps."""

    def __init__(self, *, state: RunState, config: Config, aws: AwsService, pg: PgService,
                 journal: jr.Journal, ops: RecoveryOps | None = None,
                 poll_interval: float = DEFAULT_POLL_SECONDS, state_base: Path | None = None,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.state = state
        self._config = config
        self.aws = aws
        self.pg = pg
        self.ops = ops or RecoveryOps(aws, now=now)
        self.journal = journal
        self._poll_interval = poll_interval
        self.state_base = state_base or jr.state_dir()
        self._now = now
        # Why the task running a step may be cancelled (journaled with the interruption).
        self.interrupt_reason: str | None = None
        self._listeners: list[Listener] = []
        self._busy = False
        # Held while this process drives the run (released when it ends, or by the kernel).
        self.lock: RunLock | None = None
        # Set when the journal could not be written: no mutating call until it can.
        self.journal_problem: str | None = None
        # What the recovery test log records of this run when it ends (vwtui.recovery.history).
        self.kind: RunKind = "recovery"
        self.history_fields: dict[str, Any] = {}
        self.history_problem: str | None = None
        reads = _Reads(aws, self.ops)
        self._cleanup = CleanupStep(self.ops)
        self._protection = ProtectionStep(reads, self.ops)
        self._parity = ParityStep(reads, self.ops)
        self._executors: dict[str, Any] = {
            StepKey.PREREQUISITES: PrerequisitesStep(reads),
            StepKey.RESTORE: RestoreStep(reads, self.ops),
            StepKey.WAIT: WaitStep(reads, self.ops),
            StepKey.VERIFY: VerifyStep(reads, pg, self.state_base),
            StepKey.PARITY: self._parity,
            StepKey.SWAP: SwapStep(SwapByHand(reads), Route53Swap(reads, self.ops),
                                   RenameSwap(self.ops), parity=self._parity),
            StepKey.CLEANUP: self._cleanup,
            StepKey.SMOKE: SmokeStep(reads, pg),
            StepKey.RTO: RtoStep(),
            StepKey.PROTECTION: self._protection,
        }
        if state.request.drill:
            # The monthly drill: verify goes on to every foreign key and the team's checks;
            # its record in the recovery test log is a drill's.
            self._executors[StepKey.VERIFY] = DrillVerifyStep(
                self._executors[StepKey.VERIFY], reads, pg)
            self.kind = "drill"

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
        identity = await _identity(aws)
        folder = jr.runs_dir(state_base)
        # Two sessions starting at once: one at a time checks for a run of the same target
        # and creates its journal and lock.
        with ownership.starting(folder):
            ownership.check_no_other_run(folder, request)
            started = now()
            run_id = jr.new_run_id(started, request.target or request.source)
            journal = jr.Journal.create(run_id, folder)
            lock = RunLock.acquire(journal.path, run_id, f"recovery of {request.source}",
                                   journal.user)
        journal.caller_arn = identity.arn if identity else None
        plan = build_plan(request, config, now=started, run_id=run_id)
        state = RunState.new(run_id, request, config, plan, started)
        run = cls(state=state, config=config, aws=aws, pg=pg, journal=journal,
                  poll_interval=poll_interval, state_base=state_base, now=now)
        run.lock = lock
        kind, fields = state.start_record(socket.gethostname(), os.getpid())
        fields.update(account=identity.account if identity else None,
                      region=_region(aws, config))
        run.record((kind, fields))
        return run

    @classmethod
    async def resume(cls, journal_path: Path, config: Config, aws: AwsService, pg: PgService,
                     *, state_base: Path | None = None,
                     poll_interval: float = DEFAULT_POLL_SECONDS,
                     now: Callable[[], datetime] = utcnow) -> RecoveryRun:
        """Rebuild an unfinished run from its journal: the clock keeps its original start,
        finished steps stay finished, and what AWS was already doing is picked up (a restore
        already issued is polled, a known restore job described), never issued twice."""
        record = ownership.load_run_plainly(journal_path)
        if record.finished:
            raise RecoveryStateError(
                f"Run {record.run_id} already ended ({record.outcome}); nothing to resume.")
        identity = await _identity(aws)
        ownership.check_same_place(record, identity, _region(aws, config))
        lock = RunLock.acquire(journal_path, record.run_id,
                               f"recovery of {record.request.source} (resumed)", jr.os_user())
        try:
            # Read again under the lock: the previous driver may have written to the end.
            record = ownership.load_run_plainly(journal_path)
            if record.finished:
                raise RecoveryStateError(
                    f"Run {record.run_id} already ended ({record.outcome}); nothing to resume.")
            journal = jr.Journal.open(journal_path)
        except BaseException:
            lock.release()
            raise
        journal.caller_arn = (identity.arn if identity else None) or record.caller_arn
        plan = build_plan(record.request, config, now=record.started_at, run_id=record.run_id)
        state = RunState.new(record.run_id, record.request, config, plan, record.started_at)
        state.apply_journal(record)
        run = cls(state=state, config=config, aws=aws, pg=pg, journal=journal,
                  poll_interval=poll_interval, state_base=state_base, now=now)
        run.lock = lock
        show_restore_job_id(run)
        current = state.current
        run.note(jr.RUN_RESUME, pid=os.getpid(), current=current.key if current else None)
        return run

    # ---- the context the executors see (StepContext) ---------------------------------------

    @property
    def config(self) -> Config:
        return self._config

    @property
    def poll_interval(self) -> float:
        return self._poll_interval

    def now(self) -> datetime:
        return self._now()

    def record(self, record: Record) -> None:
        kind, fields = record
        self.note(kind, **fields)

    def note(self, kind: str, **fields: Any) -> None:
        try:
            self.journal.append(kind, **fields)
        except jr.JournalError as exc:
            self.journal_problem = exc.message
            raise
        self.journal_problem = None

    def progress(self, step: StepState, text: str) -> None:
        step.progress = text
        self._notify("progress", step, text)

    async def before_mutation(self, what: str) -> None:
        """Every mutating AWS call of a step passes here first: this process must still drive
        the run, the journal must say what the state says (nobody else wrote to it), and the
        intent must be on disk before AWS is asked (a full disk stops the run here)."""
        if self.lock is None or not self.lock.held:
            raise GuardrailError(f"Refused to {what}: this session does not hold the run's "
                                 f"lock, so it may not change anything.")
        tail = jr.load_run(self.journal.path)
        if tail.finished or tail.deleted != self.state.deleted or \
                tail.renamed != self.state.renamed or \
                (tail.swap is not None) != (self.state.swap_result is not None):
            raise GuardrailError(f"Refused to {what}: the run's journal changed under this "
                                 f"session ({self.journal.path}). Quit and resume the run.")
        self.note(jr.STEP_PROGRESS, intent=what)

    async def events(self) -> tuple[RdsEvent, ...]:
        """RDS events of the new instance (runbook: "Check RDS restore events"); best effort."""
        if self.dry_run:
            return ()
        try:
            return tuple(await self.aws.rds_events(self.request.target, hours=24))
        except AwsError:
            return ()

    # ---- what the screen reads ------------------------------------------------------------

    @property
    def request(self) -> RecoveryRequest:
        return self.state.request

    @property
    def plan(self) -> tuple[PlannedStep, ...]:
        return self.state.plan

    @property
    def steps(self) -> list[StepState]:
        return self.state.steps

    @property
    def clock(self) -> RtoClock:
        return self.state.clock

    @property
    def run_id(self) -> str:
        return self.journal.run_id

    @property
    def journal_path(self) -> Path:
        return self.journal.path

    @property
    def dry_run(self) -> bool:
        return self.state.dry_run

    @property
    def created(self) -> list[str]:
        return self.state.created

    @property
    def renamed(self) -> dict[str, str]:
        return self.state.renamed

    @property
    def deleted(self) -> list[str]:
        return self.state.deleted

    @property
    def owned(self) -> frozenset[str]:
        return self.state.owned

    @property
    def serving(self) -> frozenset[str]:
        return self.state.serving

    @property
    def restore_job_id(self) -> str | None:
        return self.state.restore_job_id

    @property
    def restore_issued(self) -> bool:
        return self.state.restore_issued

    @property
    def restore_point(self) -> datetime | None:
        return self.state.restore_point

    @property
    def new_instance(self) -> Instance | None:
        return self.state.new_instance

    @property
    def verification(self) -> Verification | None:
        return self.state.verification

    @property
    def swap_result(self) -> SwapResult | None:
        return self.state.swap_result

    @property
    def swap_record(self) -> str | None:
        return self.state.swap_record

    @property
    def cross_region(self) -> Any:
        return self.state.cross_region

    @property
    def finished(self) -> bool:
        return self.state.finished

    @property
    def outcome(self) -> str | None:
        return self.state.outcome

    @property
    def current(self) -> StepState | None:
        return self.state.current

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def replaced(self) -> str:
        return self.state.replaced

    @property
    def rpo_achieved(self) -> timedelta | None:
        return self.state.rpo_achieved

    def step(self, key: str) -> StepState | None:
        return self.state.step(key)

    def remaining_estimates(self, now: datetime | None = None) -> list[timedelta]:
        return self.state.remaining_estimates(now or self._now())

    def eta(self, now: datetime | None = None) -> datetime:
        return self.state.eta(now or self._now())

    def cleanup_candidates(self) -> list[str]:
        return self.state.cleanup_candidates()

    # ---- listeners ------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` on every change; returns the function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)
        return unsubscribe

    def _notify(self, kind: UpdateKind, step: StepState | None, message: str = "") -> None:
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
        step = self.state.check_may_run(self._busy)
        if step is None:
            self._finish("finished")
            return None
        self._busy = True
        try:
            await self._execute(step)
        finally:
            self._busy = False
        if self.state.current is None and not self.finished:
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

    async def _execute(self, step: StepState) -> None:
        try:
            for record in self.state.begin(step, self._now()):
                self.record(record)
            self._notify("step", step, f"{step.title}: running")
            status, detail = await self._executors[step.key].run(self, step)
            self._end(step, (status, detail))
        except jr.JournalError as exc:
            # Nothing more is done in AWS until the journal can be written (the intent of
            # every mutating call is journaled first); retry once there is space again.
            self._fail(step, exc.message, None)
        except StepFailed as exc:
            self._fail(step, exc.message, exc.troubleshooting)
            return
        except VwtuiError as exc:  # AWS, PostgreSQL, guardrail, input: said plainly
            self._fail(step, exc.message, await self._troubleshooting_for(step, exc))
            return
        except asyncio.CancelledError:
            self.record(self.state.interrupt(
                step, self.interrupt_reason or "the worker running it was cancelled"))
            self._notify("step", step, f"{step.title}: interrupted")
            raise

    def _end(self, step: StepState, outcome: Outcome) -> None:
        status, detail = outcome
        self.record(self.state.end(step, status, detail, self._now()))
        self._notify("step", step, f"{step.title}: {status.value}")

    def _fail(self, step: StepState, message: str,
              troubleshooting: Troubleshooting | None) -> None:
        record = self.state.fail(step, message, troubleshooting, self._now())
        try:
            self.record(record)
        except jr.JournalError as exc:
            if exc.message not in message:
                step.error = f"{message} {exc.message}"
        self._notify("step", step, f"{step.title} failed: {step.error}")

    async def _troubleshooting_for(self, step: StepState,
                                   exc: VwtuiError) -> Troubleshooting | None:
        req = self.request
        if step.key in (StepKey.RESTORE, StepKey.WAIT):
            return ts.restore_failed(self.config, req.scenario, req.source, req.target,
                                     await self.events())
        if step.key == StepKey.VERIFY and isinstance(exc, DatabaseError):
            # No connection: no data was judged, so the data's causes would mislead.
            return ts.database_unreachable(self.config, req.target, exc.message)
        if step.key == StepKey.VERIFY and isinstance(exc, AwsError):
            return ts.aws_call_failed(step.key, exc.message)
        if step.key == StepKey.VERIFY:
            return ts.verify_failed(self.config, req.target)
        if step.key in (StepKey.SWAP, StepKey.CLEANUP, StepKey.PROTECTION):
            return ts.aws_call_failed(step.key, exc.message)
        return None

    # ---- the engineer's choices after a failure --------------------------------------------

    async def retry(self) -> StepState | None:
        """Run the failed step again."""
        _, record = self.state.retry()
        self.record(record)
        return await self.run_step()

    def skip(self, reason: str) -> StepState:
        """Skip the current step, with the engineer's reason (required)."""
        step, records = self.state.skip(reason, self._now(), self._busy)
        for record in records:
            self.record(record)
        self._notify("step", step, f"{step.title}: skipped ({step.skip_reason})")
        if self.finished:
            self._ended()
        return step

    async def abort(self, cleanup: bool, *, typed_confirmation: str = "",
                    skip_final_snapshot: bool = False) -> list[str]:
        """End the run. With `cleanup`, delete what the run created and still owns (typed
        confirmation of its identifier required, final snapshot unless declined); returns the
        identifiers deleted. A refused delete raises and leaves the run open."""
        self.state.check_may_abort(self._busy)
        deleted: list[str] = []
        if cleanup and not self.dry_run:
            for identifier in self.cleanup_candidates():
                final, _ = await self._cleanup.delete(self, identifier, typed_confirmation,
                                                      skip_final_snapshot)
                deleted.append(identifier)
                self.record(self.state.delete_issued(identifier, final, during="abort"))
        self.record(self.state.abort(deleted, self._now()))
        self._ended()
        return deleted

    def _finish(self, outcome: str) -> None:
        if self.finished:
            return
        self.record(self.state.finish(outcome, self._now()))
        self._ended()

    def _ended(self) -> None:
        """The run is over: it goes into the recovery test log, and its lock is released (an
        observer may now read it as ended)."""
        self._log_history()
        if self.lock is not None:
            self.lock.release()
        self._notify("finished", None, f"Run {self.outcome}")

    def _log_history(self) -> None:
        """Append the run to the history file and the runbook's test log. A dry run is not a
        test; a failed write is said (history_problem), never raised: the run has ended and
        its journal already holds everything the record is made from."""
        if self.dry_run:
            return
        fields: dict[str, Any] = {}
        if self.request.drill:
            fields = {"smoke": self.state.smoke_result,
                      "method_override_reason": self.request.override_reason,
                      "rto_seconds": self.state.rto_measured.total_seconds()
                      if self.state.rto_measured is not None else None}
        record = history.record_from_state(
            self.state, kind=self.kind, caller_arn=self.journal.caller_arn,
            os_user=jr.os_user(), now=self._now(), **{**fields, **self.history_fields})
        try:
            history.append_record(record, self.state_base)
        except (OSError, UnsafePathError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.history_problem = (f"The run ended but could not be added to the recovery "
                                    f"test log in {self.state_base} ({reason}).")
            log.warning("%s", self.history_problem)

    def escalation(self) -> Any:
        """Whether the escalation path is due now (vwtui.recovery.drill.Escalation or None);
        each level is journaled once, so the log says when the RTO was passed or breached."""
        from vwtui.recovery.drill import escalation_level

        now = self._now()
        failed = any(s.status is StepStatus.FAILED for s in self.steps) or (
            self.finished and self.outcome != "finished")
        level = escalation_level(self.clock, now, drill=self.request.drill, failed=failed)
        if level is not None and level.value not in self.state.escalations \
                and not self.dry_run and (self.lock is None or self.lock.held):
            self.state.escalations.append(level.value)
            # A journal that cannot be written is said by journal_problem; the screen still
            # shows the path.
            with contextlib.suppress(jr.JournalError):
                self.note("escalation", level=level.value,
                          rto_seconds=self.clock.elapsed(now).total_seconds(),
                          target_seconds=self.clock.target.total_seconds())
        return level

    def close(self) -> None:
        """This process stops driving the run (quit): another session may resume it."""
        if self.lock is not None:
            self.lock.release()

    # ---- the engineer's ticks and confirmations --------------------------------------------

    def tick(self, item_key: str) -> ChecklistItem:
        """Tick a manual item of the swap (timestamped, journaled). Resume only after the swap."""
        item, records = self.state.tick(item_key, self._now())
        for record in records:
            self.record(record)
        self._notify("checklist", self.step(StepKey.SWAP), f"{item.label}: ticked")
        return item

    async def apply_parity_fixes(self) -> StepState:
        """The parity step's one key: modify the run's own instance so that every setting that
        must match the source's does (guarded: never a protected instance, never read-only),
        then compare again; the step finishes once nothing that must match differs."""
        step = self.step(StepKey.PARITY)
        if step is None or self.current is not step or step.status is not StepStatus.WAITING:
            raise RecoveryStateError("The parity step is not waiting for its fixes.")
        if self._busy:
            raise RecoveryStateError("A step is running; wait for it to stop first.")
        self._busy = True
        try:
            comparison = await self._fixing(step, self._parity.fix(self, step))
            if comparison is None:
                return step
            step.error = None
            if comparison.must_match_left:
                step.detail = (f"Fixes applied; still different: "
                               f"{', '.join(d.label for d in comparison.must_match_left)}.")
                self._notify("step", step, step.detail)
            else:
                self._end(step, (StepStatus.DONE,
                                 f"Fixes applied. {comparison.summary()}"))
        finally:
            self._busy = False
        return step

    async def _fixing(self, step: StepState, fixes: Awaitable[T]) -> T | None:
        """A step's confirmed fixes: a guardrail's refusal (read-only, a protected instance) is
        journaled and raised, leaving the step waiting; an AWS error fails the step (None)."""
        try:
            return await fixes
        except GuardrailError as exc:
            self.record(self.state.refuse(step, exc.message))
            self._notify("step", step, exc.message)
            raise
        except AwsError as exc:
            self._fail(step, exc.message, ts.aws_call_failed(step.key, exc.message))
            return None

    def accept_parity_gap(self, reason: str) -> None:
        """The engineer's typed reason to swap while a must-match setting differs (journaled)."""
        self.record(self.state.accept_parity_gap(reason, self._now()))
        self._notify("step", self.step(StepKey.SWAP), "Swap despite parity differences: "
                     + reason)

    async def confirm_cleanup(self, typed_confirmation: str, *,
                              skip_final_snapshot: bool = False) -> StepState:
        """Delete the instance the swap replaced, once the engineer typed its identifier.

        The guardrails of RecoveryOps decide; a refusal raises GuardrailError and leaves the
        step waiting (skip it with a reason if the instance must stay)."""
        step = self.step(StepKey.CLEANUP)
        if step is None or self.current is not step:
            raise RecoveryStateError("Cleanup is not the current step.")
        if self._busy:
            raise RecoveryStateError("Cleanup is already running.")
        identifier = self.replaced
        self._busy = True
        try:
            try:
                final, already = await self._cleanup.delete(
                    self, identifier, typed_confirmation, skip_final_snapshot)
            except GuardrailError as exc:
                self.record(self.state.refuse(step, exc.message))
                self._notify("step", step, exc.message)
                raise
            except AwsError as exc:
                self._fail(step, exc.message, ts.aws_call_failed("cleanup", exc.message))
                return step
            self.record(self.state.delete_issued(identifier, final, already=already))
            step.error = None
            self._end(step, (StepStatus.DONE,
                             f"{identifier} was already being deleted (the answer to the "
                             f"delete was lost); not asked again." if already else
                             f"Deleting {identifier}; final snapshot {final}." if final else
                             f"Deleting {identifier}; final snapshot declined."))
        finally:
            self._busy = False
        if self.current is None:
            self._finish("finished")
        return step

    async def confirm_protection(self) -> StepState:
        """Apply the protection step's fixes (the engineer saw each command and confirmed),
        then check again. A guardrail's refusal (read-only, a protected instance) raises
        GuardrailError and leaves the step waiting; an AWS error fails it (retry reads AWS
        again and offers only what is still to fix)."""
        step = self.step(StepKey.PROTECTION)
        if step is None or self.current is not step:
            raise RecoveryStateError("Back under protection is not the current step.")
        if self._busy:
            raise RecoveryStateError("Back under protection is already running.")
        self._busy = True
        try:
            sent = await self._fixing(step, self._protection.apply(self, step))
            if sent is None:
                return step
            self._notify("step", step, f"{len(sent)} protection fix(es) sent")
        finally:
            self._busy = False
        # Read AWS again: the step passes once every fix shows.
        await self.run_step()
        return step


async def _identity(aws: AwsService) -> CallerIdentity | None:
    try:
        return await aws.caller_identity()
    except AwsError:
        return None


def _region(aws: AwsService, config: Config) -> str:
    return aws.region or config.aws.region
