"""Troubleshooting that acts (issue 11, section 3), against the sandbox, a real PostgreSQL and
real sockets: each check seeded to pass and to fail, unknown on AccessDenied; the manual backup
refused in read-only and never issued twice (mutating requests counted in the sandbox's log).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fixtures_pg import PgServer
from fixtures_sandbox import SANDBOX_NOW, sandbox_client, sandbox_config

from vwtui import remedies
from vwtui.actions_journal import ActionsJournal
from vwtui.config import AwsConfig, Config, RestoreConfig, UiConfig
from vwtui.errors import GuardrailError
from vwtui.model import Verdict
from vwtui.services import diagnostics
from vwtui.services.aws import AwsService
from vwtui.services.backup_ops import BACKUP_JOB, RDS_SNAPSHOT, ManualBackupOps
from vwtui.services.pg import PgService

PRODUCTION = "video-window"
GIB = 1024 ** 3


def _mutations(sandbox: Any, since: int) -> list[str]:
    """The mutating requests since the `since`-th request of the log (all requests counted)."""
    return [f"{r.service}:{r.operation}" for r in sandbox.requests()[since:] if r.mutating]


def _put_free_storage(sandbox: Any, values_gib: list[float]) -> None:
    cw = sandbox_client(sandbox, "cloudwatch")
    now = sandbox.current_time()
    cw.put_metric_data(Namespace="AWS/RDS", MetricData=[{
        "MetricName": "FreeStorageSpace",
        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": PRODUCTION}],
        "Timestamp": now - timedelta(hours=h + 1), "Value": v * GIB, "Unit": "Bytes"}
        for h, v in enumerate(values_gib)])


async def _until_done(ops: ManualBackupOps, action: Any) -> Any:
    for _ in range(200):
        progress = await ops.progress(action)
        if progress.done:
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError("the manual backup never ended")


# ---- storage full ------------------------------------------------------------------------------

async def test_storage_passes_fails_and_is_unknown_when_denied(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox()
    aws = AwsService(sandbox_config(sandbox))
    now = sandbox.current_time()
    # No datapoint at all: unknown, never a pass.
    assert (await diagnostics.storage(aws, PRODUCTION, now=now)).verdict is Verdict.UNKNOWN
    _put_free_storage(sandbox, [61.5, 58.0, 60.2])
    ok = await diagnostics.storage(aws, PRODUCTION, now=now)
    assert ok.verdict is Verdict.PASS, ok.lines
    assert "allocated storage: 100 GB" in ok.lines[0]
    assert "58.0 GB" in ok.summary  # the minimum, not the newest
    _put_free_storage(sandbox, [57.0, 4.5])  # one low hour in the last 24 h
    full = await diagnostics.storage(aws, PRODUCTION, now=now)
    assert full.verdict is Verdict.FAIL and "4.5 GB" in full.summary
    assert any("--allocated-storage 120" in line for line in full.lines)
    sandbox.deny("cloudwatch:GetMetricStatistics")
    denied = await diagnostics.storage(aws, PRODUCTION, now=now)
    assert denied.verdict is Verdict.UNKNOWN
    assert "GetMetricStatistics" in denied.summary


# ---- the manual backup -------------------------------------------------------------------------

async def test_manual_backup_is_refused_in_read_only(make_sandbox: Callable[..., Any],
                                                     tmp_path: Path) -> None:
    sandbox = make_sandbox(restore_seconds=0.2)
    config = sandbox_config(sandbox)
    config = replace(config, ui=replace(config.ui, read_only=True))
    ops = ManualBackupOps(AwsService(config), ActionsJournal(tmp_path / "actions.jsonl"))
    before = len(sandbox.requests())
    for kind in (BACKUP_JOB, RDS_SNAPSHOT):
        prepared = await ops.prepare(kind, PRODUCTION)
        assert prepared.refusal is not None and "read-only" in prepared.refusal
        with pytest.raises(GuardrailError, match="read-only"):
            await ops.start(prepared)
    assert _mutations(sandbox, before) == []
    assert ops.actions() == []  # nothing journaled: nothing was asked


async def test_backup_job_is_issued_once_then_followed_to_its_end(
        make_sandbox: Callable[..., Any], tmp_path: Path) -> None:
    sandbox = make_sandbox(restore_seconds=0.2)
    journal = ActionsJournal(tmp_path / "actions.jsonl")
    ops = ManualBackupOps(AwsService(sandbox_config(sandbox)), journal)
    before = len(sandbox.requests())
    prepared = await ops.prepare(BACKUP_JOB, PRODUCTION)
    assert prepared.refusal is None
    # The plan's vault and role (the seed's selection), shown before the request.
    assert "--backup-vault-name video-window-backup-vault" in prepared.command
    assert "--iam-role-arn" in prepared.command and "vault and role from plan" in \
        prepared.notes[0]
    # Two presses at once: one request.
    first, second = await asyncio.gather(ops.start(prepared), ops.start(prepared),
                                         return_exceptions=True)
    started = [r for r in (first, second) if not isinstance(r, BaseException)]
    refused = [r for r in (first, second) if isinstance(r, GuardrailError)]
    assert len(started) == 1 and len(refused) == 1
    action = started[0]
    assert action.state == "running" and action.resource_id
    # A second press while it runs: refused, still one request.
    again = await ops.prepare(BACKUP_JOB, PRODUCTION)
    assert again.refusal is not None and "still running" in again.refusal
    with pytest.raises(GuardrailError):
        await ops.start(again)
    progress = await _until_done(ops, action)
    assert progress.state == "completed" and progress.aws_state == "COMPLETED"
    # Done today: refused again.
    later = await ops.prepare(BACKUP_JOB, PRODUCTION)
    assert later.refusal is not None and "completed" in later.refusal
    with pytest.raises(GuardrailError):
        await ops.start(later)
    assert _mutations(sandbox, before) == ["backup:StartBackupJob"]
    events = [line for line in (tmp_path / "actions.jsonl").read_text().splitlines()]
    assert ['"event":"asked"' in events[0], '"event":"started"' in events[1],
            '"event":"ended"' in events[2]] == [True, True, True]
    assert ops.actions()[0].state == "completed"


async def test_snapshot_is_named_and_a_lost_answer_is_found_before_asking_again(
        make_sandbox: Callable[..., Any], tmp_path: Path) -> None:
    sandbox = make_sandbox(restore_seconds=0.2)
    journal = ActionsJournal(tmp_path / "actions.jsonl")
    when = sandbox.current_time()
    ops = ManualBackupOps(AwsService(sandbox_config(sandbox)), journal, now=lambda: when)
    prepared = await ops.prepare(RDS_SNAPSHOT, PRODUCTION)
    name = f"{PRODUCTION}-manual-{when:%Y%m%d%H%M}"
    assert prepared.refusal is None
    assert prepared.command.startswith(
        f"aws rds create-db-snapshot --db-snapshot-identifier {name} "
        f"--db-instance-identifier {PRODUCTION}")
    # The intent is journaled, AWS acts, and the answer is lost (vwtui killed).
    journal.asked(prepared.action_id, RDS_SNAPSHOT, PRODUCTION, prepared.command, when,
                  resource=name)
    sandbox_client(sandbox, "rds").create_db_snapshot(**prepared.call.params)
    before = len(sandbox.requests())
    again = await ops.prepare(RDS_SNAPSHOT, PRODUCTION)
    assert again.refusal is not None
    with pytest.raises(GuardrailError):
        await ops.start(again)
    assert _mutations(sandbox, before) == []
    found = ops.actions(RDS_SNAPSHOT, PRODUCTION)[0]
    assert found.resource_id == name  # adopted, and followed
    assert (await _until_done(ops, found)).state == "completed"


async def test_lost_job_answer_is_found_and_a_never_made_one_may_be_asked_again(
        make_sandbox: Callable[..., Any], tmp_path: Path) -> None:
    sandbox = make_sandbox(restore_seconds=0.2)
    journal = ActionsJournal(tmp_path / "actions.jsonl")
    aws = AwsService(sandbox_config(sandbox))
    ops = ManualBackupOps(aws, journal, now=sandbox.current_time)
    prepared = await ops.prepare(BACKUP_JOB, PRODUCTION)
    params = prepared.call.params
    journal.asked(prepared.action_id, BACKUP_JOB, PRODUCTION, prepared.command,
                  sandbox.current_time(), vault=params["BackupVaultName"],
                  resource_arn=params["ResourceArn"])
    job = sandbox_client(sandbox, "backup").start_backup_job(**params)["BackupJobId"]
    before = len(sandbox.requests())
    again = await ops.prepare(BACKUP_JOB, PRODUCTION)
    assert again.refusal is not None and job in again.refusal
    assert _mutations(sandbox, before) == []
    # An intent AWS never acted on, older than the grace: looked for, not found, asked again.
    other = tmp_path / "other.jsonl"
    old = sandbox.current_time() - timedelta(minutes=10)
    ActionsJournal(other).asked("lost", RDS_SNAPSHOT, PRODUCTION, "aws rds ...", old,
                                resource=f"{PRODUCTION}-manual-{old:%Y%m%d%H%M}")
    fresh = ManualBackupOps(aws, ActionsJournal(other), now=sandbox.current_time)
    retry = await fresh.prepare(RDS_SNAPSHOT, PRODUCTION)
    assert retry.refusal is None
    assert fresh.actions()[0].state == "not-made"
    await fresh.start(retry)
    assert _mutations(sandbox, before) == ["rds:CreateDBSnapshot"]


# ---- long-running and blocking queries (a real server, two sessions, one lock) -----------------

async def test_blocked_and_blocking_sessions_are_paired(pg_server: PgServer,
                                                        pg_config: Config,
                                                        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox()
    config = replace(sandbox_config(sandbox), database=pg_config.database)
    aws, pg = AwsService(config), PgService(config)
    holder = await psycopg.AsyncConnection.connect(pg_server.dsn)
    waiter = await psycopg.AsyncConnection.connect(pg_server.dsn, autocommit=True)
    try:
        await holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        blocked = asyncio.create_task(waiter.execute("SELECT count(*) FROM users"))
        async with await psycopg.AsyncConnection.connect(pg_server.dsn,
                                                         autocommit=True) as look:
            for _ in range(400):
                row = await (await look.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                    (waiter.info.backend_pid,))).fetchone()
                if row and row[0] == "Lock":
                    break
                await asyncio.sleep(0.05)
        finding = await diagnostics.activity(aws, pg, PRODUCTION, minutes=0,
                                             now=datetime(2025, 11, 11, 3, 20, tzinfo=UTC))
        assert finding.verdict is Verdict.FAIL, finding.lines
        assert finding.lines[0] == "Backup window: 03:00-04:00 UTC (now inside it)"
        pair = (f"pid {waiter.info.backend_pid} waits on pid {holder.info.backend_pid} "
                f"(idle in transaction)")
        assert any(pair in line for line in finding.lines), finding.lines
        assert any("LOCK TABLE users" in line for line in finding.lines)
        await holder.rollback()
        await blocked
        # Lock released: our pair is gone (other tests' sessions may come and go).
        after = await diagnostics.activity(aws, pg, PRODUCTION, minutes=60)
        assert not any(f"pid {waiter.info.backend_pid} waits" in line for line in after.lines)
        assert after.verdict in (Verdict.PASS, Verdict.FAIL)
    finally:
        await holder.close()
        await waiter.close()
    # The instance cannot be read: unknown.
    sandbox.deny("rds:DescribeDBInstances")
    assert (await diagnostics.activity(aws, pg, PRODUCTION)).verdict is Verdict.UNKNOWN


# ---- VPC connectivity --------------------------------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connectivity_to_a_listening_and_a_closed_port(
        make_sandbox: Callable[..., Any]) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        ok = await diagnostics.tcp_probe("database.host", "127.0.0.1", port, timeout=2)
        assert ok.ok and ok.error is None and ok.seconds >= 0
        closed = await diagnostics.tcp_probe("database.host", "127.0.0.1", _closed_port(),
                                             timeout=2)
        assert not closed.ok and closed.error is not None and "refused" in closed.error
        sandbox = make_sandbox()
        aws = AwsService(sandbox_config(sandbox))
        # The sandbox's endpoint is not a real name; the tunnel listens: FAIL on the endpoint,
        # the security group named with what it admits on 5432.
        finding = await diagnostics.connectivity(aws, PRODUCTION, tunnel=("127.0.0.1", port),
                                                 timeout=2)
        assert finding.verdict is Verdict.FAIL
        assert any("✔ database.host 127.0.0.1" in line for line in finding.lines)
        assert any("(video-window-db)" in line for line in finding.lines), finding.lines
        assert any("10.20.0.0/16" in line for line in finding.lines)
        passing = remedies.connectivity_finding([ok], [])
        assert passing.verdict is Verdict.PASS
        sandbox.deny("ec2:DescribeSecurityGroups")
        named = await diagnostics.connectivity(aws, PRODUCTION, timeout=2)
        assert any("names not read" in line for line in named.lines)
        sandbox.deny("rds:DescribeDBInstances")
        assert (await diagnostics.connectivity(aws, PRODUCTION)).verdict is Verdict.UNKNOWN
    finally:
        server.close()
        await server.wait_closed()


# ---- slow restore ------------------------------------------------------------------------------

async def test_slow_restore_compares_the_classes(make_sandbox: Callable[..., Any],
                                                 pg_config: Config) -> None:
    sandbox = make_sandbox()
    base = replace(sandbox_config(sandbox), database=pg_config.database)
    smaller = replace(base, restore=RestoreConfig(instance_class="db.t3.small"))
    finding = await diagnostics.restore_sizing(AwsService(smaller), PgService(smaller),
                                               PRODUCTION)
    assert finding.verdict is Verdict.FAIL and "db.t3.small" in finding.summary
    assert any(line.startswith("Database size: ") and "not read" not in line
               for line in finding.lines), finding.lines
    assert any("db.t3.large" in line and "scale down after" in line for line in finding.lines)
    same = await diagnostics.restore_sizing(AwsService(base), None, PRODUCTION)
    assert same.verdict is Verdict.PASS and "db.t3.medium" in same.summary
    sandbox.deny("rds:DescribeDBInstances")
    assert (await diagnostics.restore_sizing(AwsService(base), None, PRODUCTION)).verdict \
        is Verdict.UNKNOWN


# ---- the actions view --------------------------------------------------------------------------

class _Opened:
    """The app, and the actions view pushed over its dashboard once the app runs."""

    def __init__(self, sandbox: Any, tmp_path: Path) -> None:
        from vwtui.app import VwtuiApp
        from vwtui.config import DatabaseConfig

        # No endpoint_url in the config (AWS_ENDPOINT_URL points boto3 at the sandbox): the
        # aws lines on screen carry no random port. The database is a socket that is not there.
        self.config = Config(aws=AwsConfig(region=sandbox.region, max_attempts=1),
                             database=DatabaseConfig(host="/nonexistent-vwtui-socket",
                                                     sslmode="disable",
                                                     connect_timeout_seconds=2),
                             ui=UiConfig(refresh_seconds=0, poll_seconds=0.05))
        self.aws = AwsService(self.config)
        self.journal = ActionsJournal(tmp_path / "actions.jsonl")
        self.app = VwtuiApp(self.config, self.aws, clock=lambda: SANDBOX_NOW)

    async def open(self, pilot: Any) -> Any:
        from vwtui.screens.troubleshoot_actions import ActionsScreen

        screen = ActionsScreen("Backup jobs completed [FAIL]", instance=PRODUCTION,
                               config=self.config, aws=self.aws, journal=self.journal,
                               clock=SANDBOX_NOW, poll_seconds=0.05)
        await pilot.app.push_screen(screen)
        await _wait(pilot, lambda: screen.reads_done == 4 and (
            pilot.app.identity is not None or pilot.app.identity_error is not None))
        return screen


async def _wait(pilot: Any, done: Callable[[], bool]) -> None:
    for _ in range(400):
        if done():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("the actions view did not settle")


async def test_actions_view_backs_up_once_and_follows_it(make_sandbox: Callable[..., Any],
                                                          tmp_path: Path) -> None:
    from vwtui.screens.troubleshoot_actions import ActionsScreen

    sandbox = make_sandbox(restore_seconds=0.2, now=SANDBOX_NOW)
    opened = _Opened(sandbox, tmp_path)
    app = opened.app
    before = len(sandbox.requests())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened.open(pilot)
        assert isinstance(screen, ActionsScreen)
        assert screen.findings["activity"].verdict is Verdict.UNKNOWN
        await pilot.press("b")
        await _wait(pilot, lambda: app.screen is not screen)  # the y/n question
        await pilot.press("y")
        await _wait(pilot, lambda: screen.progress is not None and screen.progress.done)
        assert screen.progress is not None and screen.progress.state == "completed"
        await pilot.press("b")  # done today: refused, nothing asked
        await _wait(pilot, lambda: "completed" in " ".join(screen.backup_lines)
                    and app.screen is screen)
        assert "Refused" in " ".join(screen.backup_lines)
    assert _mutations(sandbox, before) == ["backup:StartBackupJob"]


def test_actions_view_after_a_manual_backup_80x24(make_sandbox: Callable[..., Any],
                                                  tmp_path: Path, snap_compare: Any) -> None:
    sandbox = make_sandbox(restore_seconds=0.2, now=SANDBOX_NOW)

    opened = _Opened(sandbox, tmp_path)

    async def backed_up(pilot: Any) -> None:
        from fixtures_dashboard import tables_sized

        screen = await opened.open(pilot)
        await pilot.press("b")
        await _wait(pilot, lambda: pilot.app.screen is not screen)
        await pilot.press("y")
        await _wait(pilot, lambda: screen.progress is not None and screen.progress.done
                    and tables_sized(screen))

    assert snap_compare(opened.app, terminal_size=(80, 24),
                        run_before=backed_up)
