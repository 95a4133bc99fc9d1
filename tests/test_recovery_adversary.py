"""A recovery tried as an adversary would: two drivers, a changed region or account, an answer
lost after AWS acted, a full disk. Every case counts the mutating calls the sandbox received.

These are the failure classes of issue 9; each test fails on the code before it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from recovery_env import UNPROTECTED_STAGING, Env, env_fixture, slow_env_fixture  # noqa: F401
from test_recovery_resume import journal_events, spawn_driver, wait_for
from test_recovery_run import fresh_snapshot

from vwtui.config import AwsConfig
from vwtui.errors import GuardrailError, VwtuiError
from vwtui.model import utcnow
from vwtui.orchestrator import RecoveryRun
from vwtui.recovery import journal as jr
from vwtui.recovery.lock import RunLocked, holder_of
from vwtui.recovery.plan import RecoveryRequest, Scenario, SwapMethod, target_identifier
from vwtui.recovery.state import RecoveryStateError, StepState, StepStatus
from vwtui.services.aws import AwsService

MUTATING = ("rds:RestoreDBInstance*", "backup:StartRestoreJob", "rds:ModifyDBInstance",
            "rds:DeleteDBInstance", "route53:ChangeResourceRecordSets")


def mutating_calls(env: Env) -> list[str]:
    return [c for pattern in MUTATING for c in env.calls(pattern)]


def protected_mutations(env: Env) -> list[Any]:
    """Mutating requests on production or staging since the seed, in any spelling."""
    return env.sandbox.mutations_on([env.config.instances.production,
                                     env.config.instances.staging, env.config.dns.record],
                                    since=env.seeded)


def lose_next_answer(aws: AwsService, service: str, operation: str) -> list[int]:
    """After the next `operation` reached the sandbox and took effect, the answer is lost on
    the way back (a read timeout), as an SSH bastion's flaky link would lose it."""
    lost: list[int] = []

    def drop(**_: Any) -> None:
        if not lost:
            lost.append(1)
            raise ReadTimeoutError(endpoint_url="sandbox")

    aws.client(service).meta.events.register(f"after-call.{service}.{operation}", drop)
    return lost


async def fails_then_retries(run: RecoveryRun, lost: list[int]) -> StepState:
    """The step fails on the lost answer; the engineer's retry finishes it."""
    step = await run.run_step()
    assert lost and step is not None and step.status is StepStatus.FAILED, step
    step = await run.retry()
    assert step is not None and step.status is not StepStatus.FAILED, step
    return step


# ---- 1. one driver per run ----------------------------------------------------------------

async def test_a_second_process_cannot_drive_a_run_until_the_first_dies(slow_env: Env) -> None:
    env = slow_env
    request = await env.pitr_request()
    child = await spawn_driver(env, request)
    try:
        assert child.stdout is not None
        started = json.loads(await asyncio.wait_for(child.stdout.readline(), 60))
        journal = Path(started["journal"])
        await wait_for(lambda: ("step-progress", "wait") in journal_events(journal),
                       "the wait poll")
        before = mutating_calls(env)
        # Process A drives the run; this process (B) is told who, and may not take it over.
        holder = holder_of(journal)
        assert holder is not None and holder.pid == child.pid
        with pytest.raises(RunLocked, match=f"pid {child.pid}"):
            await env.resume(journal)
        # Nor start a second run of the same target in the same minute.
        with pytest.raises(RecoveryStateError, match="already restores as"):
            await env.start(request)
        assert mutating_calls(env) == before
        child.send_signal(signal.SIGKILL)
        await asyncio.wait_for(child.wait(), 10)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    # A is gone: the kernel released its lock; B resumes, with no second restore.
    assert holder_of(journal) is None
    run = await env.resume(journal)
    assert run.clock.started_at.isoformat() == started["started_at"]
    assert holder_of(journal) is not None
    env.sandbox.set_instance_status(request.target, "available")
    await run.run_until_blocked()
    assert env.calls("rds:RestoreDBInstanceToPointInTime") == [
        "rds:RestoreDBInstanceToPointInTime"]


