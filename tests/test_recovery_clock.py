"""The RTO clock: computed from the start time, levels, ETA, RPO achieved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vwtui.recovery.clock import ClockLevel, RtoClock, format_duration

START = datetime(2025, 11, 11, 10, 0, tzinfo=UTC)
CLOCK = RtoClock(START, target=timedelta(hours=4), rpo_target=timedelta(hours=1))


def test_elapsed_is_now_minus_start() -> None:
    assert CLOCK.elapsed(START + timedelta(minutes=83)) == timedelta(minutes=83)
    assert CLOCK.elapsed(START - timedelta(seconds=5)) == timedelta(0)


def test_levels_by_threshold() -> None:
    assert CLOCK.level(START + timedelta(hours=2, minutes=59)) is ClockLevel.OK
    assert CLOCK.level(START + timedelta(hours=3)) is ClockLevel.WARN
    assert CLOCK.level(START + timedelta(hours=4)) is ClockLevel.BREACH
    symbols = {CLOCK.symbol(START), CLOCK.symbol(START + timedelta(hours=3)),
               CLOCK.symbol(START + timedelta(hours=5))}
    assert len(symbols) == 3


def test_eta_adds_remaining_estimates() -> None:
    now = START + timedelta(minutes=30)
    remaining = [timedelta(minutes=20), timedelta(minutes=30)]
    assert CLOCK.eta(now, remaining) == now + timedelta(minutes=50)
    assert CLOCK.eta_within_target(now, remaining)
    assert not CLOCK.eta_within_target(now, [timedelta(hours=4)])


def test_rpo_achieved_is_incident_minus_restore_point() -> None:
    incident = START - timedelta(minutes=10)
    assert CLOCK.rpo_achieved(incident, incident - timedelta(minutes=25)) == timedelta(minutes=25)
    assert CLOCK.rpo_met(incident, incident - timedelta(minutes=25)) is True
    assert CLOCK.rpo_met(incident, incident - timedelta(hours=2)) is False
    assert CLOCK.rpo_achieved(None, incident) is None


def test_stopped_clock_keeps_the_rto_achieved() -> None:
    stopped = CLOCK.stopped(START + timedelta(hours=1))
    assert stopped.elapsed(START + timedelta(hours=9)) == timedelta(hours=1)
    assert stopped.level(START + timedelta(hours=9)) is ClockLevel.OK


def test_format_duration() -> None:
    assert format_duration(timedelta(hours=1, minutes=2, seconds=3)) == "1:02:03"
    assert format_duration(timedelta(seconds=-61)) == "-0:01:01"
