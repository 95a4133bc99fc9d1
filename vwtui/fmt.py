"""Formatting for people: durations, UTC times, sizes, ARNs and traffic-light levels.

The one place the product writes these: every module (checks, recovery, widgets, screens) calls
here instead of keeping a formatter of its own, so the same thing reads the same everywhere.
Pure functions, no Textual: the widgets turn a `Level` into a style, everything else here is text.
Every level has a symbol as well as a colour, so the screen still reads with NO_COLOR.

Durations have three registers, one function each: `age` in a table cell or a pane line
("3h 12m"), `duration` in a sentence ("26 h 5 min"), `stopwatch` on a running clock ("1:02:03");
`estimate` is `duration` kept in minutes up to two hours, for the plan's narrow "est." column.
Sizes are binary gigabytes (GiB, as the RDS console counts them) written "GB", everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import overload

from vwtui.model import AlarmState

NONE = "—"


class Level(StrEnum):
    """How worried to be about a value: drawn as a colour and a symbol."""

    OK = "ok"
    WARN = "warn"
    BAD = "bad"
    UNKNOWN = "unknown"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {Level.OK: "✔", Level.WARN: "▲", Level.BAD: "✖", Level.UNKNOWN: "?"}
_SEVERITY = {Level.OK: 0, Level.WARN: 1, Level.UNKNOWN: 2, Level.BAD: 3}


def worst(levels: Iterable[Level]) -> Level:
    """The most worrying of some levels (OK when there are none)."""
    return max(levels, key=_SEVERITY.__getitem__, default=Level.OK)


def age(delta: timedelta | None) -> str:
    """A duration the way an engineer says it: "45s", "12m", "3h 12m", "2d 4h", "29d".

    Two units at most; days past ten drop the hours (noise at that distance). A negative
    duration (a clock slightly ahead of AWS) reads as "0s".
    """
    if delta is None:
        return NONE
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 10:
        return f"{days}d"
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def age_since(moment: datetime | None, now: datetime) -> str:
    """`age(now - moment)`, or "—" when the moment is unknown."""
    return NONE if moment is None else age(now - moment)


def duration(delta: timedelta) -> str:
    """A duration in a sentence: "12 min", "26 h 5 min", "3 d 4 h"; "in the future" when
    negative (a timestamp ahead of this host's clock). Whole minutes; days from 48 h on."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 0:
        return "in the future"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def in_hours(value: float) -> str:
    """A configured number of hours (a target, a limit) in a sentence: "25 h", "1 h"."""
    return duration(timedelta(hours=value))


def estimate(delta: timedelta) -> str:
    """A step's estimate: "20 min", whole minutes up to two hours so the plan's six-wide
    column never cuts it, then hours: "2.5 h"."""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:g} h"


def stopwatch(delta: timedelta) -> str:
    """H:MM:SS (negative with a leading minus), for the RTO clock and the step timers."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def utc(moment: datetime | None, *, seconds: bool = False, year: bool = True,
        zone: bool = False, missing: str = NONE) -> str:
    """An aware datetime as UTC text: "2025-11-11 03:00" (or with seconds, or without year;
    `zone` adds " UTC", as a sentence needs). `missing` stands for an unknown moment."""
    if moment is None:
        return missing
    moment = moment.astimezone(UTC)
    fmt = ("%Y-%m-%d " if year else "%m-%d ") + ("%H:%M:%S" if seconds else "%H:%M")
    return moment.strftime(fmt) + (" UTC" if zone else "")


def clock(moment: datetime, *, seconds: bool = True, zone: bool = False) -> str:
    """The time of day in UTC, for "updated at" lines and ETAs: "10:30:05" ("10:30" without
    seconds; `zone` adds " UTC")."""
    text = moment.astimezone(UTC).strftime("%H:%M:%S" if seconds else "%H:%M")
    return text + (" UTC" if zone else "")


@overload
def iso(moment: datetime) -> str: ...


@overload
def iso(moment: None) -> None: ...


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, for files and `aws` command lines: "2025-11-11T10:30:00Z"
    (microseconds only when there are some). None stays None (an absent JSON value)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def gigabytes(size_bytes: float | None) -> str:
    """Bytes as GB (GiB, as the RDS console counts them), one decimal: "21.4 GB"."""
    if size_bytes is None:
        return NONE
    return f"{size_bytes / 1024**3:.1f} GB"


def storage(size_gb: float) -> str:
    """Allocated storage, already in GB (GiB) as RDS gives it: "100 GB"."""
    return f"{size_gb:g} GB"


def short_arn(arn: str) -> str:
    """The resource part of an ARN: "awsbackup:job-1234" of
    "arn:aws:rds:...:snapshot:awsbackup:job-1234", "key/abc" of "arn:aws:kms:...:key/abc".
    Anything that is not an ARN comes back as it is."""
    parts = arn.split(":", 6)
    if parts[0] != "arn" or len(parts) < 6:
        return arn
    return parts[6] if len(parts) == 7 else parts[5]


def rpo_level(exposure: timedelta | None, target_hours: float) -> Level:
    """Current RPO exposure (now - latest restorable time) against the target.

    Within half the target is fine; up to the target is a warning (PITR normally lags about
    five minutes, so half an hour of lag means log shipping has stalled); past it is a breach.
    """
    if exposure is None:
        return Level.UNKNOWN
    target = timedelta(hours=target_hours)
    if exposure > target:
        return Level.BAD
    if exposure > target / 2:
        return Level.WARN
    return Level.OK


def backup_age_level(newest: timedelta | None, max_age_hours: float) -> Level:
    """The newest backup's age against the runbook's limit (25 h): past it is bad."""
    if newest is None:
        return Level.BAD
    return Level.BAD if newest > timedelta(hours=max_age_hours) else Level.OK


def alarm_level(state: AlarmState, exists: bool = True) -> Level:
    if not exists:
        return Level.BAD
    return {AlarmState.OK: Level.OK, AlarmState.ALARM: Level.BAD}.get(state, Level.UNKNOWN)


def alarm_badge(state: AlarmState, exists: bool = True) -> str:
    """The alarm state as symbol and word: "✔ OK", "✖ ALARM", "? INSUFFICIENT", "✖ MISSING"."""
    if not exists:
        return f"{Level.BAD.symbol} MISSING"
    word = "INSUFFICIENT" if state is AlarmState.INSUFFICIENT_DATA else state.value
    return f"{alarm_level(state).symbol} {word}"


def status_level(status: str, good: tuple[str, ...] = ("available", "completed")) -> Level:
    """An AWS resource status: the good ones are OK, failures BAD, anything in between WARN."""
    lowered = status.lower()
    if lowered in good:
        return Level.OK
    if any(word in lowered for word in ("fail", "error", "incompatible", "expired", "abort")):
        return Level.BAD
    return Level.WARN


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """"1 snapshot", "3 snapshots"."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"
