"""Journal and resume: a run killed mid-wait (SIGKILL, a real process) is resumed in a fresh
one; the clock keeps its start and nothing is issued to AWS a second time."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from recovery_env import (  # noqa: F401  (fixtures)
    UNPROTECTED_STAGING,
    Env,
    SwapMethod,
    env_fixture,
    slow_env_fixture,
)

from vwtui.model import utcnow
from vwtui.orchestrator import RecoveryStateError
from vwtui.recovery import journal as jr
from vwtui.recovery.plan import RecoveryRequest, Scenario, target_identifier
from vwtui.recovery.state import StepStatus

CHILD = Path(__file__).with_name("recovery_env.py")


async def wait_for(predicate, what: str, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def journal_events(path: Path) -> list[tuple[str, str | None]]:
    return [(r["event"], r.get("step")) for r in
            (json.loads(line) for line in path.read_text().splitlines() if line.endswith("}"))]


async def spawn_driver(env: Env, request: RecoveryRequest) -> asyncio.subprocess.Process:
    """Another vwtui process that starts `request` and drives it into the wait (the child
    half of recovery_env.py); its first stdout line says its journal and start time."""
    db = env.config.database
    assert request.restore_time is not None
    args = {"region": env.config.aws.region, "endpoint_url": env.config.aws.endpoint_url,
            "database": {"host": db.host, "port": db.port, "user": db.user, "name": db.name,
                         "sslmode": db.sslmode},
            "target": request.target, "restore_time": request.restore_time.isoformat(),
            "state_base": str(env.state_base)}
    return await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), json.dumps(args), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=os.environ.copy())


async def test_run_killed_mid_wait_resumes_without_a_second_restore(slow_env: Env) -> None:
    env = slow_env
    request = await env.pitr_request()
    child = await spawn_driver(env, request)
    try:
        assert child.stdout is not None
        started = json.loads(await asyncio.wait_for(child.stdout.readline(), 60))
        journal = Path(started["journal"])
        # Killed while it polls the new instance: the wait step has started, not ended.
        await wait_for(lambda: ("step-progress", "wait") in journal_events(journal),
                       "the wait poll")
        child.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGKILL
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert env.calls("rds:RestoreDBInstanceToPointInTime") == [
        "rds:RestoreDBInstanceToPointInTime"]
    assert (await env.aws.instance(request.target)).status == "creating"

    # A fresh process (this one) finds the unfinished run and resumes it.
    unfinished = jr.unfinished_runs(env.state_base)
    assert [r.path for r in unfinished] == [journal]
    assert unfinished[0].current_step == "wait"
    run = await env.resume(journal)
    assert run.clock.started_at == datetime.fromisoformat(started["started_at"])
    restore, wait = run.step("restore"), run.step("wait")
    assert restore is not None and restore.status is StepStatus.DONE
    assert run.created == [request.target]
    assert wait is not None and wait.started_at is not None  # its timer continues too
    env.sandbox.set_instance_status(request.target, "available")  # the restore finishes
    last = await run.run_until_blocked()

    assert last is not None and last.key == "swap" and last.status is StepStatus.WAITING
    assert run.step("verify").status is StepStatus.DONE  # type: ignore[union-attr]
    assert env.calls("rds:RestoreDBInstanceToPointInTime") == [
        "rds:RestoreDBInstanceToPointInTime"]  # never issued a second time
    events = journal_events(journal)
    assert ("run-resume", None) in events
    assert events.count(("restore-issued", "restore")) == 1


async def test_restore_issued_but_not_journaled_is_adopted_not_reissued(env: Env) -> None:
    """Killed between the restore call and its journal record: the instance, tagged with the
    run's id, is found in AWS and taken over."""
    request = await env.pitr_request()
    run = await env.start(request)
    run.journal.append(jr.STEP_START, step="restore", command=run.step("restore").command)  # type: ignore[union-attr]
    assert request.restore_time is not None
    await env.ops.restore_to_point_in_time(request.source, request.target, request.restore_time,
                                           run_id=run.run_id)
    # ... and the process dies here.
    resumed = await env.resume(run.journal_path)
    step = await resumed.run_step()
    assert step is not None and step.key == "restore" and step.status is StepStatus.DONE
    assert "not issued again" in step.detail
    assert len(env.calls("rds:RestoreDBInstanceToPointInTime")) == 1
    assert resumed.created == [request.target]
    await resumed.run_until_blocked()
    assert resumed.step("verify").status is StepStatus.DONE  # type: ignore[union-attr]


async def _backup_request(env: Env, source: str = "video-window") -> RecoveryRequest:
    points = await env.aws.recovery_points(env.config.backup.vault)
    instance = await env.aws.instance(source)
    point = next(p for p in points if p.resource_arn == instance.arn)
    return RecoveryRequest(Scenario.AWS_BACKUP, source, target_identifier(utcnow()),
                           recovery_point_arn=point.arn)


async def test_known_restore_job_is_described_not_started_again(slow_env: Env) -> None:
    env = slow_env
    request = await _backup_request(env)
    assert request.recovery_point_arn is not None
    run = await env.start(request)
    await run.run_step()
    job_id = run.restore_job_id
    assert job_id is not None
    del run  # the process is gone

    resumed = await env.resume(jr.unfinished_runs(env.state_base)[0].path)
    assert resumed.restore_job_id == job_id
    env.sandbox.end_restore_job(job_id, "ABORTED", "stopped by an operator")
    step = await resumed.run_step()
    assert step is not None and step.key == "wait" and step.status is StepStatus.FAILED
    assert job_id in (step.error or "")
    assert env.calls("backup:StartRestoreJob") == ["backup:StartRestoreJob"]
    assert env.calls("backup:DescribeRestoreJob")


