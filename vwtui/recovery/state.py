"""A recovery run as data, and its transitions: the one place that decides what may happen next.

Pure: no I/O, no clock of its own (every transition is given `now`). Each transition changes the
run and returns the journal records it produces; the driver (`vwtui.orchestrator`) writes them.
Screens ask this module what the engineer may do (`allowed_actions`), what to tell them
(`hint`), whether the swap may run (`swap_gate`) and what cleanup may delete
(`can_delete_replaced`, `cleanup_candidates`); they derive none of it themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from vwtui import names
from vwtui.instance_settings import Comparison
from vwtui.model import Instance
from vwtui.recovery.clock import RtoClock
from vwtui.recovery.plan import (
    SWAP_CHECKLIST_AFTER,
    SWAP_CHECKLIST_BEFORE,
    PlannedStep,
    RecoveryRequest,
    Scenario,
    StepKey,
    SwapMethod,
    name_stamp,
    retired_identifier,
)
from vwtui.recovery.step_state import (
    _AFTER,
    CHECKLIST_KEYS,
    DELETE_ISSUED,
    MANUAL_SWAP,
    PROTECTION_FIX,
    RENAMED,
    RESTORE_ISSUED,
    RTO_ACHIEVED,
    RUN_END,
    RUN_RESUME,
    RUN_START,
    SMOKE_RESULT,
    STEP_END,
    STEP_PROGRESS,
    STEP_START,
    SWAP_DONE,
    SWAP_INTENT,
    TICK,
    Action,
    ChecklistItem,
    Hint,
    Record,
    RecoveryStateError,
    RunUpdate,
    StepFailed,
    StepState,
    StepStatus,
    SwapGate,
    SwapKind,
    SwapResult,
    Tone,
    Troubleshooting,
    UpdateKind,
)
from vwtui.recovery.verify import Verification

__all__ = [
    "CHECKLIST_KEYS",
    "DELETE_ISSUED",
    "MANUAL_SWAP",
    "PROTECTION_FIX",
    "RENAMED",
    "RESTORE_ISSUED",
    "RTO_ACHIEVED",
    "RUN_END",
    "RUN_RESUME",
    "RUN_START",
    "SMOKE_RESULT",
    "STEP_END",
    "STEP_PROGRESS",
    "STEP_START",
    "SWAP_DONE",
    "SWAP_INTENT",
    "TICK",
    "Action",
    "ChecklistItem",
    "Hint",
    "Record",
    "RecoveryStateError",
    "RunState",
    "RunUpdate",
    "StepFailed",
    "StepState",
    "StepStatus",
    "SwapGate",
    "SwapKind",
    "SwapResult",
    "Tone",
    "Troubleshooting",
    "UpdateKind",
]

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.recovery.history import SmokeResult
    from vwtui.recovery.journal import RunRecord


def smoke_result_of(record: dict[str, Any]) -> SmokeResult:
    """A drill's application test as its smoke-result record journaled it."""
    from vwtui.recovery.history import SmokeResult

    code = record.get("exit_code")
    command = record.get("command")
    return SmokeResult(passed=record.get("result") == "pass",
                       seconds=float(record.get("seconds") or 0.0),
                       summary=str(record.get("summary") or ""),
                       command=str(command) if command else None,
                       exit_code=int(code) if code is not None else None)


def _plan_json(step: PlannedStep) -> dict[str, Any]:
    return {"key": step.key, "title": step.title,
            "estimate_seconds": step.estimate.total_seconds(), "mutating": step.mutating,
            "command": step.command}


