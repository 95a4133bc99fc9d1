"""How the dashboard, the checklist and its troubleshooting look, as SVG snapshots
(pytest-textual-snapshot), against the sandbox.

The clock is fixed (the same NOW for the sandbox and the app) so the pictures do not change
from run to run; every pane has loaded before the picture is taken. Review a changed SVG like
code: `pytest tests/test_snapshots.py --snapshot-update`, then look at the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fixtures_dashboard import DashboardEnv, tables_sized, wait_for_polls
from vwtui.screens.checklist import ChecklistScreen
from vwtui.screens.troubleshoot import TroubleshootScreen

Start = Callable[..., DashboardEnv]


async def _loaded(pilot: Any) -> None:
    await wait_for_polls(pilot)


def test_dashboard_healthy_80x24(dashboard_env: Start, snap_compare: Any) -> None:
    env = dashboard_env("healthy")
    assert snap_compare(env.app(), terminal_size=(80, 24), run_before=_loaded)


def test_dashboard_recovery_points_80x24(dashboard_env: Start, snap_compare: Any) -> None:
    env = dashboard_env("healthy")
    assert snap_compare(env.app(), terminal_size=(80, 24), run_before=_loaded, press=["2"])


def test_dashboard_stale_backups_alarms_80x24(dashboard_env: Start, snap_compare: Any) -> None:
    env = dashboard_env("stale-backups")
    assert snap_compare(env.app(), terminal_size=(80, 24), run_before=_loaded, press=["3"])


def test_dashboard_denied_recovery_points_80x24(dashboard_env: Start,
                                               snap_compare: Any) -> None:
    env = dashboard_env("no-backup-access")
    assert snap_compare(env.app(), terminal_size=(80, 24), run_before=_loaded, press=["2"])


def test_dashboard_events_80x24(dashboard_env: Start, snap_compare: Any) -> None:
    env = dashboard_env("failed-backup")
    assert snap_compare(env.app(), terminal_size=(80, 24), run_before=_loaded, press=["4"])


def test_dashboard_staging_80x24(dashboard_env: Start, snap_compare: Any) -> None:
    env = dashboard_env("healthy")
    assert snap_compare(env.app(environment="staging"), terminal_size=(80, 24),
                        run_before=_loaded)


def test_dashboard_no_color_80x24(dashboard_env: Start, snap_compare: Any,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    env = dashboard_env("unencrypted-snapshot")
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(env.app(), terminal_size=(80, 24), run_before=_loaded)


def test_help_80x24(dashboard_env: Start, snap_compare: Any) -> None:
    env = dashboard_env("healthy")
    assert snap_compare(env.app(), terminal_size=(80, 24), run_before=_loaded,
                        press=["question_mark"])


def test_dashboard_wide_160x48(dashboard_env: Start, snap_compare: Any) -> None:
    env = dashboard_env("stale-backups")
    assert snap_compare(env.app(), terminal_size=(160, 48), run_before=_loaded)


async def _checklist(pilot: Any) -> None:
    """From the loaded dashboard, c: wait until the checklist has read AWS and drawn it."""
    await wait_for_polls(pilot)
    await pilot.press("c")
    for _ in range(600):
        screen = pilot.app.screen
        if isinstance(screen, ChecklistScreen) and screen.loads_completed and \
                tables_sized(screen):
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("the checklist did not finish reading AWS")


def test_checklist_failed_backup_80x24(dashboard_env: Start, snap_compare: Any,
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # no sign-off yet
    env = dashboard_env("failed-backup")
    assert snap_compare(env.app(), terminal_size=(80, 24), run_before=_checklist)


def test_troubleshoot_failed_backup_80x24(dashboard_env: Start, snap_compare: Any,
                                          tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    env = dashboard_env("failed-backup")

    async def troubleshoot(pilot: Any) -> None:
        await _checklist(pilot)
        await pilot.press("t")  # on the first item, the failed backup jobs
        await pilot.pause()
        assert isinstance(pilot.app.screen, TroubleshootScreen)  # drawn from what was read

    assert snap_compare(env.app(), terminal_size=(80, 24), run_before=troubleshoot)
