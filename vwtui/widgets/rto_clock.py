"""The RTO clock: always on screen while a recovery runs.

Elapsed since the recorded start against the 4 h target, the level by colour AND symbol (so it
reads with NO_COLOR), the estimated finish from the remaining steps' estimates, and the RPO
achieved. A 1 s interval recomputes everything from `started_at`; nothing counts ticks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import ClassVar, Protocol

from rich.text import Text
from textual.widgets import Static

from vwtui import fmt
from vwtui.model import utcnow
from vwtui.recovery.clock import ClockLevel, RtoClock
from vwtui.widgets.in_place import update_in_place
from vwtui.widgets.palette import StyleOf, component_style, unstyled

_LEVEL_WORD = {ClockLevel.OK: "on time", ClockLevel.WARN: "over 75%", ClockLevel.BREACH: "BREACHED"}
# Component classes of RtoClockWidget; their colours are in recovery.tcss.
_LEVEL_CLASS = {ClockLevel.OK: "rto--ok", ClockLevel.WARN: "rto--warn",
                ClockLevel.BREACH: "rto--breach"}


class ClockSource(Protocol):
    """What the widget reads each second: the run's clock, remaining estimates and RPO."""

    @property
    def clock(self) -> RtoClock: ...

    def remaining_estimates(self, now: datetime) -> Iterable[timedelta]: ...

    @property
    def rpo_achieved(self) -> timedelta | None: ...


def render_clock(clock: RtoClock, now: datetime, remaining: Iterable[timedelta],
                 rpo: timedelta | None, *, ended: str = "finished",
                 style_of: StyleOf = unstyled) -> Text:
    """One line (two when narrow is not enough): level symbol, elapsed / target, ETA, RPO.

    `ended`: how a stopped clock's run ended; only "finished" achieved an RTO and an RPO.
    `style_of`: the style of a component class (RtoClockWidget's, from recovery.tcss)."""
    level = clock.level(now)
    elapsed = clock.elapsed(now)
    left = list(remaining)
    eta = clock.eta(now, left)
    within = clock.eta_within_target(now, left)
    text = Text()
    if clock.finished_at is not None and ended != "finished":
        stopped = fmt.clock(clock.finished_at, seconds=False, zone=True)
        text.append(f" ■ RTO clock stopped at {fmt.stopwatch(elapsed)} · {ended} "
                    f"{stopped} · no recovery", style=style_of("rto--stopped"))
        return text
    level_style = style_of(_LEVEL_CLASS[level])
    text.append(f" {level.symbol} RTO {fmt.stopwatch(elapsed)}", style=level_style)
    text.append(f" / {fmt.duration(clock.target)} ")
    text.append(f"{_LEVEL_WORD[level]}", style=level_style)
    if clock.finished_at is not None:
        text.append(f" · finished {fmt.clock(eta, seconds=False, zone=True)}")
    else:
        flag = "" if within else " ▲late"
        text.append(f" · ETA {fmt.clock(eta, seconds=False, zone=True)}"
                    f" (+{fmt.stopwatch(sum(left, timedelta(0)))}){flag}")
    if rpo is None:
        text.append(" · RPO –")
    else:
        met = rpo <= clock.rpo_target
        text.append(f" · RPO {fmt.stopwatch(rpo)} ")
        text.append("✓" if met else "✗ over",
                    style=style_of("rto--rpo-met" if met else "rto--rpo-over"))
    return text


class RtoClockWidget(Static):
    """The live RTO clock of one run; refreshed every second from the recorded start time."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *_LEVEL_CLASS.values(), "rto--stopped", "rto--idle", "rto--rpo-met", "rto--rpo-over",
    }

    def __init__(self, source: ClockSource | None = None, *,
                 now: Callable[[], datetime] | None = None, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.source = source
        self._now = now
        self._shown: Text | None = None
        self.style_of = component_style(self)

    def on_mount(self) -> None:
        self.refresh_clock()
        self.set_interval(1.0, self.refresh_clock)

    def now(self) -> datetime:
        if self._now is not None:
            return self._now()
        clock = getattr(self.app, "clock", None)
        return clock() if callable(clock) else utcnow()

    def attach(self, source: ClockSource | None) -> None:
        """Follow another run (or none)."""
        self.source = source
        self.refresh_clock()

    def refresh_clock(self) -> None:
        """Recompute from `started_at` and redraw; the level becomes a CSS class too."""
        if self.source is None:
            self._shown = None
            self.update(Text(" RTO clock: no recovery running",
                             style=self.style_of("rto--idle")))
            self.set_class(False, "-ok", "-warn", "-breach")
            return
        now = self.now()
        clock = self.source.clock
        level = clock.level(now)
        for lv in ClockLevel:
            self.set_class(lv is level, f"-{lv.value}")
        outcome = getattr(self.source, "outcome", None)
        ended = "dry run ended" if getattr(self.source, "dry_run", False) else (
            outcome or "finished")
        text = render_clock(clock, now, self.source.remaining_estimates(now),
                            self.source.rpo_achieved, ended=ended, style_of=self.style_of)
        if text != self._shown:
            self._shown = text
            # The next second is as long as the last: a repaint, not a layout of the screen.
            update_in_place(self, text)
