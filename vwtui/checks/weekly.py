"""The runbook's weekly checklist (its four items): the latest backup exists in RDS snapshots,
the AWS Backup vault holds recent backups, no CloudWatch alarm triggered, the backup logs show no
errors."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from vwtui.checks.common import (
    FAILED_JOB_STATES,
    REVIEW_DAYS,
    WEEKLY,
    Unreadable,
    Verdicts,
    age_verdict,
    job_line,
    limited,
    newest_of,
    points_of,
    resolved_by,
    when,
)
from vwtui.model import (
    Alarm,
    AlarmState,
    BackupJob,
    CheckResult,
    RdsEvent,
    RecoveryPoint,
    Snapshot,
)

if TYPE_CHECKING:
    pass


def check_latest_snapshot_exists(snapshots: list[Snapshot] | Unreadable, production: str,
                                 now: datetime, max_age_hours: float) -> CheckResult:
    """Latest backup exists in RDS snapshots: the newest available snapshot of any type is
    younger than the backup-age limit."""
    v = Verdicts()
    if isinstance(snapshots, Unreadable):
        v.missing(snapshots)
    else:
        available = [s for s in snapshots if s.status == "available"]
        newest = newest_of(available, lambda s: s.created)
        if newest is None or newest.created is None:
            v.fail(f"no available snapshot of {production}")
        else:
            age_verdict(v, f"{newest.snapshot_type} snapshot {newest.identifier}",
                         newest.created, now, max_age_hours)
            v.ok(f"{len(available)} available snapshot(s) of {production}")
    return v.result("weekly.latest_snapshot", "Latest backup exists in RDS snapshots", WEEKLY,
                    "backup-job-fails")


def check_vault_has_recent_backups(points: list[RecoveryPoint] | Unreadable, vault: str,
                                   production: str, now: datetime,
                                   max_age_hours: float) -> CheckResult:
    """AWS Backup vault contains recent backups of the protected database: production's newest
    completed recovery point is younger than the backup-age limit (a fresh backup of another
    resource in the same vault does not count)."""
    v = Verdicts()
    if isinstance(points, Unreadable):
        v.missing(points)
    else:
        completed = [p for p in points_of(points, production) if p.status == "COMPLETED"]
        newest = newest_of(completed, lambda p: p.created)
        if newest is None or newest.created is None:
            v.fail(f"vault {vault} holds no completed recovery point of {production} "
                   f"({len(points)} recovery point(s) in all)")
        else:
            age_verdict(v, f"recovery point of {production}", newest.created, now,
                        max_age_hours)
            v.ok(f"{len(completed)} completed recovery point(s) of {production} in {vault}")
    return v.result("weekly.vault_recent", "AWS Backup vault contains recent backups", WEEKLY,
                    "backup-job-fails")


def check_no_alarm_triggered(alarms: list[Alarm] | Unreadable) -> CheckResult:
    """No CloudWatch alarm triggered: none of the backup alarms is in ALARM. An alarm that does
    not exist cannot say, so it makes the item unknown (compliance fails it)."""
    v = Verdicts()
    if isinstance(alarms, Unreadable):
        v.missing(alarms)
    else:
        for alarm in alarms:
            since = f" since {when(alarm.updated)}" if alarm.updated else ""
            if not alarm.exists:
                v.cannot_tell(f"alarm {alarm.name} does not exist: cannot tell")
            elif alarm.state is AlarmState.ALARM:
                v.fail(f"alarm {alarm.name} is in ALARM{since}: {alarm.reason}")
            else:
                v.ok(f"alarm {alarm.name} is {alarm.state.value}{since}")
    return v.result("weekly.no_alarms", "No CloudWatch alarms triggered", WEEKLY,
                    "backup-job-fails")


_ERROR_WORDS = re.compile(r"\b(fail|failed|failure|error|errors)\b", re.IGNORECASE)


def check_backup_logs(jobs: list[BackupJob] | Unreadable, events: list[RdsEvent] | Unreadable,
                      now: datetime, since: datetime | None = None) -> CheckResult:
    """Backup logs show no errors: in the review period (from `since`, the last sign-off, at
    most REVIEW_DAYS back), no backup job ended failed, expired, aborted or partial and no RDS
    failure event was reported for the instance. A failure a later job made good still fails
    the item (the reviewer has not seen it yet); its evidence says it was resolved and when.
    Once signed off, it falls out of the next review period."""
    v = Verdicts()
    earliest = now - timedelta(days=REVIEW_DAYS)
    start = since if since is not None and earliest < since <= now else earliest
    period = (f"since the last sign-off ({when(start)})" if start != earliest
              else f"in the last {REVIEW_DAYS} d")
    if isinstance(jobs, Unreadable):
        v.missing(jobs)
    else:
        recent = [j for j in jobs if (ended := j.completed or j.created) is not None
                  and ended >= start]
        failed = sorted((j for j in recent if j.state in FAILED_JOB_STATES),
                        key=lambda j: j.created or start)
        lines = []
        for job in failed:
            later = resolved_by(job, jobs)
            lines.append(job_line(job) if later is None else
                         f"{job_line(job)} (resolved: job {later.job_id} completed at "
                         f"{when(later.completed or later.created)})")
        for line in limited(lines):
            v.fail(line)
        if failed:
            open_count = sum(1 for j in failed if resolved_by(j, jobs) is None)
            v.fail(f"{len(failed)} failed backup job(s) {period}, {open_count} not yet "
                   f"resolved: review them before signing off")
        else:
            v.ok(f"no failed backup job {period} ({len(recent)} job(s))")
    if isinstance(events, Unreadable):
        v.missing(events)
    else:
        recent_events = [e for e in events if e.time >= start]
        bad = [e for e in recent_events if is_failure_event(e)]
        for line in limited([f"RDS event {when(e.time)}: {e.message}" for e in bad]):
            v.fail(line)
        if not bad:
            v.ok(f"no RDS failure event {period} ({len(recent_events)} event(s))")
    return v.result("weekly.backup_logs", "Backup logs show no errors", WEEKLY,
                    "backup-job-fails")


def is_failure_event(event: RdsEvent) -> bool:
    """An RDS event reporting a failure: in the 'failure' category or saying so."""
    return "failure" in event.categories or bool(_ERROR_WORDS.search(event.message))
