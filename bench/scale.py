"""A big, shared account (issue 12): vwtui on the scaled sandbox vs a sequential boto3 script.

The scaled sandbox (`vwtui demo --scale`: 10,000 snapshots of the instance, 10,000 recovery
points of other resources in the shared vault, 30 days of jobs for 50 resources), at 0 and at
80 ms per AWS call (`--latency-ms`, a bastion's round trip). At each latency, in one run:

  - `vwtui --config <sandbox config>` from a cold start in tmux at 80x24, RUNS times: the first
    frame, the first snapshot rows on screen, every pane loaded (the app writes these moments
    to $VWTUI_TIMINGS), and the process's peak memory (VmHWM);
  - a sequential boto3 script (its own process, as an engineer would run it) that reads the
    same pages as the dashboard: each list timed on its own; the longest single paginated
    list is the physical floor of "every pane loaded" (its pages can only come one by one).

At 0 ms, in this process: `f` and `/` on the 10,000 snapshots, each key to the frame that
shows it. At 80 ms: `vwtui checklist --json` vs a sequential boto3 script reading the same.

Targets (issue 12): first frame < 0.3 s; first rows <= first frame + one page + 0.1 s; every
pane <= 1.2x the boto3 floor; `f` and `/` < 100 ms to the next frame; peak memory < 250 MB;
checklist <= 0.7x the boto3 script.

    .venv/bin/python bench/scale.py [--runs 2] [--latencies 0,80]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, ensure_project_venv, sandbox_config, timed_in_tmux

PYTHON = REPO / ".venv" / "bin" / "python"


# ---- the sequential boto3 scripts (run in their own process: `scale.py --boto3 KIND`) ------

def boto3_script(kind: str) -> None:
    """Read what the dashboard (kind "dashboard") or the checklist ("checklist") reads, one
    call after another; print JSON: seconds from process start per list and in all."""
    from vwtui.config import Config

    config = Config()
    started = time.perf_counter()
    import boto3

    production, staging = config.instances.production, config.instances.staging
    vault = config.backup.vault
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = boto3.client(service)
        return clients[service]

    lists: dict[str, float] = {}
    first_page: list[float] = []

    def pages(service: str, operation: str, name: str, **params: Any) -> list[Any]:
        began = time.perf_counter()
        found = []
        for page in client(service).get_paginator(operation).paginate(**params):
            if not first_page and operation == "describe_db_snapshots":
                first_page.append(time.perf_counter() - started)
            found.append(page)
        lists[name] = time.perf_counter() - began
        return found

    def one(service: str, operation: str, name: str, **params: Any) -> Any:
        began = time.perf_counter()
        answer = getattr(client(service), operation)(**params)
        lists[name] = time.perf_counter() - began
        return answer

    now = datetime.now(UTC)
    identity = one("sts", "get_caller_identity", "identity")
    arn = f"arn:aws:rds:{client('rds').meta.region_name}:{identity['Account']}:db:"
    alarms = [config.alarms.backup_age, config.alarms.backup_failure]
    one("rds", "describe_db_instances", "instance", DBInstanceIdentifier=production)
    pages("rds", "describe_db_instance_automated_backups", "pitr window",
          DBInstanceIdentifier=production)
    if kind == "dashboard":
        pages("rds", "describe_db_snapshots", "snapshots automated",
              DBInstanceIdentifier=production, SnapshotType="automated")
        pages("rds", "describe_db_snapshots", "snapshots manual",
              DBInstanceIdentifier=production, SnapshotType="manual")
        pages("backup", "list_recovery_points_by_backup_vault", "recovery points",
              BackupVaultName=vault, ByResourceArn=arn + production)
        pages("cloudwatch", "describe_alarms", "alarms", AlarmNames=alarms)
        pages("rds", "describe_events", "events", SourceIdentifier=production,
              SourceType="db-instance", Duration=7 * 24 * 60)
        pages("backup", "list_backup_jobs", "failed jobs", ByResourceArn=arn + production,
              ByState="FAILED", ByCreatedAfter=now - timedelta(days=7))
    else:
        # What `vwtui checklist` reads, in the same pages: every snapshot of production (its
        # encryption items judge each one; the checklist reads the same 101 pages, each next
        # one asked for while the last is parsed), our instances' points and jobs by
        # ByResourceArn. Left out (the checklist reads them too, so this script is, if
        # anything, the quicker side): CloudTrail's trails and the back-under-protection
        # item's reads (Route 53 record, every instance, the plan's selections).
        one("rds", "describe_db_instances", "staging instance", DBInstanceIdentifier=staging)
        pages("rds", "describe_db_snapshots", "snapshots", DBInstanceIdentifier=production)
        for name in (production, staging):
            pages("backup", "list_recovery_points_by_backup_vault", f"recovery points {name}",
                  BackupVaultName=vault, ByResourceArn=arn + name)
            pages("backup", "list_backup_jobs", f"jobs {name}", ByBackupVaultName=vault,
                  ByResourceArn=arn + name, ByCreatedAfter=now - timedelta(days=7))
        pages("cloudwatch", "describe_alarms", "alarms", AlarmNames=alarms)
        pages("rds", "describe_events", "events", SourceIdentifier=production,
              SourceType="db-instance", Duration=7 * 24 * 60)
        plans = pages("backup", "list_backup_plans", "plans")
        for page in plans:
            for plan in page["BackupPlansList"]:
                if plan["BackupPlanName"] == config.backup.plan:
                    one("backup", "get_backup_plan", "plan", BackupPlanId=plan["BackupPlanId"])
        for page in pages("sns", "list_topics", "topics"):
            for topic in page["Topics"]:
                if topic["TopicArn"].endswith(":" + config.alarms.sns_topic):
                    pages("sns", "list_subscriptions_by_topic", "subscriptions",
                          TopicArn=topic["TopicArn"])
        for page in pages("events", "list_rules", "rules"):
            for rule in page["Rules"]:
                if "aws.backup" in (rule.get("EventPattern") or ""):
                    pages("events", "list_targets_by_rule", f"targets {rule['Name']}",
                          Rule=rule["Name"])
    print(json.dumps({"lists": lists, "first_page": first_page[0] if first_page else None,
                      "total": time.perf_counter() - started}))


def run_boto3(kind: str, env: dict[str, str]) -> dict[str, Any]:
    """The boto3 script as a process of its own; wall time from launch to exit as "wall"."""
    started = time.perf_counter()
    done = subprocess.run([str(PYTHON), __file__, "--boto3", kind], env=env,
                          capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    result["wall"] = time.perf_counter() - started
    return result


# ---- vwtui from a cold start, in tmux ------------------------------------------------------

def time_console(config_path: Path, env: dict[str, str]) -> dict[str, float]:
    """Seconds from launch to first_frame, first_rows and all_loaded, and the peak memory."""
    vwtui = REPO / ".venv" / "bin" / "vwtui"
    # 0.3 s after all_loaded: the last pane drawn.
    return timed_in_tmux(f"{vwtui} --config {config_path}", env, until="all_loaded",
                         timeout=120, settle=0.3)


BARE_APP = """
import json, os, time
from textual.app import App
from textual.widgets import Footer, Header, Static

