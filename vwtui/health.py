"""Backup health at a glance, as pure figures over what was read: the runbook's "Database Backup
Health" dashboard (success rate over 30 days, time since the last successful backup, backup
size trend, restore test results).

Nothing here does I/O. Each figure takes readings where a failed one is a `checks.Unreadable`
and answers a dataclass with a `Level` (drawn as a colour and a symbol, so it reads with
NO_COLOR); a figure whose reading failed is UNKNOWN with the reason, never OK by default.
Per-day figures are one cell per UTC day, oldest first, today last, so the strips of the
screen line up column for column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from vwtui import fmt
from vwtui.checks import Unreadable, check_size_consistency, resolved_by
from vwtui.checks.common import points_of
from vwtui.fmt import Level
from vwtui.model import BackupJob, CheckResult, RecoveryPoint, Snapshot, Verdict
from vwtui.recovery.history import HistoryRead, HistoryRecord
from vwtui.services.early import HEALTH_WINDOW_DAYS

WINDOW_DAYS = HEALTH_WINDOW_DAYS  # read by the early reads too (services/early.py)
# Below this share of successful backups the rate is bad even when the newest one succeeded.
GOOD_RATE = 0.9
# Job states that mean a backup ended without one (the runbook's completed / failed /
# expired / aborted; PARTIAL is not a whole backup either).
FAILED_JOB_STATES = frozenset({"FAILED", "EXPIRED", "ABORTED", "PARTIAL"})
# Snapshot states that are not a usable automated backup (creating is still under way).
SNAPSHOT_IN_PROGRESS = frozenset({"creating", "copying", "pending"})
# How many restore tests the list shows (the trend shows as many as fit, oldest first).
RESTORE_ROWS = 12
SPARK = "▁▂▃▄▅▆▇█"
NO_DAY = "·"


# ---- per-day success ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DayCell:
    """One UTC day of one source: how many backups succeeded and failed (or were missed)."""

    day: date
    succeeded: int = 0
    failed: int = 0

    @property
    def level(self) -> Level | None:
        """OK all succeeded, BAD all failed, WARN both; None: nothing that day."""
        if self.failed and self.succeeded:
            return Level.WARN
        if self.failed:
            return Level.BAD
        if self.succeeded:
            return Level.OK
        return None

    @property
    def symbol(self) -> str:
        level = self.level
        return NO_DAY if level is None else level.symbol


@dataclass(frozen=True, slots=True)
class SuccessRate:
    """Backups of one source over the window: per-day cells and the share that succeeded."""

    source: str  # "AWS Backup jobs" | "automated snapshots"
    days: tuple[DayCell, ...]
    succeeded: int
    failed: int
    level: Level
    # One (level, line) per failure, newest first: BAD while unresolved, WARN once a later
    # backup of the same source succeeded.
    failures: tuple[tuple[Level, str], ...] = ()
    unreadable: Unreadable | None = None

    @property
    def total(self) -> int:
        return self.succeeded + self.failed

    @property
    def rate(self) -> float | None:
        return self.succeeded / self.total if self.total else None

    @property
    def summary(self) -> str:
        """"97% (58 of 60)", "none in 30 days", or "unknown"."""
        if self.unreadable is not None:
            return "unknown"
        if self.rate is None:
            return f"none in {len(self.days)} days"
        return f"{_percent(self.rate)} ({self.succeeded} of {self.total})"


def window_days(now: datetime, days: int = WINDOW_DAYS) -> list[date]:
    """The UTC days of the window, oldest first, today last."""
    today = now.date()
    return [today - timedelta(days=k) for k in range(days - 1, -1, -1)]


def _percent(rate: float) -> str:
    # Floor, so a single failure never rounds up to "100%".
    return f"{int(rate * 1000) // 10}%" if rate < 1 else "100%"


def _mine(jobs: Iterable[BackupJob], instance: str) -> list[BackupJob]:
    return [j for j in jobs if j.resource_arn.endswith(f":db:{instance}")]


def job_success(jobs: Sequence[BackupJob] | Unreadable, instance: str, now: datetime,
                days: int = WINDOW_DAYS) -> SuccessRate:
    """AWS Backup jobs of `instance` per day of the window, by the day they were created:
    COMPLETED succeeded; FAILED, EXPIRED, ABORTED and PARTIAL failed; jobs still running
    are not counted. A failure not followed by a completed job of the same resource is bad;
    failures that were followed by one (resolved) still show, as a warning."""
    source = "AWS Backup jobs"
    calendar = window_days(now, days)
    if isinstance(jobs, Unreadable):
        return SuccessRate(source, tuple(DayCell(d) for d in calendar), 0, 0, Level.UNKNOWN,
                           unreadable=jobs)
    first = calendar[0]
    mine = [j for j in _mine(jobs, instance) if j.created is not None
            and j.created.date() >= first and j.created <= now]
    ok: dict[date, int] = {}
    bad: dict[date, int] = {}
    failures: list[tuple[datetime, Level, str]] = []
    unresolved = False
    for job in mine:
        assert job.created is not None
        day = job.created.date()
        if job.state == "COMPLETED":
            ok[day] = ok.get(day, 0) + 1
        elif job.state in FAILED_JOB_STATES:
            bad[day] = bad.get(day, 0) + 1
            later = resolved_by(job, jobs)
            unresolved = unresolved or later is None
            message = f": {job.status_message}" if job.status_message else ""
            state = "" if later is None else " (resolved)"
            failures.append((job.created, Level.BAD if later is None else Level.WARN,
                             f"{fmt.utc(job.created)} job {job.state}{state}{message}"))
    cells = tuple(DayCell(d, ok.get(d, 0), bad.get(d, 0)) for d in calendar)
    succeeded, failed = sum(ok.values()), sum(bad.values())
    level = _rate_level(succeeded, failed, unresolved)
    failures.sort(key=lambda f: f[0], reverse=True)
    return SuccessRate(source, cells, succeeded, failed, level,
                       failures=tuple((lvl, line) for _, lvl, line in failures))


def snapshot_success(snapshots: Sequence[Snapshot] | Unreadable, now: datetime,
                     retention_days: int, days: int = WINDOW_DAYS) -> SuccessRate:
    """RDS automated snapshots per day of the window: an available one succeeded, one in
    another end state (failed, incompatible) failed, and a past day inside the retention
    period with no snapshot at all was missed (a failure). Days older than the retention
    have no snapshot to find (RDS deleted it), so they count only what is there; today is
    not missed before its backup window has had its chance."""
    source = "automated snapshots"
    calendar = window_days(now, days)
    if isinstance(snapshots, Unreadable):
        return SuccessRate(source, tuple(DayCell(d) for d in calendar), 0, 0, Level.UNKNOWN,
                           unreadable=snapshots)
    first = calendar[0]
    ok: dict[date, int] = {}
    bad: dict[date, int] = {}
    failures: list[tuple[datetime, str]] = []
    for snap in snapshots:
        if snap.snapshot_type != "automated" or snap.created is None:
            continue
        if snap.created.date() < first or snap.created > now:
            continue
        day = snap.created.date()
        if snap.status == "available":
            ok[day] = ok.get(day, 0) + 1
        elif snap.status not in SNAPSHOT_IN_PROGRESS:
            bad[day] = bad.get(day, 0) + 1
            failures.append((snap.created, f"{fmt.utc(snap.created)} snapshot "
                                           f"{snap.identifier} {snap.status}"))
    today = now.date()
    # Yesterday back to the oldest day RDS still keeps (retention counts today).
    expected = [today - timedelta(days=k) for k in range(1, max(retention_days, 1))]
    for day in expected:
        if day >= first and not ok.get(day) and not bad.get(day):
            bad[day] = 1
            midnight = datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)
            failures.append((midnight, f"{day:%Y-%m-%d} no automated snapshot (missed)"))
    cells = tuple(DayCell(d, ok.get(d, 0), bad.get(d, 0)) for d in calendar)
    succeeded, failed = sum(ok.values()), sum(bad.values())
    newest_ok = max((d for d, n in ok.items() if n), default=None)
    newest_bad = max((d for d, n in bad.items() if n), default=None)
    unresolved = newest_bad is not None and (newest_ok is None or newest_bad >= newest_ok)
    failures.sort(reverse=True)
    return SuccessRate(source, cells, succeeded, failed,
                       _rate_level(succeeded, failed, unresolved),
                       failures=tuple(
                           (Level.BAD if newest_ok is None or moment.date() >= newest_ok
                            else Level.WARN, line) for moment, line in failures))


def _rate_level(succeeded: int, failed: int, unresolved: bool) -> Level:
    total = succeeded + failed
    if not succeeded:
        return Level.BAD
    if unresolved or succeeded / total < GOOD_RATE:
        return Level.BAD
    return Level.WARN if failed else Level.OK


# ---- time since the last successful backup ---------------------------------------------------

@dataclass(frozen=True, slots=True)
class LastBackup:
    """The newest successful backup of one source against the age limit."""

    source: str
    at: datetime | None
    age: timedelta | None
    limit_hours: float
    level: Level
    line: str  # what the screen says after the source's name


def last_snapshot(snapshots: Sequence[Snapshot] | Unreadable, now: datetime,
                  limit_hours: float) -> LastBackup:
    """The newest available automated snapshot, by its creation time."""
    source = "automated snapshot"
    if isinstance(snapshots, Unreadable):
        return LastBackup(source, None, None, limit_hours, Level.UNKNOWN,
                          f"unknown: could not read {snapshots.source}")
    times = [s.created for s in snapshots if s.snapshot_type == "automated"
             and s.status == "available" and s.created is not None]
    return _last(source, max(times) if times else None, now, limit_hours,
                 "no available automated snapshot")


def last_job(jobs: Sequence[BackupJob] | Unreadable, instance: str, now: datetime,
             limit_hours: float, days: int = WINDOW_DAYS) -> LastBackup:
    """The newest COMPLETED AWS Backup job of `instance` (jobs of the window), by the time it
    was created: the moment its recovery point holds."""
    source = "AWS Backup"
    if isinstance(jobs, Unreadable):
        return LastBackup(source, None, None, limit_hours, Level.UNKNOWN,
                          f"unknown: could not read {jobs.source}")
    times = [j.created for j in _mine(jobs, instance)
             if j.state == "COMPLETED" and j.created is not None]
    return _last(source, max(times) if times else None, now, limit_hours,
                 f"no completed backup job in {days} days")


def _last(source: str, at: datetime | None, now: datetime, limit_hours: float,
          none: str) -> LastBackup:
    limit = fmt.in_hours(limit_hours)
    if at is None:
        return LastBackup(source, None, None, limit_hours, Level.BAD, f"{none} (limit {limit})")
    age = now - at
    if age < -timedelta(minutes=5):
        return LastBackup(source, at, age, limit_hours, Level.UNKNOWN,
                          f"{fmt.utc(at)}, in the future: check this host's clock")
    age = max(age, timedelta(0))
    over = age > timedelta(hours=limit_hours)
    words = "over" if over else "within"
    return LastBackup(source, at, age, limit_hours, Level.BAD if over else Level.OK,
                      f"{fmt.age(age)} ago ({fmt.utc(at)}), {words} the {limit} limit")


# ---- size trend --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SizeTrend:
    """Recovery point sizes per day of the window and the size-consistency check's verdict."""

    days: tuple[float | None, ...]  # bytes of the day's newest completed point, oldest first
    verdict: CheckResult
    unreadable: Unreadable | None = None

    @property
    def spark(self) -> str:
        return sparkline(self.days)

    @property
    def level(self) -> Level:
        return _VERDICT_LEVEL[self.verdict.verdict]

    @property
    def summary(self) -> str:
        """The span of the window's sizes, "35.9-41.0 GB" (newest vs median is the verdict's
        evidence, per source, as the check computes it)."""
        sizes = [v for v in self.days if v is not None]
        if not sizes:
            return "no recovery point in the window"
        low, high = fmt.gigabytes(min(sizes)), fmt.gigabytes(max(sizes))
        return f"{low.removesuffix(' GB')}-{high}"


