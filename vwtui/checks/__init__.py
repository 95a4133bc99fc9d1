"""Backup verification as pure functions over model objects: the runbook's daily checks, the
weekly checklist, and compliance.

Nothing here does I/O. Each check takes what was read from AWS, where a reading that failed is
an `Unreadable` carrying the reason, and answers a `CheckResult`: pass, fail, or unknown when
the data it needs could not be read. A check never passes by default: no data is unknown, and
evidence of a failure wins over a missing reading ("fail" beats "unknown" beats "pass").

One module per group (`daily`, `weekly`, `compliance`) over a shared `common`; this package
re-exports their public names, so `from vwtui.checks import X` does not care where X lives.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from vwtui import fmt
from vwtui.checks.common import (
    CLOCK_SKEW,
    COMPLIANCE,
    DAILY,
    FAILED_JOB_STATES,
    GROUP_TITLES,
    GROUPS,
    MAX_LINES,
    PITR_SLACK,
    REVIEW_DAYS,
    SIZE_TRAILING,
    WEEKLY,
    Readings,
    Unreadable,
    resolved_by,
)
from vwtui.checks.compliance import (
    arn_region,
    backup_rule_states,
    check_access_logged,
    check_alarms_wired,
    check_backup_age_alarm,
    check_backup_schedule,
    check_encryption_at_rest,
    check_failed_backup_rule,
    check_no_cross_region_copy,
    check_pitr_window,
    check_plan_lifecycle,
    check_sns_subscribers,
    is_failed_backup_rule,
    schedule_time,
)
from vwtui.checks.daily import (
    check_backup_encryption,
    check_backup_jobs,
    check_recovery_point_age,
    check_size_consistency,
    check_snapshot_age,
    size_deviation,
)
from vwtui.checks.protection import check_back_under_protection
from vwtui.checks.weekly import (
    check_backup_logs,
    check_latest_snapshot_exists,
    check_no_alarm_triggered,
    check_vault_has_recent_backups,
    is_failure_event,
)
from vwtui.model import CheckResult, Verdict

if TYPE_CHECKING:
    from vwtui.config import Config

__all__ = [
    "CLOCK_SKEW",
    "COMPLIANCE",
    "DAILY",
    "FAILED_JOB_STATES",
    "GROUPS",
    "GROUP_TITLES",
    "MAX_LINES",
    "PITR_SLACK",
    "REVIEW_DAYS",
    "SIZE_TRAILING",
    "WEEKLY",
    "CheckResult",
    "Readings",
    "Unreadable",
    "Verdict",
    "arn_region",
    "backup_rule_states",
    "check_access_logged",
    "check_alarms_wired",
    "check_back_under_protection",
    "check_backup_age_alarm",
    "check_backup_encryption",
    "check_backup_jobs",
    "check_backup_logs",
    "check_backup_schedule",
    "check_encryption_at_rest",
    "check_failed_backup_rule",
    "check_latest_snapshot_exists",
    "check_no_alarm_triggered",
    "check_no_cross_region_copy",
    "check_pitr_window",
    "check_plan_lifecycle",
    "check_recovery_point_age",
    "check_size_consistency",
    "check_snapshot_age",
    "check_sns_subscribers",
    "check_vault_has_recent_backups",
    "evaluate",
    "exit_status",
    "format_age",
    "is_failed_backup_rule",
    "is_failure_event",
    "resolved_by",
    "schedule_time",
    "size_deviation",
    "summary",
]

# The sentence-register duration, under the name the checks' callers know.
format_age = fmt.duration

# ---- all of them -----------------------------------------------------------------------------

def evaluate(readings: Readings, config: Config) -> list[CheckResult]:
    """Every check, daily then weekly then compliance, in the runbook's order."""
    r, b = readings, config.backup
    production = r.instances.get(r.production, Unreadable(
        f"instance {r.production}", "it was not read"))
    results = [
        check_backup_jobs(r.backup_jobs, r.now, b.max_age_hours),
        check_snapshot_age(r.snapshots, r.now, b.max_age_hours),
        check_recovery_point_age(r.recovery_points, r.production, r.now, b.max_age_hours),
        check_size_consistency(r.snapshots, r.recovery_points, r.production, b.size_tolerance),
        check_backup_encryption(r.snapshots, r.recovery_points),
        check_latest_snapshot_exists(r.snapshots, r.production, r.now, b.max_age_hours),
        check_vault_has_recent_backups(r.recovery_points, b.vault, r.production, r.now,
                                       b.max_age_hours),
        check_no_alarm_triggered(r.alarms),
        check_backup_logs(r.backup_jobs, r.rds_events, r.now, r.last_signoff),
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
        check_sns_subscribers(r.sns_topic, config.alarms.sns_topic),
        check_backup_age_alarm(r.alarms, config.alarms.backup_age, b.max_age_hours),
        check_backup_schedule(production, r.backup_plan, b.backup_window, b.plan_schedule_utc,
                              b.plan),
        check_access_logged(r.trails, r.region),
        *_monthly(r),
    ]
    if r.protection is not None:  # read by read_all; readings built without it skip the item
        results.append(check_back_under_protection(r.protection, config,
                                                   config.dns.record or None))
    return results


def _monthly(r: Readings) -> list[CheckResult]:
    """The monthly recovery test, when the recovery test log was read (vwtui.checks.drill)."""
    if r.drill_history is None:
        return []
    from vwtui.checks.drill import check_monthly_recovery_test

    return [check_monthly_recovery_test(r.drill_history, r.now)]  # type: ignore[arg-type]


def summary(results: Iterable[CheckResult]) -> dict[str, int]:
    """How many checks passed, failed and were unknown."""
    counts = {v.value: 0 for v in Verdict}
    for result in results:
        counts[result.verdict.value] += 1
    return counts


def exit_status(results: Iterable[CheckResult]) -> int:
    """0 when every check passed, 1 when any failed or is unknown."""
    return 0 if all(r.verdict is Verdict.PASS for r in results) else 1
