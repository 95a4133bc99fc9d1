"""How closely an observer (`vwtui watch`) follows the driver, and what an idle one costs.

A driver in another process (it holds the run's lock and appends to the journal, fsync'd, as
`Journal.append` does) makes 50 step changes (a step of five ends, the next starts, round again)
at random intervals of 0.1-0.4 s. The observer is the product's app at 80x24 watching that
journal; every frame it hands to the terminal (rendered to terminal bytes) is timestamped with
how many step changes it shows. Delay: from the change's journal record (its write time) to
the first frame showing it.

Then the same run is watched by `vwtui watch` in a real pseudo-terminal (80x24), with the
driver alive and a step running (so the RTO clock and the step's elapsed time change every
second): the bytes it writes to its terminal per second, once started.

    .venv/bin/python bench/watch.py [--changes 50] [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ensure_project_venv, sandbox_config

TARGET_S = 1.0
IDLE_TARGET = 400.0
# A recovery's five steps (a plan longer than the step list's 7 rows adds a scrollbar that is
# redrawn with the clock each second).
STEPS = 5

# The driver: a second process that takes the run's lock and journals step changes.
DRIVER = r"""
import random, sys, time
from datetime import UTC, datetime, timedelta
from vwtui.recovery import journal as jr
from vwtui.recovery.lock import RunLock
from vwtui.recovery.plan import RecoveryRequest, Scenario

steps, changes = int(sys.argv[1]), int(sys.argv[2])
now = datetime.now(UTC)
request = RecoveryRequest(Scenario.PITR, "video-window", "video-window-recovery-bench",
                          restore_time=now - timedelta(minutes=5))
run_id = jr.new_run_id(now, request.target)
journal = jr.Journal.create(run_id)
lock = RunLock.acquire(journal.path, run_id, "recovery of video-window", jr.os_user())
plan = [{"key": f"s{n:02}", "title": f"Bench step {n}", "estimate_seconds": 60,
         "mutating": False, "command": None} for n in range(steps)]
journal.append(jr.RUN_START, **jr.start_record_fields(request, plan, now))
journal.append(jr.STEP_START, step="s00", at=datetime.now(UTC))
print(journal.path, flush=True)
sys.stdin.readline()  # go
rng = random.Random(11)
for n in range(changes):
    time.sleep(rng.uniform(0.1, 0.4))
    # A step ends, the next starts (after the last, the first again: as a retry would).
    if n % 2 == 0:
        journal.append(jr.STEP_END, step=f"s{(n // 2) % steps:02}", outcome="done",
                       at=datetime.now(UTC), detail=f"change {n + 1}")
    else:
        journal.append(jr.STEP_START, step=f"s{((n + 1) // 2) % steps:02}",
                       at=datetime.now(UTC))
