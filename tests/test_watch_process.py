"""An observer in a second process: `vwtui watch` in a real terminal (a private tmux server)
follows a monthly drill this test process drives against the sandbox and a real PostgreSQL.

After each step the driver runs, the observer's screen shows that step's new state and the
next step's; at the end, that the run has ended. Waits are generous and nothing is timed
(bench/watch.py measures the delay). The observer reaches the sandbox through the same config
file and reads the same XDG_STATE_HOME, as an engineer in a second SSH window would.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures_pg import database_of, record_baselines
from test_demo_tmux import VWTUI, Terminal, require_tmux

from vwtui import config as config_mod
from vwtui.config import AwsConfig, Config, UiConfig
from vwtui.model import utcnow
from vwtui.orchestrator import RecoveryRun
from vwtui.recovery import drill as dr
from vwtui.recovery import journal as jr
from vwtui.recovery.plan import Scenario
from vwtui.recovery.state import StepState, StepStatus
from vwtui.services.aws import AwsService
from vwtui.services.pg import PgService
from vwtui.widgets.steps import status_cell

pytestmark = pytest.mark.tmux

# Generous: the machine is shared; the observer is woken by inotify or a 1 s poll.
FOLLOW_SECONDS = 60.0


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    require_tmux()
    made = Terminal(Path(tempfile.mkdtemp(prefix="vwtui-watch-")))
    try:
        yield made
    finally:
        made.kill()
        shutil.rmtree(made.work, ignore_errors=True)


def row_state(screen: str, step: StepState) -> str | None:
    """The state cell of `step`'s row in the observer's step list (None: no such row)."""
    prefix = step.title[:20]
    for line in screen.splitlines():
        for status in StepStatus:
            cell = str(status_cell(status))
            if line.strip().startswith(cell) and prefix in line:
                return cell
    return None


def wait_rows(terminal: Terminal, run: RecoveryRun, what: str, *must: str) -> str:
    """Until the observer's screen shows the driver's state of every step whose row is in
    sight (the list shows six of the drill's seven rows, scrolled to the current step), and
    the rows of the steps `must` names are in sight."""
    wanted = {s.key: str(status_cell(s.status)) for s in run.steps}
    deadline = time.monotonic() + FOLLOW_SECONDS
    screen = ""
    while time.monotonic() < deadline:
        screen = terminal.screen()
        shown = {s.key: row_state(screen, s) for s in run.steps}
        if all(shown[key] in (None, wanted[key]) for key in wanted) \
                and all(shown[key] == wanted[key] for key in must):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"the observer did not show {what}: {wanted}\n{screen}")


async def test_vwtui_watch_in_another_process_follows_a_drill_step_by_step(
        terminal: Terminal, make_sandbox: Any, pg_server: Any,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sandbox = make_sandbox(restore_seconds=1.0)
    state_home = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    config = Config(
        aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url, max_attempts=2),
        database=database_of(pg_server),
        ui=UiConfig(refresh_seconds=0))
    # 6 minutes ago: inside the sandbox's window, after the test database's rows (verify).
    config = config.replace(drill=dataclasses.replace(config.drill, restore_minutes_ago=6))
    config_file = config_mod.write(config, tmp_path / "config.toml")
    record_baselines(config, state_home / "vwtui")

    request = dr.drill_request(config, Scenario.PITR, utcnow(), rotation=Scenario.PITR)
    run = await RecoveryRun.start(request, config, AwsService(config), PgService(config),
                                  poll_interval=0.1)
    try:
        terminal.start(f"{VWTUI} --config {config_file} watch; echo EXITED $?; sleep 60")
        screen = wait_rows(terminal, run, "the plan, nothing run yet", "restore")
        assert "Traceback" not in screen
        assert f"driven by {jr.os_user()}/{os.getpid()}" in screen  # this process drives
        assert f"1 PITR · {request.source} → {request.target} · WATCHING" in screen

        for key in ("restore", "wait", "verify", "parity", "smoke", "rto", "cleanup"):
            step = await run.run_step()
            assert step is not None and step.key == key, [(s.key, s.status) for s in run.steps]
            assert step.status is (StepStatus.WAITING if key == "cleanup" else
                                   StepStatus.DONE), (step.key, step.status, step.error)
            # The step that changed, and the one after it (now current), in their new states.
            following = run.current.key if run.current is not None else key
            screen = wait_rows(terminal, run, f"{key} {step.status.value}", key, following)
            assert "Traceback" not in screen

        await run.confirm_cleanup(request.target, skip_final_snapshot=True)
        assert run.finished
        screen = wait_rows(terminal, run, "the cleanup done", "cleanup")
        terminal.wait_for("the run has ended; no one drives it", timeout=FOLLOW_SECONDS)
        assert "Traceback" not in terminal.screen()
    finally:
        run.close()
