"""The health view (`h`): each figure against sandbox accounts seeded to pass and to fail it,
unknown where AWS answers AccessDenied (the rest still shows), the restore test results from
the history file (damaged lines and an unreadable file each in their own place), and how it
looks at 80x24 and 160x48.

The figures' pure rules (vwtui.health) are tested first, without AWS or a terminal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_dashboard import NOW, DashboardEnv, wait_for_polls
from vwtui.screens.health import HealthScreen

from vwtui import health
from vwtui.app import VwtuiApp
from vwtui.checks import Unreadable
from vwtui.config import Config
from vwtui.fmt import Level
from vwtui.model import BackupJob, RecoveryPoint, Snapshot
from vwtui.recovery.history import HistoryRecord, append_record, history_path, read_history
from vwtui.sandbox.seed import demo_restore_history
from vwtui.services.aws import AwsService
from vwtui.services.early import MODE_ENV, start_view_reads

Start = Callable[..., DashboardEnv]
PROD = Config().instances.production
ARN = f"arn:aws:rds:eu-west-1:123456789012:db:{PROD}"
T0 = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)


def job(days_ago: float, state: str = "COMPLETED", resource: str = ARN) -> BackupJob:
    created = T0 - timedelta(days=days_ago)
    return BackupJob(job_id=f"j{days_ago}-{state}", vault="v", resource_arn=resource,
                     state=state, status_message=None, created=created,
                     completed=created + timedelta(minutes=20), size_bytes=1)


def snap(days_ago: float, status: str = "available", gb: int = 100) -> Snapshot:
    return Snapshot(identifier=f"rds:{PROD}-{days_ago}", arn="a", instance_identifier=PROD,
                    snapshot_type="automated", created=T0 - timedelta(days=days_ago),
                    status=status, allocated_storage_gb=gb, encrypted=True, engine="postgres",
                    engine_version="16.4")


def point(days_ago: float, size_gb: float) -> RecoveryPoint:
    return RecoveryPoint(arn=f"rp{days_ago}", vault="v", resource_arn=ARN, resource_type="RDS",
                         created=T0 - timedelta(days=days_ago), completed=None,
                         status="COMPLETED", size_bytes=int(size_gb * 1024**3), encrypted=True,
                         delete_after_days=30, iam_role_arn=None)


DENIED = Unreadable("the backup jobs", "Access denied: backup:ListBackupJobs was denied")


# ---- the rules ---------------------------------------------------------------------------------

def test_job_success_counts_per_day_and_judges_resolution() -> None:
    every_day = [job(k + 0.3) for k in range(30)]
    ok = health.job_success(every_day, PROD, T0)
    assert (ok.level, ok.summary) == (Level.OK, "100% (30 of 30)")
    assert len(ok.days) == 30 and ok.days[-1].day == T0.date()
    # Another database's failure is not this one's.
    other = health.job_success([*every_day, job(2, "FAILED", ARN + "-staging")], PROD, T0)
    assert other.level is Level.OK
    resolved = health.job_success([*every_day, job(5.5, "EXPIRED"), job(9.5, "ABORTED")],
                                  PROD, T0)
    assert resolved.level is Level.WARN and resolved.summary == "93% (30 of 32)"
    assert [lvl for lvl, _ in resolved.failures] == [Level.WARN, Level.WARN]
    assert resolved.days[-6].symbol == Level.WARN.symbol  # that day: one ok, one expired
    latest_failed = health.job_success([*every_day, job(0.1, "FAILED")], PROD, T0)
    assert latest_failed.level is Level.BAD
    assert latest_failed.failures[0][0] is Level.BAD
    assert health.job_success([], PROD, T0).summary == "none in 30 days"
    assert health.job_success([], PROD, T0).level is Level.BAD
    unknown = health.job_success(DENIED, PROD, T0)
    assert (unknown.level, unknown.summary) == (Level.UNKNOWN, "unknown")


def test_snapshot_success_counts_a_missed_day_inside_the_retention_only() -> None:
    # RDS keeps 7 days: a 30-day history of 7 snapshots is complete.
    week = [snap(k + 0.4) for k in range(7)]
    full = health.snapshot_success(week, T0, retention_days=7)
    assert (full.level, full.failed) == (Level.OK, 0)
    missed = health.snapshot_success([s for s in week if s.created and
                                      s.created.date() != (T0 - timedelta(days=3)).date()],
                                     T0, retention_days=7)
    assert missed.failed == 1 and missed.level is Level.BAD  # 5 of 6 is under 90 %
    assert "missed" in missed.failures[0][1]
    month = [snap(k + 0.4) for k in range(30)]
    failed = health.snapshot_success([*month, snap(1.2, "failed")], T0, retention_days=7)
    assert failed.failed == 1 and failed.level is Level.WARN  # a newer one is available
    assert failed.days[-2].symbol == Level.WARN.symbol
    # One failure in eight is under the 90 % a healthy month keeps.
    assert health.snapshot_success([*week, snap(1.2, "failed")], T0, 7).level is Level.BAD
    assert health.snapshot_success(DENIED, T0, 7).level is Level.UNKNOWN


def test_last_backup_against_the_limit() -> None:
    fresh = health.last_snapshot([snap(0.4), snap(1.4)], T0, 25)
    assert fresh.level is Level.OK and "within the 25 h limit" in fresh.line
    stale = health.last_job([job(1.3)], PROD, T0, 25)
    assert stale.level is Level.BAD and "over the 25 h limit" in stale.line
    assert health.last_job([job(0.2, "FAILED")], PROD, T0, 25).level is Level.BAD
    assert health.last_job(DENIED, PROD, T0, 25).level is Level.UNKNOWN


def test_size_trend_reuses_the_size_consistency_check() -> None:
    steady = [point(k + 0.2, 40 + (k % 3) * 0.1) for k in range(30)]
    trend = health.size_trend([snap(k) for k in range(8)], steady, PROD, T0, 0.2)
    assert trend.level is Level.OK and trend.verdict.id == "daily.size_consistency"
    assert len(trend.spark) == 30 and set(trend.spark) <= {"▇", "█"}
    dropped = health.size_trend([snap(k) for k in range(8)], [point(0.2, 16), *steady[1:]],
                                PROD, T0, 0.2)
    assert dropped.level is Level.BAD and dropped.spark[-1] == "▄"
    denied = health.size_trend([snap(k) for k in range(8)], DENIED, PROD, T0, 0.2)
    assert denied.level is Level.UNKNOWN and denied.unreadable is DENIED


def test_restore_tests_list_trend_and_damaged_lines(tmp_path: Path) -> None:
    for record in demo_restore_history(T0, Config()):
        append_record(record, tmp_path)
    with open(history_path(tmp_path), "a", encoding="utf-8") as handle:
        handle.write('{"kind": "drill", "torn\n')
    results = health.restore_tests(read_history(tmp_path))
    assert [t.verdict for t in results.tests][:5] == [
        "pass", "pass", "pass", "aborted", "RTO missed"]
    assert results.tests[0].finished_at > results.tests[-1].finished_at  # newest first
    assert len(results.trend) == len(results.tests)
    assert results.problems and "line 8" in results.problems[0]
    assert results.level is Level.WARN  # the newest passed, but a line is damaged
    assert health.restore_tests(read_history(tmp_path / "none")).level is Level.WARN
    unreadable = health.restore_tests("history.jsonl: Permission denied")
    assert unreadable.level is Level.UNKNOWN and unreadable.unreadable


def test_a_restore_test_over_its_target_or_unverified_fails() -> None:
    base = demo_restore_history(T0, Config())[-1]
    over = HistoryRecord(**{**base.__dict__, "rto_seconds": base.rto_target_seconds + 60})
    assert health.restore_test(over).verdict == "RTO missed"
    unverified = HistoryRecord(**{**base.__dict__, "verify_overall": "fail"})
    assert health.restore_test(unverified).level is Level.BAD
    assert health.restore_test(base).level is Level.OK


# ---- against the sandbox, through the screen ---------------------------------------------------

async def open_health(pilot: Any) -> HealthScreen:
    """From the loaded dashboard, h: wait until every health pane has drawn its reads."""
    await wait_for_polls(pilot)
    await pilot.press("h")
    for _ in range(600):
        screen = pilot.app.screen
        if isinstance(screen, HealthScreen) and screen.loads_completed:
            await pilot.pause()
            return screen
        await pilot.pause(0.05)
    raise AssertionError("the health view did not finish reading")


def body(screen: HealthScreen, pane: str) -> str:
    from textual.widgets import Static

    widget = screen.query_one(f"#{pane}")
    return "\n".join(str(s.content) for s in widget.query(Static))


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "vwtui"


async def test_healthy_account_passes_then_fails_when_seeded_to(dashboard_env: Start,
                                                                 state: Path) -> None:
    env = dashboard_env("healthy")
    for record in demo_restore_history(NOW, env.config):
        append_record(record, state)
    backup = env.sandbox._shim.backup
    aborted = {k: j for k, j in backup.backup_jobs.items() if j.state == "ABORTED"}
    app = env.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_health(pilot)
        success = screen.query_one("#success")
        jobs, snapshots = success.rates  # type: ignore[attr-defined]
        # The seed's two aborted on-demand jobs were followed by completed ones: a warning.
        assert (jobs.level, jobs.failed, snapshots.level) == (Level.WARN, 2, Level.OK)
        assert "93% (30 of 32)" in body(screen, "success")
        assert [x.level for x in screen.query_one("#last-backup").lasts] == [  # type: ignore
            Level.OK, Level.OK]
        assert screen.query_one("#size-trend").trend.level is Level.OK  # type: ignore
        restore = screen.query_one("#restore-tests").results  # type: ignore[attr-defined]
        assert restore.level is Level.OK and len(restore.tests) == 7
        assert "aws-backup" in body(screen, "restore-tests")

        # Seeded to pass: without the aborted jobs every day succeeded.
        for key in aborted:
            del backup.backup_jobs[key]
        await pilot.press("r")
        await _reloaded(pilot, screen, 2)
        assert screen.query_one("#success").rates[0].level is Level.OK  # type: ignore

        # Seeded to fail: yesterday's automated snapshot is gone (a missed day), and an
        # on-demand job failed after the last completed one (unresolved).
        rds = env.sandbox._shim.rds.backend
        yesterday = f"rds:{PROD}-{(NOW - timedelta(days=1)):%Y-%m-%d}-03-00"
        del rds.database_snapshots[yesterday]
        failed = next(iter(aborted.values()))
        failed.state, failed.created = "FAILED", NOW - timedelta(hours=1)
        backup.backup_jobs[failed.job_id] = failed
        await pilot.press("r")
        await _reloaded(pilot, screen, 3)
        jobs, snapshots = screen.query_one("#success").rates  # type: ignore[attr-defined]
        assert (jobs.level, snapshots.level) == (Level.BAD, Level.WARN)
        assert "no automated snapshot (missed)" in body(screen, "success")


async def _reloaded(pilot: Any, screen: HealthScreen, loads: int) -> None:
    for _ in range(600):
        if screen.loads_completed >= loads:
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("the health view did not refresh")


@pytest.mark.parametrize(("scenario", "pane", "expect"), [
    ("stale-backups", "last-backup", "over the 25 h limit"),
    ("failed-backup", "success", "does not have sufficient permissions"),
    ("backup-size-drop", "size-trend", "beyond the 20% tolerance"),
])
async def test_a_scenario_fails_its_figure(dashboard_env: Start, state: Path, scenario: str,
                                           pane: str, expect: str) -> None:
    app = dashboard_env(scenario).app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_health(pilot)
        widget = screen.query_one(f"#{pane}")
        assert widget.badge is Level.BAD  # type: ignore[attr-defined]
        assert expect in body(screen, pane)


async def test_access_denied_is_unknown_in_its_own_place(dashboard_env: Start,
                                                         state: Path) -> None:
    env = dashboard_env("no-backup-access")  # every AWS Backup call answers AccessDenied
    state.mkdir(parents=True)
    history_path(state).write_text("not json\n", encoding="utf-8")
    app = env.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_health(pilot)
        jobs, snapshots = screen.query_one("#success").rates  # type: ignore[attr-defined]
        assert (jobs.level, jobs.summary) == (Level.UNKNOWN, "unknown")
        assert snapshots.level is Level.OK  # RDS still answers: the rest still shows
        errors = screen.query_one("#success").errors  # type: ignore[attr-defined]
        assert any("backup:ListBackupJobs" in e for e in errors)
        last = screen.query_one("#last-backup").lasts  # type: ignore[attr-defined]
        assert [x.level for x in last] == [Level.OK, Level.UNKNOWN]
        assert screen.query_one("#size-trend").badge is Level.UNKNOWN  # type: ignore
        restore = body(screen, "restore-tests")
        assert "damaged: history.jsonl line 1" in restore


async def test_an_unreadable_history_file_is_said_in_its_pane(dashboard_env: Start,
                                                              state: Path) -> None:
    env = dashboard_env("healthy")
    # A directory where the file should be: unreadable whoever runs the test (root included).
    history_path(state).mkdir(parents=True)
    app = env.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_health(pilot)
        pane = screen.query_one("#restore-tests")
        assert pane.badge is Level.UNKNOWN  # type: ignore[attr-defined]
        assert "History file unreadable" in body(screen, "restore-tests")
        assert screen.query_one("#success").badge is Level.WARN  # type: ignore


# ---- how it looks ------------------------------------------------------------------------------

def _seeded(state: Path) -> None:
    for record in demo_restore_history(NOW, Config()):
        append_record(record, state)


def test_health_view_80x24(dashboard_env: Start, snap_compare: Any, state: Path) -> None:
    env = dashboard_env("healthy")
    _seeded(state)
    assert snap_compare(env.app(), terminal_size=(80, 24), run_before=open_health)


def test_health_view_wide_160x48(dashboard_env: Start, snap_compare: Any, state: Path) -> None:
    env = dashboard_env("failed-backup")
    _seeded(state)
    assert snap_compare(env.app(), terminal_size=(160, 48), run_before=open_health)


@pytest.mark.parametrize("mode", ["thread", "process"])
async def test_vwtui_health_opens_on_the_view_its_reads_started_before_the_ui(
        dashboard_env: Start, state: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """`vwtui health`: the view's reads go out before the app exists (in a forked child, or a
    thread), the app opens on the health view, and each list is read once."""
    monkeypatch.setenv(MODE_ENV, mode)
    env = dashboard_env("healthy")
    aws = AwsService(env.config)
    calls = ("backup:ListBackupJobs", "rds:DescribeDBSnapshots",
             "backup:ListRecoveryPointsByBackupVault")
    before = {op: len(env.sandbox.calls(op)) for op in calls}
    start_view_reads(aws, env.config, env.config.instances.production, "health", now=NOW)
    assert aws.early.mode == mode
    app = VwtuiApp(env.config, aws, clock=lambda: NOW, view="health")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, HealthScreen)
        for _ in range(600):
            if screen.loads_completed:
                break
            await pilot.pause(0.05)
        assert screen.loads_completed == 1
        assert "93% (30 of 32)" in body(screen, "success")
        assert aws.early.pending() == []
        assert {op: len(env.sandbox.calls(op)) - before[op] for op in calls} == {
            op: 1 for op in calls}
        # Once drawn, the clients the child made are made here too, for the next read.
        await asyncio.to_thread(aws.early.warmed.wait, 30)
        assert aws.early.warmed.is_set()
        if mode == "process":
            assert {"backup", "rds", "sts"} <= set(aws._clients)
    with pytest.raises(ValueError, match="view must be one of"):
        VwtuiApp(env.config, aws, view="nowhere")
