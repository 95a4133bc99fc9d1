"""The RTO clock and the step list as widgets: what they say at each level, from the recorded
start time, never from counting ticks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from vwtui.recovery.clock import RtoClock
from vwtui.recovery.state import StepState, StepStatus
from vwtui.widgets.rto_clock import RtoClockWidget, render_clock
from vwtui.widgets.steps import StepList

START = datetime(2025, 11, 11, 10, 0, tzinfo=UTC)
CLOCK = RtoClock(START, target=timedelta(hours=4), rpo_target=timedelta(hours=1))


def test_clock_level_reads_without_colour() -> None:
    ok = render_clock(CLOCK, START + timedelta(hours=1), [timedelta(minutes=30)],
                      timedelta(minutes=20)).plain
    warn = render_clock(CLOCK, START + timedelta(hours=3, minutes=1), [timedelta(hours=2)],
                        timedelta(minutes=90)).plain
    breach = render_clock(CLOCK, START + timedelta(hours=4, minutes=5), [], None).plain
    assert ok.startswith(" ● RTO 1:00:00 / 4 h on time")
    assert "ETA 11:30 UTC (+0:30:00)" in ok and "RPO 0:20:00 ✓" in ok
    assert warn.startswith(" ▲ RTO 3:01:00 / 4 h over 75%")
    assert "ETA 15:01 UTC (+2:00:00) ▲late" in warn and "RPO 1:30:00 ✗ over" in warn
    assert breach.startswith(" ✖ RTO 4:05:00 / 4 h BREACHED") and "RPO –" in breach


def test_stopped_clock_shows_the_rto_achieved() -> None:
    stopped = CLOCK.stopped(START + timedelta(hours=2))
    text = render_clock(stopped, START + timedelta(hours=9), [timedelta(hours=1)], None).plain
    assert "RTO 2:00:00" in text and "finished 12:00 UTC" in text


def test_clock_of_an_aborted_run_claims_no_rto() -> None:
    stopped = CLOCK.stopped(START + timedelta(minutes=70))
    text = render_clock(stopped, START + timedelta(hours=9), [], timedelta(minutes=5),
                        ended="aborted").plain
    assert "RTO clock stopped at 1:10:00 · aborted 11:10 UTC · no recovery" in text
    assert "on time" not in text and "RPO" not in text


class _Source:
    def __init__(self) -> None:
        self.clock = CLOCK
        self.rpo_achieved = timedelta(minutes=5)

    def remaining_estimates(self, now: datetime) -> list[timedelta]:
        return [timedelta(minutes=10)]


class _Gallery(App[None]):
    def __init__(self, now: list[datetime]) -> None:
        super().__init__()
        self.moment = now

    def compose(self) -> ComposeResult:
        yield RtoClockWidget(_Source(), now=lambda: self.moment[0])
        yield StepList()


async def test_clock_widget_recomputes_from_the_start_time() -> None:
    moment = [START + timedelta(minutes=10)]
    app = _Gallery(moment)
    async with app.run_test(size=(80, 24)) as pilot:
        widget = app.query_one(RtoClockWidget)
        assert "RTO 0:10:00" in str(widget.content) and widget.has_class("-ok")
        # Hours pass (a laptop asleep, an SSH session gone): the next refresh is right at once.
        moment[0] = START + timedelta(hours=3, minutes=30)
        widget.refresh_clock()
        await pilot.pause()
        assert "RTO 3:30:00" in str(widget.content) and widget.has_class("-warn")
        assert not widget.has_class("-ok")


async def test_step_list_updates_rows_in_place() -> None:
    app = _Gallery([START])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(StepList)
        steps = [StepState("restore", "Restore", estimate=timedelta(minutes=5)),
                 StepState("wait", "Wait", estimate=timedelta(minutes=20))]
        table.show(steps, START)
        table.move_cursor(row=1)
        steps[0].status, steps[0].started_at = StepStatus.RUNNING, START
        steps[0].progress = "creating (poll 3)"
        table.show(steps, START + timedelta(seconds=75))
        await pilot.pause()
        assert table.cursor_row == 1  # the engineer's cursor stays put
        assert str(table.get_cell("restore", "state")) == "▶ running"
        assert table.get_cell("restore", "elapsed") == "0:01:15"
        # The list says what the step waits for; the poll count is the detail's.
        assert str(table.get_cell("restore", "step")) == "Restore — creating"
        updates = table._update_count  # DataTable's count of changes (each redraws every cell)
        steps[0].progress = "creating (poll 4)"
        table.show(steps, START + timedelta(seconds=75))
        assert table._update_count == updates  # the next poll changes no cell
        steps[0].progress = "backing-up (poll 5)"
        table.show(steps, START + timedelta(seconds=75))
        assert str(table.get_cell("restore", "step")) == "Restore — backing-up"
        steps[1].status, steps[1].skip_reason = StepStatus.SKIPPED, "done by hand"
        table.show(steps, START)
        assert str(table.get_cell("wait", "step")) == "Wait — done by hand"
