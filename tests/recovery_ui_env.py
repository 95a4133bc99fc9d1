"""The recovery screens against the sandbox (moto + shim over HTTP) and a real PostgreSQL.

The app is the product's code end to end: VwtuiApp with its AwsService pointed at the sandbox
and a PgService pointed at the test server (every endpoint reaches it through database.host, as
a tunnel from a bastion would). The app's clock is the sandbox's, so restore windows, the
recovery instance's name and the RTO clock agree with what the sandbox answers. The journal
goes to a temporary XDG_STATE_HOME.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fixtures_pg import database_of, record_baselines
from fixtures_sandbox import sandbox_client
from vwtui.screens.recovery_run import RunScreen

from vwtui.app import VwtuiApp
from vwtui.config import AwsConfig, Config, InstancesConfig, UiConfig
from vwtui.orchestrator import RecoveryRun
from vwtui.recovery.state import StepStatus
from vwtui.sandbox import Sandbox
from vwtui.services.aws import AwsService
from vwtui.services.pg import PgService

NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
SIZE = (80, 24)


@dataclass
class RecoveryEnv:
    sandbox: Sandbox
    config: Config
    state_home: Path
    apps: list[VwtuiApp] = field(default_factory=list)

    def app(self, *, poll_seconds: float = 0.1, clock: Callable[[], datetime] | None = None,
            **kwargs: Any) -> VwtuiApp:
        app = VwtuiApp(self.config, AwsService(self.config), PgService(self.config),
                       clock=clock or self.sandbox.current_time, **kwargs)
        app.recovery.poll_interval = poll_seconds
        self.apps.append(app)
        return app

    def client(self, service: str) -> Any:
        """A boto3 client on the sandbox: what AWS says, asked apart from the app."""
        return sandbox_client(self.sandbox, service)

    def window(self, identifier: str = "video-window") -> tuple[datetime, datetime]:
        found = self.client("rds").describe_db_instance_automated_backups(
            DBInstanceIdentifier=identifier)["DBInstanceAutomatedBackups"][0]["RestoreWindow"]
        return found["EarliestTime"].astimezone(UTC), found["LatestTime"].astimezone(UTC)

    def instance_ids(self) -> set[str]:
        rds = self.client("rds")
        return {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}


@pytest.fixture
def recovery_env(make_sandbox: Callable[..., Sandbox], pg_server: Any,
                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., RecoveryEnv]:
    def start(scenario: str = "healthy", *, restore_seconds: float = 0.3,
              protected: tuple[str, ...] | None = None,
              now: datetime | None = None) -> RecoveryEnv:
        # At the real time by default: the test database's rows are dated by its now(), and
        # verify compares the newest of them with the restore point.
        sandbox = make_sandbox(scenario, restore_seconds=restore_seconds, now=now)
        state_home = tmp_path / "state"
        monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
        instances = InstancesConfig() if protected is None else InstancesConfig(
            protected=protected)
        config = Config(
            aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                          max_attempts=1),
            instances=instances,
            database=database_of(pg_server),
            ui=UiConfig(refresh_seconds=0),
        )
        record_baselines(config, state_home / "vwtui")
        return RecoveryEnv(sandbox, config, state_home)

    return start


async def wait_until(pilot: Any, predicate: Callable[[], bool], what: str,
                     *, seconds: float = 20.0) -> None:
    """Let the app run until `predicate()` holds; fail (not hang) if it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            await pilot.pause()
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {what}")


def describe(run: RecoveryRun) -> str:
    """The run's steps in one line each, for a failure message."""
    return "\n".join(f"{s.key}: {s.status.value} {s.progress!r} {s.detail!r} {s.error!r}"
                     for s in run.steps)


def run_screen(app: VwtuiApp) -> RunScreen:
    screen = app.screen
    assert isinstance(screen, RunScreen), f"expected the run screen, got {type(screen).__name__}"
    return screen


def status(run: RecoveryRun, key: str) -> StepStatus:
    step = run.step(key)
    assert step is not None, key
    return step.status


async def wait_step(pilot: Any, run: RecoveryRun, key: str, *wanted: StepStatus,
                    seconds: float = 20.0) -> None:
    await wait_until(pilot, lambda: status(run, key) in wanted,
                     f"{key} to be {'/'.join(w.value for w in wanted)}:\n{describe(run)}",
                     seconds=seconds)


def screen_text(app: VwtuiApp) -> str:
    """The whole 80x24 screen as plain text, as the engineer reads it (modals included)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


def region_text(app: VwtuiApp, widget: Any) -> str:
    """What a widget shows on screen, its lines stripped and run together (a folded ARN reads
    whole again)."""
    region = widget.region
    strips = app.screen._compositor.render_strips()
    return "".join(strips[y].text[region.x:region.right].strip()
                   for y in range(region.y, region.bottom))