async def test_a_name_taken_without_this_runs_tag_is_never_adopted(env: Env) -> None:
    """Another engineer's instance of the same name (no vwtui-run tag of ours) stops the run:
    it is not adopted after "already exists", so never swapped in nor deleted by this run."""
    request = await env.pitr_request()
    run = await env.start(request)
    assert request.restore_time is not None
    # The colleague's restore lands first, under the same name, tagged with their own run.
    await env.ops.restore_to_point_in_time(request.source, request.target,
                                           request.restore_time, run_id="someone-else")
    lost = lose_next_answer(env.aws, "rds", "RestoreDBInstanceToPointInTime")
    step = await run.run_step()
    assert step is not None and step.status is StepStatus.FAILED
    assert "already exists and this run did not create it" in (step.error or "")
    assert not lost  # it stopped before sending anything
    assert run.created == [] and run.owned == frozenset()
    with pytest.raises(RecoveryStateError):
        await run.run_step()
    await run.retry()  # still someone else's: still refused
    assert run.created == []
    assert len(env.calls("rds:RestoreDBInstanceToPointInTime")) == 1  # the colleague's only


# ---- 3. a run belongs to one account and region ------------------------------------------

async def test_resume_in_another_region_is_refused_and_changes_nothing(env: Env) -> None:
    request = await env.pitr_request()
    run = await env.start(request)
    await run.run_step()
    run.close()
    before = mutating_calls(env)
    other = AwsConfig(region="us-east-1", endpoint_url=env.config.aws.endpoint_url,
                      max_attempts=2)
    elsewhere = env.with_config(aws=other)
    with pytest.raises(GuardrailError, match=r"started in region .* this session is in "
                                             r"us-east-1"):
        await elsewhere.resume(run.journal_path)
    assert mutating_calls(env) == before
    assert holder_of(run.journal_path) is None  # refused before taking the lock


async def test_resume_in_another_account_is_refused_and_changes_nothing(env: Env) -> None:
    request = await env.pitr_request()
    run = await env.start(request)
    await run.run_step()
    run.close()
    first = json.loads(run.journal_path.read_text().splitlines()[0])
    account = (await env.aws.caller_identity()).account
    assert first["account"] == account and first["region"] == env.config.aws.region
    # The journal says another account started it (as one copied between bastions would).
    lines = run.journal_path.read_text().splitlines()
    first["account"] = "999999999999"
    run.journal_path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    before = mutating_calls(env)
    with pytest.raises(GuardrailError, match=f"account 999999999999; this session is in "
                                             f"account {account}"):
        await env.resume(run.journal_path)
    assert mutating_calls(env) == before


async def test_a_damaged_journal_is_one_sentence_never_a_raw_key_error(env: Env) -> None:
    request = await env.pitr_request()
    run = await env.start(request)
    run.close()
    lines = run.journal_path.read_text().splitlines()
    first = json.loads(lines[0])
    del first["request"]["source"]
    run.journal_path.write_text(json.dumps(first) + "\n")
    with pytest.raises(jr.JournalError, match="is damaged"):
        await env.resume(run.journal_path)


# ---- 4. every mutating call survives a lost answer ----------------------------------------

async def test_lost_answer_to_the_pitr_restore_is_adopted_not_reissued(env: Env) -> None:
    run = await env.start(await env.pitr_request())
    step = await fails_then_retries(
        run, lose_next_answer(env.aws, "rds", "RestoreDBInstanceToPointInTime"))
    assert step.status is StepStatus.DONE and "not issued again" in step.detail
    assert len(env.calls("rds:RestoreDBInstanceToPointInTime")) == 1
    assert run.created == [run.request.target]


