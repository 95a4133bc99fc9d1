"""The backup dashboard at 80x24 against the sandbox account, driven by keys (Pilot).

The app is the product's code end to end: its AwsService talks HTTP to the sandbox (moto plus
the shim), so what the panes show is what AWS answered. Expected values come from the
scenario (30 days of daily automated snapshots at 03:00 UTC) or from asking the sandbox
directly, never from the app itself.
"""

from __future__ import annotations

import io
import json
import os
from argparse import Namespace
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fixtures_dashboard import NOW, DashboardEnv, wait_for_polls
from rich.console import Console
from rich.text import Text
from textual.widgets import Static, Tab
from vwtui.screens.dashboard import DashboardScreen
from vwtui.screens.help import HelpScreen

from vwtui.app import VwtuiApp
from vwtui.config import AwsConfig, Config, InstancesConfig, UiConfig
from vwtui.console import run_console
from vwtui.errors import ConfigError
from vwtui.fmt import Level
from vwtui.services.aws import AwsService
from vwtui.widgets.activity_panes import AlarmsPane, EventsPane
from vwtui.widgets.backup_panes import RecoveryPointsPane, SnapshotsPane
from vwtui.widgets.context_bar import ContextBar
from vwtui.widgets.instance_pane import InstancePane
from vwtui.widgets.pane import Pane

Start = Callable[..., DashboardEnv]
SIZE = (80, 24)
NEWEST_AUTOMATED = f"rds:video-window-{NOW:%Y-%m-%d}-03-00"


def _text(widget: Static) -> str:
    """What a Static shows, as plain text (a rich renderable is rendered 200 columns wide)."""
    content = widget.content
    if isinstance(content, (str, Text)):
        return str(content)
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    console.print(content)
    return console.export_text()


async def test_every_pane_fills_from_the_sandbox(dashboard_env: Start, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    timings = tmp_path / "timings.jsonl"
    monkeypatch.setenv("VWTUI_TIMINGS", str(timings))  # what bench/dashboard.py reads
    env = dashboard_env("healthy")
    rds, backup = env.client("rds"), env.client("backup")
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)

        instance = screen.query_one(InstancePane)
        assert instance.instance is not None and instance.instance.identifier == "video-window"
        assert instance.instance.storage_encrypted and instance.instance.backup_retention_days == 7
        window = rds.describe_db_instance_automated_backups(
            DBInstanceIdentifier="video-window")["DBInstanceAutomatedBackups"][0]["RestoreWindow"]
        body = _text(instance.query_one(".instance-body", Static))
        assert f"{window['EarliestTime']:%Y-%m-%d %H:%M:%S} → " in body
        assert f"{window['LatestTime']:%Y-%m-%d %H:%M:%S} UTC" in body
        assert instance.rpo_level is Level.OK and "(target < 1h)" in body

        snapshots = screen.query_one(SnapshotsPane)
        shown_ids = snapshots.column_values("id")
        assert shown_ids[0] == NEWEST_AUTOMATED
        assert snapshots.column_values("type").count("auto") == 30
        listed = rds.describe_db_snapshots(DBInstanceIdentifier="video-window")["DBSnapshots"]
        assert sorted(shown_ids) == sorted(s["DBSnapshotIdentifier"] for s in listed)
        assert snapshots.column_values("created")[0] == f"{NOW:%m-%d} 03:00"
        assert snapshots.column_values("age")[0] == "9h"

        points = screen.query_one(RecoveryPointsPane)
        in_vault = backup.list_recovery_points_by_backup_vault(
            BackupVaultName="video-window-backup-vault")["RecoveryPoints"]
        production = [p for p in in_vault if p["ResourceArn"].endswith(":db:video-window")]
        assert len(production) < len(in_vault)  # the vault holds staging's points too
        assert points.table.row_count == len(production) > 0
        assert set(points.column_values("status")) == {"COMPLETED"}

        alarms = screen.query_one(AlarmsPane)
        assert alarms.column_values("name") == ["video-window-backup-age",
                                                "video-window-backup-failure"]
        assert alarms.column_values("state") == ["✔ OK", "✔ OK"]

        events = screen.query_one(EventsPane)
        assert events.events and all(e.source_identifier == "video-window" for e in events.events)
        jobs = backup.list_backup_jobs(ByState="FAILED",
                                       ByCreatedAfter=NOW - timedelta(days=7))["BackupJobs"]
        # Only the watched instance's jobs (ByResourceArn): staging's failure is not listed.
        assert jobs and all(j["ResourceArn"].endswith(":db:video-window-staging") for j in jobs)
        ours = [j["BackupJobId"] for j in jobs if j["ResourceArn"].endswith(":db:video-window")]
        assert [j.job_id for j in events.failed_jobs] == ours

        bar = _text(screen.query_one(ContextBar))
        assert "PRODUCTION" in bar and "video-window" in bar
        assert "acct 123456789012" in bar and "eu-west-1" in bar
        assert all(not pane.errors for pane in (instance, snapshots, points, alarms, events))
    events_seen = [json.loads(line)["event"] for line in timings.read_text().splitlines()]
    # The first snapshot rows (bench/scale.py) come before every pane has loaded.
    assert sorted(events_seen) == ["all_loaded", "first_frame", "first_rows"]
    assert events_seen.index("first_rows") < events_seen.index("all_loaded")


