"""How the dashboard looks, as SVG snapshots (pytest-textual-snapshot), against the sandbox.

The clock is fixed (the same NOW for the sandbox and the app) so the pictures do not change
from run to run; every pane has loaded before the picture is taken. Review a changed SVG like
code: `pytest tests/test_snapshots.py --snapshot-update`, then look at the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fixtures_dashboard import DashboardEnv, wait_for_polls

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
