"""The parts a recovery run's state is made of: step statuses and steps, the swap's checklist
items and result, the engineer's actions, hints, updates, and the journal's record kinds. Pure
data; `vwtui.recovery.state.RunState` holds them and decides what may happen next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from vwtui.errors import VwtuiError
from vwtui.model import RdsEvent
from vwtui.recovery.plan import SWAP_CHECKLIST_AFTER, SWAP_CHECKLIST_BEFORE


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"  # on the engineer: a tick, a typed confirmation
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def finished(self) -> bool:
        return self in (StepStatus.DONE, StepStatus.SKIPPED)


class Action(StrEnum):
    """What the engineer may ask of a run (the run screen's keys map onto these)."""

    GO = "go"
    TICK = "tick"
    CLEANUP = "cleanup"
    RETRY = "retry"
    SKIP = "skip"
    ABORT = "abort"
    PROTECT = "protect"  # apply the protection step's fixes (each shown, confirmed)
    FIX = "fix"  # apply the parity step's fixes to the run's own instance


class Tone(StrEnum):
    """How loud a hint is; the screen maps it to a style of its .tcss."""

    PLAIN = "plain"
    DONE = "done"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Hint:
    text: str
    tone: Tone = Tone.PLAIN


# Journal record kinds (the journal module reads them back).
RUN_START = "run-start"
RUN_RESUME = "run-resume"
STEP_START = "step-start"
STEP_END = "step-end"
STEP_PROGRESS = "step-progress"
RESTORE_ISSUED = "restore-issued"
TICK = "tick"
SWAP_INTENT = "swap-intent"
SWAP_DONE = "swap-done"
RENAMED = "renamed"
DELETE_ISSUED = "delete-issued"
RUN_END = "run-end"
# A fix of the protection step reached AWS (its key: "selection", "alarm:<name>", ...).
PROTECTION_FIX = "protection-fix"
# A drill's application test ended (result=pass/fail), and the RTO the drill achieved: what its
# history record logs, read back when the drill is resumed.
SMOKE_RESULT = "smoke-result"
RTO_ACHIEVED = "rto-achieved"

# One journal record: its kind and its fields.
Record = tuple[str, dict[str, Any]]

UpdateKind = Literal["step", "progress", "checklist", "finished"]
SwapKind = Literal["manual", "route53", "rename"]
# swap method of a Route53 swap with no DNS record of the source's own.
MANUAL_SWAP: SwapKind = "manual"


class RecoveryStateError(VwtuiError):
    """An action that does not fit the run's state (a step already running, a failed step)."""

    title = "Not now"


@dataclass(frozen=True, slots=True)
class Troubleshooting:
    """The runbook's troubleshooting for a failed step: causes, diagnosis, resolution."""

    title: str
    causes: tuple[str, ...]
    commands: tuple[str, ...]
    resolution: tuple[str, ...]
    events: tuple[RdsEvent, ...] = ()


class StepFailed(VwtuiError):
    """A step failed; carries the runbook's troubleshooting for the case."""

    title = "Step failed"

    def __init__(self, message: str, troubleshooting: Troubleshooting | None = None) -> None:
        super().__init__(message)
        self.troubleshooting = troubleshooting


@dataclass(slots=True)
class ChecklistItem:
    """A manual item of the runbook (set maintenance mode, ...) ticked by the engineer."""

    key: str
    label: str
    ticked_at: datetime | None = None

    @property
    def ticked(self) -> bool:
        return self.ticked_at is not None

    @property
    def before_swap(self) -> bool:
        return self.key in _BEFORE


_BEFORE = frozenset(k for k, _ in SWAP_CHECKLIST_BEFORE)
_AFTER = frozenset(k for k, _ in SWAP_CHECKLIST_AFTER)
CHECKLIST_KEYS: tuple[str, ...] = tuple(k for k, _ in SWAP_CHECKLIST_BEFORE
                                        + SWAP_CHECKLIST_AFTER)


@dataclass(slots=True)
class StepState:
    """One step of a run: its status, times, what it did, and why it failed or was skipped."""

    key: str
    title: str
    status: StepStatus = StepStatus.PENDING
    started_at: datetime | None = None
    ended_at: datetime | None = None
    detail: str = ""
    error: str | None = None
    skip_reason: str | None = None
    estimate: timedelta = timedelta(0)
    command: str | None = None
    mutating: bool = False
    progress: str = ""
    troubleshooting: Troubleshooting | None = None
    checklist: list[ChecklistItem] = field(default_factory=list)
    # When AWS itself expects the step's work to be done (a restore job's estimate), if it
    # said: it replaces the plan's estimate for what is left of the step.
    aws_eta: datetime | None = None

    def elapsed(self, now: datetime) -> timedelta:
        """Time spent in the step so far (or in total, once it ended)."""
        if self.started_at is None:
            return timedelta(0)
        end = self.ended_at or now
        return max(end - self.started_at, timedelta(0))

    def remaining_estimate(self, now: datetime) -> timedelta:
        """What is left of the estimate: all of it when pending, none when finished."""
        if self.status.finished:
            return timedelta(0)
        if self.status is StepStatus.PENDING:
            return self.estimate
        if self.aws_eta is not None:
            return max(self.aws_eta - now, timedelta(0))
        return max(self.estimate - self.elapsed(now), timedelta(0))


@dataclass(frozen=True, slots=True)
class RunUpdate:
    """What a listener is told: a step changed, a poll reported progress, the run ended."""

    kind: UpdateKind
    step: StepState | None
    message: str
    time: datetime


@dataclass(frozen=True, slots=True)
class SwapResult:
    """What the swap did: the journal's swap-done record, read back on resume."""

    method: SwapKind
    new_value: str | None
    old_value: str | None = None
    record: str | None = None
    zone_id: str | None = None
    replaced: str | None = None  # the instance the swap took out of service
    retired: str | None = None  # the rename swap's <source>-old-... name

    def fields(self) -> dict[str, Any]:
        return {"method": self.method, "zone_id": self.zone_id, "record": self.record,
                "old_value": self.old_value, "new_value": self.new_value,
                "replaced": self.replaced, "retired": self.retired}

    @classmethod
    def from_fields(cls, data: dict[str, Any]) -> SwapResult:
        method = str(data.get("method") or MANUAL_SWAP)
        kind: SwapKind = "route53" if method == "route53" else \
            "rename" if method == "rename" else "manual"
        return cls(method=kind, new_value=data.get("new_value"),
                   old_value=data.get("old_value"), record=data.get("record"),
                   zone_id=data.get("zone_id"), replaced=data.get("replaced"),
                   retired=data.get("retired"))


@dataclass(frozen=True, slots=True)
class SwapGate:
    """Where the swap stands against its checklist. Numbers are the items' keys 1-3."""

    ran: bool
    pending_before: tuple[tuple[int, ChecklistItem], ...]
    pending_after: tuple[tuple[int, ChecklistItem], ...]

    @property
    def may_swap(self) -> bool:
        """Every item before the swap is ticked (and it has not run yet)."""
        return not self.ran and not self.pending_before

    @property
    def complete(self) -> bool:
        return self.ran and not self.pending_after