async def test_done_steps_and_ticks_stay_done_after_resume(env: Env) -> None:
    run = await env.start(await env.pitr_request())
    await run.run_until_blocked()
    run.tick("maintenance")
    resumed = await env.resume(run.journal_path)
    assert [s.status for s in resumed.steps[:3]] == [StepStatus.DONE] * 3
    assert [s.started_at for s in resumed.steps[:3]] == [s.started_at for s in run.steps[:3]]
    swap = resumed.step("swap")
    assert swap is not None
    ticks = {i.key: i.ticked_at for i in swap.checklist}
    assert ticks["maintenance"] == run.step("swap").checklist[0].ticked_at  # type: ignore
    assert ticks["stop-connections"] is None
    assert resumed.verification is None  # re-run only if asked; the journal kept the verdict
    assert resumed.step("verify").detail.startswith("PASS")  # type: ignore[union-attr]


async def test_a_finished_run_is_not_resumed(env: Env) -> None:
    run = await env.start(await env.pitr_request(dry_run=True))
    await run.run_until_blocked()
    assert run.finished
    with pytest.raises(RecoveryStateError, match="nothing to resume"):
        await env.resume(run.journal_path)


async def test_route53_rollback_value_survives_a_crash_during_the_swap(env: Env) -> None:
    production = await env.aws.instance("video-window")
    run = await env.start(await env.pitr_request())
    await run.run_until_blocked()
    run.tick("maintenance")
    run.tick("stop-connections")
    await run.run_step()
    assert run.swap_result is not None
    # Simulate a crash after the UPSERT but before its record: drop the swap-done line.
    lines = run.journal_path.read_text().splitlines(keepends=True)
    run.journal_path.write_text(
        "".join(line for line in lines if '"event":"swap-done"' not in line))
    resumed = await env.resume(run.journal_path)
    assert resumed.swap_result is None
    await resumed.run_step()  # the UPSERT again (idempotent), old value from the journal
    assert resumed.swap_result is not None
    assert resumed.swap_result.old_value == production.endpoint_address
    assert resumed.replaced == "video-window"


async def test_a_resume_never_adopts_another_restore_job_running_in_the_account(
        slow_env: Env) -> None:
    # A staging drill's restore job runs in the account while production's run resumes: it
    # is not this run's, so this run starts its own (and follows that one).
    env = slow_env
    from vwtui.recovery.plan import restore_job_metadata
    drill = await _backup_request(env, "video-window-staging")
    assert drill.recovery_point_arn is not None
    foreign = await env.ops.start_restore_job(
        drill.recovery_point_arn, restore_job_metadata("someone-elses-drill", None, None, ()))
    run = await env.start(await _backup_request(env))
    run.journal.append(jr.STEP_START, step="restore")  # killed before StartRestoreJob
    resumed = await env.resume(run.journal_path)
    step = await resumed.run_step()
    assert step is not None and step.status is StepStatus.DONE, step
    assert resumed.restore_job_id is not None and resumed.restore_job_id != foreign
    assert len(env.calls("backup:StartRestoreJob")) == 2  # the drill's, then ours


@pytest.mark.parametrize("then", [None, "interrupted"])
async def test_a_restore_job_aws_accepted_before_vwtui_stopped_is_not_started_again(
        slow_env: Env, then: str | None) -> None:
    # Killed before the journal knew (None), or quit mid-step ("interrupted"): the job AWS
    # had accepted is found and followed.
    env = slow_env
    from vwtui.recovery.plan import restore_job_metadata
    request = await _backup_request(env)
    assert request.recovery_point_arn is not None
    run = await env.start(request)
    run.journal.append(jr.STEP_START, step="restore")
    job_id = await env.ops.start_restore_job(
        request.recovery_point_arn, restore_job_metadata(request.target, None, None, ()))
    if then is not None:
        run.journal.append(jr.STEP_END, step="restore", outcome=then, detail="vwtui was quit")
    resumed = await env.resume(run.journal_path)
    step = await resumed.run_step()
    assert step is not None and step.status is StepStatus.DONE, step
    assert resumed.restore_job_id == job_id
    assert env.calls("backup:StartRestoreJob") == ["backup:StartRestoreJob"]


async def test_a_delete_issued_before_a_crash_is_not_asked_for_again(env: Env) -> None:
    env = env.with_config(instances=UNPROTECTED_STAGING)
    run = await env.start(await env.pitr_request(source="video-window-staging",
                                                 swap=SwapMethod.RENAME))
    await run.run_until_blocked()
    run.tick("maintenance")
    run.tick("stop-connections")
    await run.run_step()
    run.tick("resume")
    await run.run_step()
    run.skip("protection fixes checked in their own test")
    retired = run.replaced
    # The delete reached AWS and the journal, then vwtui died before the step's end record.
    await env.ops.delete_instance(retired, owned=run.owned, typed_confirmation=retired,
                                  skip_final_snapshot=True)
    run.journal.append(jr.DELETE_ISSUED, identifier=retired, final_snapshot=None)
    resumed = await env.resume(run.journal_path)
    step = await resumed.run_step()
    assert step is not None and step.key == "cleanup" and step.status is StepStatus.DONE
    assert "already issued" in step.detail and resumed.finished
    assert env.calls("rds:DeleteDBInstance") == ["rds:DeleteDBInstance"]
