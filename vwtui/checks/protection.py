"""Back under protection (issue 13, part 3): is the instance serving production backed up,
watched and protected like the one it replaced?

Pure: `assess` takes what `vwtui.services.protection.read_protection` read and answers one
`Finding` per part: the AWS Backup plan's selection covers it (by ARN or by tag, and which),
automated backups keep at least the PITR window and the window has started, the backup alarms
and the EventBridge rule watch it (an alarm whose dimension names another instance says which),
and deletion protection is on. A finding that fails carries the exact `aws` command that
fixes it; `fix` is set only when vwtui may make that call itself (never on a protected
instance, never on an instance the run does not own). The recovery's protection step applies
the fixes; the checklist's item shows the same findings for the instance the production DNS
record points at, so a fix forgotten after an incident shows the next morning.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vwtui import names
from vwtui.checks.common import COMPLIANCE, Unreadable, Verdicts
from vwtui.checks.compliance import is_failed_backup_rule
from vwtui.model import AlarmDefinition, CheckResult, ProtectionReadings
from vwtui.services import calls
from vwtui.services.calls import AwsCall

if TYPE_CHECKING:
    from vwtui.config import Config

# The dimension that ties an RDS metric (and the runbook's backup-age metric) to one instance.
INSTANCE_DIMENSION = "DBInstanceIdentifier"
# AWS Backup's limit on a selection's name, and what it may hold.
_SELECTION_NAME_MAX = 50
_SELECTION_NAME_BAD = re.compile(r"[^A-Za-z0-9_.-]")

AREAS = ("backup plan", "automated backups", "alarms", "EventBridge", "deletion protection")


@dataclass(frozen=True, slots=True)
class Fix:
    """One guarded call that fixes a finding: the RecoveryOps method (`operation`) and its
    arguments; `call()` is the AwsCall it sends, whose CLI line is what the engineer sees."""

    key: str  # stable across a resume: "selection", "alarm:<name>", ...
    operation: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict, compare=False)

    def call(self) -> AwsCall:
        return calls.MUTATING[self.operation](*self.args, **self.kwargs)


@dataclass(frozen=True, slots=True)
class Finding:
    """One part of "back under protection": passed (True), failed (False) or cannot tell
    (None); `command` is the aws line that fixes a failure, `fix` the call vwtui may make."""

    area: str
    ok: bool | None
    text: str
    command: str | None = None
    fix: Fix | None = None


def assess(r: ProtectionReadings, config: Config, *, owned: Collection[str] = (),
           replaced: str | None = None, request_id: str | None = None) -> list[Finding]:
    """Every finding for the instance `r.identifier`, in the order of AREAS. `owned`: the
    instances the caller may fix (a recovery run's own; empty: show commands only);
    `replaced`: the instance it took over from (named as such in an alarm finding)."""
    identifier = r.identifier
    # Fixes that change the instance itself: only the run's own, never a protected one.
    may_fix = names.rds_id_in(identifier, owned) and not config.is_protected(identifier)
    why_not = ("" if may_fix else
               f" ({identifier} is protected: vwtui never modifies it; run it by hand)"
               if config.is_protected(identifier) else
               " (run it by hand: this session does not own the instance)")
    out: list[Finding] = []
    out.append(_selection(r, config, may_fix, why_not, request_id))
    out.extend(_backups(r, config, may_fix, why_not))
    out.extend(_alarms(r, config, replaced))
    out.extend(_rules(r))
    out.append(_deletion_protection(r, config, may_fix, why_not))
    return out


def _unreadable(r: ProtectionReadings, what: str) -> str:
    reason = next((why for name, why in r.unreadable if what in name), "it was not read")
    return f"cannot tell: could not read {what}: {reason}"


def _selection(r: ProtectionReadings, config: Config, may_fix: bool, why_not: str,
               request_id: str | None) -> Finding:
    area = "backup plan"
    plan = config.backup.plan
    if r.selections is None or r.instance is None:
        return Finding(area, None, _unreadable(r, "selections" if r.selections is None
                                               else "instance"))
    if r.plan_id is None:
        return Finding(area, False, f"no backup plan named {plan} (backup.plan): nothing "
                                    f"backs {r.identifier} up; create the plan first")
    arn = r.instance.arn
    tags = set(r.instance.tags)
    for s in r.selections:
        if any(fnmatch.fnmatchcase(arn, n) for n in s.not_resources):
            continue
        if any(fnmatch.fnmatchcase(arn, pattern) for pattern in s.resources):
            return Finding(area, True, f"plan {plan} backs {r.identifier} up: selection "
                                       f"{s.name} lists it by ARN")
        hit = next(((k, v) for k, v in s.tags if (k, v) in tags), None)
        if hit is not None:
            return Finding(area, True, f"plan {plan} backs {r.identifier} up: selection "
                                       f"{s.name} picks it by tag {hit[0]}={hit[1]}")
    by_tag = next((s for s in r.selections if s.tags), None)
    if by_tag is not None:
        key, value = by_tag.tags[0]
        fix = Fix("selection", "tag_instance", (arn, ((key, value),)))
        text = (f"plan {plan} does not back {r.identifier} up: selection {by_tag.name} picks "
                f"instances by tag {key}={value}, which {r.identifier} lacks; fix: tag it")
    else:
        first = r.selections[0] if r.selections else None
        role = (first.iam_role_arn if first else "") or config.backup.restore_role_arn
        listed = (f"selection {first.name} lists instances by ARN, not this one"
                  if first else "the plan has no selection")
        fix = Fix("selection", "add_to_backup_selection",
                  (r.plan_id, selection_name(r.identifier), role, (arn,)),
                  {"request_id": request_id} if request_id else {})
        text = (f"plan {plan} does not back {r.identifier} up: {listed}; fix: add it by "
                f"ARN (a selection of its own)")
    return Finding(area, False, text + why_not, fix.call().cli(config),
                   fix if may_fix else None)


def selection_name(identifier: str) -> str:
    """The name of the selection that adds one instance by ARN (AWS: 1-50 of [A-Za-z0-9_.-])."""
    return _SELECTION_NAME_BAD.sub("-", f"vwtui-{identifier}")[:_SELECTION_NAME_MAX]


def _backups(r: ProtectionReadings, config: Config, may_fix: bool,
             why_not: str) -> list[Finding]:
    area = "automated backups"
    required = max(7, config.backup.pitr_window_days)
    out: list[Finding] = []
    if r.instance is None:
        out.append(Finding(area, None, _unreadable(r, "instance")))
    elif r.instance.backup_retention_days < required:
        fix = Fix("retention", "set_backup_retention", (r.identifier, required))
        out.append(Finding(
            area, False, f"automated backups of {r.identifier} are kept "
                         f"{r.instance.backup_retention_days} d, below {required} d (the PITR "
                         f"window); fix: set the retention{why_not}",
            fix.call().cli(config), fix if may_fix else None))
    else:
        out.append(Finding(area, True, f"automated backups of {r.identifier} are kept "
                                       f"{r.instance.backup_retention_days} d"))
    if r.pitr_window is None:
        out.append(Finding(area, None, _unreadable(r, "PITR window")))
    elif r.pitr_window.earliest is None:
        out.append(Finding(area, False, f"the PITR window of {r.identifier} has not started "
                                        f"(no automated backup yet): check again (g) after "
                                        f"its first backup"))
    else:
        out.append(Finding(area, True, f"the PITR window of {r.identifier} has started "
                                       f"({r.pitr_window.earliest:%Y-%m-%d %H:%M} UTC)"))
    return out


def _alarms(r: ProtectionReadings, config: Config, replaced: str | None) -> list[Finding]:
    area = "alarms"
    wanted = [n for n in (config.alarms.backup_age, config.alarms.backup_failure) if n]
    if r.alarms is None:
        return [Finding(area, None, _unreadable(r, "alarms"))]
    by_name = {a.name: a for a in r.alarms}
    out: list[Finding] = []
    for name in wanted:
        alarm = by_name.get(name)
        if alarm is None:
            out.append(Finding(area, False, f"alarm {name} does not exist (the checklist's "
                                            f"alarms item says how to create it)"))
            continue
        out.append(_alarm(alarm, r.identifier, config, replaced))
    return out


def _alarm(alarm: AlarmDefinition, identifier: str, config: Config,
           replaced: str | None) -> Finding:
    area = "alarms"
    watched = [v for k, v in alarm.dimensions if k == INSTANCE_DIMENSION]
    if not watched:
        return Finding(area, True, f"alarm {alarm.name} watches {alarm.namespace}/"
                                   f"{alarm.metric} for the whole account, {identifier} included")
    if any(names.same_rds_id(v, identifier) for v in watched):
        return Finding(area, True, f"alarm {alarm.name} watches {identifier}")
    other = watched[0]
    which = "the replaced instance" if replaced and names.same_rds_id(other, replaced) else \
        "another instance"
    fix = Fix(f"alarm:{alarm.name}", "put_metric_alarm", (alarm_watching(alarm, identifier),))
    return Finding(area, False, f"alarm {alarm.name} watches {other} ({which}, dimension "
                                f"{INSTANCE_DIMENSION}), not {identifier}; fix: put-metric-alarm "
                                f"with the dimension on {identifier}",
                   fix.call().cli(config), fix)


def alarm_watching(alarm: AlarmDefinition, identifier: str) -> dict[str, Any]:
    """The alarm's PutMetricAlarm parameters with its instance dimension on `identifier`
    (everything else as it is defined)."""
    params = dict(alarm.put_params)
    params["Dimensions"] = [
        {"Name": k, "Value": identifier if k == INSTANCE_DIMENSION else v}
        for k, v in alarm.dimensions]
    return params


def _rules(r: ProtectionReadings) -> list[Finding]:
    area = "EventBridge"
    if r.event_rules is None:
        return [Finding(area, None, _unreadable(r, "EventBridge"))]
    matching = [rule for rule in r.event_rules if is_failed_backup_rule(rule)]
    if not matching:
        return [Finding(area, False, "no EventBridge rule matches failed AWS Backup jobs (the "
                                     "checklist's EventBridge item says how to add one)")]
    arn = r.instance.arn if r.instance else ""
    out: list[Finding] = []
    for rule in matching:
        pattern = rule.event_pattern or ""
        if ":db:" not in pattern:
            out.append(Finding(area, True, f"rule {rule.name} matches failed backup jobs of any "
                                           f"resource, {r.identifier} included"))
        elif arn and arn in pattern:
            out.append(Finding(area, True, f"rule {rule.name} names {r.identifier}"))
        else:
            out.append(Finding(area, False, f"rule {rule.name} names other instances, not "
                                            f"{r.identifier}: add its ARN to the rule's pattern "
                                            f"(events put-rule)"))
    return out


def _deletion_protection(r: ProtectionReadings, config: Config, may_fix: bool,
                         why_not: str) -> Finding:
    area = "deletion protection"
    if r.deletion_protection is None:
        return Finding(area, None, _unreadable(r, "instance"))
    if r.deletion_protection:
        return Finding(area, True, f"deletion protection of {r.identifier} is on")
    fix = Fix("deletion-protection", "enable_deletion_protection", (r.identifier,))
    return Finding(area, False, f"deletion protection of {r.identifier} is off; fix: turn it "
                                f"on{why_not}", fix.call().cli(config),
                   fix if may_fix else None)


def fixes(findings: Sequence[Finding]) -> list[Fix]:
    """The fixes vwtui may apply, in order."""
    return [f.fix for f in findings if f.ok is False and f.fix is not None]


def check_back_under_protection(readings: ProtectionReadings | Unreadable | None,
                                config: Config, record: str | None) -> CheckResult:
    """The checklist's item: the instance the production DNS record points at is backed up,
    watched and protected (the findings of `assess`, each failure with its fix command)."""
    v = Verdicts()
    title = "Production instance back under protection"
    if readings is None:
        v.cannot_tell("no production DNS record is configured (dns.record) and production "
                      "could not be read")
    elif isinstance(readings, Unreadable):
        v.missing(readings)
    else:
        where = f"{record} points at {readings.identifier}" if record else \
            f"production is {readings.identifier} (no dns.record)"
        v.ok(where)
        for finding in assess(readings, config):
            line = f"{finding.area}: {finding.text}"
            if finding.ok is True:
                v.ok(line)
            elif finding.ok is None:
                v.cannot_tell(line)
            else:
                v.fail(line + (f" — {finding.command}" if finding.command else ""))
    return v.result("compliance.back_under_protection", title, COMPLIANCE, "alarms")
