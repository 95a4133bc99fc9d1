"""Compliance: the PITR window, the backup plan's lifecycle, encryption at rest, data
residency (no cross-region copy), the alerting wired up (alarms, SNS with email and SMS
subscribers, the backup-age alarm's metric and threshold, the EventBridge rule for FAILED and
EXPIRED jobs), the backup window and plan schedule, and API access logged by CloudTrail."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from vwtui import fmt
from vwtui.checks.common import (
    COMPLIANCE,
    PITR_SLACK,
    Unreadable,
    Verdicts,
    encryption_of_backups,
    limited,
    when,
)
from vwtui.model import (
    Alarm,
    BackupPlan,
    CheckResult,
    EventRule,
    Instance,
    PitrWindow,
    RecoveryPoint,
    Snapshot,
    SnsTopic,
    Trail,
)

if TYPE_CHECKING:
    pass


def check_pitr_window(window: PitrWindow | Unreadable, instance: Instance | Unreadable,
                      required_days: int, now: datetime, rpo_hours: float) -> CheckResult:
    """PITR window of at least `required_days`: BackupRetentionPeriod at least that, the
    restore window reaching back that far (less a day: RDS trims it one backup at a time),
    and reaching up to within the RPO of now (a window that stopped days ago is no window)."""
    v = Verdicts()
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
        line = (f"restorable from {when(window.earliest)} to {when(window.latest)} "
                f"({fmt.duration(window.span)})")
        if window.span < required - PITR_SLACK:
            v.fail(f"{line}: shorter than {required_days} d")
        else:
            v.ok(line)
        assert window.latest is not None  # a span has both ends
        lag = now - window.latest
        if lag > timedelta(hours=rpo_hours):
            v.fail(f"latest restorable time {when(window.latest)} is {fmt.duration(lag)} old, "
                   f"beyond the {fmt.in_hours(rpo_hours)} RPO: transaction logs are not "
                   f"reaching the backup")
    return v.result("compliance.pitr_window", f"PITR window >= {required_days} days", COMPLIANCE,
                    "pitr")


def check_plan_lifecycle(plan: BackupPlan | Unreadable | None, plan_name: str,
                         retention_days: int) -> CheckResult:
    """Every rule of the backup plan deletes its recovery points after `retention_days`."""
    v = Verdicts()
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
    v = Verdicts()
    for name, instance in instances.items():
        if isinstance(instance, Unreadable):
            v.missing(instance)
        elif instance.storage_encrypted:
            key = fmt.short_arn(instance.kms_key_id) if instance.kms_key_id else "default key"
            v.ok(f"instance {name} storage encrypted (KMS {key})")
        else:
            v.fail(f"instance {name} storage is NOT encrypted")
    encryption_of_backups(v, snapshots, points)
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
    v = Verdicts()
    if isinstance(dr_snapshots, Unreadable):
        v.missing(dr_snapshots)
    elif dr_snapshots is not None:
        # Only what the ARN places in the DR region counts (a listing that strays is not a copy).
        there = [s for s in dr_snapshots if arn_region(s.arn) in (dr_region, None)]
        for line in limited([f"snapshot {s.identifier} ({when(s.created)}) is in {dr_region}"
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
    """Both backup alarms exist and notify the SNS topic (its subscribers are the
    `check_sns_subscribers` item)."""
    v = Verdicts()
    topic_arn = topic.arn if isinstance(topic, SnsTopic) else None
    if isinstance(topic, Unreadable):
        v.missing(topic)
    elif not topic.exists:
        v.fail(f"SNS topic {topic_name} does not exist")
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
    return v.result("compliance.alarms_wired", "Backup alarms notify the SNS topic",
                    COMPLIANCE, "alarms")


# The runbook's delivery: "Email + SMS for critical alerts".
ALERT_PROTOCOLS = ("email", "sms")


def check_sns_subscribers(topic: SnsTopic | Unreadable, topic_name: str,
                          protocols: Sequence[str] = ALERT_PROTOCOLS) -> CheckResult:
    """The SNS topic has a confirmed subscriber for each of `protocols` (email and SMS for
    critical alerts), each one listed."""
    v = Verdicts()
    if isinstance(topic, Unreadable):
        v.missing(topic)
    elif not topic.exists:
        v.fail(f"SNS topic {topic_name} does not exist")
    else:
        for protocol in protocols:
            # email-json is still an email to a person; sms is only sms.
            mine = [s for s in topic.subscriptions
                    if s.protocol.lower() in ((protocol, f"{protocol}-json")
                                              if protocol == "email" else (protocol,))]
            confirmed = [s for s in mine if s.confirmed]
            for s in confirmed:
                v.ok(f"{protocol} subscriber {s.endpoint} ({s.protocol}, confirmed)")
            if not confirmed:
                pending = len(mine)
                v.fail(f"topic {topic_name} has no confirmed {protocol} subscriber"
                       + (f" ({pending} pending confirmation)" if pending else ""))
    return v.result("compliance.sns_subscribers",
                    "SNS topic has email and SMS subscribers", COMPLIANCE, "alarms")


# The backup-age alarm's metric (the runbook's "Backup Age Alarm").
BACKUP_AGE_METRIC = "TimeSinceLastBackup"


def check_backup_age_alarm(alarms: list[Alarm] | Unreadable, name: str,
                           max_age_hours: float) -> CheckResult:
    """The backup-age alarm watches TimeSinceLastBackup with a threshold of the backup-age
    limit (25 h, as the metric's seconds: 90000)."""
    v = Verdicts()
    want = max_age_hours * 3600
    if isinstance(alarms, Unreadable):
        v.missing(alarms)
    else:
        alarm = next((a for a in alarms if a.name == name), None)
        if alarm is None or not alarm.exists:
            v.fail(f"alarm {name} does not exist")
        else:
            where = f"{alarm.namespace}/{alarm.metric}" if alarm.namespace else str(alarm.metric)
            if alarm.metric != BACKUP_AGE_METRIC:
                v.fail(f"alarm {name} watches {where}, not {BACKUP_AGE_METRIC}")
            else:
                v.ok(f"alarm {name} watches {where}")
            if alarm.threshold is None:
                v.cannot_tell(f"alarm {name} reports no threshold")
            elif abs(alarm.threshold - want) > 1:
                v.fail(f"alarm {name} threshold is {alarm.threshold:g} s "
                       f"({fmt.in_hours(alarm.threshold / 3600)}), not {want:g} s "
                       f"({fmt.in_hours(max_age_hours)})")
            else:
                v.ok(f"alarm {name} threshold is {alarm.threshold:g} s "
                     f"({fmt.in_hours(max_age_hours)})")
    return v.result("compliance.backup_age_alarm",
                    f"Backup-age alarm on {BACKUP_AGE_METRIC} > {fmt.in_hours(max_age_hours)}",
                    COMPLIANCE, "alarms")


_UTC_ZONES = frozenset({"utc", "etc/utc", "gmt", "etc/gmt", "z", "zulu", "etc/zulu",
                        "universal", "etc/universal"})
_CRON = re.compile(r"^cron\((\S+)\s+(\S+)\s")


def schedule_time(expression: str | None) -> str | None:
    """The time of day of a daily `cron(M H ...)` schedule as "HH:MM", or None when the
    expression is not one fixed time a day."""
    match = _CRON.match((expression or "").strip())
    if not match or not match.group(1).isdigit() or not match.group(2).isdigit():
        return None
    return f"{int(match.group(2)):02d}:{int(match.group(1)):02d}"


def check_backup_schedule(instance: Instance | Unreadable, plan: BackupPlan | Unreadable | None,
                          backup_window: str, plan_schedule_utc: str,
                          plan_name: str) -> CheckResult:
    """The RDS backup window and the backup plan's schedule are the configured ones
    (the runbook's 03:00-04:00 UTC and 05:00 UTC)."""
    v = Verdicts()
    if isinstance(instance, Unreadable):
        v.missing(instance)
    elif instance.backup_window is None:
        v.cannot_tell(f"{instance.identifier} reports no backup window")
    elif instance.backup_window != backup_window:
        v.fail(f"backup window of {instance.identifier} is {instance.backup_window} UTC, "
               f"not {backup_window} UTC")
    else:
        v.ok(f"backup window of {instance.identifier} is {instance.backup_window} UTC")
    if isinstance(plan, Unreadable):
        v.missing(plan)
    elif plan is None:
        v.fail(f"no backup plan named {plan_name}")
    elif not plan.rules:
        v.fail(f"backup plan {plan_name} has no rules")
    else:
        for rule in plan.rules:
            at = schedule_time(rule.schedule)
            zone = rule.schedule_timezone or "UTC"
            if at is None:
                v.fail(f"rule {rule.name} runs on {rule.schedule or 'no schedule'}, not daily "
                       f"at {plan_schedule_utc} UTC")
            elif zone.lower() not in _UTC_ZONES:
                v.fail(f"rule {rule.name} runs at {at} {zone}, not {plan_schedule_utc} UTC")
            elif at != plan_schedule_utc:
                v.fail(f"rule {rule.name} runs at {at} UTC, not {plan_schedule_utc} UTC")
            else:
                v.ok(f"rule {rule.name} runs daily at {at} UTC ({rule.schedule})")
    return v.result("compliance.backup_schedule",
                    f"Backup window {backup_window} and plan at {plan_schedule_utc} UTC",
                    COMPLIANCE, "backup-job-fails")


def check_access_logged(trails: list[Trail] | Unreadable, region: str) -> CheckResult:
    """Access logged: a CloudTrail trail that is logging covers the region (its home region or
    a multi-region trail) and records management events (the API calls)."""
    v = Verdicts()
    if isinstance(trails, Unreadable):
        v.missing(trails)
    else:
        good = []
        for t in trails:
            covers = t.multi_region or t.home_region == region
            scope = "all regions" if t.multi_region else t.home_region
            if not covers:
                continue
            if not t.logging:
                v.ok(f"trail {t.name} ({scope}) is NOT logging")
            elif t.management_events is False:
                v.ok(f"trail {t.name} ({scope}) logs no management events")
            else:
                good.append(t)
                v.ok(f"trail {t.name} ({scope}) is logging API calls")
        if not good:
            v.fail(f"no CloudTrail trail logs API calls in {region} "
                   f"({len(trails)} trail(s) seen)")
    return v.result("compliance.access_logged", f"CloudTrail logs API access in {region}",
                    COMPLIANCE, "access-logging")


def _is_topic(arn: str, topic_arn: str | None, topic_name: str) -> bool:
    return arn == topic_arn if topic_arn else arn.rsplit(":", 1)[-1] == topic_name


# The job states the failure rule must match: the runbook's "FAILED or EXPIRED".
RULE_STATES = ("FAILED", "EXPIRED")


def backup_rule_states(rule: EventRule) -> set[str] | None:
    """The job states an EventBridge rule on AWS Backup job state changes matches, or None
    when the rule is not about them (another source or detail type, or no state named)."""
    try:
        pattern = json.loads(rule.event_pattern or "{}")
    except ValueError:
        return None
    if not isinstance(pattern, dict):
        return None
    sources = _as_list(pattern.get("source"))
    kinds = _as_list(pattern.get("detail-type"))
    detail = pattern.get("detail")
    if not isinstance(detail, dict):
        detail = {}
    states = {s for s in _as_list(detail.get("state")) if isinstance(s, str)}
    if "aws.backup" not in sources or (kinds and "Backup Job State Change" not in kinds):
        return None
    return states or None


def is_failed_backup_rule(rule: EventRule) -> bool:
    """An EventBridge rule that matches AWS Backup job state changes to FAILED."""
    return "FAILED" in (backup_rule_states(rule) or set())


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def check_failed_backup_rule(rules: list[EventRule] | Unreadable,
                             topic: SnsTopic | Unreadable, topic_name: str) -> CheckResult:
    """An enabled EventBridge rule matches AWS Backup jobs ending FAILED and EXPIRED and
    targets the SNS topic."""
    v = Verdicts()
    wanted = " and ".join(RULE_STATES)
    if isinstance(rules, Unreadable):
        v.missing(rules)
    else:
        topic_arn = topic.arn if isinstance(topic, SnsTopic) else None
        matching = [(r, states) for r in rules
                    if (states := backup_rule_states(r)) and states & set(RULE_STATES)]
        good = [r for r, states in matching if r.state == "ENABLED"
                and set(RULE_STATES) <= states
                and any(_is_topic(t, topic_arn, topic_name) for t in r.targets)]
        if good:
            for r in good:
                v.ok(f"rule {r.name} is ENABLED, matches {wanted} backup jobs, notifies "
                     f"{topic_name}")
        elif not matching:
            v.fail(f"no EventBridge rule matches failed AWS Backup jobs "
                   f"({len(rules)} aws.backup rule(s) found)")
        else:
            for r, states in matching:
                missing = [s for s in RULE_STATES if s not in states]
                targets = ", ".join(r.targets) or "none"
                problems = []
                if missing:
                    problems.append(f"does not match {' or '.join(missing)}")
                if r.state != "ENABLED":
                    problems.append(f"is {r.state}")
                if not any(_is_topic(t, topic_arn, topic_name) for t in r.targets):
                    problems.append(f"targets {targets}, not {topic_name}")
                v.fail(f"rule {r.name} {', '.join(problems)} (needs ENABLED, {wanted}, "
                       f"and {topic_name})")
    return v.result("compliance.eventbridge_rule", "EventBridge rule for failed backup jobs",
                    COMPLIANCE, "alarms")
