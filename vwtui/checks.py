"""Backup verification as pure functions over model objects: the runbook's daily checks, the
weekly checklist, and compliance.

Nothing here does I/O. Each check takes what was read from AWS, where a reading that failed is
an `Unreadable` carrying the reason, and answers a `CheckResult`: pass, fail, or unknown when
the data it needs could not be read. A check never passes by default: no data is unknown, and
evidence of a failure wins over a missing reading ("fail" beats "unknown" beats "pass").
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from vwtui.model import (
    Alarm,
    AlarmState,
    BackupJob,
    BackupPlan,
    CheckResult,
    EventRule,
    Instance,
    PitrWindow,
    RdsEvent,
    RecoveryPoint,
    Snapshot,
    SnsTopic,
    Verdict,
)

if TYPE_CHECKING:
    from vwtui.config import Config

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

    def unreadable(self) -> list[Unreadable]:
        """Every reading that failed."""
        values: list[object] = [self.pitr_window, self.replications, self.snapshots,
                                self.recovery_points, self.backup_jobs, self.alarms,
                                self.rds_events, self.backup_plan, self.sns_topic,
                                self.event_rules, self.dr_snapshots,
                                *self.instances.values()]
        return [v for v in values if isinstance(v, Unreadable)]


# ---- building results ------------------------------------------------------------------------

@dataclass(slots=True)
class _Verdicts:
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


def _limited(lines: Sequence[str], limit: int = MAX_LINES) -> list[str]:
    if len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], f"... and {len(lines) - limit} more"]


def format_age(age: timedelta) -> str:
    """'26 h 5 min', '3 d 4 h', '12 min': an age an engineer reads at a glance."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 0:
        return "in the future"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _when(moment: datetime | None) -> str:
    return "unknown time" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _job_line(job: BackupJob) -> str:
    message = f": {job.status_message}" if job.status_message else ""
    resource = job.resource_arn.rsplit(":", 1)[-1] or "?"
    return f"job {job.job_id} ({resource}) {job.state} at {_when(job.created)}{message}"


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


def _judge_failures(v: _Verdicts, failed: Sequence[BackupJob],
                    jobs: Sequence[BackupJob]) -> None:
    """Unresolved failures fail the check; resolved ones are shown as evidence."""
    lines: list[tuple[bool, str]] = []
    for j in failed:
        later = resolved_by(j, jobs)
        if later is None:
            lines.append((True, _job_line(j)))
        else:
            lines.append((False, f"{_job_line(j)} (resolved: job {later.job_id} completed at "
                                 f"{_when(later.completed or later.created)})"))
    for is_open, line in lines[:MAX_LINES]:
        (v.fail if is_open else v.ok)(line)
    if len(lines) > MAX_LINES:
        more = lines[MAX_LINES:]
        rest = f"... and {len(more)} more failed job(s)"
        (v.fail if any(o for o, _ in more) else v.ok)(rest)


def _newest(items: Iterable[T], key: Callable[[T], datetime | None]) -> T | None:
    dated = [i for i in items if key(i) is not None]
    return max(dated, key=key) if dated else None  # type: ignore[arg-type,return-value]


def _points_of(points: Iterable[RecoveryPoint], instance: str) -> list[RecoveryPoint]:
    """The recovery points whose resource is the RDS instance `instance`."""
    return [p for p in points if p.resource_arn.endswith(f":db:{instance}")]


# ---- daily checks ----------------------------------------------------------------------------

def check_backup_jobs(jobs: list[BackupJob] | Unreadable, now: datetime,
                      hours: float) -> CheckResult:
    """Backup job completion status: in the last `hours` (the backup-age limit, so a daily job
    that completed a little over a day ago still counts until the next one), at least one job
    completed, and every job that failed, expired, was aborted or finished partial was
    followed by a completed job of the same resource. A job counts from when it ended."""
    v = _Verdicts()
    if isinstance(jobs, Unreadable):
        v.missing(jobs)
    else:
        since = now - timedelta(hours=hours)
        recent = [j for j in jobs if (ended := j.completed or j.created) is not None
                  and ended >= since]
        failed = [j for j in recent if j.state in FAILED_JOB_STATES]
        completed = [j for j in recent if j.state == "COMPLETED"]
        _judge_failures(v, failed, jobs)
        if not completed:
            v.fail(f"no backup job completed in the last {hours:g} h "
                   f"({len(recent)} job(s) in that time)")
        else:
            newest = _newest(completed, lambda j: j.completed or j.created)
            assert newest is not None
            v.ok(f"{len(completed)} of {len(recent)} job(s) in the last {hours:g} h completed; "
                 f"newest {newest.job_id} at {_when(newest.completed or newest.created)}")
    return v.result("daily.backup_jobs", f"Backup job completion (last {hours:g} h)", DAILY,
                    "backup-job-fails")