_VERDICT_LEVEL = {Verdict.PASS: Level.OK, Verdict.FAIL: Level.BAD,
                  Verdict.UNKNOWN: Level.UNKNOWN}


def size_trend(snapshots: Sequence[Snapshot] | Unreadable,
               points: Sequence[RecoveryPoint] | Unreadable, instance: str, now: datetime,
               tolerance: float, days: int = WINDOW_DAYS) -> SizeTrend:
    """The window's recovery point sizes of `instance`, one per day, judged by the daily
    size-consistency check over both sources (newest vs the median of the ones before), as
    the checklist judges them."""
    verdict = check_size_consistency(
        snapshots if isinstance(snapshots, Unreadable) else list(snapshots),
        points if isinstance(points, Unreadable) else list(points), instance, tolerance)
    calendar = window_days(now, days)
    if isinstance(points, Unreadable):
        return SizeTrend(tuple(None for _ in calendar), verdict, unreadable=points)
    first = calendar[0]
    by_day: dict[date, tuple[datetime, float]] = {}
    for point in points_of(points, instance):
        if point.status != "COMPLETED" or point.created is None or point.size_bytes is None:
            continue
        if point.created.date() < first or point.created > now:
            continue
        day = point.created.date()
        if day not in by_day or point.created > by_day[day][0]:
            by_day[day] = (point.created, float(point.size_bytes))
    return SizeTrend(tuple(by_day[d][1] if d in by_day else None for d in calendar), verdict)