@dataclass(slots=True)
class RunState:
    """One recovery run: request, plan, steps, RTO clock, and what it did in AWS."""

    run_id: str
    request: RecoveryRequest
    config: Config
    plan: tuple[PlannedStep, ...]
    clock: RtoClock
    steps: list[StepState] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # old identifier -> new identifier
    deleted: list[str] = field(default_factory=list)
    restore_job_id: str | None = None
    restore_issued: bool = False
    # The journal shows that a restore request may have reached AWS (resume, retry): look for
    # what it started before asking again.
    restore_attempted: bool = False
    restore_point: datetime | None = None
    swap_result: SwapResult | None = None
    swap_old_value: str | None = None  # journaled before the UPSERT, for rollback
    new_instance: Instance | None = None  # the restored instance as last read
    verification: Verification | None = None
    cross_region: Any = None  # scenario 4's prerequisites as found (CrossRegionStatus)
    # Back under protection: the findings as last read (vwtui.checks.protection.Finding) and
    # the keys of the fixes that reached AWS (journaled: never sent twice, even on resume).
    protection: list[Any] | None = None
    protection_fixed: list[str] = field(default_factory=list)
    # The parity step's comparison of the new instance with the source (None: not run yet).
    parity: Comparison | None = None
    # The engineer's typed reason to swap while a must-match setting still differs.
    parity_reason: str | None = None
    finished: bool = False
    outcome: str | None = None
    # A drill's application test (vwtui.recovery.history.SmokeResult) and the RTO its RTO step
    # measured (the recovery is complete once the application test passed; the cleanup after
    # it is not recovery time).
    smoke_result: Any = None
    rto_measured: timedelta | None = None
    # The escalation levels already journaled (each once).
    escalations: list[str] = field(default_factory=list)

    @classmethod
    def new(cls, run_id: str, request: RecoveryRequest, config: Config,
            plan: tuple[PlannedStep, ...], started_at: datetime) -> RunState:
        clock = RtoClock(started_at, target=timedelta(hours=config.objectives.rto_hours),
                         rpo_target=timedelta(hours=config.objectives.rpo_hours))
        steps = [StepState(key=p.key, title=p.title, estimate=p.estimate, command=p.command,
                           mutating=p.mutating) for p in plan]
        for step in steps:
            if step.key == StepKey.SWAP:
                step.checklist = [ChecklistItem(k, label) for k, label
                                  in SWAP_CHECKLIST_BEFORE + SWAP_CHECKLIST_AFTER]
        restore_point = request.restore_point or (
            request.restore_time if request.scenario is Scenario.PITR else None)
        return cls(run_id=run_id, request=request, config=config, plan=plan, clock=clock,
                   steps=steps, restore_point=restore_point)

    def start_record(self, host: str, pid: int) -> Record:
        """The run-start record: the request, the plan and the RTO clock's origin."""
        return RUN_START, {
            "request": self.request.to_json(), "plan": [_plan_json(p) for p in self.plan],
            "started_at": self.clock.started_at, "dry_run": self.request.dry_run,
            "host": host, "pid": pid}

    def apply_journal(self, record: RunRecord) -> None:
        """Take over what a run's journal says (resume): finished steps stay finished; a step
        that was running is pending again with its start kept (the executor then asks AWS)."""
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
            if step.key == StepKey.RESTORE and saved.outcome in ("running", "failed",
                                                                 "interrupted"):
                # The request may have reached AWS before vwtui stopped.
                self.restore_attempted = True
        self.created = list(record.created)
        self.renamed = dict(record.renamed)
        self.deleted = list(record.deleted)
        self.restore_job_id = record.restore_job_id
        self.restore_issued = record.restore_issued
        self.restore_point = record.restore_point or self.restore_point
        swap = self.step(StepKey.SWAP)
        if swap is not None:
            for item in swap.checklist:
                item.ticked_at = record.ticks.get(item.key)
        if record.swap_intent is not None:
            self.swap_old_value = str(record.swap_intent.get("old_value") or "")
        if record.swap:
            self.swap_result = SwapResult.from_fields(record.swap)
        self.protection_fixed = [str(r.get("key")) for r in record.records
                                 if r.get("event") == PROTECTION_FIX and r.get("key")]
        # A drill's application test and the RTO it measured when the test passed: the history
        # record logs them at the end, however many restarts later. The last of each counts (a
        # retried test journals its result again).
        for r in record.records:
            if r.get("event") == SMOKE_RESULT:
                self.smoke_result = smoke_result_of(r)
            elif r.get("event") == RTO_ACHIEVED and r.get("rto_seconds") is not None:
                self.rto_measured = timedelta(seconds=float(r["rto_seconds"]))
            elif r.get("parity_override"):
                # The engineer's typed reason to swap despite a parity difference holds after a
                # restart (the comparison itself is read again before the swap).
                self.parity_reason = str(r["parity_override"])

    # ---- queries ---------------------------------------------------------------------------

    @property
    def dry_run(self) -> bool:
        return self.request.dry_run

    @property
    def current(self) -> StepState | None:
        """The first step not done or skipped (None once every step is)."""
        return next((s for s in self.steps if not s.status.finished), None)

    def step(self, key: str) -> StepState | None:
        return next((s for s in self.steps if s.key == key), None)

    def is_current(self, key: StepKey, status: StepStatus | None = None) -> bool:
        current = self.current
        return current is not None and current.key == key and (
            status is None or current.status is status)

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
    def retired(self) -> str:
        """The name the rename swap gives the source."""
        return retired_identifier(self.request.source,
                                  name_stamp(self.request, self.clock.started_at))

    @property
    def replaced(self) -> str:
        """The instance the swap replaced (cleanup deletes it)."""
        if self.request.drill:  # the drill's own test instance: no swap replaced anything
            return self.request.target
        if self.swap_result and self.swap_result.replaced:
            return self.swap_result.replaced
        if self.request.swap is SwapMethod.RENAME:
            return self.retired
        return self.request.source

    @property
    def swap_record(self) -> str | None:
        """The DNS record this recovery's Route53 swap repoints; None: it changes no DNS."""
        return self.config.dns_record_for(self.request.source)

    @property
    def rpo_achieved(self) -> timedelta | None:
        return self.clock.rpo_achieved(self.request.incident_time, self.restore_point)

    def remaining_estimates(self, now: datetime) -> list[timedelta]:
        return [s.remaining_estimate(now) for s in self.steps]

    def eta(self, now: datetime) -> datetime:
        return self.clock.eta(now, self.remaining_estimates(now))

    def delete_block(self) -> Literal["protected", "not-owned"] | None:
        """Why the cleanup may not delete the replaced instance: it is protected, or this run
        did not create or rename it (the service layer refuses both too); None: it may."""
        replaced = self.replaced
        if self.config.is_protected(replaced):
            return "protected"
        if not names.rds_id_in(replaced, self.owned):
            return "not-owned"
        return None

    def can_delete_replaced(self) -> bool:
        """May the cleanup offer to delete the replaced instance?"""
        return self.delete_block() is None

    def cleanup_candidates(self) -> list[str]:
        """What an abort with cleanup would delete: instances this run created that exist
        under their own name, were not deleted, and are not in service after the swap (a
        renamed-in recovery instance is kept, and so is one a DNS record now points at)."""
        keep = set(self.renamed) | self.serving | set(self.deleted)
        return [i for i in self.created if i not in keep]

    @property
    def protected_instance(self) -> str | None:
        """The instance the protection step looks at: the one the swap put in service (none
        when the swap did not run)."""
        return next(iter(self.serving), None)

    def protection_fixes(self) -> list[Any]:
        """The fixes the protection step may still apply (vwtui.checks.protection.Fix): found
        on the last read, and not already sent (the journal's protection-fix records)."""
        found = [f.fix for f in self.protection or () if f.ok is False and f.fix is not None]
        return [fix for fix in found if fix.key not in self.protection_fixed]

    def protection_fixed_record(self, key: str, command: str) -> Record:
        """A fix reached AWS: journaled, never sent again."""
        if key not in self.protection_fixed:
            self.protection_fixed.append(key)
        return PROTECTION_FIX, {"step": StepKey.PROTECTION.value, "key": key,
                                "command": command}

    def swap_gate(self) -> SwapGate | None:
        """The swap's checklist against the swap (None: this run has no swap)."""
        swap = self.step(StepKey.SWAP)
        if swap is None:
            return None
        numbered = list(enumerate(swap.checklist, start=1))
        return SwapGate(
            ran=self.swap_result is not None,
            pending_before=tuple((n, i) for n, i in numbered if not i.ticked and i.before_swap),
            pending_after=tuple((n, i) for n, i in numbered
                                if not i.ticked and not i.before_swap))

    def swap_needs_confirmation(self) -> bool:
        """g at the swap asks y/n first when it moves the application's traffic: a real run,
        ready to swap, with an AWS call to make (a swap by hand changes nothing in AWS)."""
        current = self.current
        gate = self.swap_gate()
        return (current is not None and current.key == StepKey.SWAP
                and current.status is StepStatus.WAITING and bool(current.command)
                and gate is not None and not gate.ran and not self.dry_run)

    def parity_refusal(self) -> str | None:
        """Why the swap may not run yet: a setting that must match the source's still differs
        and no reason was given (None: it may)."""
        if self.parity is None or self.parity_reason or self.dry_run:
            return None
        left = self.parity.must_match_left
        if not left:
            return None
        names_ = ", ".join(d.label for d in left)
        return (f"{self.request.target} still differs from {self.request.source} in "
                f"{len(left)} setting{'s' if len(left) > 1 else ''} that must match "
                f"({names_}): fix them at the parity step, or give a reason to swap anyway.")

    def accept_parity_gap(self, reason: str, now: datetime) -> Record:
        """The engineer's reason to swap despite must-match differences (journaled)."""
        if not reason.strip():
            raise RecoveryStateError("Say why the swap may go ahead with these differences: "
                                     "the journal keeps the reason.")
        self.parity_reason = reason.strip()
        left = [d.key for d in self.parity.must_match_left] if self.parity else []
        return STEP_PROGRESS, {"step": StepKey.SWAP.value, "parity_override": self.parity_reason,
                               "differences": left, "at": now}

    def go_refusal(self) -> str | None:
        """Why "run the next step" would do nothing at the swap (a tick is missing), or None."""
        if not self.is_current(StepKey.SWAP, StepStatus.WAITING):
            return None
        gate = self.swap_gate()
        assert gate is not None
        if gate.ran:
            if not gate.pending_after:
                return None
            left = ", ".join(f"{n} {i.label}" for n, i in gate.pending_after)
            return (f"The swap has run. Tick {left} once the application is back; "
                    f"the run then goes on to cleanup.")
        if gate.pending_before:
            left = ", ".join(f"{n} {i.label}" for n, i in gate.pending_before)
            return f"Tick first: {left}. Then g runs the swap."
        return None

    def next_tick(self) -> tuple[str | None, str | None]:
        """The item `t` ticks: (its key, None), or (None, why nothing can be ticked now)."""
        gate = self.swap_gate()
        if gate is None:
            return None, None
        if gate.pending_before:
            return gate.pending_before[0][1].key, None
        if gate.pending_after:
            if not gate.ran:
                return None, "Run the swap (g) before resuming the application."
            return gate.pending_after[0][1].key, None
        return None, None

    def goes_on_by_itself(self) -> bool:
        """After a resume: pick up what was under way (a restore already issued, the wait,
        verify); a failed step waits for the engineer, and so do the swap and the cleanup."""
        current = self.current
        return (not self.finished and current is not None
                and current.status is not StepStatus.FAILED
                and current.key in (StepKey.RESTORE, StepKey.WAIT, StepKey.VERIFY,
                                    StepKey.PARITY, StepKey.PREREQUISITES))

    def allowed_actions(self, busy: bool) -> frozenset[Action]:
        """What the engineer may do now; `busy` while a step runs."""
        if self.finished:
            return frozenset()
        current = self.current
        failed = current is not None and current.status is StepStatus.FAILED
        allowed: set[Action] = set()
        if not busy and not failed and not self.is_current(StepKey.CLEANUP,
                                                              StepStatus.WAITING):
            allowed.add(Action.GO)
        if not busy and self.is_current(StepKey.SWAP, StepStatus.WAITING):
            allowed.add(Action.TICK)
        if (not busy and self.is_current(StepKey.CLEANUP, StepStatus.WAITING)
                and self.can_delete_replaced()):
            allowed.add(Action.CLEANUP)
        if not busy and self.is_current(StepKey.PROTECTION, StepStatus.WAITING) \
                and self.protection_fixes():
            allowed.add(Action.PROTECT)
        if (not busy and self.is_current(StepKey.PARITY, StepStatus.WAITING)
                and self.parity is not None and self.parity.fixable):
            allowed.add(Action.FIX)
        if failed and not busy:
            allowed.add(Action.RETRY)
        if not busy and current is not None:
            allowed |= {Action.SKIP, Action.ABORT}
        return frozenset(allowed)

    def hint(self, busy: bool) -> Hint:
        """One line: what the engineer can do now."""
        if self.finished:
            return Hint(f"Run {self.outcome}. esc: back to the dashboard.", Tone.DONE)
        current = self.current
        if busy:
            name = current.key if current else "the run"
            return Hint(f"⟳ {name} in progress · esc: dashboard, the run goes on")
        if current is None:
            return Hint("g: finish the run")
        if current.status is StepStatus.FAILED:
            return Hint("✗ failed: r retry · s skip with a reason · a abort", Tone.ERROR)
        if current.key == StepKey.SWAP and current.status is StepStatus.WAITING:
            return Hint(self._swap_hint(), Tone.WARN)
        if current.key == StepKey.PARITY and current.status is StepStatus.WAITING:
            fixable = len(self.parity.fixable) if self.parity else 0
            return Hint(f"parity: m applies {fixable} fix{'es' if fixable != 1 else ''} to "
                        f"{self.request.target} · g go on as is · s skip", Tone.WARN)
        if current.key == StepKey.PROTECTION and current.status is StepStatus.WAITING:
            if self.protection_fixes():
                return Hint(f"protection: p apply {len(self.protection_fixes())} fix(es) "
                            f"(shown first) · g check again · s skip", Tone.WARN)
            return Hint("protection: g check again · s skip with a reason", Tone.WARN)
        if current.key == StepKey.CLEANUP and current.status is StepStatus.WAITING:
            if self.request.drill and self.can_delete_replaced():
                return Hint(f"cleanup: x delete the test instance {self.replaced} (no final "
                            f"snapshot) · s skip", Tone.WARN)
            if self.can_delete_replaced():
                return Hint(f"cleanup: x delete {self.replaced} · f final snapshot · s skip",
                            Tone.WARN)
            return Hint("cleanup: nothing this run may delete · s skip with a reason",
                        Tone.WARN)
        return Hint(f"g: run “{current.title}” · s skip · a abort")

    def _swap_hint(self) -> str:
        """What the swap waits for: the ticks before it, g, or (once it ran) the resume tick."""
        gate = self.swap_gate()
        assert gate is not None
        if gate.ran:
            if not gate.pending_after:
                return "swap done · g goes on to cleanup"
            items = "/".join(str(n) for n, _ in gate.pending_after)
            return f"swap done: tick {items} (or t) once the application is back · then cleanup"
        if gate.pending_before:
            items = "/".join(str(n) for n, _ in gate.pending_before)
            return f"swap: tick {items} (or t) · then g runs the swap · s skip · a abort"
        return "swap: g runs the swap · s skip · a abort"

    # ---- transitions -----------------------------------------------------------------------

    def check_may_run(self, busy: bool) -> StepState | None:
        """The step `run_step` would run (None: every step is finished), or why not."""
        if self.finished:
            raise RecoveryStateError(f"The run has ended ({self.outcome}).")
        step = self.current
        if step is not None and step.status is StepStatus.FAILED:
            raise RecoveryStateError(
                f"{step.title} failed: {step.error}. Retry it, skip it with a reason, or abort.")
        if step is not None and busy:
            raise RecoveryStateError(f"{step.title} is already running.")
        return step

    def begin(self, step: StepState, now: datetime) -> list[Record]:
        """The step starts (or starts again: its first start is kept)."""
        first = step.started_at is None
        step.started_at = step.started_at or now
        step.ended_at = None
        step.error = None
        step.troubleshooting = None
        step.status = StepStatus.RUNNING
        # The swap and cleanup go round while they wait on the engineer: one start is enough.
        if first or step.key not in (StepKey.SWAP, StepKey.CLEANUP, StepKey.PROTECTION):
            return [(STEP_START, {"step": step.key, "at": step.started_at,
                                  "command": step.command, "dry_run": self.dry_run})]
        return []

    def end(self, step: StepState, status: StepStatus, detail: str, now: datetime) -> Record:
        step.status = status
        step.detail = detail
        if status.finished:
            step.ended_at = now
            step.progress = ""
        return STEP_END, {"step": step.key, "outcome": status.value, "detail": detail,
                          "at": step.ended_at, "dry_run": self.dry_run}

    def fail(self, step: StepState, message: str, troubleshooting: Troubleshooting | None,
             now: datetime) -> Record:
        step.status = StepStatus.FAILED
        step.error = message
        step.ended_at = now
        step.progress = ""
        step.troubleshooting = troubleshooting
        return STEP_END, {"step": step.key, "outcome": "failed", "error": message,
                          "at": now, "dry_run": self.dry_run}

    def interrupt(self, step: StepState, reason: str) -> Record:
        """The task running the step was cancelled (quit, SSH drop): pending again."""
        step.status = StepStatus.PENDING
        step.progress = ""
        return STEP_END, {"step": step.key, "outcome": "interrupted", "detail": reason}

    def refuse(self, step: StepState, message: str) -> Record:
        """A guardrail refused what the engineer asked at a waiting step: it keeps waiting."""
        step.error = message
        return STEP_END, {"step": step.key, "outcome": "waiting", "error": message}

    def retry(self) -> tuple[StepState, Record]:
        """The failed step becomes pending again."""
        step = self.current
        if step is None or step.status is not StepStatus.FAILED:
            raise RecoveryStateError("There is no failed step to retry.")
        step.status = StepStatus.PENDING
        if step.key == StepKey.RESTORE:
            # The failed attempt may have reached AWS (an answer lost to a timeout).
            self.restore_attempted = True
        return step, (STEP_END, {"step": step.key, "outcome": "retry"})

    def skip(self, reason: str, now: datetime, busy: bool) -> tuple[StepState, list[Record]]:
        """Skip the current step, with the engineer's reason (required)."""
        step = self.current
        if step is None:
            raise RecoveryStateError("There is no step left to skip.")
        if busy:
            raise RecoveryStateError(f"{step.title} is running; wait for it to stop first.")
        if not reason.strip():
            raise RecoveryStateError("Say why the step is skipped: the journal keeps the reason.")
        step.status = StepStatus.SKIPPED
        step.skip_reason = reason.strip()
        step.started_at = step.started_at or now
        step.ended_at = now
        step.progress = ""
        records: list[Record] = [(STEP_END, {"step": step.key, "outcome": "skipped", "at": now,
                                             "skip_reason": step.skip_reason})]
        if self.current is None:
            records.append(self.finish("finished", now))
        return step, records

    def tick(self, item_key: str, now: datetime) -> tuple[ChecklistItem, list[Record]]:
        """Tick a manual item of the swap (timestamped). Resume only after the swap."""
        swap = self.step(StepKey.SWAP)
        if swap is None:
            raise RecoveryStateError("This run has no swap step.")
        item = next((i for i in swap.checklist if i.key == item_key), None)
        if item is None:
            raise RecoveryStateError(f"No checklist item {item_key!r}.")
        if self.current is not swap:
            raise RecoveryStateError("Tick the swap's items when the swap is the current step.")
        if item_key in _AFTER and self.swap_result is None:
            raise RecoveryStateError("Resume the application only after the swap has run.")
        if item.ticked_at is not None:
            return item, []
        item.ticked_at = now
        return item, [(TICK, {"step": StepKey.SWAP.value, "item": item_key, "ticked_at": now})]

    def resumes_after_tick(self, item_key: str) -> bool:
        """Once the application is resumed after the swap, finishing the swap step changes
        nothing in AWS: the run carries on to the cleanup (which waits for a typed name)."""
        gate = self.swap_gate()
        return (gate is not None and item_key in _AFTER and gate.complete
                and self.is_current(StepKey.SWAP))

    def issued(self, created: Iterable[str], *, job_id: str | None = None,
               adopted: bool = False) -> Record:
        """The restore reached AWS (or an earlier attempt of it was found there)."""
        made = list(created)
        for identifier in made:
            if identifier not in self.created:
                self.created.append(identifier)
        self.restore_issued = True
        self.restore_job_id = job_id or self.restore_job_id
        return RESTORE_ISSUED, {"step": StepKey.RESTORE.value, "created": made,
                                "restore_job_id": self.restore_job_id,
                                "restore_point": self.restore_point, "adopted": adopted}

    def swap_intent(self, command: str | None, zone_id: str, record: str,
                    old_value: str) -> Record:
        """The value to roll back to, journaled before the UPSERT."""
        self.swap_old_value = old_value
        return SWAP_INTENT, {"step": StepKey.SWAP.value, "command": command,
                             "zone_id": zone_id, "record": record, "old_value": old_value}

    def renamed_to(self, old: str, new: str) -> Record:
        self.renamed[old] = new
        return RENAMED, {"step": StepKey.SWAP.value, "old": old, "new": new}

    def swapped(self, result: SwapResult) -> Record:
        self.swap_result = result
        return SWAP_DONE, {"step": StepKey.SWAP.value, **result.fields()}

    def delete_issued(self, identifier: str, final_snapshot: str | None,
                      **fields: Any) -> Record:
        self.deleted.append(identifier)
        return DELETE_ISSUED, {"identifier": identifier, "final_snapshot": final_snapshot,
                               **fields}

    def check_may_abort(self, busy: bool) -> None:
        if busy:
            raise RecoveryStateError("A step is running; wait for it to stop before aborting.")
        if self.finished:
            raise RecoveryStateError(f"The run has already ended ({self.outcome}).")

    def abort(self, deleted: list[str], now: datetime) -> Record:
        for step in self.steps:
            if not step.status.finished and step.status is not StepStatus.FAILED:
                step.status = StepStatus.SKIPPED
                step.skip_reason = "run aborted"
        return self.finish("aborted", now, cleaned=deleted)

    def finish(self, outcome: str, now: datetime, **fields: Any) -> Record:
        """The run ends: the RTO clock stops; RTO and RPO achieved are recorded."""
        self.finished = True
        self.outcome = outcome
        self.clock = self.clock.stopped(now)
        rpo = self.rpo_achieved
        return RUN_END, {"outcome": outcome, "finished_at": now,
                         "rto_seconds": self.clock.elapsed(now).total_seconds(),
                         "rpo_seconds": rpo.total_seconds() if rpo is not None else None,
                         **fields}