async def test_f_filters_snapshots_by_type(dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    async with env.app().run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        snapshots = screen.query_one(SnapshotsPane)
        everything = snapshots.table.row_count
        await pilot.press("f")
        assert snapshots.type_filter == "automated"
        assert set(snapshots.column_values("type")) == {"auto"}
        assert snapshots.table.row_count == 30
        await pilot.press("f")
        manual = snapshots.column_values("type")
        assert set(manual) == {"manual"} and len(manual) == everything - 30
        await pilot.press("f")
        assert snapshots.type_filter == "all" and snapshots.table.row_count == everything


async def test_r_refreshes_and_the_cursor_stays_on_its_snapshot(dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    async with env.app().run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        snapshots = screen.query_one(SnapshotsPane)
        await pilot.press("down", "down", "down")
        chosen = snapshots.highlighted_key
        assert chosen is not None and chosen != NEWEST_AUTOMATED
        env.client("rds").create_db_snapshot(DBInstanceIdentifier="video-window",
                                             DBSnapshotIdentifier="video-window-before-test")
        await pilot.press("r")
        await wait_for_polls(pilot, 2)
        assert "video-window-before-test" in snapshots.column_values("id")
        assert snapshots.highlighted_key == chosen


async def test_question_mark_lists_the_keys_of_the_dashboard(dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    async with env.app().run_test(size=SIZE) as pilot:
        await wait_for_polls(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        assert "every 0 s" not in _text(help_screen.query_one("#help-note", Static))
        assert "Auto-refresh is off" in _text(help_screen.query_one("#help-note", Static))
        view = dict(help_screen.groups["This view"])
        assert view["r"] == "Refresh" and view["f"] == "Filter type"
        assert dict(help_screen.groups["Everywhere"])["q"] == "Quit"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, HelpScreen)


async def test_a_denied_call_shows_in_its_pane_and_the_others_still_fill(
        dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    env.sandbox.deny("ListRecoveryPointsByBackupVault")
    async with env.app().run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        points = screen.query_one(RecoveryPointsPane)
        assert points.table.row_count == 0
        assert len(points.errors) == 1
        assert points.errors[0].startswith("Access denied: backup:ListRecoveryPointsByBackupVault")
        assert "✖" in str(screen.query_one("#tab-recovery-points", Tab).label)
        await pilot.press("2")
        await pilot.pause()
        assert points.query_one(".pane-error").display
        error_row = _text(points.query_one(".pane-error", Static))
        assert "backup:ListRecoveryPointsByBackupVault" in error_row
        # The other panes filled, including the events pane, whose backup call was allowed.
        assert screen.query_one(SnapshotsPane).column_values("id")[0] == NEWEST_AUTOMATED
        assert screen.query_one(AlarmsPane).table.row_count == 2
        # (read: production has no failed job; staging's is not the watched instance's)
        assert screen.query_one(EventsPane).jobs_read
        assert screen.query_one(InstancePane).instance is not None
        for pane in (SnapshotsPane, AlarmsPane, EventsPane, InstancePane):
            assert not screen.query_one(pane).errors


async def test_stale_backups_show_the_alarm_and_an_old_newest_snapshot(
        dashboard_env: Start) -> None:
    env = dashboard_env("stale-backups")
    async with env.app().run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        alarms = screen.query_one(AlarmsPane)
        states = dict(zip(alarms.column_values("name"), alarms.column_values("state"),
                          strict=True))
        assert states["video-window-backup-age"] == "✖ ALARM"
        assert alarms.badge is Level.BAD
        assert "✖" in str(screen.query_one("#tab-alarms", Tab).label)
        snapshots = screen.query_one(SnapshotsPane)
        newest = snapshots.newest_automated()
        assert newest is not None and newest.age(NOW) >= timedelta(hours=30)
        assert "newest automated ✖ 1d 6h" in _text(snapshots.query_one(".pane-status", Static))


async def test_auto_refresh_polls_again_after_the_previous_poll(dashboard_env: Start) -> None:
    env = dashboard_env("healthy", refresh_seconds=1)
    async with env.app().run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        env.client("rds").create_db_snapshot(DBInstanceIdentifier="video-window",
                                             DBSnapshotIdentifier="video-window-while-watching")
        await wait_for_polls(pilot, 2)  # no key pressed: the timer polled
        assert "video-window-while-watching" in screen.query_one(SnapshotsPane).column_values("id")


async def test_tab_and_number_keys_switch_panes_at_80x24(dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    async with env.app().run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        assert screen.active_pane == "snapshots"
        assert screen.query_one(SnapshotsPane).display
        assert not screen.query_one(AlarmsPane).display
        await pilot.press("tab")
        await pilot.pause()
        assert screen.active_pane == "recovery-points"
        await pilot.press("4")
        await pilot.pause()
        assert screen.active_pane == "events" and screen.query_one(EventsPane).display
        assert pilot.app.focused is screen.query_one(EventsPane).table
        await pilot.press("shift+tab")
        await pilot.pause()
        assert screen.active_pane == "alarms"


async def test_a_large_terminal_shows_every_pane_at_once(dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    async with env.app().run_test(size=(160, 48)) as pilot:
        screen = await wait_for_polls(pilot)
        assert screen.wide
        panes = [screen.query_one(p) for p in (InstancePane, SnapshotsPane, RecoveryPointsPane,
                                               AlarmsPane, EventsPane)]
        assert all(p.display and p.region.height > 3 for p in panes)
        assert not screen.query_one("#pane-tabs").display
        await pilot.press("tab")
        await pilot.pause()
        assert pilot.app.focused is screen.query_one(RecoveryPointsPane).table


async def test_the_command_palette_runs_dashboard_actions(dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    async with env.app().run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"filter type")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.query_one(SnapshotsPane).type_filter == "automated"


async def test_staging_session_names_staging_and_watches_its_instance(
        dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    async with env.app(environment="staging").run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        bar = _text(screen.query_one(ContextBar))
        assert "STAGING" in bar and "PRODUCTION" not in bar
        assert "video-window-staging" in bar
        ids = screen.query_one(SnapshotsPane).column_values("id")
        assert ids[0] == f"rds:video-window-staging-{NOW:%Y-%m-%d}-03-00"


async def test_markup_in_aws_text_is_shown_as_written(dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    reason = "[/bold] threshold [red]crossed[/] by ops"
    env.client("cloudwatch").set_alarm_state(AlarmName="video-window-backup-failure",
                                             StateValue="ALARM", StateReason=reason)
    async with env.app().run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        await pilot.press("3")
        await pilot.pause()
        alarms = screen.query_one(AlarmsPane)
        states = dict(zip(alarms.column_values("name"), alarms.column_values("state"),
                          strict=True))
        assert states["video-window-backup-failure"] == "✖ ALARM"
        assert reason in alarms.column_values("reason")
        await pilot.press("down")
        await pilot.pause()
        assert reason in _text(alarms.query_one(".pane-detail", Static))


async def test_a_refresh_that_fails_keeps_the_last_data_and_says_so(dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    async with env.app().run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        snapshots = screen.query_one(SnapshotsPane)
        shown = snapshots.column_values("id")
        env.sandbox.deny("rds:DescribeDBSnapshots")
        await pilot.press("r")
        await wait_for_polls(pilot, 2)
        assert snapshots.column_values("id") == shown
        assert snapshots.errors[0].startswith("Access denied: rds:DescribeDBSnapshots")
        assert f"shown: {NOW:%H:%M:%S}" in _text(snapshots.query_one(".pane-status", Static))
        env.sandbox.allow("rds:DescribeDBSnapshots")
        await pilot.press("r")
        await wait_for_polls(pilot, 3)
        assert not snapshots.errors
        assert not snapshots.query_one(".pane-error").display


async def test_unreadable_failed_jobs_are_not_reported_as_none(dashboard_env: Start) -> None:
    env = dashboard_env("no-backup-access")
    async with env.app().run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        events = screen.query_one(EventsPane)
        status = _text(events.query_one(".pane-status", Static))
        assert "? failed backup jobs could not be read" in status
        assert "0 failed" not in status
        assert events.events  # the RDS events were readable and are shown
        assert events.errors[0].startswith("Access denied: backup:ListBackupJobs")


class _SilentEndpoint:
    """A TCP endpoint that takes connections and answers nothing until released, then hangs
    up: AWS calls to it cannot return before the test says so."""

    def __init__(self) -> None:
        import socket
        import threading

        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.released = threading.Event()
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.server.settimeout(0.05)
        while not self.released.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.held.append(conn)
        for conn in self.held:
            conn.close()
        self.server.close()

    def release(self) -> None:
        self.released.set()
        self.thread.join(timeout=5)


async def test_first_frame_paints_before_any_aws_call_returns(
        monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = _SilentEndpoint()
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                        "AWS_ENDPOINT_URL": endpoint.url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    config = Config(aws=AwsConfig(region="eu-west-1", endpoint_url=endpoint.url,
                                  max_attempts=1), ui=UiConfig(refresh_seconds=0))
    app = VwtuiApp(config, AwsService(config), clock=lambda: NOW)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = pilot.app.screen
            assert isinstance(screen, DashboardScreen)
            # Drawn while every call is still waiting for an answer that cannot have come.
            assert screen.polls_completed == 0 and screen.fetching
            for pane in screen.query(Pane):
                assert _text(pane.query_one(".pane-status", Static)) == "⟳ loading…"
            assert "acct …" in _text(screen.query_one(ContextBar))
            assert "video-window" in _text(screen.query_one(ContextBar))
            endpoint.release()  # now every call fails: each pane says so, none is blank
            await wait_for_polls(pilot)
            for pane in screen.query(Pane):
                assert pane.errors and pane.errors[0].startswith("AWS")
                assert "Traceback" not in pane.errors[0]
            assert app.identity_error is not None
    finally:
        endpoint.release()


def test_staging_flag_without_a_staging_instance_is_a_config_error() -> None:
    config = Config(instances=InstancesConfig(staging=""))
    with pytest.raises(ConfigError, match=r"instances\.staging"):
        run_console(config, Namespace(staging=True, profile=None, region=None))


def _region_text(app: VwtuiApp, widget: Static) -> str:
    """What the engineer reads in a widget's region of the screen, its lines run together."""
    region = widget.region
    strips = app.screen._compositor.render_strips()
    lines = [strips[y].text[region.x:region.right].strip()
             for y in range(region.y, region.bottom)]
    return "".join(lines)


@pytest.mark.parametrize("size", [SIZE, (160, 48)])
async def test_the_detail_lines_show_a_recovery_point_arn_whole(
        dashboard_env: Start, size: tuple[int, int]) -> None:
    env = dashboard_env("healthy")
    app = env.app()
    async with app.run_test(size=size) as pilot:
        screen = await wait_for_polls(pilot)
        screen.action_show_pane("recovery-points")
        await pilot.pause()
        pane = screen.query_one(RecoveryPointsPane)
        arn = pane.highlighted_key
        assert arn is not None and arn.startswith("arn:aws:")
        shown = _region_text(app, pane.query_one(".pane-detail", Static))
        assert arn in shown and "…" not in shown
        snapshots = screen.query_one(SnapshotsPane)
        screen.action_show_pane("snapshots")
        await pilot.pause()
        snapshot_arn = snapshots.snapshots[0].arn
        assert snapshot_arn in _region_text(app, snapshots.query_one(".pane-detail", Static))


async def test_enter_on_a_recovery_point_starts_a_recovery_from_it(dashboard_env: Start) -> None:
    from vwtui.screens.recovery_choose import ChooseScreen

    from vwtui.recovery.plan import Scenario

    env = dashboard_env("healthy")
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        await pilot.press("2", "down", "down")  # the recovery points, third row
        await pilot.pause()
        pane = screen.query_one(RecoveryPointsPane)
        wanted = pane.highlighted_key
        assert wanted == pane.recovery_points[2].arn
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = [row for group in help_screen.groups.values() for row in group]
        assert ("⏎", "New recovery from this row") in rows
        assert not any(description == "Select" for _, description in rows)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        chooser = pilot.app.screen
        assert isinstance(chooser, ChooseScreen)
        assert chooser.preselect.recovery_point_arn == wanted
        # Enter on a recovery point means "restore this one": scenario 3, not PITR, with the
        # cursor on that recovery point in the chooser's list.
        assert chooser.scenario is Scenario.AWS_BACKUP
        await pilot.pause()
        assert chooser.focused is not None and chooser.focused.id == "points"


async def test_help_does_not_offer_enter_where_it_does_nothing(dashboard_env: Start) -> None:
    env = dashboard_env("healthy")
    async with env.app().run_test(size=SIZE) as pilot:
        await wait_for_polls(pilot)
        await pilot.press("3")  # the alarms: a list to read, nothing to select
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        keys = [keys for group in help_screen.groups.values() for keys, _ in group]
        assert "⏎" not in keys