def check_snapshot_age(snapshots: list[Snapshot] | Unreadable, now: datetime,
                       max_age_hours: float) -> CheckResult:
    """The newest available automated snapshot is younger than `max_age_hours`."""
    v = _Verdicts()
    if isinstance(snapshots, Unreadable):
        v.missing(snapshots)
    else:
        automated = [s for s in snapshots if s.snapshot_type == "automated"
                     and s.status == "available"]
        newest = _newest(automated, lambda s: s.created)
        if newest is None or newest.created is None:
            v.fail(f"no available automated snapshot ({len(snapshots)} snapshot(s) listed)")
        else:
            _age_verdict(v, f"snapshot {newest.identifier}", newest.created, now, max_age_hours)
    return v.result("daily.snapshot_age", f"Newest automated snapshot < {max_age_hours:g} h old",
                    DAILY, "backup-job-fails")


def check_recovery_point_age(points: list[RecoveryPoint] | Unreadable, production: str,
                             now: datetime, max_age_hours: float) -> CheckResult:
    """The production instance's newest completed recovery point is younger than the limit."""
    v = _Verdicts()
    if isinstance(points, Unreadable):
        v.missing(points)
    else:
        mine = [p for p in _points_of(points, production) if p.status == "COMPLETED"]
        newest = _newest(mine, lambda p: p.created)
        if newest is None or newest.created is None:
            v.fail(f"no completed recovery point of {production} in the vault "
                   f"({len(points)} recovery point(s) in it)")
        else:
            _age_verdict(v, f"recovery point {_short_arn(newest.arn)}", newest.created, now,
                         max_age_hours)
    return v.result("daily.recovery_point_age",
                    f"Newest recovery point < {max_age_hours:g} h old", DAILY, "backup-job-fails")


def _age_verdict(v: _Verdicts, what: str, created: datetime, now: datetime,
                 max_age_hours: float) -> None:
    age = now - created
    if age < -CLOCK_SKEW:
        v.cannot_tell(f"{what} created {_when(created)}, in the future: check this host's "
                      f"clock (timedatectl) before trusting any age")
        return
    line = f"{what} created {_when(created)}, {format_age(max(age, timedelta(0)))} ago"
    if age > timedelta(hours=max_age_hours):
        v.fail(f"{line}: older than {max_age_hours:g} h")
    else:
        v.ok(line)


def _short_arn(arn: str) -> str:
    return arn.rsplit(":", 1)[-1] or arn


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
    v = _Verdicts()
    series: list[tuple[str, list[tuple[datetime, float]], Callable[[float], str]]] = []
    if isinstance(snapshots, Unreadable):
        v.missing(snapshots)
    else:
        series.append(("automated snapshots", [
            (s.created, float(s.allocated_storage_gb)) for s in snapshots
            if s.snapshot_type == "automated" and s.status == "available"
            and s.created is not None], lambda n: f"{n:g} GB"))
    if isinstance(points, Unreadable):
        v.missing(points)
    else:
        series.append(("recovery points", [
            (p.created, float(p.size_bytes)) for p in _points_of(points, production)
            if p.status == "COMPLETED" and p.created is not None and p.size_bytes is not None],
            format_bytes))
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


def format_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def check_backup_encryption(snapshots: list[Snapshot] | Unreadable,
                            points: list[RecoveryPoint] | Unreadable) -> CheckResult:
    """Every snapshot of the instance and every recovery point in the vault is encrypted."""
    v = _Verdicts()
    _encryption_of_backups(v, snapshots, points)
    return v.result("daily.encryption", "Snapshot and recovery point encryption", DAILY,
                    "encryption")


