"""Health view benchmark: the view fully loaded from a cold start vs a sequential boto3 script.

Against the demo sandbox (moto server + shim on 127.0.0.1, 30 days of backup jobs, automated
snapshots and recovery points) with the demo's restore tests in the history file, in one run:
  - the health view, cold: a fresh process (imports done first, not timed: the app's and
    boto3, as the script's) makes the app and its AWS service (no session, no client yet) and
    runs it headless at 80x24 straight into the health view; timed from making the app to
    every pane drawn (the reads shown, then the pending updates laid out and painted once);
  - each of its reads alone, cold, in a fresh process (client made, then the one call): the
    slowest of them is the floor a concurrent view can approach, and so bounds how much
    faster than the script any view can be (script / slowest read, printed as the ceiling);
  - a sequential boto3 script that reads the same (session, clients, then one call after
    another, paginated, and the history file), in a fresh process, imports not timed.

Every side runs with a bytecode cache (a temporary PYTHONPYCACHEPREFIX, filled by the warm-up
run), as an installed vwtui has its .pyc files: with PYTHONDONTWRITEBYTECODE set in the
environment, each run would compile every module it imports lazily (the view's are) from
source, a cost no installed copy pays.

Run: .venv/bin/python bench/health.py   (targets: at most the slowest single read + 0.3 s,
>= 3x faster than the boto3 script)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, ensure_project_venv, sandbox_config

LATENCIES_MS = (0.0, 80.0)
RUNS = 5
READS = ("jobs", "snapshots", "points", "history")


# ---- the measured sides, each run in a fresh process (`bench/health.py --side ...`) -----------

def view(config_path: str) -> list[float]:
    """Seconds from making the app to every health pane drawn, then of a refresh (`r`: the
    clients made, the same reads again)."""
    import asyncio
    import time

    import boto3  # noqa: F401  (imported first, as the script does; vwtui imports it on use)
    from vwtui.screens.health import HealthScreen

    from vwtui.app import VwtuiApp
    from vwtui.config import load
    from vwtui.services.aws import AwsService
    from vwtui.services.early import start_view_reads

    config = load(config_path)

    async def run() -> list[float]:
        started = time.perf_counter()
        # As `vwtui health` does (vwtui/console.py): the view's reads start before the app
        # is made (in a forked child where it can: services/early.py), then the app opens on it.
        aws = AwsService(config)
        start_view_reads(aws, config, config.instances.production, "health")
        app = VwtuiApp(config, aws, view="health")
        async with app.run_test(size=(80, 24)) as pilot:
            times: list[float] = []
            for loads in (1, 2):
                # Look without stirring: pilot.pause() would have every widget answer a
                # message and force a repaint at each look, work the view itself never asks for.
                while not (isinstance(screen := app.screen, HealthScreen)
                           and screen.loads_completed >= loads):
                    await asyncio.sleep(0.005)
                # Every pane has its figures: let the updates be laid out and painted.
                await pilot.pause(0)
                times.append(time.perf_counter() - started)
                # The refresh is timed with the clients made, as an engineer's `r` a moment
                # later finds them (made in the background once the view is drawn, when the
                # early reads' child had made them: services/early.py EarlyReads.warm).
                await asyncio.to_thread(aws.early.warmed.wait, 10)
                started = time.perf_counter()
                await pilot.press("r")
            return times

    return asyncio.run(run())


def single(config_path: str, read: str) -> float:
    """Seconds for one of the view's reads alone, its client made first (cold)."""
    import asyncio
    import time
    from datetime import timedelta

    import boto3  # noqa: F401  (imported first, as the script does)

    from vwtui.config import load
    from vwtui.model import utcnow
    from vwtui.recovery.history import read_history
    from vwtui.services.aws import AwsService

    config = load(config_path)
    aws = AwsService(config)
    since = utcnow() - timedelta(days=30)
    vault, instance = config.backup.vault, config.instances.production

    async def run() -> float:
        started = time.perf_counter()
        if read == "jobs":
            await aws.backup_jobs(vault=vault, created_after=since)
        elif read == "snapshots":
            await aws.snapshots(instance, snapshot_type="automated")
        elif read == "points":
            await aws.recovery_points(vault, created_after=since)
        else:
            await asyncio.to_thread(read_history)
        return time.perf_counter() - started

    return asyncio.run(run())


