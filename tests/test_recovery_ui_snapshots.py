"""How the recovery screens look, as SVG snapshots (pytest-textual-snapshot), at 80x24.

Fixed clocks only: the chooser against the sandbox seeded at NOW with the app's clock at NOW;
the RTO clock and step list in a small app of their own, fed fixed states, in colour and with
NO_COLOR (the level must read from the symbol and the word alone). Review a changed SVG like
code: `pytest tests/test_recovery_ui_snapshots.py --snapshot-update`, then look at the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from recovery_ui_env import NOW, RecoveryEnv, recovery_env, wait_until  # noqa: F401
from textual.app import App, ComposeResult
from textual.widgets import Input, Static
from vwtui.screens.recovery_choose import ChooseScreen
from vwtui.screens.recovery_style import CSS_PATH

from vwtui.recovery.clock import RtoClock
from vwtui.recovery.state import StepState, StepStatus
from vwtui.widgets.rto_clock import RtoClockWidget
from vwtui.widgets.steps import StepList

Start = Callable[..., RecoveryEnv]


class FixedRun:
    """A clock source with fixed figures (what a RecoveryRun offers the widget)."""

    def __init__(self, elapsed: timedelta, remaining: timedelta, rpo: timedelta | None) -> None:
        self.clock = RtoClock(NOW - elapsed, target=timedelta(hours=4),
                              rpo_target=timedelta(hours=1))
        self._remaining = remaining
        self.rpo_achieved = rpo

    def remaining_estimates(self, now: Any) -> list[timedelta]:
        return [self._remaining]


def _steps() -> list[StepState]:
    start = NOW - timedelta(minutes=50)
    return [
        StepState("restore", "Restore video-window to 2025-11-11 10:30:00 UTC", StepStatus.DONE,
                  start, start + timedelta(minutes=2), estimate=timedelta(minutes=5)),
        StepState("wait", "Wait until video-window-recovery-202511111110 is available",
                  StepStatus.DONE, start + timedelta(minutes=2), start + timedelta(minutes=31),
                  estimate=timedelta(minutes=20)),
        StepState("verify", "Verify the data (validation queries)", StepStatus.FAILED,
                  start + timedelta(minutes=31), start + timedelta(minutes=40),
                  estimate=timedelta(minutes=30)),
        StepState("swap", "Swap: point db.videowindow.internal. at the recovery instance",
                  StepStatus.WAITING, NOW - timedelta(minutes=5),
                  estimate=timedelta(minutes=15), progress="tick 2 of 3"),
        StepState("cleanup", "Delete the replaced instance", StepStatus.SKIPPED, NOW, NOW,
                  estimate=timedelta(minutes=10), skip_reason="kept for a day"),
        StepState("extra", "A step still to come", StepStatus.PENDING,
                  estimate=timedelta(minutes=10)),
    ]


class ClockGallery(App[None]):
    """The RTO clock at each level, and a step in each state."""

    CSS_PATH = CSS_PATH

    def compose(self) -> ComposeResult:
        yield Static("RTO clock: on time, 75% used, breached; then every step state")
        yield RtoClockWidget(FixedRun(timedelta(minutes=50), timedelta(minutes=85),
                                      timedelta(minutes=20)), now=lambda: NOW)
        yield RtoClockWidget(FixedRun(timedelta(hours=3, minutes=10), timedelta(minutes=40),
                                      timedelta(minutes=75)), now=lambda: NOW)
        yield RtoClockWidget(FixedRun(timedelta(hours=4, minutes=2), timedelta(minutes=25),
                                      None), now=lambda: NOW)
        yield StepList(id="run-steps")

    def on_mount(self) -> None:
        self.query_one(StepList).show(_steps(), NOW)


def test_rto_clock_and_steps_80x24(snap_compare: Any) -> None:
    assert snap_compare(ClockGallery(), terminal_size=(80, 24))


def test_rto_clock_and_steps_no_color_80x24(snap_compare: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(ClockGallery(), terminal_size=(80, 24))


async def open_chooser_at_now(pilot: Any, app: Any) -> Any:
    """n on the dashboard; the chooser once it has read AWS."""
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(app.screen, ChooseScreen)
                     and app.screen.loaded, "the chooser")
    return app.screen


def test_chooser_refuses_a_time_outside_the_window_80x24(recovery_env: Start,
                                                         snap_compare: Any) -> None:
    env = recovery_env(now=NOW)
    app = env.app(clock=lambda: NOW)

    async def refused(pilot: Any) -> None:
        screen = await open_chooser_at_now(pilot, app)
        screen.query_one("#incident", Input).value = "2025-11-11T11:00:00Z"
        screen.query_one("#restore-time", Input).value = "2025-11-01T10:30:00Z"
        screen.query_one("#restore-time").focus()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=refused)


def test_chooser_lists_snapshots_with_whole_identifiers_80x24(recovery_env: Start,
                                                              snap_compare: Any) -> None:
    """Scenario 2 at 80 columns: every row's snapshot identifier is whole, not cut."""
    env = recovery_env(now=NOW)
    app = env.app(clock=lambda: NOW)

    async def snapshot_restore(pilot: Any) -> None:
        screen = await open_chooser_at_now(pilot, app)
        await pilot.press("2")  # the chooser asks when the damage began, first
        screen.query_one("#incident", Input).value = "2025-11-11T11:00:00Z"
        screen.query_one("#snapshots").focus()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=snapshot_restore)
