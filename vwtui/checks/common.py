"""What every check shares: the readings, the result builder, and the evidence lines.

A check takes what was read from AWS, where a reading that failed is an `Unreadable` carrying
the reason, and answers a `CheckResult` through `Verdicts`: fail beats unknown beats pass, and
no evidence at all is unknown (a check never passes by default).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from vwtui import fmt
from vwtui.model import (
    Alarm,
    BackupJob,
    BackupPlan,
    CheckResult,
    EventRule,
    Instance,
    PitrWindow,
    ProtectionReadings,
    RdsEvent,
    RecoveryPoint,
    Snapshot,
    SnsTopic,
    Trail,
    Verdict,
)

T = TypeVar("T")

# Backup job states that mean a backup did not happen.
FAILED_JOB_STATES = frozenset({"FAILED", "EXPIRED", "ABORTED", "PARTIAL"})
# How many backups before the newest one make the size baseline.
SIZE_TRAILING = 7
# RDS deletes the oldest automated backup once a day, so with a 7-day retention the earliest
# restorable time sits between 6 and 7 days back: a window this much shorter still complies.
PITR_SLACK = timedelta(hours=24)
# How far in the future a timestamp may be before this host's clock is suspect.
CLOCK_SKEW = timedelta(minutes=5)
# Evidence lists are cut after this many lines, with a count of the rest.
MAX_LINES = 5
# The weekly review looks back this far at most (less when the last sign-off is more recent).
REVIEW_DAYS = 7

DAILY, WEEKLY, COMPLIANCE = "daily", "weekly", "compliance"
GROUPS = (DAILY, WEEKLY, COMPLIANCE)
GROUP_TITLES = {DAILY: "Daily checks", WEEKLY: "Weekly checklist", COMPLIANCE: "Compliance"}


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A reading that failed: the check that needs it answers unknown with this reason."""

    source: str  # what was being read, e.g. "backup jobs"
    reason: str  # the project exception's message (what to do about it)
    credentials: bool = False  # the failure was the credentials, not this one call


@dataclass(frozen=True, slots=True)
class Readings:
    """Everything the checks look at, read once. Any field may be Unreadable."""

    now: datetime
    region: str
    production: str
    instances: dict[str, Instance | Unreadable]  # production (first), staging
    pitr_window: PitrWindow | Unreadable
    replications: tuple[str, ...] | Unreadable
    snapshots: list[Snapshot] | Unreadable  # the production instance's, every type
    recovery_points: list[RecoveryPoint] | Unreadable  # the whole vault
    backup_jobs: list[BackupJob] | Unreadable  # the vault's, last 7 days
    alarms: list[Alarm] | Unreadable
    rds_events: list[RdsEvent] | Unreadable  # the production instance's, last 7 days
    backup_plan: BackupPlan | Unreadable | None
    sns_topic: SnsTopic | Unreadable
    event_rules: list[EventRule] | Unreadable  # rules whose pattern names aws.backup
    # The production instance's snapshots in aws.dr_region; None when no DR region is set.
    dr_region: str = ""
    dr_snapshots: list[Snapshot] | Unreadable | None = None
    # The recovery test log (vwtui.recovery.history.HistoryRead); None: not read (the monthly
    # recovery test item is left out).
    drill_history: object | None = None

    # The instance production's DNS record points at, as "back under protection" reads it
    # (None: not read).
    protection: ProtectionReadings | Unreadable | None = None

    # The CloudTrail trails seen in the region (shadow trails included). Not read: unknown.
    trails: list[Trail] | Unreadable = field(
        default_factory=lambda: Unreadable("the CloudTrail trails", "they were not read"))
    # When the last weekly review was signed off (None: never): the weekly review period
    # starts there, at most REVIEW_DAYS back.
    last_signoff: datetime | None = None

    def unreadable(self) -> list[Unreadable]:
        """Every reading that failed."""
        values: list[object] = [self.pitr_window, self.replications, self.snapshots,
                                self.recovery_points, self.backup_jobs, self.alarms,
                                self.rds_events, self.backup_plan, self.sns_topic,
                                self.event_rules, self.dr_snapshots, self.protection, self.trails,
                                *self.instances.values()]
        return [v for v in values if isinstance(v, Unreadable)]

    def review_start(self) -> datetime:
        """Where the weekly review period starts: the last sign-off, at most REVIEW_DAYS
        back (a review signed a month ago does not make a month of logs the reviewer's)."""
        earliest = self.now - timedelta(days=REVIEW_DAYS)
        if self.last_signoff is None or self.last_signoff < earliest:
            return earliest
        return min(self.last_signoff, self.now)


# ---- building results ------------------------------------------------------------------------

