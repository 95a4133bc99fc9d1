"""The state of a recovery run's steps, as the screen draws them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from vwtui.model import RdsEvent


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


@dataclass(frozen=True, slots=True)
class Troubleshooting:
    """The runbook's troubleshooting for a failed step: causes, diagnosis, resolution."""

    title: str
    causes: tuple[str, ...]
    commands: tuple[str, ...]
    resolution: tuple[str, ...]
    events: tuple[RdsEvent, ...] = ()


@dataclass(slots=True)
class ChecklistItem:
    """A manual item of the runbook (set maintenance mode, ...) ticked by the engineer."""

    key: str
    label: str
    ticked_at: datetime | None = None

    @property
    def ticked(self) -> bool:
        return self.ticked_at is not None


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
        return max(self.estimate - self.elapsed(now), timedelta(0))