async def test_lost_answer_to_the_snapshot_restore_is_adopted_not_reissued(env: Env) -> None:
    env = env.with_config(instances=UNPROTECTED_STAGING)
    source = "video-window-staging"
    snapshot = await fresh_snapshot(env, source)
    run = await env.start(RecoveryRequest(Scenario.SNAPSHOT, source, target_identifier(utcnow()),
                                          snapshot_id=snapshot))
    step = await fails_then_retries(
        run, lose_next_answer(env.aws, "rds", "RestoreDBInstanceFromDBSnapshot"))
    assert step.status is StepStatus.DONE
    assert len(env.calls("rds:RestoreDBInstanceFromDBSnapshot")) == 1


async def test_lost_answer_to_start_restore_job_finds_the_job(env: Env) -> None:
    points = await env.aws.recovery_points(env.config.backup.vault)
    instance = await env.aws.instance("video-window")
    point = next(p for p in points if p.resource_arn == instance.arn)
    run = await env.start(RecoveryRequest(Scenario.AWS_BACKUP, "video-window",
                                          target_identifier(utcnow()),
                                          recovery_point_arn=point.arn))
    step = await fails_then_retries(run, lose_next_answer(env.aws, "backup", "StartRestoreJob"))
    assert step.status is StepStatus.DONE and "not started again" in step.detail
    assert len(env.calls("backup:StartRestoreJob")) == 1


async def _to_swap(run: RecoveryRun) -> None:
    last = await run.run_until_blocked()
    assert last is not None and last.key == "swap", last
    run.tick("maintenance")
    run.tick("stop-connections")


async def test_lost_answer_to_the_route53_upsert_is_not_sent_twice(env: Env) -> None:
    run = await env.start(await env.pitr_request())
    await _to_swap(run)
    step = await fails_then_retries(
        run, lose_next_answer(env.aws, "route53", "ChangeResourceRecordSets"))
    assert step.status is StepStatus.WAITING  # the resume tick
    assert run.swap_result is not None and run.swap_result.replaced == "video-window"
    assert len(env.calls("route53:ChangeResourceRecordSets")) == 1


@pytest.mark.parametrize("which", [0, 1])
async def test_lost_answer_to_either_rename_is_found_not_sent_twice(env: Env, which: int) -> None:
    env = env.with_config(instances=UNPROTECTED_STAGING)
    source = "video-window-staging"
    snapshot = await fresh_snapshot(env, source)
    run = await env.start(RecoveryRequest(Scenario.SNAPSHOT, source, target_identifier(utcnow()),
                                          snapshot_id=snapshot, swap=SwapMethod.RENAME))
    await _to_swap(run)
    modifies = len(env.calls("rds:ModifyDBInstance"))  # the restore's own settings, if any
    lost: list[int] = []
    seen: list[int] = []

    def drop(**_: Any) -> None:
        seen.append(1)
        if len(seen) == which + 1 and not lost:
            lost.append(1)
            raise ReadTimeoutError(endpoint_url="sandbox")

    env.aws.client("rds").meta.events.register("after-call.rds.ModifyDBInstance", drop)
    step = await fails_then_retries(run, lost)
    assert step.status is StepStatus.WAITING
    # One per half, never a third.
    assert len(env.calls("rds:ModifyDBInstance")) == modifies + 2
    assert run.renamed == {source: run.replaced, run.request.target: source}
    assert await env.aws.instance_exists(source) and await env.aws.instance_exists(run.replaced)


