"""Timers that, once late, fire at the next tick rather than the one after it.

A Textual timer that fell behind (its callback ran past the next tick) skips the ticks it
missed; Textual 8.2.8 (pinned exactly in pyproject.toml) skips one more: its next tick is the
one after the next. The screen's frames run on such a timer (60 a second): a frame that started
late or took long (a restore's poll drawn while keys are pressed) put the next frame 33 ms
later instead of up to 16.7 ms, and the key press waiting for that frame waited as long.
Measured here: a 60 Hz timer whose callback takes 25 ms fires every 50 ms, not every 33 ms.

`keep_timers_on_tick()` gives Textual's Timer this module's `_run`: Textual's own loop, with
the skip worked out by `ticks_passed`.
"""

from __future__ import annotations

from textual import _time
from textual._time import sleep
from textual.timer import EventTargetGone, Timer


def ticks_passed(start: float, interval: float, now: float) -> int:
    """How many ticks of a timer started at `start` are due by `now`: the next one to wait
    for is that count plus one. (Textual counted one more, and so waited a tick too long.)"""
    return int((now - start) / interval)


async def _run(self: Timer) -> None:
    """Textual's `Timer._run` (8.2.8), but for the count of ticks skipped when late."""
    count = 0
    _repeat = self._repeat
    _interval = self._interval
    self._active  # noqa: B018 (Textual makes the Event in this thread: kept as Textual has it)
    await self._active.wait()
    start = _time.get_time()

    while _repeat is None or count <= _repeat:
        next_timer = start + ((count + 1) * _interval)
        now = _time.get_time()
        if self._skip and next_timer < now:
            count = ticks_passed(start, _interval, now)
            continue
        now = _time.get_time()
        wait_time = max(0, next_timer - now)
        await sleep(wait_time)
        count += 1
        await self._active.wait()
        if self._reset:
            start = _time.get_time()
            count = 0
            self._reset = False
            continue
        try:
            await self._tick(next_timer=next_timer, count=count)
        except EventTargetGone:
            break


def keep_timers_on_tick() -> None:
    """Every Textual timer started from now on skips only the ticks it missed."""
    Timer._run = _run  # type: ignore[method-assign]
