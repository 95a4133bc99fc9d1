"""Compliance: the PITR window, the backup plan's lifecycle, encryption at rest, data
residency (no cross-region copy), and the alerting wired up (alarms, SNS, EventBridge)."""

from __future__ import annotations

import json
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
    """Both backup alarms exist and notify the SNS topic, which has a confirmed subscriber."""
    v = Verdicts()
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
    v = Verdicts()
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
