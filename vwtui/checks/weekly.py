"""The runbook's weekly checklist (its four items): the latest backup exists in RDS snapshots,
the AWS Backup vault holds recent backups, no CloudWatch alarm triggered, the backup logs show no
errors."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from vwtui import fmt
from vwtui.checks.common import (
    FAILED_JOB_STATES,
    WEEKLY,
    Unreadable,
    Verdicts,
    age_verdict,
    judge_failures,
    limited,
    newest_of,
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
                                   now: datetime, max_age_hours: float) -> CheckResult:
    """AWS Backup vault contains recent backups: its newest completed recovery point is
    younger than the backup-age limit."""
    v = Verdicts()
    if isinstance(points, Unreadable):
        v.missing(points)
    else:
        completed = [p for p in points if p.status == "COMPLETED"]
        newest = newest_of(completed, lambda p: p.created)
        if newest is None or newest.created is None:
            v.fail(f"vault {vault} holds no completed recovery point ({len(points)} in all)")
        else:
            resource = fmt.short_arn(newest.resource_arn)
            age_verdict(v, f"recovery point of {resource}", newest.created, now, max_age_hours)
            v.ok(f"{len(completed)} completed recovery point(s) in {vault}")
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
                      now: datetime, days: int = 7) -> CheckResult:
    """Backup logs show no errors: in the last `days` days, no failed, expired, aborted or
    partial backup job that was not followed by a completed one of the same resource, and no
    RDS failure event for the instance. Resolved failures are listed as evidence."""
    v = Verdicts()
    since = now - timedelta(days=days)
    if isinstance(jobs, Unreadable):
        v.missing(jobs)
    else:
        recent = [j for j in jobs if j.created is not None and j.created >= since]
        failed = [j for j in recent if j.state in FAILED_JOB_STATES]
        judge_failures(v, failed, jobs)
        if not failed:
            v.ok(f"no failed backup job in the last {days} d ({len(recent)} job(s))")
    if isinstance(events, Unreadable):
        v.missing(events)
    else:
        recent_events = [e for e in events if e.time >= since]
        bad = [e for e in recent_events if is_failure_event(e)]
        for line in limited([f"RDS event {when(e.time)}: {e.message}" for e in bad]):
            v.fail(line)
        if not bad:
            v.ok(f"no RDS failure event in the last {days} d ({len(recent_events)} event(s))")
    return v.result("weekly.backup_logs", "Backup logs show no errors", WEEKLY,
                    "backup-job-fails")


def is_failure_event(event: RdsEvent) -> bool:
    """An RDS event reporting a failure: in the 'failure' category or saying so."""
    return "failure" in event.categories or bool(_ERROR_WORDS.search(event.message))
