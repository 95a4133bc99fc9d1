"""How the monthly drill looks at 80x24, as SVG snapshots (pytest-textual-snapshot): the drill
plan (D then enter) and a running drill with the escalation path shown.

Fixed clocks only: the sandbox seeded at NOW, the app's clock at NOW, the demo's three past
drills in the history (so the rotation gives PITR, as in `vwtui demo`). The running drill is a
real run in the sandbox whose restore takes an hour of real time: it stays in its wait step; the
app's clock is then moved to 3 h 10 min after the drill began (79 % of the 4 h RTO), so the
wait's elapsed time, the RTO clock and the escalation are the same figures every time. Review a
changed SVG like code: `pytest tests/test_drill_snapshots.py --snapshot-update`, then look at
the diff.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from recovery_ui_env import NOW, RecoveryEnv, recovery_env, screen_text, wait_until  # noqa: F401
from test_drill_ui import open_drill
from vwtui.screens.recovery_confirm import YesNo
from vwtui.screens.recovery_plan import PlanScreen
from vwtui.screens.recovery_run import RunScreen

from vwtui.demo import seed_drill_history
from vwtui.recovery.state import StepStatus
from vwtui.widgets.context_bar import ContextBar

Start = Callable[..., RecoveryEnv]
# Past 75 % of the 4 h RTO and short of it: the warning level, not the breach.
LATE = timedelta(hours=3, minutes=10)


def drill_env(recovery_env: Start, **kwargs: Any) -> RecoveryEnv:
    env = recovery_env(now=NOW, **kwargs)
    # boto3 finds the sandbox through AWS_ENDPOINT_URL (set by the sandbox fixture), so the
    # command lines on screen carry no --endpoint-url with the sandbox's port of the day.
    env.config = env.config.replace(aws=dataclasses.replace(env.config.aws, endpoint_url=""))
    seed_drill_history(env.config, NOW, env.state_home / "vwtui")
    return env


async def context_loaded(pilot: Any) -> None:
    """The context bar has read the account (its first line no longer says it is reading)."""
    await wait_until(pilot, lambda: "acct" in screen_text(pilot.app)
                     and "…" not in screen_text(pilot.app).splitlines()[0], "the context bar")


async def open_plan(pilot: Any) -> PlanScreen:
    """D on the dashboard, the rotation's method (PITR after the demo's AWS Backup drill),
    enter: the plan once it has read AWS."""
    drill = await open_drill(pilot, 1)
    assert drill.request is not None and drill.request.override_reason is None
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PlanScreen)
                     and pilot.app.screen.discovery is not None, "the drill plan")
    screen = pilot.app.screen
    assert isinstance(screen, PlanScreen)
    return screen


def test_drill_plan_80x24(recovery_env: Start, snap_compare: Any) -> None:
    env = drill_env(recovery_env)
    app = env.app(clock=lambda: NOW)

    async def plan(pilot: Any) -> None:
        await open_plan(pilot)
        await context_loaded(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=plan)


def test_running_drill_with_the_escalation_80x24(recovery_env: Start,
                                                 snap_compare: Any) -> None:
    # The restore takes an hour of real time: the drill waits for it all through the test.
    env = drill_env(recovery_env, restore_seconds=3600)
    now: list[datetime] = [NOW]
    # One poll of the wait, then an hour's sleep: its progress line stays "(poll 1)".
    app = env.app(clock=lambda: now[0], poll_seconds=3600)

    async def late_in_the_wait(pilot: Any) -> None:
        await open_plan(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        run = screen.run
        await wait_until(pilot, lambda: (wait := run.step("wait")) is not None
                         and wait.status is StepStatus.RUNNING
                         and "(poll 1)" in (wait.progress or ""), "the wait's first poll",
                         seconds=30)
        assert run.escalation() is None  # on time: no escalation yet
        now[0] = NOW + LATE
        screen.redraw()
        # The context bar's clock redraws every 15 s: now, so it reads the moved clock
        # whatever the machine's load made of the time the run took to get here.
        screen.query_one(ContextBar).refresh_source()
        await wait_until(pilot, lambda: "escalate now" in screen_text(app),
                         "the escalation path")
        await context_loaded(pilot)
        assert "on-call" in screen_text(app).lower()
        assert "15:10 UTC" in screen_text(app).splitlines()[0]

    assert snap_compare(app, terminal_size=(80, 24), run_before=late_in_the_wait)
