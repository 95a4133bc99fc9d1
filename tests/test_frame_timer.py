"""The screen's frame timer, once late, waits for the next tick and not the one after it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from textual.timer import Timer

from vwtui.config import AwsConfig, Config
from vwtui.services.aws import AwsService
from vwtui.widgets import frame_timer
from vwtui.widgets.frame_timer import ticks_passed


@given(start=st.floats(0, 1e6), interval=st.floats(1e-3, 1.0),
       late=st.floats(1e-6, 1e3))
def test_a_late_timer_waits_for_the_first_tick_after_now(start: float, interval: float,
                                                         late: float) -> None:
    now = start + late
    next_tick = start + (ticks_passed(start, interval, now) + 1) * interval
    # Never a tick already past, and never more than one interval away (floats aside).
    assert now - 1e-9 * max(1.0, now) <= next_tick <= now + interval * (1 + 1e-9) + 1e-9


def test_textuals_own_count_waited_a_tick_more() -> None:
    """Why the module exists: Textual 8.2.8 counts int((now - start) / interval + 1), so a
    timer 1.5 intervals late waited 1.5 more, where the next tick is half an interval away."""
    start, interval, now = 0.0, 1 / 60, 1.5 / 60
    textual_next = start + (int((now - start) / interval + 1) + 1) * interval
    ours_next = start + (ticks_passed(start, interval, now) + 1) * interval
    assert round((textual_next - now) / interval, 6) == 1.5
    assert round((ours_next - now) / interval, 6) == 0.5


def test_the_console_runs_its_timers_on_it() -> None:
    from vwtui.app import VwtuiApp

    config = Config(aws=AwsConfig(region="eu-west-1"))
    VwtuiApp(config, AwsService(config))
    assert Timer._run is frame_timer._run