def sparkline(values: Sequence[float | None], top: float | None = None) -> str:
    """One cell per value, from 0 to `top` (default the largest): a drop to half reads as
    half height, where a min-to-max scale would make a 1 % wobble look like a cliff."""
    known = [v for v in values if v is not None]
    ceiling = top if top is not None else max(known, default=0.0)
    if ceiling <= 0:
        return "".join(NO_DAY if v is None else SPARK[0] for v in values)
    cells = []
    for value in values:
        if value is None:
            cells.append(NO_DAY)
            continue
        index = round(min(max(value, 0.0), ceiling) / ceiling * (len(SPARK) - 1))
        cells.append(SPARK[index])
    return "".join(cells)


# ---- restore tests ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RestoreTest:
    """One drill or recovery of the history file, as the health view lists it."""

    finished_at: datetime
    kind: str
    method: str
    rto: timedelta
    rto_target: timedelta
    verdict: str  # "pass", "RTO missed", "verify failed", "smoke failed", "failed", "aborted"
    level: Level
    rto_met: bool  # finished inside its target (an aborted or failed run never meets it)


@dataclass(frozen=True, slots=True)
class RestoreTests:
    """The restore test results: newest first, with the RTO trend and the damaged lines."""

    tests: tuple[RestoreTest, ...]
    problems: tuple[str, ...]
    level: Level
    summary: str
    unreadable: str | None = None  # the file exists but could not be read

    @property
    def trend(self) -> str:
        """RTO achieved per test, oldest first, on a scale up to the larger of the target and
        the slowest test (a test over its target stands above the others)."""
        ordered = list(reversed(self.tests))
        top = max([t.rto.total_seconds() for t in ordered]
                  + [t.rto_target.total_seconds() for t in ordered], default=0.0)
        return sparkline([t.rto.total_seconds() for t in ordered], top)


