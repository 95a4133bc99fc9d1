"""A step failing in each way the runbook knows: the run stops, says why, and waits for the
engineer (retry, skip with a reason, abort with cleanup)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from recovery_env import Env, env_fixture, past_protection, slow_env_fixture  # noqa: F401  (fixtures)

from vwtui.errors import GuardrailError
from vwtui.model import utcnow
from vwtui.orchestrator import RecoveryRun, RecoveryStateError
from vwtui.recovery import journal as jr
from vwtui.recovery.plan import RecoveryRequest, Scenario, target_identifier
from vwtui.recovery.state import StepStatus
from vwtui.recovery.verify import CheckVerdict


def assert_stopped_at(run: RecoveryRun, key: str) -> None:
    """The run stopped at `key`: it failed, later steps never started, nothing goes on."""
    step = run.step(key)
    assert step is not None and step.status is StepStatus.FAILED, step
    assert step.error
    later = run.steps[run.steps.index(step) + 1:]
    assert all(s.status is StepStatus.PENDING and s.started_at is None for s in later)
    assert not run.finished


async def test_aws_error_stops_the_run_and_retry_continues(env: Env) -> None:
    env.sandbox.deny("RestoreDBInstanceToPointInTime")
    run = await env.start(await env.pitr_request())
    await run.run_until_blocked()

    assert_stopped_at(run, "restore")
    restore = run.step("restore")
    assert restore is not None
    assert "rds:RestoreDBInstanceToPointInTime was denied" in (restore.error or "")
    assert restore.troubleshooting is not None
    assert any("describe-events" in c for c in restore.troubleshooting.commands)
    with pytest.raises(RecoveryStateError, match="Retry it, skip it with a reason, or abort"):
        await run.run_step()
    assert await run.run_until_blocked() is None  # nothing runs by itself after a failure
    assert run.step("wait").status is StepStatus.PENDING  # type: ignore[union-attr]

    env.sandbox.allow("RestoreDBInstanceToPointInTime")
    step = await run.retry()
    assert step is not None and step.status is StepStatus.DONE
    assert len(env.calls("rds:RestoreDBInstanceToPointInTime")) == 2  # denied, then made
    assert run.created == [run.request.target]
    outcomes = [r.get("outcome") for r in (await _records(run)) if r["event"] == jr.STEP_END]
    assert outcomes[:3] == ["failed", "retry", "done"]


async def test_instance_that_ends_failed_fails_the_wait_with_its_events(slow_env: Env) -> None:
    env = slow_env
    run = await env.start(await env.pitr_request())
    await run.run_step()  # restore issued; the instance takes a minute
    target = run.request.target
    env.sandbox.set_instance_status(target, "failed",
                                    "Database instance restore failed: storage full")
    await run.run_until_blocked()

    assert_stopped_at(run, "wait")
    wait = run.step("wait")
    assert wait is not None and f"{target} ended failed" in (wait.error or "")
    assert wait.troubleshooting is not None
    messages = [e.message for e in wait.troubleshooting.events]
    assert "Database instance restore failed: storage full" in messages
    assert any("Instance name conflict" in c for c in wait.troubleshooting.causes)


@pytest.mark.parametrize("ending", ["FAILED", "ABORTED"])
async def test_restore_job_that_ends_failed_or_aborted_fails_the_wait(
        slow_env: Env, ending: str) -> None:
    env = slow_env
    points = await env.aws.recovery_points(env.config.backup.vault)
    production = await env.aws.instance("video-window")
    point = next(p for p in points if p.resource_arn == production.arn)
    run = await env.start(RecoveryRequest(Scenario.AWS_BACKUP, "video-window",
                                          target_identifier(utcnow()),
                                          recovery_point_arn=point.arn))
    await run.run_step()
    assert run.restore_job_id is not None
    env.sandbox.end_restore_job(run.restore_job_id, ending, "Insufficient privileges on role")
    await run.run_until_blocked()

    assert_stopped_at(run, "wait")
    wait = run.step("wait")
    assert wait is not None
    assert f"Restore job {run.restore_job_id} ended {ending}" in (wait.error or "")
    assert "Insufficient privileges on role" in (wait.error or "")
    assert wait.troubleshooting is not None
    assert wait.troubleshooting.title == f"AWS Backup restore job {ending}"
    assert any(run.restore_job_id in c for c in wait.troubleshooting.commands)
    assert env.calls("backup:StartRestoreJob") == ["backup:StartRestoreJob"]


async def test_failed_validation_stops_the_run_and_abort_cleans_up(env: Env) -> None:
    # A restore point well before the demo data's newest rows: not the database as it stood.
    request = await env.pitr_request(before_latest=timedelta(hours=1))
    run = await env.start(request)
    await run.run_until_blocked()

    assert_stopped_at(run, "verify")
    assert run.verification is not None
    assert run.verification.overall is CheckVerdict.FAIL
    failed = {c.key for c in run.verification.failures}
    assert "newest:transactions" in failed
    verify = run.step("verify")
    assert verify is not None and verify.error and verify.error.startswith("Validation failed")
    assert verify.troubleshooting is not None
    assert "Do not swap to this instance" in verify.troubleshooting.resolution

    with pytest.raises(RecoveryStateError, match="Say why"):
        run.skip("  ")
    with pytest.raises(GuardrailError, match="Type"):
        await run.abort(cleanup=True, typed_confirmation="video-window")
    assert not run.finished
    assert env.calls("rds:DeleteDBInstance") == []

    deleted = await run.abort(cleanup=True, typed_confirmation=request.target)
    assert deleted == [request.target]
    assert env.calls("rds:DeleteDBInstance") == ["rds:DeleteDBInstance"]
    assert run.finished and run.outcome == "aborted"
    final = [s for s in await env.aws.snapshots(request.target) if s.snapshot_type == "manual"]
    assert len(final) == 1  # a final snapshot by default
    record = jr.load_run(run.journal_path)
    assert record.finished and record.outcome == "aborted"
    assert record.deleted == [request.target]


async def test_skip_with_a_reason_moves_on_and_is_journaled(env: Env) -> None:
    request = await env.pitr_request(before_latest=timedelta(hours=1))
    run = await env.start(request)
    await run.run_until_blocked()
    assert_stopped_at(run, "verify")
    run.skip("newest rows are clock skew of the app servers; checked by hand")
    swap = await run.run_until_blocked()  # the parity step, then the swap
    assert swap is not None and swap.key == "swap" and swap.status is StepStatus.WAITING
    record = jr.load_run(run.journal_path)
    assert record.steps["verify"].outcome == "skipped"
    assert record.steps["verify"].skip_reason.startswith("newest rows")  # type: ignore


async def test_unreachable_new_database_fails_verify_with_the_reason(env: Env) -> None:
    from vwtui.config import DatabaseConfig
    nowhere = env.with_config(database=DatabaseConfig(
        host="127.0.0.1", port=1, name="serverpod", user="postgres", sslmode="disable",
        connect_timeout_seconds=2))
    run = await nowhere.start(await nowhere.pitr_request())
    await run.run_until_blocked()
    assert_stopped_at(run, "verify")
    assert "127.0.0.1" in (run.step("verify").error or "")  # type: ignore[union-attr]


async def _records(run: RecoveryRun) -> list[dict[str, object]]:
    await asyncio.sleep(0)
    import json
    return [json.loads(line) for line in run.journal_path.read_text().splitlines()]


async def test_unreachable_database_at_verify_gets_connection_troubleshooting(env: Env) -> None:
    import socket
    from dataclasses import replace

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = env.with_config(database=replace(
        env.config.database, host="127.0.0.1", port=closed_port, connect_timeout_seconds=2))
    run = await unreachable.start(await unreachable.pitr_request())
    await run.run_until_blocked()

    assert_stopped_at(run, "verify")
    verify = run.step("verify")
    assert verify is not None and verify.troubleshooting is not None
    help_ = verify.troubleshooting
    assert help_.title == "Cannot reach the restored database"
    assert str(closed_port) in help_.causes[0]  # the connection error itself, first
    causes = " ".join(help_.causes)
    for expected in ("Security group", "bastion", "resolves", "sslmode", "PGPASSWORD",
                     ".pgpass"):
        assert expected in causes, expected
    assert "failed validation" not in help_.title
    assert not any("Data corruption" in c for c in help_.causes)
    assert any("retry verify" in r for r in help_.resolution)


async def test_abort_after_the_swap_never_deletes_the_instance_now_in_service(
        env: Env) -> None:
    # Production restored and swapped: the record points at the new instance. An abort at
    # cleanup must not offer it, and the service layer refuses it if asked anyway.
    request = await env.pitr_request()
    run = await env.start(request)
    await run.run_until_blocked()
    run.tick("maintenance")
    run.tick("stop-connections")
    await run.run_step()
    assert run.swap_result is not None and run.serving == {request.target}
    assert run.cleanup_candidates() == []
    with pytest.raises(GuardrailError, match="the swap made it the database the application"):
        await env.ops.delete_instance(request.target, owned=run.owned,
                                      typed_confirmation=request.target, serving=run.serving)
    assert await run.abort(cleanup=True, typed_confirmation=request.target) == []
    assert env.calls("rds:DeleteDBInstance") == []
    assert await env.aws.instance_exists(request.target)


async def test_a_record_already_at_the_new_endpoint_never_makes_the_target_the_replaced(
        env: Env) -> None:
    # Someone ran the plan's UPSERT by hand before g: the "old" value is the new endpoint.
    request = await env.pitr_request()
    run = await env.start(request)
    await run.run_until_blocked()
    new = await env.aws.instance(request.target)
    zone = await env.ops.hosted_zone_id(env.config.dns.zone)
    assert new.endpoint_address is not None
    await env.ops.upsert_record(zone, env.config.dns.record, new.endpoint_address,
                                source="video-window")
    run.tick("maintenance")
    run.tick("stop-connections")
    await run.run_step()
    assert run.replaced == "video-window"  # the source (protected), never the target
    run.tick("resume")
    await run.run_step()
    await past_protection(run)
    with pytest.raises(GuardrailError):
        await run.confirm_cleanup(request.target)
    assert env.calls("rds:DeleteDBInstance") == []


async def test_abort_deletes_an_incompatible_instance_without_the_final_snapshot_aws_refuses(
        slow_env: Env) -> None:
    env = slow_env
    run = await env.start(await env.pitr_request())
    await run.run_step()
    target = run.request.target
    env.sandbox.set_instance_status(target, "incompatible-network", "no free IP addresses")
    await run.run_until_blocked()
    assert_stopped_at(run, "wait")
    assert await run.abort(cleanup=True, typed_confirmation=target) == [target]
    assert [s for s in await env.aws.snapshots(target) if s.snapshot_type == "manual"] == []
    events = [json.loads(line) for line in run.journal_path.read_text().splitlines()]
    deletes = [e for e in events if e["event"] == jr.DELETE_ISSUED]
    assert [(e["identifier"], e["final_snapshot"]) for e in deletes] == [(target, None)]
