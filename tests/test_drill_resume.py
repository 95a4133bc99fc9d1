"""A drill stopped and resumed logs what the uninterrupted drill logs: the RTO achieved when its
application test passed (not when the resumed drill ended) and the test's result.

The engine against the sandbox and a real PostgreSQL. The drill is driven step by step; a
"restart" abandons the run object after the step named (the journal is all that is left, as
after a kill) and resumes the run from its journal an hour later on the run's clock, so an RTO
measured at the resume or at the end would be more than an hour off.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from recovery_env import POLL, Env, env_fixture  # noqa: F401  (fixtures)

from vwtui.model import utcnow
from vwtui.orchestrator import RecoveryRun
from vwtui.recovery import drill as dr
from vwtui.recovery.history import read_history
from vwtui.recovery.plan import Scenario
from vwtui.recovery.state import StepStatus, smoke_result_of

RESTART = timedelta(hours=1)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.parametrize("stopped_after", [None, "smoke", "rto"],
                         ids=["not-stopped", "after-smoke", "after-rto"])
async def test_a_resumed_drill_logs_the_rto_and_smoke_result_of_its_test(
        env: Env, stopped_after: str | None) -> None:
    env = env.with_config(drill=dataclasses.replace(
        env.config.drill,
        # 6 minutes ago: inside the sandbox's window and after the test database's rows
        # (tests/test_drill_ui.py), so verify passes.
        restore_minutes_ago=6,
        smoke_command='echo "login page ok on $PGDATABASE"'))
    offset = [timedelta(0)]

    def now() -> datetime:
        return utcnow() + offset[0]

    request = dr.drill_request(env.config, Scenario.PITR, now(), rotation=Scenario.PITR)
    run = await RecoveryRun.start(request, env.config, env.aws, env.pg,
                                  state_base=env.state_base, poll_interval=POLL, now=now)
    env.started.append(run)
    if stopped_after is not None:
        while True:
            step = await run.run_step()
            assert step is not None and step.status is StepStatus.DONE, \
                [(s.key, s.status, s.error) for s in run.steps]
            if step.key == stopped_after:
                break
        # ... the process stops here; the drill is resumed an hour later.
        offset[0] = RESTART
        run.close()
        run = await RecoveryRun.resume(run.journal_path, env.config, env.aws, env.pg,
                                       state_base=env.state_base, poll_interval=POLL, now=now)
        env.started.append(run)
        assert run.step(stopped_after).status is StepStatus.DONE  # type: ignore[union-attr]
    await run.run_until_blocked()
    current = run.current
    assert current is not None and current.key == "cleanup", \
        [(s.key, s.status, s.error) for s in run.steps]
    await run.confirm_cleanup(request.target, skip_final_snapshot=True)
    assert run.finished and run.outcome == "finished"

    journal = records(run.journal_path)
    started = at(next(r for r in journal if r["event"] == "run-start")["started_at"])
    smoke_end = at(next(r for r in journal if r["event"] == "step-end"
                        and r["step"] == "smoke")["at"])
    smoke = [r for r in journal if r["event"] == "smoke-result"]
    rto = [r for r in journal if r["event"] == "rto-achieved"]
    # Each step ran once: the resume did not run the test or measure the RTO again.
    assert len(smoke) == 1 and len(rto) == 1
    assert (stopped_after is not None) == any(r["event"] == "run-resume" for r in journal)
    # The RTO is the clock when the application test passed, whenever the RTO step ran.
    achieved = (smoke_end - started).total_seconds()
    assert rto[0]["rto_seconds"] == pytest.approx(achieved, abs=0.001)

    record = read_history(env.state_base).last("drill")
    assert record is not None and record.run_id == run.run_id
    assert record.rto_seconds == pytest.approx(achieved, abs=0.001)
    assert record.smoke is not None and record.smoke.passed
    assert record.smoke == smoke_result_of(smoke[0])
    assert record.smoke.command == env.config.drill.smoke_command
    assert record.smoke.exit_code == 0 and "login page ok" in record.smoke.summary
    if stopped_after is not None:
        # The drill's clock ran on through the restart; the RTO logged is from before it.
        assert (record.finished_at - record.started_at) > RESTART
        assert record.rto_seconds < RESTART.total_seconds()
    log = (env.state_base / "recovery-test-log.txt").read_text()
    assert f"RTO achieved: {achieved / 3600:.2f} hours" in log
