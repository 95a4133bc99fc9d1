"""The runbook's daily checks: backup jobs completed, the newest snapshot and recovery point
young enough, backup sizes consistent, every backup encrypted."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from vwtui import fmt
from vwtui.checks.common import (
    DAILY,
    FAILED_JOB_STATES,
    SIZE_TRAILING,
    Unreadable,
    Verdicts,
    age_verdict,
    encryption_of_backups,
    judge_failures,
    newest_of,
    points_of,
    when,
)
from vwtui.model import (
    BackupJob,
    CheckResult,
    RecoveryPoint,
    Snapshot,
)

if TYPE_CHECKING:
    pass


def check_backup_jobs(jobs: list[BackupJob] | Unreadable, now: datetime,
                      hours: float) -> CheckResult:
    """Backup job completion status: in the last `hours` (the backup-age limit, so a daily job
    that completed a little over a day ago still counts until the next one), at least one job
    completed, and every job that failed, expired, was aborted or finished partial was
    followed by a completed job of the same resource. A job counts from when it ended."""
    v = Verdicts()
    if isinstance(jobs, Unreadable):
        v.missing(jobs)
    else:
        since = now - timedelta(hours=hours)
        recent = [j for j in jobs if (ended := j.completed or j.created) is not None
                  and ended >= since]
        failed = [j for j in recent if j.state in FAILED_JOB_STATES]
        completed = [j for j in recent if j.state == "COMPLETED"]
        judge_failures(v, failed, jobs)
        if not completed:
            v.fail(f"no backup job completed in the last {fmt.in_hours(hours)} "
                   f"({len(recent)} job(s) in that time)")
        else:
            newest = newest_of(completed, lambda j: j.completed or j.created)
            assert newest is not None
            v.ok(f"{len(completed)} of {len(recent)} job(s) in the last {fmt.in_hours(hours)} "
                 f"completed; newest {newest.job_id} at {when(newest.completed or newest.created)}")
    return v.result("daily.backup_jobs", f"Backup job completion (last {fmt.in_hours(hours)})",
                    DAILY, "backup-job-fails")


def check_snapshot_age(snapshots: list[Snapshot] | Unreadable, now: datetime,
                       max_age_hours: float) -> CheckResult:
    """The newest available automated snapshot is younger than `max_age_hours`."""
    v = Verdicts()
    if isinstance(snapshots, Unreadable):
        v.missing(snapshots)
    else:
        automated = [s for s in snapshots if s.snapshot_type == "automated"
                     and s.status == "available"]
        newest = newest_of(automated, lambda s: s.created)
        if newest is None or newest.created is None:
            v.fail(f"no available automated snapshot ({len(snapshots)} snapshot(s) listed)")
        else:
            age_verdict(v, f"snapshot {newest.identifier}", newest.created, now, max_age_hours)
    return v.result("daily.snapshot_age",
                    f"Newest automated snapshot < {fmt.in_hours(max_age_hours)} old", DAILY,
                    "backup-job-fails")


def check_recovery_point_age(points: list[RecoveryPoint] | Unreadable, production: str,
                             now: datetime, max_age_hours: float) -> CheckResult:
    """The production instance's newest completed recovery point is younger than the limit."""
    v = Verdicts()
    if isinstance(points, Unreadable):
        v.missing(points)
    else:
        mine = [p for p in points_of(points, production) if p.status == "COMPLETED"]
        newest = newest_of(mine, lambda p: p.created)
        if newest is None or newest.created is None:
            v.fail(f"no completed recovery point of {production} in the vault "
                   f"({len(points)} recovery point(s) in it)")
        else:
            age_verdict(v, f"recovery point {fmt.short_arn(newest.arn)}", newest.created, now,
                         max_age_hours)
    return v.result("daily.recovery_point_age",
                    f"Newest recovery point < {fmt.in_hours(max_age_hours)} old", DAILY,
                    "backup-job-fails")


def size_deviation(newest: float, baseline: float) -> float:
    """How far the newest size is from the baseline, as a fraction of the baseline."""
    if baseline == 0:
        return 0.0 if newest == 0 else float("inf")
    return abs(newest - baseline) / baseline


def check_size_consistency(snapshots: list[Snapshot] | Unreadable,
                           points: list[RecoveryPoint] | Unreadable, production: str,
                           tolerance: float, trailing: int = SIZE_TRAILING) -> CheckResult:
    """Newest backup's size against the median of the `trailing` ones before it, for both the
    automated snapshots (allocated storage) and the recovery points (backup size); a deviation
    beyond `tolerance` (a fraction) fails."""
    v = Verdicts()
    series: list[tuple[str, list[tuple[datetime, float]], Callable[[float], str]]] = []
    if isinstance(snapshots, Unreadable):
        v.missing(snapshots)
    else:
        series.append(("automated snapshots", [
            (s.created, float(s.allocated_storage_gb)) for s in snapshots
            if s.snapshot_type == "automated" and s.status == "available"
            and s.created is not None], fmt.storage))
    if isinstance(points, Unreadable):
        v.missing(points)
    else:
        series.append(("recovery points", [
            (p.created, float(p.size_bytes)) for p in points_of(points, production)
            if p.status == "COMPLETED" and p.created is not None and p.size_bytes is not None],
            fmt.gigabytes))
    for name, sizes, show in series:
        sizes.sort(key=lambda item: item[0], reverse=True)
        if len(sizes) < 2:
            v.cannot_tell(f"{name}: {len(sizes)} with a size, too few to compare")
            continue
        newest = sizes[0][1]
        baseline = statistics.median(size for _, size in sizes[1:trailing + 1])
        deviation = size_deviation(newest, baseline)
        line = (f"{name}: newest {show(newest)} vs median {show(baseline)} of the "
                f"{min(len(sizes) - 1, trailing)} before ({_percent(deviation)})")
        if deviation > tolerance:
            v.fail(f"{line}: beyond the {tolerance:.0%} tolerance")
        else:
            v.ok(line)
    return v.result("daily.size_consistency", "Backup size consistency", DAILY,
                    "backup-size")


def _percent(deviation: float) -> str:
    return "no baseline" if deviation == float("inf") else f"{deviation:.0%} off"


def check_backup_encryption(snapshots: list[Snapshot] | Unreadable,
                            points: list[RecoveryPoint] | Unreadable) -> CheckResult:
    """Every snapshot of the instance and every recovery point in the vault is encrypted."""
    v = Verdicts()
    encryption_of_backups(v, snapshots, points)
    return v.result("daily.encryption", "Snapshot and recovery point encryption", DAILY,
                    "encryption")
