"""Shared set-up of the recovery engine tests: the sandbox (real HTTP), a real PostgreSQL, and
the services pointed at them. Run as a script, it is the child process of the SIGKILL test.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_pg import record_baselines

from vwtui.config import AwsConfig, Config, DatabaseConfig, InstancesConfig
from vwtui.model import utcnow
from vwtui.orchestrator import RecoveryRun
from vwtui.recovery.plan import RecoveryRequest, Scenario, SwapMethod, target_identifier
from vwtui.services.aws import AwsService
from vwtui.services.pg import PgService
from vwtui.services.recovery_ops import RecoveryOps

POLL = 0.05


@dataclass
class Env:
    sandbox: Any
    config: Config
    aws: AwsService
    pg: PgService
    ops: RecoveryOps
    state_base: Path
    # Requests the seed made before the test began; `calls` counts only the test's own.
    seeded: int = 0
    started: list[RecoveryRun] = field(default_factory=list)

    def calls(self, pattern: str) -> list[str]:
        """The test's requests matching `pattern` ("rds:Restore*"), oldest first."""
        import fnmatch

        return [c for c in self.sandbox.calls()[self.seeded:]
                if fnmatch.fnmatchcase(c, pattern) or c.split(":", 1)[-1] == pattern]

    def with_config(self, **sections: Any) -> Env:
        config = self.config.replace(**sections)
        aws = AwsService(config)
        return replace(self, config=config, aws=aws, pg=PgService(config), ops=RecoveryOps(aws))

    async def start(self, request: RecoveryRequest, poll: float = POLL) -> RecoveryRun:
        run = await RecoveryRun.start(request, self.config, self.aws, self.pg,
                                      state_base=self.state_base, poll_interval=poll)
        self.started.append(run)
        return run

    async def resume(self, journal: Path, poll: float = POLL) -> RecoveryRun:
        # The session that drove the run is gone (killed, quit): the kernel would have freed
        # its lock. In one test process, the abandoned run object lets it go.
        for old in self.started:
            if old.journal_path == journal:
                old.close()
        run = await RecoveryRun.resume(journal, self.config, self.aws, self.pg,
                                       state_base=self.state_base, poll_interval=poll)
        self.started.append(run)
        return run

    def restore_calls(self) -> list[str]:
        return self.calls("rds:RestoreDBInstance*") + self.calls("backup:StartRestoreJob")

    async def pitr_request(self, *, before_latest: timedelta = timedelta(0),
                           source: str = "video-window", **kw: Any) -> RecoveryRequest:
        window = await self.aws.pitr_window(source)
        assert window.latest is not None
        restore_time = window.latest - before_latest
        return RecoveryRequest(
            Scenario.PITR, source, target_identifier(utcnow()),
            incident_time=restore_time + timedelta(minutes=10), restore_time=restore_time, **kw)


def make_env(make_sandbox: Callable[..., Any], pg_config: Config, tmp_path: Path, *,
             restore_seconds: float = 0.3) -> Env:
    sandbox = make_sandbox(restore_seconds=restore_seconds)
    config = Config(aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                                  max_attempts=2),
                    database=pg_config.database)
    aws = AwsService(config)
    record_baselines(config, tmp_path / "state")
    return Env(sandbox=sandbox, config=config, aws=aws, pg=PgService(config),
               ops=RecoveryOps(aws), state_base=tmp_path / "state",
               seeded=len(sandbox.calls()))


@pytest.fixture(name="env")
def env_fixture(make_sandbox: Callable[..., Any], pg_config: Config, tmp_path: Path) -> Env:
    """Sandbox (restores take 0.3 s) + real PostgreSQL + services."""
    return make_env(make_sandbox, pg_config, tmp_path)


@pytest.fixture(name="slow_env")
def slow_env_fixture(make_sandbox: Callable[..., Any], pg_config: Config, tmp_path: Path) -> Env:
    """Restores that take a minute: time to make them fail, or to kill the process."""
    return make_env(make_sandbox, pg_config, tmp_path, restore_seconds=60.0)


UNPROTECTED_STAGING = InstancesConfig(production="video-window", staging="video-window-staging",
                                      protected=())

async def past_protection(run: RecoveryRun) -> None:
    """After the swap: run the "back under protection" step, and skip it when it waits on its
    fixes (tests of other steps; tests/test_recovery_protection.py covers it)."""
    current = run.current
    if current is not None and current.key == "protection":
        step = await run.run_step()
        if step is not None and step.key == "protection" and not step.status.finished:
            run.skip("checked in its own test")


__all__ = ["POLL", "UNPROTECTED_STAGING", "Env", "SwapMethod", "env_fixture", "make_env",
           "past_protection", "slow_env_fixture"]


# ---- the child process of the SIGKILL test ----------------------------------------------------

async def _child(args: dict[str, Any]) -> None:
    config = Config(aws=AwsConfig(region=args["region"], endpoint_url=args["endpoint_url"],
                                  max_attempts=2),
                    database=DatabaseConfig(**args["database"]))
    aws = AwsService(config)
    request = RecoveryRequest(Scenario.PITR, "video-window", args["target"],
                              restore_time=datetime.fromisoformat(args["restore_time"]))
    run = await RecoveryRun.start(request, config, aws, PgService(config),
                                  state_base=Path(args["state_base"]), poll_interval=0.1)
    print(json.dumps({"journal": str(run.journal_path),
                      "started_at": run.clock.started_at.isoformat()}), flush=True)
    await run.run_step()  # restore
    await run.run_step()  # wait: killed in here


if __name__ == "__main__":
    asyncio.run(_child(json.loads(sys.argv[1])))