def _encryption_of_backups(v: _Verdicts, snapshots: list[Snapshot] | Unreadable,
                           points: list[RecoveryPoint] | Unreadable) -> None:
    if isinstance(snapshots, Unreadable):
        v.missing(snapshots)
    else:
        plain = [s for s in snapshots if not s.encrypted]
        for line in _limited([f"snapshot {s.identifier} ({s.snapshot_type}, "
                              f"{_when(s.created)}) is NOT encrypted" for s in plain]):
            v.fail(line)
        if not plain:
            v.ok(f"all {len(snapshots)} snapshot(s) encrypted")
    if isinstance(points, Unreadable):
        v.missing(points)
    else:
        plain_points = [p for p in points if not p.encrypted]
        for line in _limited([f"recovery point {_short_arn(p.arn)} ({_when(p.created)}) "
                              f"is NOT encrypted" for p in plain_points]):
            v.fail(line)
        if not plain_points:
            v.ok(f"all {len(points)} recovery point(s) encrypted")


# ---- weekly checklist (the runbook's four items) --------------------------------------------

def check_latest_snapshot_exists(snapshots: list[Snapshot] | Unreadable, production: str,
                                 now: datetime, max_age_hours: float) -> CheckResult:
    """Latest backup exists in RDS snapshots: the newest available snapshot of any type is
    younger than the backup-age limit."""
    v = _Verdicts()
    if isinstance(snapshots, Unreadable):
        v.missing(snapshots)
    else:
        available = [s for s in snapshots if s.status == "available"]
        newest = _newest(available, lambda s: s.created)
        if newest is None or newest.created is None:
            v.fail(f"no available snapshot of {production}")
        else:
            _age_verdict(v, f"{newest.snapshot_type} snapshot {newest.identifier}",
                         newest.created, now, max_age_hours)
            v.ok(f"{len(available)} available snapshot(s) of {production}")
    return v.result("weekly.latest_snapshot", "Latest backup exists in RDS snapshots", WEEKLY,
                    "backup-job-fails")


def check_vault_has_recent_backups(points: list[RecoveryPoint] | Unreadable, vault: str,
                                   now: datetime, max_age_hours: float) -> CheckResult:
    """AWS Backup vault contains recent backups: its newest completed recovery point is
    younger than the backup-age limit."""
    v = _Verdicts()
    if isinstance(points, Unreadable):
        v.missing(points)
    else:
        completed = [p for p in points if p.status == "COMPLETED"]
        newest = _newest(completed, lambda p: p.created)
        if newest is None or newest.created is None:
            v.fail(f"vault {vault} holds no completed recovery point ({len(points)} in all)")
        else:
            resource = _short_arn(newest.resource_arn)
            _age_verdict(v, f"recovery point of {resource}", newest.created, now, max_age_hours)
            v.ok(f"{len(completed)} completed recovery point(s) in {vault}")
    return v.result("weekly.vault_recent", "AWS Backup vault contains recent backups", WEEKLY,
                    "backup-job-fails")


def check_no_alarm_triggered(alarms: list[Alarm] | Unreadable) -> CheckResult:
    """No CloudWatch alarm triggered: none of the backup alarms is in ALARM. An alarm that does
    not exist cannot say, so it makes the item unknown (compliance fails it)."""
    v = _Verdicts()
    if isinstance(alarms, Unreadable):
        v.missing(alarms)
    else:
        for alarm in alarms:
            since = f" since {_when(alarm.updated)}" if alarm.updated else ""
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
    v = _Verdicts()
    since = now - timedelta(days=days)
    if isinstance(jobs, Unreadable):
        v.missing(jobs)
    else:
        recent = [j for j in jobs if j.created is not None and j.created >= since]
        failed = [j for j in recent if j.state in FAILED_JOB_STATES]
        _judge_failures(v, failed, jobs)
        if not failed:
            v.ok(f"no failed backup job in the last {days} d ({len(recent)} job(s))")
    if isinstance(events, Unreadable):
        v.missing(events)
    else:
        recent_events = [e for e in events if e.time >= since]
        bad = [e for e in recent_events if is_failure_event(e)]
        for line in _limited([f"RDS event {_when(e.time)}: {e.message}" for e in bad]):
            v.fail(line)
        if not bad:
            v.ok(f"no RDS failure event in the last {days} d ({len(recent_events)} event(s))")
    return v.result("weekly.backup_logs", "Backup logs show no errors", WEEKLY,
                    "backup-job-fails")