class Bare(App):
    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()

    def on_ready(self):
        with open(os.environ["VWTUI_TIMINGS"], "a") as handle:
            handle.write(json.dumps({"event": "first_frame", "t": time.time()}) + "\\n")
        self.exit()

Bare().run()
"""


def time_bare_textual(env: dict[str, str]) -> float:
    """Seconds from launch to the first frame of an empty Textual app (a header, a line, a
    footer) in the same tmux at 80x24: the floor the framework sets on this machine."""
    with tempfile.TemporaryDirectory(prefix="vwtui-bench-") as work:
        script = Path(work) / "bare.py"
        script.write_text(BARE_APP)
        return timed_in_tmux(f"{PYTHON} {script}", env, until="first_frame",
                             timeout=30)["first_frame"]


# ---- f and / on 10,000 rows, in this process -----------------------------------------------

async def time_keys(config: Any, env: dict[str, str]) -> dict[str, list[float]]:
    """Each `f` and each `/` keystroke: ms from the key entering the app to the frame that
    shows its rows (rendered to terminal bytes, as bench/recovery.py)."""
    from textual import events
    from textual._compositor import CompositorUpdate
    from textual.widgets import Input

    from vwtui.app import VwtuiApp
    from vwtui.services.aws import AwsService
    from vwtui.widgets.backup_panes import SnapshotsPane

    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    app = VwtuiApp(config, AwsService(config))
    measured: dict[str, list[float]] = {"f": [], "/": []}
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        for _ in range(2400):
            if getattr(screen, "polls_completed", 0) >= 1:
                break
            await pilot.pause(0.05)
        else:
            raise SystemExit("the dashboard did not load in 120 s")
        pane = screen.query_one(SnapshotsPane)
        await pilot.pause(0.5)
        rows = pane.table.row_count
        frames: list[tuple[float, str, str, int]] = []
        display = app._display

        def timed_display(screen_: object, renderable: object) -> None:
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
                frames.append((time.perf_counter(), pane.type_filter, pane.text_filter,
                               pane.table.row_count))
            display(screen_, renderable)  # type: ignore[arg-type]

        app._display = timed_display  # type: ignore[method-assign,assignment]
        driver = app._driver
        assert driver is not None

        async def press(key: str, character: str | None, wanted: tuple[str, str]) -> float:
            frames.clear()
            sent = time.perf_counter()
            driver.send_message(events.Key(key, character))
            while time.perf_counter() - sent < 10:
                shown = [t for t, kind, text, _ in frames if t > sent and (kind, text) == wanted]
                if shown:
                    await asyncio.sleep(0.05)
                    return (shown[0] - sent) * 1000
                await asyncio.sleep(0.0005)
            raise SystemExit(f"{key} was not shown within 10 s")

        for kind in ("automated", "manual", "all"):
            measured["f"].append(await press("f", "f", (kind, "")))
        await pilot.press("slash")
        await pilot.pause(0.2)
        assert screen.query_one("#text-filter", Input).has_focus
        typed = ""
        for char in f"hourly-{datetime.now(UTC).year - 1}-0":
            typed += char
            key = "minus" if char == "-" else char
            measured["/"].append(await press(key, char, ("all", typed)))
        measured["/"].append(await press("escape", None, ("all", "")))
        app._display = display  # type: ignore[method-assign]
    measured["rows"] = [float(rows)]
    return measured


# ---- the run ------------------------------------------------------------------------------

def report_latency(latency: float, runs: int, keys: bool, checklist: bool) -> dict[str, Any]:
    with sandbox_config(latency_ms=latency, scale=True) as (config_path, config, env):
        time_console(config_path, env)  # warm the file cache: we measure a start, not a disk
        consoles = [time_console(config_path, env) for _ in range(runs)]
        bare = statistics.median(time_bare_textual(env) for _ in range(runs))
        scripts = [run_boto3("dashboard", env) for _ in range(runs)]
        measured_keys = asyncio.run(time_keys(config, env)) if keys else None
        checklists: list[float] = []
        checklist_scripts: list[dict[str, Any]] = []
        if checklist:
            command = [str(PYTHON), "-m", "vwtui", "checklist", "--json",
                       "--config", str(config_path)]
            for _ in range(runs):
                began = time.perf_counter()
                done = subprocess.run(command, env=env, capture_output=True, text=True)
                checklists.append(time.perf_counter() - began)
                if done.returncode not in (0, 1):
                    raise SystemExit(f"vwtui checklist exited {done.returncode}: "
                                     f"{done.stderr.strip()}")
                checklist_scripts.append(run_boto3("checklist", env))

    def med(key: str) -> float:
        return statistics.median(c[key] for c in consoles)

    script_total = statistics.median(s["total"] for s in scripts)
    script_first = statistics.median(s["first_page"] for s in scripts)
    longest_name = max(scripts[0]["lists"], key=lambda k: scripts[0]["lists"][k])
    longest = statistics.median(s["lists"][longest_name] for s in scripts)
    page = statistics.median(s["lists"]["snapshots automated"] for s in scripts)
    print(f"-- {latency:g} ms per AWS call: vwtui cold start in tmux at 80x24, median of {runs}")
    each = ", ".join(f"{c['first_frame']:.2f}" for c in consoles)
    print(f"first frame:       {med('first_frame'):.3f} s ({each}; target < 0.3 s); an empty "
          f"Textual app in the same tmux: {bare:.3f} s (the framework's floor here), vwtui "
          f"{med('first_frame') - bare:+.3f} s over it")
    target_rows = med("first_frame") + page + 0.1
    print(f"first rows:        {med('first_rows'):.3f} s (target <= first frame + one page "
          f"{page:.3f} s + 0.1 s = {target_rows:.2f} s)")
    print(f"every pane loaded: {med('all_loaded'):.3f} s vs boto3's longest list "
          f"({longest_name}, {longest:.3f} s): {med('all_loaded') / longest:.2f}x "
          f"(target <= 1.2x)")
    print(f"peak memory:       {max(c['peak_mb'] for c in consoles):.0f} MB (target < 250 MB)")
    print(f"boto3 script:      first snapshot page {script_first:.3f} s, all pages "
          f"{script_total:.3f} s from its start ("
          + ", ".join(f"{k} {v:.2f}" for k, v in scripts[0]["lists"].items()) + ")")
    result: dict[str, Any] = {"first_rows": med("first_rows"), "boto3_all": script_total,
                              "first_frame": med("first_frame"), "bare": bare}
    if measured_keys is not None:
        rows = int(measured_keys["rows"][0])
        for key in ("f", "/"):
            values = measured_keys[key]
            print(f"`{key}` on {rows:,} rows: key to frame worst {max(values):.1f} ms, median "
                  f"{statistics.median(values):.1f} ms over {len(values)} keys (target < 100 ms)")
    if checklists:
        ours = statistics.median(checklists)
        theirs = statistics.median(s["wall"] for s in checklist_scripts)
        longest_name = max(checklist_scripts[0]["lists"],
                           key=lambda k: checklist_scripts[0]["lists"][k])
        print(f"vwtui checklist --json: {ours:.3f} s vs sequential boto3 script {theirs:.3f} s "
              f"(process start to exit, median of {runs}): {ours / theirs:.2f}x (target <= "
              f"0.7x); its longest list ({longest_name}) alone "
              f"{checklist_scripts[0]['lists'][longest_name]:.3f} s")
    return result


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--boto3":
        boto3_script(sys.argv[2])
        return
    ensure_project_venv()
    if not shutil.which("tmux"):
        raise SystemExit("bench/scale.py needs tmux (apt-get install tmux)")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="runs of each measure (median)")
    parser.add_argument("--latencies", default="0,80", help="ms per AWS call, comma-separated")
    args = parser.parse_args()
    import logging

    logging.getLogger("werkzeug").disabled = True
    latencies = [float(x) for x in args.latencies.split(",")]
    results = {latency: report_latency(latency, args.runs, keys=latency == latencies[0],
                                       checklist=latency == latencies[-1])
               for latency in latencies}
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
          f"on {os.cpu_count()} cores")
    last = results[latencies[-1]]
    print(f"first rows {last['first_rows']:.2f} s vs boto3 all pages {last['boto3_all']:.1f} s "
          f"at {latencies[-1]:g} ms per call: {last['boto3_all'] / last['first_rows']:.1f}x "
          f"sooner")


if __name__ == "__main__":
    main()
