"""Scenarios 1-3 end to end through the engine: the sandbox over HTTP, a real PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import timedelta

import pytest
from recovery_env import UNPROTECTED_STAGING, Env, env_fixture  # noqa: F401  (fixtures)

from vwtui.config import RestoreConfig
from vwtui.errors import GuardrailError, NotFound
from vwtui.model import utcnow
from vwtui.orchestrator import RecoveryRun, RunUpdate, restore_settings
from vwtui.recovery import journal as jr
from vwtui.recovery.history import read_history
from vwtui.recovery.plan import RecoveryRequest, Scenario, SwapMethod, target_identifier
from vwtui.recovery.state import StepStatus
from vwtui.recovery.verify import CheckVerdict, ReferenceKind

MUTATING = ("rds:RestoreDBInstance*", "rds:ModifyDBInstance", "rds:DeleteDBInstance",
            "backup:StartRestoreJob", "route53:ChangeResourceRecordSets", "rds:CreateDBSnapshot")


def mutations(env: Env) -> list[str]:
    return [c for pattern in MUTATING for c in env.calls(pattern)]


def statuses(run: RecoveryRun) -> dict[str, StepStatus]:
    return {s.key: s.status for s in run.steps}


async def fresh_snapshot(env: Env, source: str) -> str:
    """A manual snapshot taken now (its time is after the demo data's newest row)."""
    name = f"{source}-drill-{utcnow():%Y%m%d%H%M%S}"
    await env.aws.call("rds", "CreateDBSnapshot", DBSnapshotIdentifier=name,
                       DBInstanceIdentifier=source)
    return name


async def fresh_recovery_point(env: Env, source: str) -> str:
    """An on-demand AWS Backup job of `source`, polled to COMPLETED; its recovery point."""
    instance = await env.aws.instance(source)
    job = await env.aws.call("backup", "StartBackupJob",
                             BackupVaultName=env.config.backup.vault, ResourceArn=instance.arn,
                             IamRoleArn=env.config.backup.restore_role_arn)
    for _ in range(200):
        data = await env.aws.call("backup", "DescribeBackupJob", BackupJobId=job["BackupJobId"])
        if data["State"] == "COMPLETED":
            return str(data["RecoveryPointArn"])
        await asyncio.sleep(0.05)
    raise AssertionError("the backup job never completed")


async def test_pitr_recovery_end_to_end_with_route53_swap(env: Env) -> None:
    request = await env.pitr_request()
    run = await env.start(request)
    updates: list[RunUpdate] = []
    run.subscribe(updates.append)
    production = await env.aws.instance("video-window")

    last = await run.run_until_blocked()

    assert last is not None
    assert last.key == "swap", (last.error, last.detail)
    assert last.status is StepStatus.WAITING
    assert statuses(run)["restore"] is StepStatus.DONE
    assert statuses(run)["wait"] is StepStatus.DONE
    assert statuses(run)["verify"] is StepStatus.DONE
    assert any(u.kind == "progress" for u in updates)  # the wait reported its polls
    assert run.verification is not None
    assert run.verification.overall is CheckVerdict.PASS, run.verification.checks
    # database.host stands behind every instance: the reference is the recorded baseline.
    assert run.verification.reference is ReferenceKind.BASELINE
    # The test database stands behind every instance (database.host): the step says so.
    verify = run.step("verify")
    assert verify is not None and f"(database.host), not to the endpoint of {request.target}" \
        in verify.detail
    assert env.calls("rds:RestoreDBInstanceToPointInTime") == [
        "rds:RestoreDBInstanceToPointInTime"]
    assert run.rpo_achieved == timedelta(minutes=10)

    # The swap waits for the engineer's ticks, timestamped.
    assert "Set maintenance mode" in last.detail
    await run.run_step()
    assert env.calls("route53:ChangeResourceRecordSets") == []
    run.tick("maintenance")
    run.tick("stop-connections")
    await run.run_step()
    zone = await env.ops.hosted_zone_id(env.config.dns.zone)
    new = await env.aws.instance(request.target)
    # No class configured: the recovery runs on production's class, not the runbook's micro.
    assert new.instance_class == production.instance_class == "db.t3.medium"
    assert await env.ops.record_value(zone, env.config.dns.record) == new.endpoint_address
    assert run.swap_result is not None
    assert run.swap_result.old_value == production.endpoint_address  # kept for rollback
    assert run.step("swap").status is StepStatus.WAITING  # type: ignore[union-attr]
    run.tick("resume")
    await run.run_step()
    assert run.step("swap").status is StepStatus.DONE  # type: ignore[union-attr]
    assert all(i.ticked_at is not None for i in run.step("swap").checklist)  # type: ignore

    # Cleanup would delete production, which is protected: it says so, the engineer skips.
    # Back under protection waits with its fixes (tests/test_recovery_protection.py applies
    # them); skipped here.
    protection = await run.run_step()
    assert protection is not None and protection.key == "protection"
    run.skip("protection fixes checked in their own test")
    cleanup = await run.run_step()
    assert cleanup is not None and cleanup.status is StepStatus.WAITING
    assert "protected" in cleanup.detail
    with pytest.raises(GuardrailError, match="protected"):
        await run.confirm_cleanup("video-window")
    assert env.calls("rds:DeleteDBInstance") == []
    run.skip("old production kept for the incident review")
    assert run.finished and run.outcome == "finished"
    assert run.clock.finished_at is not None

    record = jr.load_run(run.journal_path)
    assert record.finished and record.created == [request.target]
    assert set(record.ticks) == {"maintenance", "stop-connections", "resume"}
    assert record.steps["cleanup"].skip_reason == "old production kept for the incident review"
    assert jr.unfinished_runs(env.state_base) == []

    # The run went into the recovery test log: one record, and the runbook's plain lines.
    logged = read_history(env.state_base)
    assert [r.run_id for r in logged.records] == [run.run_id] and not logged.problems
    entry = logged.records[0]
    assert (entry.kind, entry.outcome, entry.method) == ("recovery", "finished", "pitr")
    assert entry.rto_met and entry.rpo_seconds == 600
    assert entry.verify_overall == "pass" and entry.caller_arn
    assert {s.key: s.status for s in entry.steps}["cleanup"] == "skipped"
    assert "RTO achieved: 0.00 hours" in (env.state_base / "recovery-test-log.txt").read_text()


async def test_snapshot_recovery_end_to_end_with_rename_and_cleanup(env: Env) -> None:
    env = env.with_config(instances=UNPROTECTED_STAGING)
    source = "video-window-staging"
    snapshot = await fresh_snapshot(env, source)
    target = target_identifier(utcnow())
    run = await env.start(RecoveryRequest(Scenario.SNAPSHOT, source, target,
                                          snapshot_id=snapshot, swap=SwapMethod.RENAME))
    await run.run_until_blocked()
    assert statuses(run)["verify"] is StepStatus.DONE, run.step("verify")
    assert run.restore_point is not None  # the snapshot's time
    run.tick("maintenance")
    run.tick("stop-connections")
    await run.run_step()
    retired = run.replaced
    assert retired.startswith(f"{source}-old-")
    assert (await env.aws.instance(retired)).identifier == retired
    assert await env.aws.instance_exists(source)  # the recovered instance under the old name
    assert not await env.aws.instance_exists(target)
    assert run.owned >= {target, retired}
    run.tick("resume")
    await run.run_step()

    # Back under protection waits with its fixes (tests/test_recovery_protection.py applies
    # them); skipped here.
    protection = await run.run_step()
    assert protection is not None and protection.key == "protection"
    run.skip("protection fixes checked in their own test")
    cleanup = await run.run_step()
    assert cleanup is not None and cleanup.status is StepStatus.WAITING
    with pytest.raises(GuardrailError, match=r"Type .* exactly"):
        await run.confirm_cleanup(source)  # the wrong instance's name
    assert env.calls("rds:DeleteDBInstance") == []
    await run.confirm_cleanup(retired)
    assert run.finished and run.step("cleanup").status is StepStatus.DONE  # type: ignore
    final = [s for s in await env.aws.snapshots(retired) if s.snapshot_type == "manual"]
    assert [s.identifier for s in final] == [f"{retired}-final-{run.clock.finished_at:%Y%m%d%H%M}"]


async def test_aws_backup_recovery_end_to_end(env: Env) -> None:
    point = await fresh_recovery_point(env, "video-window")
    target = target_identifier(utcnow())
    listed = len(env.calls("backup:ListRecoveryPointsByBackupVault"))
    run = await env.start(RecoveryRequest(Scenario.AWS_BACKUP, "video-window", target,
                                          recovery_point_arn=point))
    await run.run_until_blocked()
    # The point is read by its ARN (one call), never by listing a shared vault.
    assert len(env.calls("backup:ListRecoveryPointsByBackupVault")) == listed
    assert env.calls("backup:DescribeRecoveryPoint")
    assert statuses(run) == {"restore": StepStatus.DONE, "wait": StepStatus.DONE,
                             "verify": StepStatus.DONE, "parity": StepStatus.DONE,
                             "swap": StepStatus.WAITING, "protection": StepStatus.PENDING,
                             "cleanup": StepStatus.PENDING}
    assert run.restore_job_id is not None
    job = await env.aws.call("backup", "DescribeRestoreJob", RestoreJobId=run.restore_job_id)
    assert job["IamRoleArn"] == env.config.backup.restore_role_arn
    assert job["CreatedResourceArn"].endswith(f":db:{target}")
    assert env.calls("backup:StartRestoreJob") == ["backup:StartRestoreJob"]
    assert env.calls("backup:DescribeRestoreJob")  # the wait described the job
    restored = await env.aws.instance(target)
    assert restored.status == "available" and restored.instance_class == "db.t3.medium"
    record = jr.load_run(run.journal_path)
    assert record.restore_job_id == run.restore_job_id
    assert record.request.instance_class == "db.t3.medium"  # journaled as it was asked for


async def test_a_configured_class_is_used_and_its_difference_from_the_source_is_said(
        env: Env) -> None:
    env = env.with_config(restore=RestoreConfig(instance_class="db.r6g.large"))
    settings = await restore_settings(env.aws, env.config, await env.pitr_request())
    assert settings.request.instance_class == "db.r6g.large"
    assert settings.class_from == "config" and settings.network_from == "source instance"
    assert settings.request.subnet_group == "video-window-db-subnets"
    warning = settings.class_warning()
    assert warning is not None and "db.t3.medium" in warning and "db.r6g.large" in warning
    same = await restore_settings(env.aws, env.with_config(
        restore=RestoreConfig(instance_class="db.t3.medium")).config, await env.pitr_request())
    assert same.class_warning() is None


async def test_an_unreadable_source_leaves_the_class_to_aws(env: Env) -> None:
    request = await env.pitr_request()
    gone = dataclasses.replace(request, source="video-window-deleted-last-night")
    settings = await restore_settings(env.aws, env.config, gone)
    assert settings.request.instance_class is None and settings.class_from == "unknown"
    assert settings.problem is not None and "video-window-deleted-last-night" in settings.problem


@pytest.mark.parametrize("scenario", [Scenario.PITR, Scenario.SNAPSHOT, Scenario.AWS_BACKUP])
async def test_dry_run_walks_the_whole_plan_without_changing_anything(
        env: Env, scenario: Scenario) -> None:
    target = target_identifier(utcnow())
    if scenario is Scenario.PITR:
        request = await env.pitr_request(dry_run=True)
    elif scenario is Scenario.SNAPSHOT:
        snaps = await env.aws.snapshots("video-window", "automated")
        request = RecoveryRequest(scenario, "video-window", target,
                                  snapshot_id=snaps[0].identifier, dry_run=True)
    else:
        points = [p for p in await env.aws.recovery_points(env.config.backup.vault)
                  if p.resource_arn.endswith(":db:video-window")]
        request = RecoveryRequest(scenario, "video-window", target,
                                  recovery_point_arn=points[0].arn, dry_run=True)
    run = await env.start(request)
    await run.run_until_blocked()

    assert run.finished and all(s.status is StepStatus.DONE for s in run.steps)
    assert all(s.detail.startswith("Dry run") for s in run.steps)
    assert mutations(env) == []
    assert not await env.aws.instance_exists(request.target)
    restore = run.step("restore")
    assert restore is not None and restore.command and restore.command.startswith("aws ")
    records = [json.loads(line) for line in run.journal_path.read_text().splitlines()]
    assert records[0]["dry_run"] is True
    assert all(r.get("dry_run") is True for r in records if r["event"] == jr.STEP_END)


async def test_pitr_time_outside_the_window_is_refused_before_any_restore(env: Env) -> None:
    window = await env.aws.pitr_window("video-window")
    assert window.earliest is not None
    request = RecoveryRequest(Scenario.PITR, "video-window", target_identifier(utcnow()),
                              restore_time=window.earliest - timedelta(hours=1))
    run = await env.start(request)
    step = await run.run_step()
    assert step is not None and step.status is StepStatus.FAILED
    assert "outside the restore window" in (step.error or "")
    assert step.troubleshooting is not None
    assert any("PITR window" in c for c in step.troubleshooting.causes)
    assert env.restore_calls() == []


async def test_sandbox_refuses_a_pitr_time_outside_the_window_too(env: Env) -> None:
    """The service layer alone (no engine check) gets AWS's InvalidRestoreFault, translated."""
    window = await env.aws.pitr_window("video-window")
    assert window.latest is not None
    from vwtui.errors import InvalidParameter
    with pytest.raises(InvalidParameter, match="outside the restorable window"):
        await env.ops.restore_to_point_in_time("video-window", "video-window-recovery-x",
                                               window.latest + timedelta(minutes=30))
    with pytest.raises(NotFound):
        await env.aws.instance("video-window-recovery-x")


async def test_target_name_taken_by_another_instance_is_a_conflict(env: Env) -> None:
    request = await env.pitr_request()
    assert request.restore_time is not None
    # Another run (another engineer) restored under the same name first.
    await env.ops.restore_to_point_in_time("video-window", request.target,
                                           request.restore_time, run_id="someone-else")
    run = await env.start(request)
    step = await run.run_step()
    assert step is not None and step.status is StepStatus.FAILED
    assert "name conflict" in (step.error or "")
    assert len(env.calls("rds:RestoreDBInstanceToPointInTime")) == 1


async def test_dry_run_cleanup_says_production_would_not_be_deleted(env: Env) -> None:
    run = await env.start(await env.pitr_request(dry_run=True))
    await run.run_until_blocked()
    cleanup = run.step("cleanup")
    assert cleanup is not None and cleanup.status is StepStatus.DONE
    assert cleanup.detail.startswith("Dry run: cleanup would stop here")
    assert "protected" in cleanup.detail


async def test_cross_region_scenario_reports_its_prerequisites_plainly(env: Env) -> None:
    run = await env.start(RecoveryRequest(Scenario.CROSS_REGION, "video-window", ""))
    assert [s.key for s in run.steps] == ["prerequisites"]
    step = await run.run_step()
    assert step is not None and step.status is StepStatus.DONE
    assert "Cross-region DR is not configured" in step.detail
    assert run.cross_region is not None and not run.cross_region.configured
    assert run.finished
    assert mutations(env) == []


async def refused_restore(env: Env, *, snapshot_id: str | None = None,
                          recovery_point_arn: str | None = None) -> str:
    """A production recovery from `snapshot_id` or `recovery_point_arn`: its restore step
    fails before anything is issued; the reason it gives."""
    scenario = Scenario.SNAPSHOT if snapshot_id else Scenario.AWS_BACKUP
    run = await env.start(RecoveryRequest(scenario, "video-window",
                                          target_identifier(utcnow()), snapshot_id=snapshot_id,
                                          recovery_point_arn=recovery_point_arn))
    step = await run.run_until_blocked()
    assert step is not None and step.key == "restore" and step.status is StepStatus.FAILED
    assert env.restore_calls() == []
    assert not await env.aws.instance_exists(run.request.target)
    assert step.error is not None
    return step.error


async def test_an_unknown_snapshot_fails_the_restore_before_anything_is_issued(
        env: Env) -> None:
    # Deleted after it was picked, or mistyped in a resumed journal: said, and nothing runs.
    missing = "rds:video-window-2020-01-01-03-00"
    error = await refused_restore(env, snapshot_id=missing)
    assert missing in error and "not found" in error.lower(), error


async def test_an_unknown_recovery_point_fails_the_restore_before_anything_is_issued(
        env: Env) -> None:
    missing = "arn:aws:backup:eu-west-1:123456789012:recovery-point:0000-gone"
    error = await refused_restore(env, recovery_point_arn=missing)
    assert missing in error and env.config.backup.vault in error, error


async def staging_drill_to_swap(env: Env) -> tuple[RecoveryRun, str, str | None]:
    """A PITR recovery of staging run up to its swap, both ticks before it given; with the
    hosted zone's id and production's record value before the swap."""
    zone = await env.ops.hosted_zone_id(env.config.dns.zone)
    production_value = await env.ops.record_value(zone, env.config.dns.record)
    run = await env.start(await env.pitr_request(source="video-window-staging"))
    await run.run_until_blocked()
    run.tick("maintenance")
    run.tick("stop-connections")
    return run, zone, production_value


async def test_a_staging_drill_swaps_by_hand_and_never_touches_production_s_record(
        env: Env) -> None:
    # No dns.staging_record (the default): the swap shows the endpoint and calls no Route53.
    run, zone, production_value = await staging_drill_to_swap(env)
    swap = await run.run_step()
    assert swap is not None and swap.key == "swap" and swap.status is StepStatus.WAITING
    new = await env.aws.instance(run.request.target)
    assert run.swap_result is not None and run.swap_result.method == "manual"
    assert f"point the application at {new.endpoint_address} by hand" in swap.detail
    assert env.calls("route53:ChangeResourceRecordSets") == []
    assert await env.ops.record_value(zone, env.config.dns.record) == production_value
    record = jr.load_run(run.journal_path)
    assert record.swap is not None and record.swap.get("method") == "manual"  # for a resume


async def test_a_staging_drill_with_its_own_record_repoints_only_that_one(env: Env) -> None:
    staging_record = "db-staging.videowindow.internal."
    env = env.with_config(dns=dataclasses.replace(env.config.dns, staging_record=staging_record))
    run, zone, production_value = await staging_drill_to_swap(env)
    await run.run_step()
    new = await env.aws.instance(run.request.target)
    assert await env.ops.record_value(zone, staging_record) == new.endpoint_address
    assert await env.ops.record_value(zone, env.config.dns.record) == production_value
    assert run.swap_result is not None and run.swap_result.record == staging_record


async def test_a_snapshot_of_another_instance_fails_the_restore_before_anything_is_issued(
        env: Env) -> None:
    # A staging snapshot picked for a production recovery (a list left over from a switch):
    # the swap would put staging's data behind production's record.
    staging_snapshot = await fresh_snapshot(env, "video-window-staging")
    error = await refused_restore(env, snapshot_id=staging_snapshot)
    assert "of video-window-staging, not of video-window" in error


async def test_a_recovery_point_of_another_instance_fails_the_restore(env: Env) -> None:
    staging_point = await fresh_recovery_point(env, "video-window-staging")
    error = await refused_restore(env, recovery_point_arn=staging_point)
    assert "not of video-window;" in error


async def test_through_database_host_the_source_is_never_read_as_the_reference(
        env: Env) -> None:
    # database.host reaches one database: reading "the source" there reads the database under
    # verification. No recorded baseline: no reference, and none is recorded from it.
    import shutil

    shutil.rmtree(env.state_base / "baselines")
    run = await env.start(await env.pitr_request())
    await run.run_until_blocked()
    assert run.verification is not None
    assert run.verification.reference is ReferenceKind.NONE
    assert not (env.state_base / "baselines").exists()
