"""Checklist benchmark: `vwtui checklist --json` against the AWS CLI commands that read the same.

Against the demo sandbox (moto server + shim on 127.0.0.1), in one run:
  - `vwtui checklist --json --config <sandbox config>` runs as a subprocess several times
    (wall time, process start to exit, median);
  - the AWS CLI commands an engineer would type to answer the same checklist run one after
    another, from the bench's own environment (.venv-bench, made on first use), several times.

Run: .venv/bin/python bench/checklist.py   (targets: >= 4x faster than the CLI sequence, < 2 s)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, aws_cli, ensure_project_venv, sandbox_config

RUNS = 5
CLI_RUNS = 3


def cli_commands(config: Any, env: dict[str, str]) -> list[list[str]]:
    """The checklist's reads, as AWS CLI commands (one per call, as the runbook types them).

    The two lookups that need an id found by an earlier command (the plan id, the topic ARN)
    are resolved once here; the commands that would find them are in the list all the same.
    """
    import boto3

    kwargs = {"region_name": config.aws.region, "endpoint_url": config.aws.endpoint_url,
              "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
              "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}
    plans = boto3.client("backup", **kwargs).list_backup_plans()["BackupPlansList"]
    plan_id = next(p["BackupPlanId"] for p in plans if p["BackupPlanName"] == config.backup.plan)
    topics = boto3.client("sns", **kwargs).list_topics()["Topics"]
    topic_arn = next(t["TopicArn"] for t in topics
                     if t["TopicArn"].endswith(":" + config.alarms.sns_topic))
    rules = boto3.client("events", **kwargs).list_rules()["Rules"]
    rule = next(r["Name"] for r in rules if "aws.backup" in (r.get("EventPattern") or ""))
    production, staging = config.instances.production, config.instances.staging
    vault = config.backup.vault
    week_ago = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        ["rds", "describe-db-instances", "--db-instance-identifier", production],
        ["rds", "describe-db-instances", "--db-instance-identifier", staging],
        ["rds", "describe-db-instance-automated-backups", "--db-instance-identifier", production],
        ["rds", "describe-db-snapshots", "--db-instance-identifier", production],
        ["backup", "list-recovery-points-by-backup-vault", "--backup-vault-name", vault],
        ["backup", "list-backup-jobs", "--by-backup-vault-name", vault,
         "--by-created-after", week_ago],
        ["cloudwatch", "describe-alarms", "--alarm-names", config.alarms.backup_age,
         config.alarms.backup_failure],
        ["rds", "describe-events", "--source-identifier", production,
         "--source-type", "db-instance", "--duration", "10080"],
        ["backup", "list-backup-plans"],
        ["backup", "get-backup-plan", "--backup-plan-id", plan_id],
        ["sns", "list-topics"],
        ["sns", "list-subscriptions-by-topic", "--topic-arn", topic_arn],
        ["events", "list-rules"],
        ["events", "list-targets-by-rule", "--rule", rule],
    ]


def time_checklist(config_path: Path, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Wall time of one `vwtui checklist --json`, and its parsed output."""
    command = [str(REPO / ".venv" / "bin" / "python"), "-m", "vwtui", "checklist", "--json",
               "--config", str(config_path)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"vwtui checklist exited {done.returncode}: {done.stderr.strip()}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    ensure_project_venv()
    with sandbox_config() as (config_path, config, env):
        commands = cli_commands(config, env)
        _, report = time_checklist(config_path, env)  # warm the file cache
        runs = [time_checklist(config_path, env)[0] for _ in range(RUNS)]
        aws_cli(commands[:1], env)  # install the CLI if needed, warm its cache
        cli_runs = [aws_cli(commands, env) for _ in range(CLI_RUNS)]
    summary = report["summary"]
    print(f"vwtui checklist --json: {len(report['checks'])} checks "
          f"({summary['pass']} pass, {summary['fail']} fail, {summary['unknown']} unknown), "
          f"median of {RUNS}: {statistics.median(runs):.3f} s "
          f"({', '.join(f'{r:.2f}' for r in runs)})")
    cli = statistics.median(cli_runs)
    print(f"aws-cli sequence: {len(commands)} commands one after another, median of "
          f"{CLI_RUNS}: {cli:.3f} s ({', '.join(f'{c:.2f}' for c in cli_runs)})")
    checklist = statistics.median(runs)
    print(f"checklist {checklist:.2f} s vs aws-cli {cli:.2f} s: {cli / checklist:.1f}x faster")


if __name__ == "__main__":
    main()