def script(config_path: str) -> list[float]:
    """The same reads as a plain boto3 script, one after another: the whole, then the reads
    alone (the clients made)."""
    import time
    from datetime import UTC, datetime, timedelta

    import boto3

    from vwtui.config import load
    from vwtui.recovery.history import read_history

    config = load(config_path)
    started = time.perf_counter()
    session = boto3.session.Session(region_name=config.aws.region)
    rds = session.client("rds", endpoint_url=config.aws.endpoint_url)
    backup = session.client("backup", endpoint_url=config.aws.endpoint_url)
    since = datetime.now(UTC) - timedelta(days=30)
    reads = time.perf_counter()
    for _ in rds.get_paginator("describe_db_snapshots").paginate(
            DBInstanceIdentifier=config.instances.production, SnapshotType="automated"):
        pass
    for _ in backup.get_paginator("list_backup_jobs").paginate(
            ByBackupVaultName=config.backup.vault, ByCreatedAfter=since):
        pass
    for _ in backup.get_paginator("list_recovery_points_by_backup_vault").paginate(
            BackupVaultName=config.backup.vault, ByCreatedAfter=since):
        pass
    read_history()
    ended = time.perf_counter()
    return [ended - started, ended - reads]


# ---- the driver ---------------------------------------------------------------------------------

def measure(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run([str(REPO / ".venv" / "bin" / "python"), __file__, "--side", *args],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ensure_project_venv()
    # Modules load from compiled bytecode, as an installed vwtui's do (see the docstring);
    # the sandbox and every measured process inherit this.
    pycache = tempfile.TemporaryDirectory(prefix="vwtui-bench-pycache-")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = pycache.name
    # 0 ms: the sandbox on this host, where parsing dominates; 80 ms per call: a bastion's
    # round trip to AWS (`vwtui demo --latency-ms 80`), where waiting dominates, as in use.
    with pycache:
        results = [run_at(latency) for latency in LATENCIES_MS]
    loaded, sequential = results[-1]
    print(f"health {loaded:.2f} s vs boto3 sequential {sequential:.2f} s at "
          f"{LATENCIES_MS[-1]:g} ms per call: {sequential / loaded:.1f}x faster")


def run_at(latency_ms: float) -> tuple[float, float]:
    """Measure every side at one latency; print its figures; (view loaded, script)."""
    from vwtui.model import utcnow
    from vwtui.recovery.history import append_record
    from vwtui.sandbox.seed import demo_restore_history

    with sandbox_config(latency_ms=latency_ms) as (config_path, config, env):
        state = Path(env["XDG_STATE_HOME"]) / "vwtui"
        for record in demo_restore_history(utcnow(), config):
            append_record(record, state)
        path = str(config_path)
        measure(env, "view", path)  # warm the file cache: we measure a start, not a disk
        both = [measure(env, "view", path) for _ in range(RUNS)]
        singles = {read: statistics.median(measure(env, "single", path, read)
                                           for _ in range(RUNS)) for read in READS}
        script_runs = [measure(env, "script", path) for _ in range(RUNS)]

    views, refreshes = [v[0] for v in both], [v[1] for v in both]
    scripts, script_reads = [s[0] for s in script_runs], [s[1] for s in script_runs]
    loaded, slowest = statistics.median(views), max(singles.values())
    sequential = statistics.median(scripts)
    print(f"-- {latency_ms:g} ms per AWS call --")
    print(f"health view runs: {RUNS}, headless at 80x24, cold (fresh process, no client yet), "
          f"against the sandbox with 30 days of jobs, snapshots and recovery points")
    print("each read alone, cold, median of "
          f"{RUNS}: " + ", ".join(f"{name} {value:.3f} s" for name, value in singles.items()))
    verdict = "met" if loaded <= slowest + 0.3 else "MISSED"
    print(f"health view loaded: median {loaded:.3f} s, worst {max(views):.3f} s "
          f"(target <= slowest read {slowest:.3f} s + 0.3 s = {slowest + 0.3:.3f} s: "
          f"{verdict})")
    print(f"boto3 sequential:   median {sequential:.3f} s "
          f"({', '.join(f'{s:.2f}' for s in scripts)})")
    # No view, however concurrent, beats its slowest read done alone: that bounds the ratio.
    print(f"ceiling: the script / the slowest read alone = {sequential / slowest:.1f}x "
          f"(3x would need the view loaded in {sequential / 3:.3f} s)")
    refresh, reads_only = statistics.median(refreshes), statistics.median(script_reads)
    print(f"clients made (refresh r vs the script's calls alone): health {refresh:.3f} s vs "
          f"boto3 sequential {reads_only:.3f} s: {reads_only / refresh:.1f}x faster")
    return loaded, sequential


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--side":
        side, rest = sys.argv[2], sys.argv[3:]
        sides: dict[str, Callable[..., Any]] = {"view": view, "single": single, "script": script}
        print(json.dumps(sides[side](*rest)))
    else:
        main()
