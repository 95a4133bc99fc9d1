"""The RTO clock: elapsed time since the recovery started, against the target.

Computed from the recorded start (`now - started_at`), never by counting ticks, so it is right
after a restart or a dropped SSH session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from vwtui.fmt import stopwatch

if TYPE_CHECKING:
    from vwtui.model import RestoreJob

# The stopwatch text ("1:02:03") is written by fmt; the old name stays for its importers.
format_duration = stopwatch

WARN_FRACTION = 0.75


class ClockLevel(StrEnum):
    OK = "ok"
    WARN = "warn"
    BREACH = "breach"

    @property
    def symbol(self) -> str:
        """A symbol that says the level without colour (NO_COLOR, screenshots)."""
        return {ClockLevel.OK: "●", ClockLevel.WARN: "▲", ClockLevel.BREACH: "✖"}[self]


@dataclass(frozen=True, slots=True)
class RtoClock:
    """Elapsed against `target` (the RTO, 4 h) and the RPO target (1 h).

    `finished_at` stops the clock once the run is over: the RTO achieved.
    """

    started_at: datetime
    target: timedelta
    rpo_target: timedelta
    finished_at: datetime | None = None

    def elapsed(self, now: datetime) -> timedelta:
        end = now if self.finished_at is None else min(now, self.finished_at)
        return max(end - self.started_at, timedelta(0))

    def fraction(self, now: datetime) -> float:
        return self.elapsed(now) / self.target if self.target else 1.0

    def level(self, now: datetime) -> ClockLevel:
        """ok below 75 % of the target, warn from 75 %, breach at or past the target."""
        used = self.fraction(now)
        if used >= 1.0:
            return ClockLevel.BREACH
        if used >= WARN_FRACTION:
            return ClockLevel.WARN
        return ClockLevel.OK

    def symbol(self, now: datetime) -> str:
        return self.level(now).symbol

    def remaining(self, now: datetime) -> timedelta:
        """Time left before the target (negative once breached)."""
        return self.target - self.elapsed(now)

    def eta(self, now: datetime, remaining: Iterable[timedelta]) -> datetime:
        """When the run should finish: now plus the remaining steps' estimates."""
        if self.finished_at is not None:
            return self.finished_at
        return now + sum(remaining, timedelta(0))

    def eta_within_target(self, now: datetime, remaining: Iterable[timedelta]) -> bool:
        return self.eta(now, remaining) - self.started_at <= self.target

    def rpo_achieved(self, incident_time: datetime | None,
                     restore_point: datetime | None) -> timedelta | None:
        """The data lost: incident time minus the restore point (None when either is unknown)."""
        if incident_time is None or restore_point is None:
            return None
        return max(incident_time - restore_point, timedelta(0))

    def rpo_met(self, incident_time: datetime | None,
                restore_point: datetime | None) -> bool | None:
        achieved = self.rpo_achieved(incident_time, restore_point)
        return None if achieved is None else achieved <= self.rpo_target

    def stopped(self, at: datetime) -> RtoClock:
        """The same clock, stopped at `at`."""
        return replace(self, finished_at=at)



def aws_restore_eta(job: RestoreJob, now: datetime) -> datetime | None:
    """When AWS itself expects a restore job to be done, or None when it gives no estimate.

    ExpectedCompletionTimeMinutes is the job's whole expected duration, counted from its
    creation; without it, PercentDone (between 0 and 100, exclusive) projects the time taken so
    far. Never before `now`: a job past its estimate is still running.
    """
    if job.status in ("COMPLETED", "FAILED", "ABORTED"):
        return None
    if job.expected_minutes:
        start = job.created if job.created is not None and job.created <= now else now
        return max(start + timedelta(minutes=job.expected_minutes), now)
    percent = _percent(job.percent_done)
    if percent is not None and 0 < percent < 100 and job.created is not None \
            and job.created < now:
        taken = now - job.created
        return now + taken * ((100 - percent) / percent)
    return None


def _percent(text: str | None) -> float | None:
    """AWS Backup's PercentDone, a string that may end in "%"."""
    try:
        return float((text or "").strip().rstrip("%"))
    except ValueError:
        return None
