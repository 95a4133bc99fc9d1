"""Dashboard benchmark: process start to first frame, to every pane loaded, vs the AWS CLI.

Against the demo sandbox (moto server + shim on 127.0.0.1), in one run:
  - `vwtui --config <sandbox config>` is started in tmux at 80x24, several times; the app
    writes the moments of its first frame and of its last pane loading to $VWTUI_TIMINGS;
  - the AWS CLI commands that fetch the same data run one after another (the runbook's way),
    from the bench's own environment (.venv-bench, made on first use).

Run: .venv/bin/python bench/dashboard.py   (targets: first frame < 0.5 s, all panes < 1.5 s,
>= 3x faster than the CLI sequence)
"""

from __future__ import annotations

import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, aws_cli, ensure_project_venv, sandbox_config, timed_in_tmux

RUNS = 5


def cli_commands(vault: str, production: str, alarms: list[str]) -> list[list[str]]:
    """What an engineer types to see what the dashboard shows, one call per pane's data."""
    return [
        ["sts", "get-caller-identity"],
        ["rds", "describe-db-instances", "--db-instance-identifier", production],
        ["rds", "describe-db-instance-automated-backups", "--db-instance-identifier", production],
        ["rds", "describe-db-snapshots", "--db-instance-identifier", production],
        ["backup", "list-recovery-points-by-backup-vault", "--backup-vault-name", vault],
        ["cloudwatch", "describe-alarms", "--alarm-names", *alarms],
        ["rds", "describe-events", "--source-identifier", production,
         "--source-type", "db-instance", "--duration", "10080"],
        ["backup", "list-backup-jobs", "--by-backup-vault-name", vault, "--by-state", "FAILED"],
    ]


def time_console(config_path: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from launch to the first frame and to every pane loaded, read from the app."""
    vwtui = REPO / ".venv" / "bin" / "vwtui"
    events = timed_in_tmux(f"{vwtui} --config {config_path}", env, until="all_loaded",
                           timeout=30)
    return events["first_frame"], events["all_loaded"]


def main() -> None:
    ensure_project_venv()
    if not shutil.which("tmux"):
        raise SystemExit("bench/dashboard.py needs tmux (apt-get install tmux)")
    with sandbox_config() as (config_path, config, env):
        first, loaded = [], []
        time_console(config_path, env)  # warm the file cache: we measure a start, not a disk
        for _ in range(RUNS):
            f, a = time_console(config_path, env)
            first.append(f)
            loaded.append(a)
        alarms = [config.alarms.backup_age, config.alarms.backup_failure]
        commands = cli_commands(config.backup.vault, config.instances.production, alarms)
        cli_runs = [aws_cli(commands, env) for _ in range(3)]

    cli = statistics.median(cli_runs)
    print(f"console runs: {RUNS} at 80x24 in tmux, against the demo sandbox")
    print(f"first frame:       median {statistics.median(first):.3f} s, "
          f"worst {max(first):.3f} s (target < 0.5 s)")
    print(f"every pane loaded: median {statistics.median(loaded):.3f} s, "
          f"worst {max(loaded):.3f} s (target < 1.5 s)")
    print(f"aws-cli sequence:  {len(commands)} commands one after another, median of 3: "
          f"{cli:.3f} s ({', '.join(f'{c:.2f}' for c in cli_runs)})")
    all_loaded = statistics.median(loaded)
    print(f"dashboard {all_loaded:.2f} s vs aws-cli {cli:.2f} s: {cli / all_loaded:.1f}x faster")


if __name__ == "__main__":
    main()