def is_failure_event(event: RdsEvent) -> bool:
    """An RDS event reporting a failure: in the 'failure' category or saying so."""
    return "failure" in event.categories or bool(_ERROR_WORDS.search(event.message))


# ---- compliance ------------------------------------------------------------------------------

def check_pitr_window(window: PitrWindow | Unreadable, instance: Instance | Unreadable,
                      required_days: int, now: datetime, rpo_hours: float) -> CheckResult:
    """PITR window of at least `required_days`: BackupRetentionPeriod at least that, the
    restore window reaching back that far (less a day: RDS trims it one backup at a time),
    and reaching up to within the RPO of now (a window that stopped days ago is no window)."""
    v = _Verdicts()
    required = timedelta(days=required_days)
    if isinstance(instance, Unreadable):
        v.missing(instance)
    elif not instance.pitr_enabled:
        v.fail(f"PITR is disabled on {instance.identifier} (BackupRetentionPeriod 0)")
    elif instance.backup_retention_days < required_days:
        v.fail(f"BackupRetentionPeriod of {instance.identifier} is "
               f"{instance.backup_retention_days} d, below {required_days} d")
    else:
        v.ok(f"BackupRetentionPeriod of {instance.identifier} is "
             f"{instance.backup_retention_days} d")
    if isinstance(window, Unreadable):
        v.missing(window)
    elif window.span is None:
        v.cannot_tell(f"no restore window reported for {window.instance_identifier}")
    else:
        line = (f"restorable from {_when(window.earliest)} to {_when(window.latest)} "
                f"({format_age(window.span)})")
        if window.span < required - PITR_SLACK:
            v.fail(f"{line}: shorter than {required_days} d")
        else:
            v.ok(line)
        assert window.latest is not None  # a span has both ends
        lag = now - window.latest
        if lag > timedelta(hours=rpo_hours):
            v.fail(f"latest restorable time {_when(window.latest)} is {format_age(lag)} old, "
                   f"beyond the {rpo_hours:g} h RPO: transaction logs are not reaching the "
                   f"backup")
    return v.result("compliance.pitr_window", f"PITR window >= {required_days} days", COMPLIANCE,
                    "pitr")


def check_plan_lifecycle(plan: BackupPlan | Unreadable | None, plan_name: str,
                         retention_days: int) -> CheckResult:
    """Every rule of the backup plan deletes its recovery points after `retention_days`."""
    v = _Verdicts()
    if isinstance(plan, Unreadable):
        v.missing(plan)
    elif plan is None:
        v.fail(f"no backup plan named {plan_name}")
    elif not plan.rules:
        v.fail(f"backup plan {plan_name} has no rules")
    else:
        for rule in plan.rules:
            days = rule.delete_after_days
            if days is None:
                v.fail(f"rule {rule.name} keeps recovery points forever (no lifecycle)")
            elif days != retention_days:
                v.fail(f"rule {rule.name} deletes after {days} d, not {retention_days} d")
            else:
                v.ok(f"rule {rule.name} ({rule.schedule or 'no schedule'}) deletes after "
                     f"{days} d")
    return v.result("compliance.plan_lifecycle",
                    f"Backup plan lifecycle of {retention_days} days", COMPLIANCE, "retention")


def check_encryption_at_rest(instances: dict[str, Instance | Unreadable],
                             snapshots: list[Snapshot] | Unreadable,
                             points: list[RecoveryPoint] | Unreadable) -> CheckResult:
    """Encryption at rest of the instances, their snapshots and the recovery points."""
    v = _Verdicts()
    for name, instance in instances.items():
        if isinstance(instance, Unreadable):
            v.missing(instance)
        elif instance.storage_encrypted:
            key = _short_arn(instance.kms_key_id) if instance.kms_key_id else "default key"
            v.ok(f"instance {name} storage encrypted (KMS {key})")
        else:
            v.fail(f"instance {name} storage is NOT encrypted")
    _encryption_of_backups(v, snapshots, points)
    return v.result("compliance.encryption", "Encryption at rest", COMPLIANCE, "encryption")


