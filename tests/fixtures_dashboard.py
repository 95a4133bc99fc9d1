"""The dashboard against the sandbox: a started Sandbox, a config that points at it, the app.

Shared by test_dashboard.py and test_snapshots.py. The clock is fixed (NOW, given to both the
sandbox and the app) so ages and snapshot SVGs are the same on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fixtures_sandbox import sandbox_client
from textual.screen import Screen
from textual.widgets import DataTable
from vwtui.screens.dashboard import DashboardScreen

from vwtui.app import VwtuiApp
from vwtui.config import AwsConfig, Config, UiConfig
from vwtui.sandbox import Sandbox
from vwtui.services.aws import AwsService

NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)


@dataclass
class DashboardEnv:
    sandbox: Sandbox
    config: Config
    apps: list[VwtuiApp] = field(default_factory=list)

    def app(self, **kwargs: Any) -> VwtuiApp:
        app = VwtuiApp(self.config, AwsService(self.config), clock=lambda: NOW, **kwargs)
        self.apps.append(app)
        return app

    def client(self, service: str) -> Any:
        """A boto3 client on the sandbox, for a test to change the account behind the app."""
        return sandbox_client(self.sandbox, service)


@pytest.fixture
def dashboard_env(make_sandbox: Callable[..., Sandbox]) -> Callable[..., DashboardEnv]:
    """Start the sandbox (fixtures_sandbox.make_sandbox) in a scenario at NOW; the app built
    from it talks to it over HTTP."""

    def start(scenario: str = "healthy", *, refresh_seconds: int = 0) -> DashboardEnv:
        sandbox = make_sandbox(scenario, restore_seconds=0, now=NOW)
        config = Config(
            aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                          max_attempts=1),
            ui=UiConfig(refresh_seconds=refresh_seconds),
        )
        return DashboardEnv(sandbox, config)

    return start


def _settled(screen: DashboardScreen) -> bool:
    """Every poll done, the identity known, and every table has sized its columns.

    DataTable measures new rows when its own message queue next runs dry; on a busy machine
    that can come after the poll ends, so a picture taken then would show unsized columns.
    """
    app = screen.app
    if screen.polls_completed == 0 or screen.fetching:
        return False
    if app.identity is None and app.identity_error is None:  # type: ignore[attr-defined]
        return False
    return tables_sized(screen)


def tables_sized(screen: Screen[Any]) -> bool:
    """Every DataTable of the screen has measured its rows (see _settled)."""
    return not any(t._require_update_dimensions or t._updated_cells or t._new_rows
                   for t in screen.query(DataTable))


async def wait_for_polls(pilot: Any, polls: int = 1) -> DashboardScreen:
    """Wait until every pane has finished `polls` fetches and drawn them; fail (not hang) if
    they never do."""
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    for _ in range(600):
        if screen.polls_completed >= polls and _settled(screen):
            await pilot.pause()
            return screen
        await pilot.pause(0.05)
    raise AssertionError(f"the dashboard did not finish poll {polls}")