def restore_test(record: HistoryRecord) -> RestoreTest:
    if record.outcome != "finished":
        verdict, level = record.outcome, Level.BAD
    elif record.verify_overall == "fail":
        verdict, level = "verify failed", Level.BAD
    elif record.smoke is not None and not record.smoke.passed:
        verdict, level = "smoke failed", Level.BAD
    elif not record.rto_met:
        verdict, level = "RTO missed", Level.BAD
    else:
        verdict, level = "pass", Level.OK
    return RestoreTest(finished_at=record.finished_at, kind=record.kind, method=record.method,
                       rto=timedelta(seconds=record.rto_seconds),
                       rto_target=timedelta(seconds=record.rto_target_seconds),
                       verdict=verdict, level=level, rto_met=record.rto_met)


def restore_tests(history: HistoryRead | str, rows: int = RESTORE_ROWS) -> RestoreTests:
    """The history file's drills and recoveries, newest first (at most `rows`). `history` is
    what read_history answered, or the reason it could not read the file at all. The newest
    test sets the level; no test at all is a warning (the monthly drill is due)."""
    if isinstance(history, str):
        return RestoreTests((), (), Level.UNKNOWN, "unknown: the history file could not be read",
                            unreadable=history)
    tests = tuple(restore_test(r) for r in reversed(history.records))
    if not tests:
        where = "no history file yet" if history.missing else "no record in the history file"
        level = Level.UNKNOWN if history.problems else Level.WARN
        return RestoreTests((), history.problems, level, f"no restore test recorded ({where})")
    passed = sum(1 for t in tests if t.level is Level.OK)
    newest = tests[0]
    summary = f"{passed} of {len(tests)} passed, newest: {newest.verdict}"
    level = newest.level if not history.problems else fmt.worst([newest.level, Level.WARN])
    return RestoreTests(tests[:rows], history.problems, level, summary)