print("done", flush=True)
sys.stdin.readline()  # stop (the lock goes with the process)
"""


def step_changes(records: list[dict[str, object]]) -> list[float]:
    """The write time (epoch) of each step change after the first start."""
    times = [datetime.fromisoformat(str(r["time"])).timestamp() for r in records
             if r.get("event") in ("step-start", "step-end")]
    return times[1:]


async def measure_delay(config: object, journal: Path, driver: subprocess.Popen[str],
                        changes: int) -> list[float]:
    from textual._compositor import CompositorUpdate
    from vwtui.screens.recovery_watch import WatchScreen

    from vwtui.app import VwtuiApp
    from vwtui.services.aws import AwsService

    app = VwtuiApp(config, AwsService(config), None, watch=(journal,))  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + 30
        while not (isinstance(app.screen, WatchScreen) and app.screen.run.loaded):
            if time.monotonic() > deadline:
                raise SystemExit("the observer view did not open")
            await asyncio.sleep(0.05)
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        print(f"observer woken by {'inotify' if screen.inotify else 'a 1 s poll'}")
        frames: list[tuple[float, int]] = []
        display = app._display

        def timed_display(screen_: object, renderable: object) -> None:
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
                record = screen.run.record
                shown = len(step_changes(record.records)) if record else 0
                frames.append((time.time(), shown))
            display(screen_, renderable)  # type: ignore[arg-type]

        app._display = timed_display  # type: ignore[method-assign,assignment]
        assert driver.stdin is not None and driver.stdout is not None
        driver.stdin.write("go\n")
        driver.stdin.flush()
        deadline = time.monotonic() + changes * 0.5 + 30
        while not frames or frames[-1][1] < changes:
            if time.monotonic() > deadline:
                raise SystemExit(f"the observer showed {frames[-1][1] if frames else 0} of "
                                 f"{changes} changes")
            await asyncio.sleep(0.05)
        await pilot.pause()
        written = step_changes(screen.run.record.records)  # type: ignore[union-attr]
        delays = []
        for number, at in enumerate(written, start=1):
            first = next(t for t, shown in frames if shown >= number)
            delays.append(first - at)
        app._display = display  # type: ignore[method-assign]
    return delays


def idle_bytes(config_path: Path, env: dict[str, str], journal: Path, seconds: float) -> float:
    """Bytes per second `vwtui watch` writes to a real 80x24 pseudo-terminal once started."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: vwtui watch in the pty
        os.execve(sys.executable, [sys.executable, "-m", "vwtui", "--config", str(config_path),
                                   "watch", str(journal)], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    os.kill(pid, signal.SIGWINCH)

    def drain(until: float) -> int:
        total = 0
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return total
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                try:
                    total += len(os.read(fd, 65536))
                except OSError:
                    return total

    try:
        start_up = drain(time.monotonic() + 6.0)  # start-up, the first frames, any toast
        measured = drain(time.monotonic() + seconds)
        print(f"vwtui watch in a pty: {start_up} bytes at start-up, then {measured} bytes in "
              f"{seconds:g} s idle (a step running, its driver alive)")
        os.write(fd, b"q")
        drain(time.monotonic() + 2.0)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)
    return measured / seconds


def main() -> None:
    ensure_project_venv()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=50, help="step changes to time")
    parser.add_argument("--idle-seconds", type=float, default=20.0,
                        help="how long the idle observer's output is counted")
    args = parser.parse_args()
    import logging

    logging.getLogger("werkzeug").disabled = True
    with sandbox_config() as (config_path, config, env), \
            tempfile.TemporaryDirectory(prefix="vwtui-watch-") as shared:
        env = {**env, "VWTUI_STATE_DIR": shared, "TERM": "xterm-256color"}
        env.pop("NO_COLOR", None)
        os.environ.update({k: v for k, v in env.items() if k.startswith(("AWS_", "VWTUI_"))})
        driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(STEPS), str(args.changes)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  env=env)
        try:
            assert driver.stdout is not None and driver.stdin is not None
            journal = Path(driver.stdout.readline().strip())
            delays = asyncio.run(measure_delay(config, journal, driver, args.changes))
            assert driver.stdout.readline().strip() == "done"
            rate = idle_bytes(config_path, env, journal, args.idle_seconds)
            driver.stdin.write("stop\n")
            driver.stdin.flush()
        finally:
            driver.wait(timeout=30)
    delays.sort()
    median, worst = statistics.median(delays), delays[-1]
    print(f"{len(delays)} step changes journaled by a driver in another process")
    print(f"journal record to the observer's frame: median {median * 1000:.0f} ms, "
          f"worst {worst * 1000:.0f} ms")
    print(f"idle observer: {rate:.0f} B/s to its terminal vs {IDLE_TARGET:.0f} B/s target: "
          f"{IDLE_TARGET / max(rate, 1):.1f}x inside")
    print(f"watch worst {worst:.2f} s vs target {TARGET_S:g} s: {TARGET_S / worst:.1f}x inside")


if __name__ == "__main__":
    main()
