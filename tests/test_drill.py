"""The monthly drill's pure decisions and its checks on a real PostgreSQL: rotation, due date,
the drill pattern's refusals, escalation, the monthly recovery test item, the foreign keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vwtui.checks.drill import check_monthly_recovery_test
from vwtui.config import Config, from_mapping
from vwtui.errors import ConfigError
from vwtui.model import Verdict
from vwtui.recovery import drill as dr
from vwtui.recovery.clock import RtoClock
from vwtui.recovery.history import read_history
from vwtui.recovery.plan import Scenario
from vwtui.recovery.steps.drill import judge_drill_checks
from vwtui.services.pg import PgService

NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)


def test_rotation_follows_the_last_drill_else_the_calendar(tmp_path: Path) -> None:
    from vwtui.demo import seed_drill_history

    assert dr.rotation_method(None, NOW).method is Scenario.SNAPSHOT  # November: 11 mod 3 = 2
    assert dr.calendar_method(NOW.replace(month=1)) is Scenario.PITR
    assert dr.calendar_method(NOW.replace(month=3)) is Scenario.AWS_BACKUP
    seed_drill_history(Config(), NOW, tmp_path)
    history = read_history(tmp_path)
    drills = history.of_kind("drill")
    assert len(drills) == 3 and sum(not r.rto_met for r in drills) == 1
    assert drills[-1].method == Scenario.AWS_BACKUP.value
    assert dr.rotation_method(history, NOW).method is Scenario.PITR  # after AWS Backup
    # The last drill was in October: November's first Monday, the 3rd, is past: overdue.
    assert dr.next_due(history.last("drill"), NOW) == datetime(2025, 11, 3, tzinfo=UTC)
    assert "Next drill Mon 2025-11-03 (overdue 8 d), PITR" in dr.due_line(history, NOW)
    # The last drill (October 6th) met the RTO: fine for 31 days, not 36.
    assert check_monthly_recovery_test(history, NOW).verdict is Verdict.FAIL
    assert check_monthly_recovery_test(history, NOW - timedelta(days=10)).verdict \
        is Verdict.PASS


def test_monthly_item_fails_when_old_missed_or_missing(tmp_path: Path) -> None:
    from vwtui.checks.common import Unreadable
    from vwtui.demo import seed_drill_history

    seed_drill_history(Config(), NOW, tmp_path)
    history = read_history(tmp_path)
    later = NOW + timedelta(days=20)
    assert check_monthly_recovery_test(history, later).verdict is Verdict.FAIL
    # The RTO missed (September's snapshot drill) fails the item even when recent.
    missed = max((r for r in history.records if not r.rto_met), key=lambda r: r.finished_at)
    from vwtui.recovery.history import HistoryRead

    only_missed = HistoryRead(records=(missed,))
    assert check_monthly_recovery_test(only_missed, missed.finished_at + timedelta(days=1)
                                       ).verdict is Verdict.FAIL
    assert check_monthly_recovery_test(read_history(tmp_path / "none"), NOW).verdict \
        is Verdict.FAIL
    assert check_monthly_recovery_test(Unreadable("the log", "denied"), NOW).verdict \
        is Verdict.UNKNOWN


@pytest.mark.parametrize("pattern", ["{staging}", "video-window-st{date:%a}", "{date:%a}",
                                     "{production}-{date:%Y}", "video-window{date:}"])
def test_a_drill_pattern_that_could_name_a_protected_instance_is_refused(pattern: str) -> None:
    with pytest.raises(ConfigError, match=r"drill\.target_pattern"):
        from_mapping({"drill": {"target_pattern": pattern}})


def test_the_drill_request_is_staging_an_hour_ago_with_an_rpo() -> None:
    config = Config()
    request = dr.drill_request(config, Scenario.PITR, NOW, rotation=Scenario.PITR)
    assert request.source == "video-window-staging" and request.drill
    assert request.target == "video-window-staging-test-20251111"
    assert request.restore_time == NOW - timedelta(hours=1)
    assert request.incident_time == NOW
    with pytest.raises(Exception, match="Say why"):
        dr.drill_request(config, Scenario.SNAPSHOT, NOW, rotation=Scenario.PITR)


def test_escalation_at_75_percent_breach_and_failure() -> None:
    clock = RtoClock(NOW, target=timedelta(hours=4), rpo_target=timedelta(hours=1))
    assert dr.escalation_level(clock, NOW + timedelta(hours=1), drill=True, failed=False) is None
    assert dr.escalation_level(clock, NOW + timedelta(hours=3), drill=True,
                               failed=False) is dr.Escalation.WARNING
    assert dr.escalation_level(clock, NOW + timedelta(hours=5), drill=False,
                               failed=False) is dr.Escalation.BREACH
    assert dr.escalation_level(clock, NOW, drill=True, failed=True) is dr.Escalation.FAILED
    lines = dr.escalation_lines(Config(), dr.Escalation.BREACH)
    assert "CTO" in lines[1] and "Business" in lines[3]


async def test_every_foreign_key_is_checked_for_orphans(pg_config: Config) -> None:
    report = await PgService(pg_config).drill_checks()
    result = report.result("foreign_key_orphans")
    assert result is not None and result.error is None, result
    assert result.rows, "the demo schema has foreign keys"
    checks = judge_drill_checks(report)
    assert [c.key for c in checks] == ["foreign_keys"]
    assert checks[0].verdict.value == "pass", checks[0].detail