@dataclass(slots=True)
class Verdicts:
    """Collects partial findings of one check; fail beats unknown beats pass."""

    evidence: list[str] = field(default_factory=list)
    failed: bool = False
    unknown: bool = False

    def ok(self, line: str) -> None:
        self.evidence.append(line)

    def fail(self, line: str) -> None:
        self.failed = True
        self.evidence.append(line)

    def missing(self, reading: Unreadable) -> None:
        self.unknown = True
        self.evidence.append(f"could not read {reading.source}: {reading.reason}")

    def cannot_tell(self, line: str) -> None:
        self.unknown = True
        self.evidence.append(line)

    def result(self, check_id: str, title: str, group: str, diagnosis: str) -> CheckResult:
        if self.failed:
            verdict = Verdict.FAIL
        elif self.unknown or not self.evidence:
            verdict = Verdict.UNKNOWN
        else:
            verdict = Verdict.PASS
        return CheckResult(id=check_id, title=title, group=group, verdict=verdict,
                           evidence=tuple(self.evidence), diagnosis=diagnosis)


def limited(lines: Sequence[str], limit: int = MAX_LINES) -> list[str]:
    if len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], f"... and {len(lines) - limit} more"]


def when(moment: datetime | None) -> str:
    """A moment in an evidence line: "2025-11-11 05:00 UTC"."""
    return fmt.utc(moment, zone=True, missing="unknown time")


def job_line(job: BackupJob) -> str:
    message = f": {job.status_message}" if job.status_message else ""
    resource = fmt.short_arn(job.resource_arn) or "?"
    return f"job {job.job_id} ({resource}) {job.state} at {when(job.created)}{message}"


def resolved_by(failed: BackupJob, jobs: Iterable[BackupJob]) -> BackupJob | None:
    """The first later job of the same resource that completed: the failure is behind us
    (the runbook's resolution ends with "monitor next automated backup")."""
    failed_at = failed.created
    if failed_at is None:
        return None
    later = [j for j in jobs if j.resource_arn == failed.resource_arn and j.state == "COMPLETED"
             and j.created is not None and j.created > failed_at]
    if not later:
        return None
    return min(later, key=lambda j: j.created or failed_at)


def judge_failures(v: Verdicts, failed: Sequence[BackupJob],
                    jobs: Sequence[BackupJob]) -> None:
    """Unresolved failures fail the check; resolved ones are shown as evidence."""
    lines: list[tuple[bool, str]] = []
    for j in failed:
        later = resolved_by(j, jobs)
        if later is None:
            lines.append((True, job_line(j)))
        else:
            lines.append((False, f"{job_line(j)} (resolved: job {later.job_id} completed at "
                                 f"{when(later.completed or later.created)})"))
    for is_open, line in lines[:MAX_LINES]:
        (v.fail if is_open else v.ok)(line)
    if len(lines) > MAX_LINES:
        more = lines[MAX_LINES:]
        rest = f"... and {len(more)} more failed job(s)"
        (v.fail if any(o for o, _ in more) else v.ok)(rest)


def newest_of(items: Iterable[T], key: Callable[[T], datetime | None]) -> T | None:
    dated = [i for i in items if key(i) is not None]
    return max(dated, key=key) if dated else None  # type: ignore[arg-type,return-value]


def points_of(points: Iterable[RecoveryPoint], instance: str) -> list[RecoveryPoint]:
    """The recovery points whose resource is the RDS instance `instance`."""
    return [p for p in points if p.resource_arn.endswith(f":db:{instance}")]


def age_verdict(v: Verdicts, what: str, created: datetime, now: datetime,
                 max_age_hours: float) -> None:
    age = now - created
    if age < -CLOCK_SKEW:
        v.cannot_tell(f"{what} created {when(created)}, in the future: check this host's "
                      f"clock (timedatectl) before trusting any age")
        return
    line = f"{what} created {when(created)}, {fmt.duration(max(age, timedelta(0)))} ago"
    if age > timedelta(hours=max_age_hours):
        v.fail(f"{line}: older than {fmt.in_hours(max_age_hours)}")
    else:
        v.ok(line)


def encryption_of_backups(v: Verdicts, snapshots: list[Snapshot] | Unreadable,
                           points: list[RecoveryPoint] | Unreadable) -> None:
    if isinstance(snapshots, Unreadable):
        v.missing(snapshots)
    else:
        plain = [s for s in snapshots if not s.encrypted]
        for line in limited([f"snapshot {s.identifier} ({s.snapshot_type}, "
                              f"{when(s.created)}) is NOT encrypted" for s in plain]):
            v.fail(line)
        if not plain:
            v.ok(f"all {len(snapshots)} snapshot(s) encrypted")
    if isinstance(points, Unreadable):
        v.missing(points)
    else:
        plain_points = [p for p in points if not p.encrypted]
        for line in limited([f"recovery point {fmt.short_arn(p.arn)} ({when(p.created)}) "
                              f"is NOT encrypted" for p in plain_points]):
            v.fail(line)
        if not plain_points:
            v.ok(f"all {len(points)} recovery point(s) encrypted")
