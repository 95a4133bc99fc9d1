"""End to end, in real terminals (tmux, 80x24): two vwtui processes on one state dir and one
sandbox account. One driver per run, proved with the kernel's own lock:

- A drives a PITR recovery to the swap;
- B starts on the same state dir: it is not offered A's run, it is told who drives it, and it
  makes no mutating call (counted in the sandbox's request log); A's run is untouched;
- A is killed with SIGKILL: B, started again, may now resume the run, with the RTO clock from
  the original start and no second restore.

The sandbox runs in this test process; both vwtui processes reach it through one config file
(`vwtui --config`) and share XDG_STATE_HOME, as two engineers in two SSH windows would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_pg import database_of, record_baselines
from fixtures_sandbox import sandbox_client
from test_demo_tmux import VWTUI, Terminal, require_tmux

from vwtui import config as config_mod
from vwtui.config import AwsConfig, Config, UiConfig
from vwtui.recovery.lock import holder_of

pytestmark = pytest.mark.tmux

SWAP_WAITS = "then g runs the swap"


@pytest.fixture
def terminals() -> Iterator[Callable[[], Terminal]]:
    """Private tmux servers (one per vwtui process), all killed at the end."""
    require_tmux()
    made: list[Terminal] = []

    def make() -> Terminal:
        made.append(Terminal(Path(tempfile.mkdtemp(prefix="vwtui-tmux-"))))
        return made[-1]

    try:
        yield make
    finally:
        for terminal in made:
            terminal.kill()
            shutil.rmtree(terminal.work, ignore_errors=True)


def modal(screen: str) -> str:
    """The text inside the modal box on screen (the rows between its two thick borders), run
    together: a sentence wrapped over rows reads whole again."""
    rows = []
    for line in screen.splitlines():
        if line.count("█") >= 2:
            rows.append(line[line.index("█") + 1:line.rindex("█")].strip("▀▄ "))
    return " ".join(" ".join(rows).split())


def wait_modal(terminal: Terminal, *texts: str, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = modal(terminal.screen())
        if all(t in text for t in texts):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{texts} not in the modal after {timeout} s:\n{terminal.screen()}")


def styled_row(terminal: Terminal, label: str) -> str:
    """The screen row holding `label`, with its colours (a focused field is drawn apart)."""
    rows = terminal.tmux("capture-pane", "-p", "-e").splitlines()
    return next((row for row in rows if label in row), "")


@contextmanager
def focus_moves_to(terminal: Terminal, label: str, timeout: float = 60.0) -> Iterator[None]:
    """Around a key that moves the focus to the field on `label`'s row: wait until that row
    is drawn otherwise than before (focused), so the keys typed next go there."""
    before = styled_row(terminal, label)
    yield
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if styled_row(terminal, label) not in ("", before):
            return
        time.sleep(0.2)
    raise AssertionError(f"the focus never reached {label!r}:\n{terminal.screen()}")


def type_text(terminal: Terminal, text: str) -> None:
    terminal.tmux("send-keys", "-l", text)


def iso(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def rto_on(screen: str) -> timedelta:
    found = re.search(r"RTO (\d+):(\d\d):(\d\d)", screen)
    assert found, screen
    hours, minutes, seconds = map(int, found.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def cname(sandbox: Any) -> str:
    route53 = sandbox_client(sandbox, "route53")
    zone = route53.list_hosted_zones_by_name(DNSName="videowindow.internal.")["HostedZones"][0]
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    found = next(r for r in records
                 if r["Name"] == "db.videowindow.internal." and r["Type"] == "CNAME")
    return str(found["ResourceRecords"][0]["Value"])


def test_second_session_cannot_drive_a_run_until_its_driver_dies(
        terminals: Callable[[], Terminal], make_sandbox: Callable[..., Any], pg_server: Any,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sandbox = make_sandbox(restore_seconds=2.0)
    state_home = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    config = Config(
        aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url, max_attempts=2),
        database=database_of(pg_server),
        ui=UiConfig(refresh_seconds=0, poll_seconds=0.5))
    config_file = config_mod.write(config, tmp_path / "config.toml")
    record_baselines(config, state_home / "vwtui")
    command = f"{VWTUI} --config {config_file}; echo EXITED $?; sleep 60"
    rds = sandbox_client(sandbox, "rds")
    latest = rds.describe_db_instance_automated_backups(DBInstanceIdentifier="video-window")[
        "DBInstanceAutomatedBackups"][0]["RestoreWindow"]["LatestTime"]
    old_cname = cname(sandbox)

    # ---- A drives a PITR recovery to the swap ----
    a = terminals()
    a.start(command)
    a.wait_for("video-window", "available", timeout=120)
    a.press("n")
    a.wait_for("Point-in-time restore")
    a.wait_gone("reading the PITR window", timeout=60)
    # Keys typed before the focus reaches a field would land in the previous one: each field
    # is typed into once it is drawn focused.
    with focus_moves_to(a, "Incident time (UTC)"):
        a.press("1")
    type_text(a, iso(latest))
    a.wait_for(f"Incident time (UTC)  {iso(latest)}")
    with focus_moves_to(a, "Restore to    (UTC)"):
        a.press("Enter")
    type_text(a, iso(latest))
    a.wait_for(f"Restore to    (UTC)  {iso(latest)}", "implied RPO 0:00:00")
    a.press("Enter")
    a.wait_for("Network (source instance)", timeout=60)
    a.press("c")
    a.wait_for("y yes")
    a.press("y")
    screen = a.wait_for(SWAP_WAITS, timeout=180)
    assert "Traceback" not in screen
    journals = sorted((state_home / "vwtui" / "runs").glob("*.jsonl"))
    assert len(journals) == 1
    journal = journals[0]
    start = json.loads(journal.read_text().splitlines()[0])
    run_id, started_at = start["run_id"], datetime.fromisoformat(start["started_at"])
    holder = holder_of(journal)
    assert holder is not None and holder.pid is not None
    pid_a = holder.pid
    assert sandbox.calls("rds:Restore*") == ["rds:RestoreDBInstanceToPointInTime"]

    # ---- B starts on the same state dir: told who drives the run, offered nothing ----
    mutations_before = len(sandbox.requests(mutating=True))
    journal_before = journal.read_bytes()
    b = terminals()
    b.start(command)
    told = wait_modal(b, "Recovery driven by another session",
                      f"Run {run_id} is driven by {holder.user}@{holder.host} (pid {pid_a}) "
                      f"since ", "follow it read-only, or wait until it ends.")
    assert "Resume" not in told and "Traceback" not in b.screen()
    b.press("Enter")
    b.wait_gone("driven by another session")
    b.wait_for("video-window", "available")
    b.press("q")
    b.wait_for("EXITED 0", timeout=60)
    mutations_from_b = sandbox.requests(mutating=True)[mutations_before:]
    assert mutations_from_b == []
    # A's run is untouched: its journal, its lock, its swap not made, nothing deleted.
    assert journal.read_bytes() == journal_before
    assert holder_of(journal) == holder
    assert cname(sandbox) == old_cname
    assert sandbox.calls("rds:DeleteDBInstance") == []
    assert SWAP_WAITS in a.screen()

    # ---- A dies (SIGKILL): the kernel frees its lock; B, started again, may resume ----
    os.kill(pid_a, signal.SIGKILL)
    a.wait_for("EXITED 137", timeout=60)
    assert holder_of(journal) is None
    b2 = terminals()
    b2.start(command)
    offer = wait_modal(b2, "Resume the unfinished recovery?", start["request"]["target"])
    assert "driven by" not in offer
    # Resumed at least 20 s into the run: a clock restarted at the resume would show less
    # than the clock that runs on from A's start.
    while datetime.now(UTC) - started_at < timedelta(seconds=20):
        time.sleep(0.2)
    elapsed = datetime.now(UTC) - started_at
    b2.press("y")
    # The resumed run stands where A left it: restore, wait, verify and parity done, the swap
    # next.
    screen = b2.wait_for(f"1 PITR · video-window → {start['request']['target']}",
                         "g: run “Swap", timeout=120)
    assert screen.count("✓ done") == 4
    assert "Traceback" not in screen
    # The RTO clock counts from A's start, not from the resume.
    assert rto_on(screen) >= elapsed - timedelta(seconds=1)
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [r["event"] for r in records].count("run-start") == 1
    assert records[0]["started_at"] == start["started_at"]
    assert any(r["event"] == "run-resume" for r in records)
    assert sandbox.calls("rds:Restore*") == ["rds:RestoreDBInstanceToPointInTime"]
    assert cname(sandbox) == old_cname
    b2.press("q")
    b2.wait_for("Quit vwtui while this recovery is open?")
    b2.press("y")
    b2.wait_for("EXITED 0", timeout=60)
