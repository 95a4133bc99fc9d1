"""What the benchmarks share: the project's venv, the AWS CLI's own venv, a sandbox config."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
BENCH_VENV = REPO / ".venv-bench"


def ensure_project_venv() -> None:
    """Re-run this script under the project's .venv (made by the README's commands)."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        compile_project()
        return
    if not python.exists():
        raise SystemExit("no .venv: run the README's set-up command first")
    os.execv(python, [str(python), *sys.argv])


def compile_project() -> None:
    """Write the project's bytecode (__pycache__), as Python does itself on a first start.

    pip compiles what it installs, but not an editable project; and where the environment
    sets PYTHONDONTWRITEBYTECODE (this machine does) Python never writes it, so every start
    would compile vwtui's 150 modules again (0.3 s measured): a start we would measure then is
    not the one an engineer sees from the second start on."""
    import compileall

    for folder in ("vwtui", "screens"):
        compileall.compile_dir(REPO / folder, quiet=1)


def timed_in_tmux(command: str, env: dict[str, str], *, until: str, timeout: float,
                  settle: float = 0.0) -> dict[str, float]:
    """Run `command` in a fresh tmux at 80x24 with $VWTUI_TIMINGS set, until the app has
    written the event `until` there; seconds from launch to each event it wrote, and
    "peak_mb" (the process's VmHWM, `settle` seconds later)."""
    import json
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="vwtui-bench-"))
    timings, socket = work / "timings.jsonl", work / "tmux.sock"
    run_env = {**env, "VWTUI_TIMINGS": str(timings), "TERM": "xterm-256color"}
    try:
        started = time.time()
        subprocess.run(["tmux", "-S", str(socket), "new-session", "-d", "-x", "80", "-y", "24",
                        f"exec {command}"], env=run_env, check=True)
        pid = subprocess.run(["tmux", "-S", str(socket), "display-message", "-p",
                              "#{pane_pid}"], capture_output=True, text=True).stdout.strip()
        events: dict[str, float] = {}
        while until not in events and time.time() < started + timeout:
            time.sleep(0.01)
            if timings.exists():
                for line in timings.read_text().splitlines():
                    record = json.loads(line)
                    events.setdefault(record["event"], record["t"])
        if until not in events:
            raise SystemExit(f"{command}: no {until} in {timeout:g} s ({events})")
        time.sleep(settle)
        result = {name: t - started for name, t in events.items()}
        result["peak_mb"] = _peak_mb(pid)
        return result
    finally:
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def _peak_mb(pid: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def aws_cli_path() -> Path:
    """The AWS CLI in the bench's own venv (its botocore pin stays out of the project's)."""
    aws = BENCH_VENV / "bin" / "aws"
    if not aws.exists():
        print("installing the AWS CLI into .venv-bench (once) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "awscli"],
                       check=True)
    return aws


def aws_cli(commands: list[list[str]], env: dict[str, str]) -> float:
    """Wall time of the commands run one after another, as an engineer would."""
    aws = aws_cli_path()
    started = time.perf_counter()
    for command in commands:
        subprocess.run([str(aws), *command, "--output", "json"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


@contextlib.contextmanager
def sandbox_config(scenario: str = "healthy", *, latency_ms: float = 0.0,
                   scale: bool = False) -> Iterator[tuple[Path, Any, dict[str, str]]]:
    """A running sandbox, a config file pointing at it, and the environment to reach it;
    `latency_ms` and `scale` as `vwtui demo --latency-ms N --scale`."""
    from vwtui import config as config_mod
    from vwtui.sandbox import Sandbox

    with Sandbox(scenario=scenario, latency_ms=latency_ms, scale=scale) as sandbox, \
            tempfile.TemporaryDirectory(prefix="vwtui-bench-") as tmp:
        config = config_mod.Config(
            aws=config_mod.AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url),
            ui=config_mod.UiConfig(refresh_seconds=0),
        )
        path = Path(tmp) / "config.toml"
        config_mod.write(config, path)
        env = {**os.environ, **sandbox.env(), "XDG_STATE_HOME": str(Path(tmp) / "state")}
        yield path, config, env
