"""The monthly recovery drill, as pure decisions: which method the rotation gives, when the next
drill is due, what it restores, and when to show the escalation path.

The runbook's "Monthly Recovery Test Procedure": first Monday of each month, on staging (never
production), the method rotated month by month (PITR, snapshot, AWS Backup, then again), every
step timed, the RTO computed against the 4 h target and logged. Nothing here does I/O: the
history is read by `vwtui.recovery.history`, AWS by the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from vwtui.recovery.plan import RecoveryInputError, RecoveryRequest, Scenario

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.model import RecoveryPoint, Snapshot
    from vwtui.recovery.clock import RtoClock
    from vwtui.recovery.history import HistoryRead, HistoryRecord

# The runbook's rotation: month 1 PITR, month 2 snapshot, month 3 AWS Backup, then again.
ROTATION: tuple[Scenario, ...] = (Scenario.PITR, Scenario.SNAPSHOT, Scenario.AWS_BACKUP)
# "Monthly recovery test done": the last drill is younger than this.
DRILL_MAX_AGE = timedelta(days=31)
# The RTO clock share past which the escalation path is shown.
ESCALATE_AT = 0.75


@dataclass(frozen=True, slots=True)
class RotationChoice:
    """The method the rotation gives, and why (said on screen)."""

    method: Scenario
    why: str


def method_label(method: Scenario | str) -> str:
    return {Scenario.PITR: "PITR", Scenario.SNAPSHOT: "snapshot",
            Scenario.AWS_BACKUP: "AWS Backup"}.get(Scenario(method), str(method))


def calendar_method(now: datetime) -> Scenario:
    """The runbook's calendar: month number mod 3 (January PITR, February snapshot, March AWS
    Backup, April PITR, ...)."""
    return ROTATION[(now.month - 1) % 3]


def rotation_method(history: HistoryRead | None, now: datetime) -> RotationChoice:
    """The method after the last drill's, or the calendar's when no drill is recorded."""
    last = history.last("drill") if history is not None else None
    if last is not None and last.method in {m.value for m in ROTATION}:
        after = ROTATION[(ROTATION.index(Scenario(last.method)) + 1) % len(ROTATION)]
        return RotationChoice(after, f"after the last drill's {method_label(last.method)} "
                                     f"({last.finished_at:%Y-%m-%d})")
    return RotationChoice(calendar_method(now),
                          f"runbook calendar, month {now.month} (no drill recorded)")


def first_monday(year: int, month: int) -> datetime:
    first = datetime(year, month, 1, tzinfo=UTC)
    return first + timedelta(days=(7 - first.weekday()) % 7)


def next_due(last: HistoryRecord | None, now: datetime) -> datetime:
    """When the next drill is due: this month's first Monday unless a drill already ran this
    month (then next month's). A date in the past means overdue."""
    this_month = first_monday(now.year, now.month)
    if last is not None and (last.finished_at.year, last.finished_at.month) == (now.year,
                                                                                 now.month):
        year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
        return first_monday(year, month)
    return this_month


def due_line(history: HistoryRead, now: datetime) -> str:
    """One line for the dashboard: when the next drill is due and which method it uses."""
    last = history.last("drill")
    due = next_due(last, now)
    method = method_label(rotation_method(history, now).method)
    when = f"{due:%a %Y-%m-%d}"
    if due.date() < now.date():
        when += f" (overdue {(now.date() - due.date()).days} d)"
    elif due.date() == now.date():
        when += " (today)"
    previous = ""
    if last is not None:
        met = "met" if last.rto_met else "missed"
        previous = (f" · last {last.finished_at:%Y-%m-%d} {method_label(last.method)}, "
                    f"RTO {met}")
    return f"Next drill {when}, {method} (D){previous}"


# ---- what a drill restores -----------------------------------------------------------------

def drill_request(config: Config, method: Scenario, now: datetime, *,
                  snapshots: list[Snapshot] | None = None,
                  points: list[RecoveryPoint] | None = None,
                  rotation: Scenario | None = None,
                  override_reason: str | None = None) -> RecoveryRequest:
    """The drill's request: staging (never production) into drill.target_pattern's name, at
    "1 hour ago" (PITR) or staging's newest available snapshot / COMPLETED recovery point. No
    incident: the implied RPO is measured from now. Raises RecoveryInputError when there is
    nothing to restore."""
    # Whole seconds, like the restore time: "1 hour ago" is an RPO of exactly the hour, not
    # the hour and the microseconds the clock had (which read as over the target).
    now = now.replace(microsecond=0)
    staging = config.instances.staging
    if not staging:
        raise RecoveryInputError("No staging instance is configured (instances.staging): a "
                                 "drill restores staging, never production.")
    if method not in ROTATION:
        raise RecoveryInputError(f"A drill uses PITR, snapshot or AWS Backup, not {method}.")
    if rotation is not None and method is not rotation and not (override_reason or "").strip():
        raise RecoveryInputError(f"Say why the drill uses {method_label(method)} instead of "
                                 f"the rotation's {method_label(rotation)}.")
    common = dict(source=staging, target=config.drill_target_name(now), incident_time=now,
                  requested_at=now, drill=True,
                  rotation_method=rotation.value if rotation is not None else None,
                  override_reason=(override_reason or "").strip() or None
                  if rotation is not None and method is not rotation else None)
    if method is Scenario.PITR:
        restore_time = (now - timedelta(minutes=config.drill.restore_minutes_ago)).replace(
            microsecond=0)
        return RecoveryRequest(Scenario.PITR, restore_time=restore_time,
                               restore_point=restore_time, **common)  # type: ignore[arg-type]
    if method is Scenario.SNAPSHOT:
        usable = [s for s in snapshots or () if s.status == "available" and s.created
                  and s.instance_identifier and s.instance_identifier.lower() == staging]
        if not usable:
            raise RecoveryInputError(f"{staging} has no available snapshot to restore; choose "
                                     f"another method (with a reason).")
        newest = max(usable, key=lambda s: s.created)  # type: ignore[arg-type, return-value]
        return RecoveryRequest(Scenario.SNAPSHOT, snapshot_id=newest.identifier,
                               restore_point=newest.created, **common)  # type: ignore[arg-type]
    usable_points = [p for p in points or () if p.status == "COMPLETED" and p.created
                     and p.resource_arn.lower().endswith(f":db:{staging}")]
    if not usable_points:
        raise RecoveryInputError(f"{staging} has no COMPLETED recovery point in "
                                 f"{config.backup.vault}; choose another method (with a reason).")
    point = max(usable_points, key=lambda p: p.created)  # type: ignore[arg-type, return-value]
    return RecoveryRequest(Scenario.AWS_BACKUP, recovery_point_arn=point.arn,
                           restore_point=point.created, **common)  # type: ignore[arg-type]


# ---- escalation ------------------------------------------------------------------------------

class Escalation(StrEnum):
    """Why the escalation path is on screen."""

    WARNING = "75"  # the RTO clock passed 75 % of the target
    BREACH = "breach"  # the RTO target is breached
    FAILED = "failed"  # a drill failed (a step failed, or it ended without passing)


def escalation_level(clock: RtoClock, now: datetime, *, drill: bool,
                     failed: bool) -> Escalation | None:
    """What calls for the escalation path now (None: nothing)."""
    elapsed = clock.elapsed(now)
    if elapsed > clock.target:
        return Escalation.BREACH
    if drill and failed:
        return Escalation.FAILED
    if elapsed >= clock.target * ESCALATE_AT:
        return Escalation.WARNING
    return None


def escalation_lines(config: Config, level: Escalation) -> tuple[str, ...]:
    """The escalation path from [contacts], headed by why it is shown."""
    c = config.contacts
    rto = f"{config.objectives.rto_hours:g} h"
    head = {Escalation.WARNING: f"RTO clock past 75 % of {rto}: escalate now",
            Escalation.BREACH: f"RTO {rto} BREACHED: escalate",
            Escalation.FAILED: "Drill failed: escalate to the team lead"}[level]
    return (head,
            f"On-call: {c.on_call} · Escalation: {c.escalation}",
            f"Incident response: {c.incident_response}",
            f"AWS Support: {c.aws_support_plan} plan, case priority {c.aws_case_priority}")