def arn_region(arn: str) -> str | None:
    """The region field of an ARN (arn:partition:service:region:account:...)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" else None


def check_no_cross_region_copy(plan: BackupPlan | Unreadable | None,
                               replications: tuple[str, ...] | Unreadable, region: str,
                               production: str, dr_region: str = "",
                               dr_snapshots: list[Snapshot] | Unreadable | None = None,
                               ) -> CheckResult:
    """Data residency: no backup plan rule copies to a vault in another region, the
    instance's automated backups are not replicated to another region, and (when a DR region
    is configured) no snapshot of the instance sits in that region."""
    v = _Verdicts()
    if isinstance(dr_snapshots, Unreadable):
        v.missing(dr_snapshots)
    elif dr_snapshots is not None:
        # Only what the ARN places in the DR region counts (a listing that strays is not a copy).
        there = [s for s in dr_snapshots if arn_region(s.arn) in (dr_region, None)]
        for line in _limited([f"snapshot {s.identifier} ({_when(s.created)}) is in {dr_region}"
                              for s in there]):
            v.fail(line)
        if not there:
            v.ok(f"no snapshot of {production} in {dr_region}")
    if isinstance(plan, Unreadable):
        v.missing(plan)
    elif plan is None:
        v.ok("no backup plan, so no copy actions")
    else:
        copies = [(rule, c) for rule in plan.rules for c in rule.copy_actions]
        abroad = [(rule, c) for rule, c in copies
                  if arn_region(c.destination_vault_arn) not in (region, None)]
        for rule, c in abroad:
            v.fail(f"rule {rule.name} copies to {arn_region(c.destination_vault_arn)} "
                   f"({c.destination_vault_arn})")
        for rule, c in copies:
            if arn_region(c.destination_vault_arn) is None:
                v.cannot_tell(f"rule {rule.name} copies to {c.destination_vault_arn!r}: "
                              f"region unreadable")
        if not abroad:
            v.ok(f"plan {plan.name}: {len(copies)} copy action(s), none to another region")
    if isinstance(replications, Unreadable):
        v.missing(replications)
    elif replications:
        for arn in replications:
            v.fail(f"automated backups of {production} replicated to {arn_region(arn)} ({arn})")
    else:
        v.ok(f"automated backups of {production} are not replicated to another region")
    return v.result("compliance.no_cross_region", "No cross-region backup copy", COMPLIANCE,
                    "data-residency")


def check_alarms_wired(alarms: list[Alarm] | Unreadable, topic: SnsTopic | Unreadable,
                       alarm_names: Sequence[str], topic_name: str) -> CheckResult:
    """Both backup alarms exist and notify the SNS topic, which has a confirmed subscriber."""
    v = _Verdicts()
    topic_arn = topic.arn if isinstance(topic, SnsTopic) else None
    if isinstance(topic, Unreadable):
        v.missing(topic)
    elif not topic.exists:
        v.fail(f"SNS topic {topic_name} does not exist")
    else:
        confirmed = [s for s in topic.subscriptions if s.confirmed]
        pending = len(topic.subscriptions) - len(confirmed)
        if confirmed:
            names = ", ".join(f"{s.protocol}:{s.endpoint}" for s in confirmed[:3])
            v.ok(f"topic {topic_name} has {len(confirmed)} confirmed subscriber(s): {names}")
        else:
            v.fail(f"topic {topic_name} has no confirmed subscriber"
                   + (f" ({pending} pending confirmation)" if pending else ""))
    if isinstance(alarms, Unreadable):
        v.missing(alarms)
    else:
        by_name = {a.name: a for a in alarms}
        for name in alarm_names:
            alarm = by_name.get(name)
            if alarm is None or not alarm.exists:
                v.fail(f"alarm {name} does not exist")
            elif not any(_is_topic(a, topic_arn, topic_name) for a in alarm.alarm_actions):
                actions = ", ".join(alarm.alarm_actions) or "none"
                v.fail(f"alarm {name} does not notify {topic_name} (actions: {actions})")
            else:
                v.ok(f"alarm {name} notifies {topic_name}")
    return v.result("compliance.alarms_wired", "Backup alarms wired to SNS with a subscriber",
                    COMPLIANCE, "alarms")


def _is_topic(arn: str, topic_arn: str | None, topic_name: str) -> bool:
    return arn == topic_arn if topic_arn else arn.rsplit(":", 1)[-1] == topic_name


def is_failed_backup_rule(rule: EventRule) -> bool:
    """An EventBridge rule that matches AWS Backup job state changes to FAILED."""
    try:
        pattern = json.loads(rule.event_pattern or "{}")
    except ValueError:
        return False
    if not isinstance(pattern, dict):
        return False
    sources = _as_list(pattern.get("source"))
    kinds = _as_list(pattern.get("detail-type"))
    detail = pattern.get("detail")
    if not isinstance(detail, dict):
        detail = {}
    states = _as_list(detail.get("state"))
    return ("aws.backup" in sources and (not kinds or "Backup Job State Change" in kinds)
            and "FAILED" in states)


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def check_failed_backup_rule(rules: list[EventRule] | Unreadable,
                             topic: SnsTopic | Unreadable, topic_name: str) -> CheckResult:
    """An enabled EventBridge rule matches failed AWS Backup jobs and targets the SNS topic."""
    v = _Verdicts()
    if isinstance(rules, Unreadable):
        v.missing(rules)
    else:
        topic_arn = topic.arn if isinstance(topic, SnsTopic) else None
        matching = [r for r in rules if is_failed_backup_rule(r)]
        good = [r for r in matching if r.state == "ENABLED"
                and any(_is_topic(t, topic_arn, topic_name) for t in r.targets)]
        if good:
            for r in good:
                v.ok(f"rule {r.name} is ENABLED, matches FAILED backup jobs, notifies "
                     f"{topic_name}")
        elif not matching:
            v.fail(f"no EventBridge rule matches failed AWS Backup jobs "
                   f"({len(rules)} aws.backup rule(s) found)")
        else:
            for r in matching:
                targets = ", ".join(r.targets) or "none"
                v.fail(f"rule {r.name} is {r.state}, targets: {targets} "
                       f"(needs ENABLED and {topic_name})")
    return v.result("compliance.eventbridge_rule", "EventBridge rule for failed backup jobs",
                    COMPLIANCE, "alarms")


# ---- all of them -----------------------------------------------------------------------------

def evaluate(readings: Readings, config: Config) -> list[CheckResult]:
    """Every check, daily then weekly then compliance, in the runbook's order."""
    r, b = readings, config.backup
    production = r.instances.get(r.production, Unreadable(
        f"instance {r.production}", "it was not read"))
    return [
        check_backup_jobs(r.backup_jobs, r.now, b.max_age_hours),
        check_snapshot_age(r.snapshots, r.now, b.max_age_hours),
        check_recovery_point_age(r.recovery_points, r.production, r.now, b.max_age_hours),
        check_size_consistency(r.snapshots, r.recovery_points, r.production, b.size_tolerance),
        check_backup_encryption(r.snapshots, r.recovery_points),
        check_latest_snapshot_exists(r.snapshots, r.production, r.now, b.max_age_hours),
        check_vault_has_recent_backups(r.recovery_points, b.vault, r.now, b.max_age_hours),
        check_no_alarm_triggered(r.alarms),
        check_backup_logs(r.backup_jobs, r.rds_events, r.now),
        check_pitr_window(r.pitr_window, production, b.pitr_window_days, r.now,
                          config.objectives.rpo_hours),
        check_plan_lifecycle(r.backup_plan, b.plan, b.retention_days),
        check_encryption_at_rest(r.instances, r.snapshots, r.recovery_points),
        check_no_cross_region_copy(r.backup_plan, r.replications, r.region, r.production,
                                   r.dr_region, r.dr_snapshots),
        check_alarms_wired(r.alarms, r.sns_topic,
                           [config.alarms.backup_age, config.alarms.backup_failure],
                           config.alarms.sns_topic),
        check_failed_backup_rule(r.event_rules, r.sns_topic, config.alarms.sns_topic),
    ]


def summary(results: Iterable[CheckResult]) -> dict[str, int]:
    """How many checks passed, failed and were unknown."""
    counts = {v.value: 0 for v in Verdict}
    for result in results:
        counts[result.verdict.value] += 1
    return counts


def exit_status(results: Iterable[CheckResult]) -> int:
    """0 when every check passed, 1 when any failed or is unknown."""
    return 0 if all(r.verdict is Verdict.PASS for r in results) else 1