async def test_lost_answer_to_the_delete_counts_as_done(env: Env) -> None:
    env = env.with_config(instances=UNPROTECTED_STAGING)
    source = "video-window-staging"
    snapshot = await fresh_snapshot(env, source)
    run = await env.start(RecoveryRequest(Scenario.SNAPSHOT, source, target_identifier(utcnow()),
                                          snapshot_id=snapshot, swap=SwapMethod.RENAME))
    await _to_swap(run)
    await run.run_step()
    run.tick("resume")
    protection = await run.run_until_blocked()
    assert protection is not None and protection.key == "protection", protection
    run.skip("protection fixes checked in their own test")
    cleanup = await run.run_until_blocked()
    assert cleanup is not None and cleanup.key == "cleanup", cleanup
    retired = run.replaced
    lost = lose_next_answer(env.aws, "rds", "DeleteDBInstance")
    step = await run.confirm_cleanup(retired)
    assert lost and step.status is StepStatus.FAILED
    await run.retry()  # the cleanup waits for the typed name again
    step = await run.confirm_cleanup(retired)
    assert step.status is StepStatus.DONE and "not asked again" in step.detail
    assert len(env.calls("rds:DeleteDBInstance")) == 1
    assert run.finished


# ---- 4. a journal that cannot be written ---------------------------------------------------

@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: the state dir on a disk that can fill up for real."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs",
                           str(mount)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _use_up_the_journal_s_last_page(run: RecoveryRun, page: int = 4096) -> None:
    """A full tmpfs still lets a file grow inside its last page: pad the journal (a progress
    record) so that no room is left there for the swap's intent, whatever came before."""
    path = run.journal_path
    size = path.stat().st_size
    run.note(jr.STEP_PROGRESS, pad="")
    overhead = path.stat().st_size - size
    room = page - path.stat().st_size % page
    if room > overhead + 8:
        run.note(jr.STEP_PROGRESS, pad="x" * (room - overhead - 8))


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


async def test_full_disk_stops_every_mutating_call_and_resumes_once_space_is_back(
        env: Env, tiny_disk: Path) -> None:
    env = env.with_config(instances=UNPROTECTED_STAGING)
    from dataclasses import replace
    env = replace(env, state_base=tiny_disk)
    run = await env.start(await env.pitr_request())
    await _to_swap(run)
    before = mutating_calls(env)
    _use_up_the_journal_s_last_page(run)
    filler = fill(tiny_disk)
    step = await run.run_step()  # the swap: its intent cannot be journaled
    assert step is not None
    assert step.status is StepStatus.FAILED, step.detail
    assert "journal" in (step.error or "").lower()
    assert mutating_calls(env) == before  # nothing reached AWS
    record = jr.load_run(run.journal_path)  # still parses, every record whole
    assert record.current_step == "swap" and not record.swap
    filler.unlink()  # space is back
    step = await run.retry()
    assert step is not None and step.status is StepStatus.WAITING, step
    assert len(env.calls("route53:ChangeResourceRecordSets")) == 1
    assert jr.load_run(run.journal_path).swap is not None


# ---- 2. names as AWS compares them, through the journal and typed input --------------------

SPELLINGS = ["VIDEO-WINDOW", " video-window ", "Video-Window.", "video-window."]


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_a_target_spelled_as_production_is_refused_before_anything(env: Env,
                                                                         spelling: str) -> None:
    request = dataclasses.replace(await env.pitr_request(), target=spelling)
    before = mutating_calls(env)
    with pytest.raises(VwtuiError):
        run = await env.start(request)
        await run.run_until_blocked()
    assert protected_mutations(env) == []
    assert mutating_calls(env) == before


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_a_journal_naming_production_as_created_never_deletes_it(env: Env,
                                                                        spelling: str) -> None:
    """A journal edited (or written by a bug) to say the run created production, in any
    spelling: abort with cleanup, typed in any spelling, deletes nothing protected."""
    request = await env.pitr_request()
    run = await env.start(request)
    run.close()
    run.journal.append(jr.RESTORE_ISSUED, step="restore", created=[spelling])
    resumed = await env.resume(run.journal_path)
    before = mutating_calls(env)
    for typed in (spelling, "video-window", "VIDEO-WINDOW"):
        with pytest.raises(GuardrailError, match="protected"):
            await resumed.abort(True, typed_confirmation=typed)
    assert not resumed.finished
    assert protected_mutations(env) == []
    assert mutating_calls(env) == before
