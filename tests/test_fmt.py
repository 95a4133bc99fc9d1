"""Formatting helpers: durations, UTC times, sizes, ARNs, RPO and alarm levels (no Textual, no
AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from vwtui import fmt
from vwtui.fmt import Level
from vwtui.model import AlarmState


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(seconds=45), "45s"),
    (timedelta(minutes=12, seconds=59), "12m"),
    (timedelta(hours=3, minutes=12), "3h 12m"),
    (timedelta(hours=3), "3h"),
    (timedelta(hours=23, minutes=59), "23h 59m"),
    (timedelta(days=2, hours=4, minutes=30), "2d 4h"),
    (timedelta(days=2), "2d"),
    (timedelta(days=29, hours=23), "29d"),
    (timedelta(seconds=-5), "0s"),
    (None, "—"),
])
def test_ages_read_as_an_engineer_says_them(delta: timedelta | None, text: str) -> None:
    assert fmt.age(delta) == text


def test_times_are_shown_in_utc_whatever_zone_they_come_in() -> None:
    moment = datetime(2025, 11, 11, 5, 30, 7, tzinfo=timezone(timedelta(hours=2)))
    assert fmt.utc(moment) == "2025-11-11 03:30"
    assert fmt.utc(moment, seconds=True) == "2025-11-11 03:30:07"
    assert fmt.utc(moment, year=False) == "11-11 03:30"
    assert fmt.utc(None) == "—"
    assert fmt.clock(moment) == "03:30:07"
    # In a sentence: the zone said, and a word of the caller's for an unknown moment.
    assert fmt.utc(moment, seconds=True, zone=True) == "2025-11-11 03:30:07 UTC"
    assert fmt.utc(None, zone=True, missing="unknown time") == "unknown time"
    assert fmt.clock(moment, seconds=False, zone=True) == "03:30 UTC"


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(minutes=12, seconds=59), "12 min"),
    (timedelta(hours=1), "1 h"),
    (timedelta(hours=26, minutes=5), "26 h 5 min"),
    (timedelta(hours=47, minutes=59), "47 h 59 min"),
    (timedelta(hours=48), "2 d"),
    (timedelta(days=3, hours=4), "3 d 4 h"),
    (timedelta(seconds=-5), "in the future"),
])
def test_durations_in_a_sentence(delta: timedelta, text: str) -> None:
    assert fmt.duration(delta) == text


def test_configured_hours_estimates_and_stopwatch() -> None:
    assert fmt.in_hours(25) == "25 h"
    assert fmt.in_hours(1.0) == "1 h"
    assert fmt.in_hours(0.5) == "30 min"
    assert fmt.estimate(timedelta(minutes=5)) == "5 min"
    assert fmt.estimate(timedelta(minutes=119)) == "119 min"  # fits the six-wide column
    assert fmt.estimate(timedelta(minutes=150)) == "2.5 h"
    assert fmt.stopwatch(timedelta(hours=1, minutes=2, seconds=3)) == "1:02:03"
    assert fmt.stopwatch(timedelta(seconds=-61)) == "-0:01:01"
    assert fmt.stopwatch(timedelta(hours=26)) == "26:00:00"


def test_iso_times_are_utc_with_a_z() -> None:
    moment = datetime(2025, 11, 11, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    assert fmt.iso(moment) == "2025-11-11T10:30:00Z"
    assert fmt.iso(moment.replace(microsecond=250)) == "2025-11-11T10:30:00.000250Z"
    assert fmt.iso(None) is None
    # What it writes reads back as the same moment.
    assert datetime.fromisoformat(fmt.iso(moment)) == moment


@pytest.mark.parametrize(("arn", "short"), [
    ("arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-1234", "awsbackup:job-1234"),
    ("arn:aws:rds:eu-west-1:123456789012:db:video-window", "video-window"),
    ("arn:aws:backup:eu-west-1:123456789012:recovery-point:abc-123", "abc-123"),
    ("arn:aws:kms:eu-west-1:123456789012:key/abc", "key/abc"),
    ("rds:video-window-2025-11-10-03-00", "rds:video-window-2025-11-10-03-00"),
    ("", ""),
])
def test_short_arn_is_the_resource_part(arn: str, short: str) -> None:
    assert fmt.short_arn(arn) == short


def test_age_since_measures_from_now() -> None:
    now = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
    assert fmt.age_since(now - timedelta(hours=7, minutes=5), now) == "7h 5m"
    assert fmt.age_since(None, now) == "—"


def test_sizes_in_gigabytes() -> None:
    assert fmt.gigabytes(21 * 1024**3 + 1024**3 // 2) == "21.5 GB"
    assert fmt.gigabytes(None) == "—"
    assert fmt.gigabytes(41 * 1024**3) == "41.0 GB"  # binary GB, as the RDS console counts
    assert fmt.storage(100) == "100 GB"


@pytest.mark.parametrize(("exposure", "level"), [
    (timedelta(minutes=5), Level.OK),
    (timedelta(minutes=30), Level.OK),
    (timedelta(minutes=31), Level.WARN),
    (timedelta(hours=1), Level.WARN),
    (timedelta(hours=1, seconds=1), Level.BAD),
    (None, Level.UNKNOWN),
])
def test_rpo_exposure_against_the_one_hour_target(exposure: timedelta | None,
                                                   level: Level) -> None:
    assert fmt.rpo_level(exposure, 1.0) is level


def test_backup_older_than_the_limit_is_bad() -> None:
    assert fmt.backup_age_level(timedelta(hours=24, minutes=59), 25) is Level.OK
    assert fmt.backup_age_level(timedelta(hours=30), 25) is Level.BAD
    assert fmt.backup_age_level(None, 25) is Level.BAD


def test_alarm_states_carry_a_symbol_as_well_as_a_colour() -> None:
    assert fmt.alarm_badge(AlarmState.OK) == "✔ OK"
    assert fmt.alarm_badge(AlarmState.ALARM) == "✖ ALARM"
    assert fmt.alarm_badge(AlarmState.INSUFFICIENT_DATA) == "? INSUFFICIENT"
    assert fmt.alarm_badge(AlarmState.OK, exists=False) == "✖ MISSING"
    assert fmt.alarm_level(AlarmState.ALARM) is Level.BAD


def test_statuses_and_the_worst_of_several_levels() -> None:
    assert fmt.status_level("available") is Level.OK
    assert fmt.status_level("COMPLETED") is Level.OK
    assert fmt.status_level("failed") is Level.BAD
    assert fmt.status_level("creating") is Level.WARN
    assert fmt.worst([Level.OK, Level.WARN, Level.OK]) is Level.WARN
    assert fmt.worst([Level.WARN, Level.BAD]) is Level.BAD
    assert fmt.worst([]) is Level.OK


def test_plural() -> None:
    assert fmt.plural(1, "snapshot") == "1 snapshot"
    assert fmt.plural(30, "snapshot") == "30 snapshots"
