"""The recovery screens at 80x24, driven by keys (Pilot), against the sandbox and a real
PostgreSQL: each scenario end to end, the PITR window check, the guardrails, a failing step.

What the screens claim is checked against what AWS says (a boto3 client on the sandbox, apart
from the app), against the sandbox's request log and the journal on disk, never against the
app's own state alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

import pytest
from recovery_ui_env import (  # noqa: F401
    NOW,
    SIZE,
    RecoveryEnv,
    recovery_env,
    region_text,
    run_screen,
    screen_text,
    status,
    wait_step,
    wait_until,
)
from textual import events
from textual.widgets import Input
from vwtui.screens.dashboard import DashboardScreen
from vwtui.screens.recovery_choose import ChooseScreen
from vwtui.screens.recovery_confirm import ReasonPrompt, TypedConfirm, YesNo
from vwtui.screens.recovery_plan import PlanScreen
from vwtui.screens.recovery_run import RunScreen

from vwtui.recovery.plan import RecoveryInputError, Scenario
from vwtui.recovery.state import StepStatus
from vwtui.widgets.detail_view import DetailView

Start = Callable[..., RecoveryEnv]


def iso(moment: Any) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


async def pick(pilot: Any, number: str) -> None:
    """Choose scenario `number` as an engineer does: its key, the incident time (now) typed
    where the chooser asks for it first, then enter, which moves on to the list."""
    await pilot.press(number)
    await pilot.pause()
    if not pilot.app.screen.query_one("#incident", Input).value.strip():
        await paste(pilot, "#incident", iso(pilot.app.clock().astimezone(UTC)))
        await pilot.press("enter")
        await pilot.pause()


async def paste(pilot: Any, selector: str, text: str) -> None:
    """Focus an input and paste `text` into it, as a terminal delivers a paste: one event."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    field.value = ""
    pilot.app._driver.send_message(events.Paste(text))
    await pilot.pause()


async def answer_text(pilot: Any, text: str) -> None:
    """Type an answer into the modal's input (pasted) and press enter."""
    modal = pilot.app.screen
    field = modal.query_one(Input)
    field.value = ""
    pilot.app._driver.send_message(events.Paste(text))
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def open_chooser(pilot: Any) -> ChooseScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen), "dashboard")
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChooseScreen), "the chooser")
    choose = pilot.app.screen
    assert isinstance(choose, ChooseScreen)
    await wait_until(pilot, lambda: choose.loaded, "the chooser to read AWS")
    return choose


async def confirm_plan(pilot: Any, *, swap_rename: bool = False) -> PlanScreen:
    """On the plan: wait for discovery, optionally pick the rename swap, confirm with c, y."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PlanScreen), "the plan")
    plan = pilot.app.screen
    assert isinstance(plan, PlanScreen)
    await wait_until(pilot, lambda: plan.discovery is not None, "the plan's discovery")
    if plan.request.scenario is not Scenario.CROSS_REGION:
        # The network and the class come from the source instance (nothing is configured).
        text = screen_text(pilot.app)
        assert "Network (source instance)" in text and "Class (source instance)" in text
    if swap_rename:
        await pilot.press("w")
    await pilot.press("c")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, YesNo), "the confirmation")
    await pilot.press("y")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunScreen), "the run screen")
    return plan


async def tick_and_swap(pilot: Any) -> None:
    """The swap's manual checklist: maintenance mode, stop connections, g, then resume."""
    await pilot.press("1", "2")
    await pilot.press("g")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, YesNo), "the swap's y/n")
    await pilot.press("y")
    run = run_screen(pilot.app).run
    await wait_until(pilot, lambda: run.swap_result is not None and not
                     pilot.app.recovery.is_busy(run), "the swap to run")
    await pilot.press("t")


def journal_events(run: Any) -> list[dict[str, Any]]:
    lines = run.journal_path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


# ---- scenario 1 ------------------------------------------------------------------------------


async def test_pitr_recovery_end_to_end(recovery_env: Start) -> None:
    env = recovery_env()
    _, latest = env.window()
    restore_to = latest.replace(microsecond=0)
    incident = restore_to + timedelta(minutes=4)
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        await open_chooser(pilot)
        await paste(pilot, "#incident", iso(incident))
        await paste(pilot, "#restore-time", iso(restore_to))
        assert "implied RPO 0:04:00 ≤ 1 h target" in screen_text(app)
        await pilot.press("enter")
        plan = await confirm_plan(pilot)
        assert plan.request.instance_class == "db.t3.medium"  # production's, not the runbook's
        run = run_screen(app).run
        await wait_step(pilot, run, "swap", StepStatus.WAITING)

        text = screen_text(app)
        # The clock, the restore and wait done, verify judged with a verdict per check.
        assert "● RTO 0:00:" in text and "/ 4 h on time" in text and "RPO 0:04:00 ✓" in text
        assert run.verification is not None and run.verification.passed
        await pilot.press("up", "up")  # the cursor from the swap (current) to verify
        text = screen_text(app)
        assert "✓ PASS: 6 passed, 0 warnings, 0 failed (reference: baseline)" in text
        assert "✓ pass Row count of users: 5,000 rows" in text
        await pilot.press("down")

        # The swap waits on the engineer: ticks are timestamped, then g runs the UPSERT.
        await tick_and_swap(pilot)
        # Back under protection: outside the backup selection, the alarm on the old instance;
        # p shows every fix as its aws line, y applies them, then the step passes.
        await wait_step(pilot, run, "protection", StepStatus.WAITING)
        protection = run.step("protection")
        assert protection is not None
        assert "watches video-window (the replaced instance" in protection.detail
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the fixes question")
        assert isinstance(app.screen, YesNo)
        assert "aws backup create-backup-selection" in app.screen.detail
        assert "aws cloudwatch put-metric-alarm" in app.screen.detail
        await pilot.press("y")
        await wait_step(pilot, run, "protection", StepStatus.DONE)
        await pilot.press("g")
        await wait_step(pilot, run, "cleanup", StepStatus.WAITING)
        swap = run.step("swap")
        assert swap is not None and all(item.ticked for item in swap.checklist)
        new = env.client("rds").describe_db_instances(
            DBInstanceIdentifier=run.request.target)["DBInstances"][0]["Endpoint"]["Address"]
        zone = env.client("route53").list_hosted_zones_by_name(
            DNSName="videowindow.internal.")["HostedZones"][0]["Id"]
        records = env.client("route53").list_resource_record_sets(HostedZoneId=zone)
        cname = next(r for r in records["ResourceRecordSets"]
                     if r["Name"] == "db.videowindow.internal." and r["Type"] == "CNAME")
        assert cname["ResourceRecords"][0]["Value"] == new

        # Cleanup would delete video-window, which is protected: never offered.
        text = screen_text(app)
        assert "video-window is protected: vwtui never deletes it" in text
        assert "Delete replaced" not in text
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, TypedConfirm)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonPrompt), "the reason")
        await answer_text(pilot, "old production kept for a day")
        await wait_until(pilot, lambda: run.finished, "the run to finish")
        assert "Run finished" in screen_text(app)
        # p on the ended run saves its report beside the journal (the run's own record).
        await pilot.press("p")
        saved = run.state_base / "reports" / f"{run.run_id}.md"
        await wait_until(pilot, saved.exists, "the report")
        report = saved.read_text(encoding="utf-8")
        assert report.startswith(f"# Recovery report: {run.run_id}")
        assert "| Outcome | finished |" in report
        assert "| RPO achieved | 4 min (target 1 h: met) |" in report
        assert "(target 4 h: met) |" in report
        assert "| Row count of users | pass |" in report
        assert "skipped: old production kept for a day" in report

    assert env.sandbox.calls("RestoreDBInstanceToPointInTime") == [
        "rds:RestoreDBInstanceToPointInTime"]
    assert env.sandbox.calls("DeleteDBInstance") == []
    assert "video-window" in env.instance_ids()
    kinds = [e["event"] for e in journal_events(run)]
    assert kinds[0] == "run-start" and kinds[-1] == "run-end"
    assert [e["item"] for e in journal_events(run) if e["event"] == "tick"] == [
        "maintenance", "stop-connections", "resume"]
    skipped = [e for e in journal_events(run) if e.get("outcome") == "skipped"]
    assert skipped[-1]["skip_reason"] == "old production kept for a day"


async def test_pitr_time_outside_the_window_is_refused_with_the_reason(
        recovery_env: Start) -> None:
    env = recovery_env()
    earliest, latest = env.window()
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        choose = await open_chooser(pilot)
        too_old = earliest - timedelta(hours=2)
        await paste(pilot, "#incident", iso(latest))
        await paste(pilot, "#restore-time", iso(too_old))
        text = screen_text(app)
        assert "is outside the restore window of video-window" in text
        assert f"{earliest:%Y-%m-%d %H:%M}" in text
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is choose  # refused: no plan

        future = app.clock().astimezone(UTC) + timedelta(hours=1)
        await paste(pilot, "#restore-time", iso(future))
        assert "is in the future" in screen_text(app)
        await paste(pilot, "#restore-time", "yesterday at ten")
        assert "is not an ISO 8601 time" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is choose
    assert env.sandbox.calls("rds:Restore*") == []


async def test_chooser_with_the_vault_denied_still_offers_snapshots_and_says_why(
        recovery_env: Start) -> None:
    # AccessDenied on AWS Backup: its list says so; the other reads still fill their lists.
    env = recovery_env("no-backup-access")
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        choose = await open_chooser(pilot)
        assert choose.window is not None and choose.window_error is None
        assert choose.snapshots and choose.points == []
        await pick(pilot, "3")
        text = screen_text(app)
        assert "could not be read: why is said below" in text  # in the list, and whole below:
        flat = " ".join(text.split())  # the verdict wraps at 80 columns
        assert ("Cannot list the recovery points of video-window: Access denied: "
                "backup:ListRecoveryPointsByBackupVault was denied") in flat
        assert "Grant backup:ListRecoveryPointsByBackupVault to the role or user" in flat
        assert choose.selected_point() is None
        await pilot.press("2")
        await pilot.pause()
        selected = choose.selected_snapshot()
        assert selected is not None and selected.identifier == choose.snapshots[0].identifier
    assert env.sandbox.calls("rds:Restore*") == []


async def test_switching_source_leaves_nothing_of_the_other_one_to_pick(
        recovery_env: Start) -> None:
    env = recovery_env()
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        choose = await open_chooser(pilot)
        await pilot.press("2")
        await pilot.pause()
        assert choose.selected_snapshot() is not None  # production's, loaded
        choose.action_switch_source()  # e: staging; its lists are not read yet
        assert choose.source == "video-window-staging" and choose.snapshots == []
        with pytest.raises(RecoveryInputError, match="Still reading"):
            choose.build_request()
        await wait_until(pilot, lambda: choose.loaded, "staging's lists")
        selected = choose.selected_snapshot()
        assert selected is not None and selected.instance_identifier == "video-window-staging"


async def test_a_production_recovery_from_a_staging_console_says_production(
        recovery_env: Start) -> None:
    # The drill lead's console is on staging; e switches the recovery to production: the bar
    # at the top and the confirmation must say so, not STAGING.
    env = recovery_env()
    app = env.app(environment="staging")
    async with app.run_test(size=SIZE) as pilot:
        assert "◇ STAGING ◇  video-window-staging" in screen_text(app)
        choose = await open_chooser(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: choose.loaded and choose.source == "video-window",
                         "production's lists")
        assert "◆ PRODUCTION ◆  video-window " in screen_text(app).splitlines()[0]
        await pick(pilot, "2")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen)
                         and app.screen.discovery is not None, "the plan")
        assert "◆ PRODUCTION ◆" in screen_text(app).splitlines()[0]
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the confirmation")
        await pilot.pause()
        text = " ".join(screen_text(app).split())
        assert "snapshot restore on PRODUCTION for real?" in text
        assert "(PRODUCTION) in AWS and starts the RTO clock" in text
        await pilot.press("n")
    assert env.sandbox.calls("rds:Restore*") == []


# ---- scenario 2 ------------------------------------------------------------------------------


async def test_snapshot_restore_with_rename_swap_and_cleanup(recovery_env: Start) -> None:
    # Staging, not protected here, so the rename swap and the cleanup really run.
    env = recovery_env(protected=("video-window",))
    rds = env.client("rds")
    fresh = "video-window-staging-before-deploy"
    rds.create_db_snapshot(DBSnapshotIdentifier=fresh,
                           DBInstanceIdentifier="video-window-staging")
    app = env.app(environment="staging")
    async with app.run_test(size=SIZE) as pilot:
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        await wait_until(pilot, lambda: dashboard.pane("snapshots").highlighted_key == fresh,
                         "the fresh snapshot highlighted on the dashboard")
        choose = await open_chooser(pilot)
        assert choose.source == "video-window-staging"
        await pick(pilot, "2")
        # The dashboard's highlighted snapshot is the one under the cursor.
        selected = choose.selected_snapshot()
        assert selected is not None and selected.identifier == fresh
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
        await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen)
                         and app.screen.discovery is not None, "discovery")
        await pilot.press("w")
        text = screen_text(app)
        assert "Renaming changes the instance's endpoint; DNS takes minutes" in text
        assert "aws rds restore-db-instance-from-db-snapshot" in text
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        run = run_screen(app).run
        await wait_step(pilot, run, "swap", StepStatus.WAITING)
        assert "DNS takes minutes" in screen_text(app)
        await tick_and_swap(pilot)
        await wait_step(pilot, run, "protection", StepStatus.WAITING)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonPrompt), "the reason")
        await answer_text(pilot, "protection fixes checked in their own test")
        await wait_step(pilot, run, "protection", StepStatus.SKIPPED)
        await pilot.press("g")
        await wait_step(pilot, run, "cleanup", StepStatus.WAITING)
        retired = run.replaced
        assert retired.startswith("video-window-staging-old-")
        assert {"video-window-staging", retired} <= env.instance_ids()
        assert f"x delete {retired}" in screen_text(app)

        # A wrong identifier is refused on screen; the modal stays; the right one deletes.
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, TypedConfirm), "the confirm")
        await answer_text(pilot, "video-window-staging")
        assert isinstance(app.screen, TypedConfirm)
        assert "does not match" in screen_text(app)
        assert env.sandbox.calls("DeleteDBInstance") == []
        await answer_text(pilot, retired)
        await wait_until(pilot, lambda: run.finished, "the run to finish")
        assert "Run finished" in screen_text(app)

    assert env.sandbox.calls("rds:RestoreDBInstanceFromDBSnapshot") == [
        "rds:RestoreDBInstanceFromDBSnapshot"]
    assert env.sandbox.calls("DeleteDBInstance") == ["rds:DeleteDBInstance"]
    assert retired not in env.instance_ids() or rds.describe_db_instances(
        DBInstanceIdentifier=retired)["DBInstances"][0]["DBInstanceStatus"] == "deleting"
    finals = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(
        SnapshotType="manual")["DBSnapshots"]]
    assert any(f.startswith(f"{retired}-final-") for f in finals), finals


# ---- scenario 3 ------------------------------------------------------------------------------


async def test_aws_backup_restore_end_to_end(recovery_env: Start) -> None:
    env = recovery_env(restore_seconds=1.5)
    backup, rds = env.client("backup"), env.client("rds")
    arn = rds.describe_db_instances(DBInstanceIdentifier="video-window")[
        "DBInstances"][0]["DBInstanceArn"]
    job = backup.start_backup_job(BackupVaultName="video-window-backup-vault",
                                  ResourceArn=arn, IamRoleArn=env.config.backup.restore_role_arn)
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: backup.describe_backup_job(
            BackupJobId=job["BackupJobId"])["State"] == "COMPLETED", "the on-demand backup")
        fresh = backup.describe_backup_job(BackupJobId=job["BackupJobId"])["RecoveryPointArn"]
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        await pilot.press("r")  # refresh: the new recovery point appears, newest first
        await pilot.press("2")  # the recovery points pane
        pane = dashboard.pane("recovery-points")
        await wait_until(pilot, lambda: any(p.arn == fresh for p in pane.recovery_points),
                         "the fresh recovery point")
        while pane.table.cursor_row > 0:
            await pilot.press("up")
        assert pane.highlighted_key == fresh
        choose = await open_chooser(pilot)
        await pick(pilot, "3")
        point = choose.selected_point()
        assert point is not None and point.arn == fresh
        await pilot.pause()
        # The chooser names what it restores, the ARN whole (folded over lines, not cut).
        verdict = region_text(app, choose.query_one("#verdict"))
        assert "from recovery point" in verdict and fresh in verdict and "…" not in verdict
        await pilot.press("enter")
        await confirm_plan(pilot)
        run = run_screen(app).run
        # The restore job is polled and shown live while the UI stays responsive.
        await wait_until(pilot, lambda: "restore job RUNNING" in screen_text(app)
                         and status(run, "wait") is StepStatus.RUNNING, "the job polled")
        text = screen_text(app)
        assert "%%" not in text  # PercentDone already ends in "%"
        # The wait's command lines are read-only, each marked so (no "$" on the second).
        assert "(read-only) aws backup describe-restore-job" in text
        # The job id is known now: the command names it, not the plan's placeholder.
        assert run.restore_job_id is not None
        assert f"--restore-job-id {run.restore_job_id}" in text.replace("\n  ", " ")
        assert "<restore-job-id>" not in text
        assert "(read-only) aws rds wait db-instance-available" in text
        assert "$ aws rds wait" not in text
        await wait_step(pilot, run, "swap", StepStatus.WAITING)
        assert run.verification is not None and run.verification.passed
        await tick_and_swap(pilot)
        await wait_step(pilot, run, "protection", StepStatus.WAITING)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonPrompt), "the reason")
        await answer_text(pilot, "protection fixes checked in their own test")
        await wait_step(pilot, run, "protection", StepStatus.SKIPPED)
        await pilot.press("g")
        await wait_step(pilot, run, "cleanup", StepStatus.WAITING)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonPrompt), "the reason")
        await answer_text(pilot, "production instance kept")
        await wait_until(pilot, lambda: run.finished, "the run to finish")

    assert env.sandbox.calls("backup:StartRestoreJob") == ["backup:StartRestoreJob"]
    assert len(env.sandbox.calls("backup:DescribeRestoreJob")) >= 2
    restored = rds.describe_db_instances(DBInstanceIdentifier=run.request.target)
    assert restored["DBInstances"][0]["DBInstanceStatus"] == "available"
    jobs = backup.list_restore_jobs()["RestoreJobs"]
    assert [j["Status"] for j in jobs] == ["COMPLETED"]


# ---- failure ---------------------------------------------------------------------------------


async def pitr_plan(pilot: Any, env: RecoveryEnv, source: str = "video-window") -> PlanScreen:
    """Scenario 1 to the latest restorable time: its plan, discovery done, not confirmed."""
    _, latest = env.window(source)
    await open_chooser(pilot)
    await paste(pilot, "#incident", iso(latest))
    await paste(pilot, "#restore-time", iso(latest))
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PlanScreen), "the plan")
    plan = pilot.app.screen
    assert isinstance(plan, PlanScreen)
    await wait_until(pilot, lambda: plan.discovery is not None, "discovery")
    return plan


async def start_pitr(pilot: Any, env: RecoveryEnv) -> Any:
    """Scenario 1 to the latest restorable time, confirmed; the run."""
    await pitr_plan(pilot, env)
    await confirm_plan(pilot)
    return run_screen(pilot.app).run


async def test_failed_wait_shows_troubleshooting_and_offers_retry_skip_abort(
        recovery_env: Start) -> None:
    env = recovery_env(restore_seconds=600)
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        run = await start_pitr(pilot, env)
        await wait_until(pilot, lambda: "creating (poll" in screen_text(app), "the wait polled")
        env.sandbox.set_instance_status(run.request.target, "failed",
                                        "Recovery failed: storage unreachable")
        await wait_step(pilot, run, "wait", StepStatus.FAILED)
        text = screen_text(app)
        assert f"{run.request.target} ended failed: the restore failed." in text
        assert "Runbook troubleshooting: PITR restore fails" in text
        assert "r Retry" in text and "s Skip" in text and "a Abort" in text
        assert "g Run" not in text  # nothing runs on its own, nor by g, after a failure
        detail = run_screen(app).query_one(DetailView).text
        assert "Recovery failed: storage unreachable" in str(detail)  # the RDS event
        assert "aws rds describe-events --source-identifier" in str(detail)

        # Retry polls again (no second restore); the instance is still failed.
        polls = len(env.sandbox.calls("rds:DescribeDBInstances"))
        await pilot.press("r")
        await wait_until(pilot, lambda: not app.recovery.is_busy(run)
                         and status(run, "wait") is StepStatus.FAILED
                         and len(env.sandbox.calls("rds:DescribeDBInstances")) > polls,
                         "the retry to fail again")

        # Abort offers to clean up what the run created; a wrong name is refused.
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "abort question")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo)
                         and "Clean up" in screen_text(app), "the cleanup offer")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, TypedConfirm), "typed confirm")
        await answer_text(pilot, "video-window")
        assert isinstance(app.screen, TypedConfirm) and "does not match" in screen_text(app)
        await answer_text(pilot, run.request.target)
        await wait_until(pilot, lambda: run.finished, "the run to end")
        assert run.outcome == "aborted" and "Run aborted" in screen_text(app)
        # An aborted run recovered nothing: no "RTO achieved ✓" beside it, nor "on time".
        await pilot.pause()
        text = screen_text(app)
        assert "No recovery: the run ended (aborted) after" in text
        assert "RTO achieved" not in text and "on time" not in text
        assert "RTO clock stopped at" in text and "aborted" in text.splitlines()[1]

    assert env.sandbox.calls("rds:Restore*") == ["rds:RestoreDBInstanceToPointInTime"]
    assert env.sandbox.calls("DeleteDBInstance") == ["rds:DeleteDBInstance"]
    assert "video-window" in env.instance_ids()


# ---- dry run and resume ----------------------------------------------------------------------


async def test_dry_run_walks_the_whole_plan_and_changes_nothing(recovery_env: Start) -> None:
    env = recovery_env()
    seeded = len(env.sandbox.calls())  # the seed's own calls come first in the log
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        await pitr_plan(pilot, env)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        run = run_screen(app).run
        await wait_until(pilot, lambda: run.finished, "the dry run to finish")
        text = screen_text(app)
        assert "DRY RUN" in text and "dry run: nothing was changed" in text
        assert "no RTO or RPO was achieved" in text and "RTO achieved" not in text
        assert all(s.status is StepStatus.DONE for s in run.steps)
        assert "Dry run: not issued. Would run: aws rds restore-db-instance-to-point-in-time" \
            in run.steps[0].detail
    mutating = [c for c in env.sandbox.calls()[seeded:] if c.split(":", 1)[1].startswith(
        ("Restore", "Delete", "Modify", "Change", "StartRestore"))]
    assert mutating == []


async def test_unfinished_run_is_offered_on_start_up_and_resumed(recovery_env: Start) -> None:
    env = recovery_env(restore_seconds=600)
    first = env.app()
    async with first.run_test(size=SIZE) as pilot:
        run = await start_pitr(pilot, env)
        await wait_until(pilot, lambda: "creating (poll" in screen_text(first), "the wait")
        started_at, target = run.clock.started_at, run.request.target
        await pilot.press("q")  # quitting mid-run asks first
        await wait_until(pilot, lambda: isinstance(first.screen, YesNo), "the quit question")
        assert "Quit vwtui while this recovery is open?" in screen_text(first)
        await pilot.press("y")
    assert first.return_code == 0 and not run.finished
    # vwtui is gone (quit, or the SSH session dropped); the restore goes on in AWS.
    env.sandbox.set_instance_status(target, "available")

    second = env.app()
    async with second.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(second.screen, YesNo), "the resume offer")
        text = screen_text(second)
        assert "Resume the unfinished recovery?" in text and target in text
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(second.screen, RunScreen), "the run screen")
        resumed = run_screen(second).run
        assert resumed.clock.started_at == started_at  # the clock continues
        await wait_step(pilot, resumed, "swap", StepStatus.WAITING)
        assert status(resumed, "restore") is StepStatus.DONE
    assert env.sandbox.calls("rds:Restore*") == ["rds:RestoreDBInstanceToPointInTime"]


# ---- scenario 4 ------------------------------------------------------------------------------


async def test_cross_region_says_plainly_it_is_not_configured(recovery_env: Start) -> None:
    env = recovery_env()
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        await open_chooser(pilot)
        await pilot.press("4")
        await wait_until(pilot, lambda: "Cross-region disaster recovery is not configured"
                         in screen_text(app), "the prerequisites checked")
        text = screen_text(app)
        assert "✗ Read replica in a secondary region: not configured" in text
        await pilot.press("p")
        await confirm_plan(pilot)
        run = run_screen(app).run
        await wait_until(pilot, lambda: run.finished, "the check to finish")
        assert run.cross_region is not None and not run.cross_region.configured
        assert "Cross-region DR is not configured" in screen_text(app)
    assert env.sandbox.calls("rds:Restore*") == []


async def test_plan_refuses_a_new_identifier_that_already_exists(recovery_env: Start) -> None:
    env = recovery_env(now=NOW)
    taken = f"video-window-recovery-{NOW:%Y%m%d%H%M}"
    env.client("rds").create_db_instance(
        DBInstanceIdentifier=taken, DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="postgres", MasterUserPassword="not-a-secret-1", AllocatedStorage=20)
    app = env.app(clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        plan = await pitr_plan(pilot, env)
        text = screen_text(app)
        assert f"New {taken} ✗ taken" in text and f"! {taken} already exists" in text
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is plan  # nothing to confirm: the plan cannot run
        assert app.recovery.runs == []
    assert env.sandbox.calls("rds:Restore*") == []


async def test_a_read_only_session_can_only_run_the_plan_dry(recovery_env: Start) -> None:
    env = recovery_env()
    env.config = env.config.with_read_only(True)
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        assert "READ-ONLY" in screen_text(app)  # the context bar, on every screen
        plan = await pitr_plan(pilot, env)
        assert "the plan can only run dry (d)" in " ".join(screen_text(app).split())
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is plan and app.recovery.runs == []  # no run, no RTO clock
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), "the dry run")
        run = run_screen(app).run
        await wait_until(pilot, lambda: run.finished, "the dry run to finish")
        assert run.dry_run
    assert env.sandbox.calls("rds:Restore*") == []


# ---- the run screen follows the engineer -----------------------------------------------------


def hint_text(app: Any) -> str:
    return str(run_screen(app).query_one("#run-hint").render())


async def test_detail_stays_where_the_engineer_reads_and_the_swap_says_what_it_waits_for(
        recovery_env: Start) -> None:
    env = recovery_env(restore_seconds=600)
    upserts = len(env.sandbox.calls("ChangeResourceRecordSets"))  # the seed's own
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        run = await start_pitr(pilot, env)
        screen = run_screen(app)
        await wait_until(pilot, lambda: "creating (poll" in screen_text(app), "the wait")
        assert screen.detail_key == "wait"  # the active step, without a key pressed
        # The engineer reads the restore step while the wait goes on; the run moves on to
        # the swap, and the cursor stays where they read.
        await pilot.press("up")
        assert screen.detail_key == "restore"
        env.sandbox.set_instance_status(run.request.target, "available")
        await wait_step(pilot, run, "swap", StepStatus.WAITING)
        await pilot.pause()
        assert screen.detail_key == "restore"
        assert "Restore video-window to" in screen_text(app)

        # g before the ticks: told why nothing ran; the cursor goes back to the swap.
        await pilot.press("g")
        await pilot.pause()
        assert screen.detail_key == "swap" and run.swap_result is None
        assert any("Tick first: 1 Set maintenance mode, 2 Stop application connections"
                   in str(n.message) for n in app._notifications)
        assert "swap: tick 1/2 (or t) · then g runs the swap" in hint_text(app)
        await pilot.press("1", "2")
        assert "swap: g runs the swap" in hint_text(app)
        # g asks first: the swap moves the application's traffic. n leaves it undone.
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the swap's y/n")
        assert "Swap now? The application moves to the new instance." in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert run.swap_result is None and isinstance(app.screen, RunScreen)
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the swap's y/n")
        await pilot.press("y")
        await wait_until(pilot, lambda: run.swap_result is not None
                         and not app.recovery.is_busy(run), "the swap to run")
        # Once the swap ran, it waits for the resume tick, and says so (not "g runs the swap").
        assert "swap done: tick 3 (or t) once the application is back" in hint_text(app)
        assert "g runs the swap" not in screen_text(app)
        await pilot.press("g")
        await pilot.pause()
        assert any("The swap has run. Tick 3 Resume application" in str(n.message)
                   for n in app._notifications)
        assert status(run, "swap") is StepStatus.WAITING
        # On the active step when the run moves on: the cursor follows to the cleanup.
        await pilot.press("t")
        await wait_step(pilot, run, "protection", StepStatus.WAITING)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonPrompt), "the reason")
        await answer_text(pilot, "protection fixes checked in their own test")
        await wait_step(pilot, run, "protection", StepStatus.SKIPPED)
        await pilot.press("g")
        await wait_step(pilot, run, "cleanup", StepStatus.WAITING)
        await pilot.pause()
        assert screen.detail_key == "cleanup"
    # g pressed twice more at the swap: still one UPSERT.
    assert len(env.sandbox.calls("ChangeResourceRecordSets")) == upserts + 1


async def test_plan_refuses_the_rename_swap_of_a_protected_source_before_anything_runs(
        recovery_env: Start) -> None:
    env = recovery_env()
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        plan = await pitr_plan(pilot, env)
        await pilot.press("w")
        await pilot.pause()
        # video-window is production: the rename would be refused at the swap, after the
        # restore; the plan says so and keeps the Route53 swap.
        assert plan.request.swap.value == "route53"
        assert any("video-window is protected: vwtui never renames it" in str(n.message)
                   for n in app._notifications)
        assert "Swap: point db.videowindow.internal. at" in screen_text(app)
    assert env.sandbox.calls("rds:Restore*") == []


async def test_rename_stamp_and_target_stamp_come_from_one_moment(recovery_env: Start) -> None:
    # The plan is drawn, and the run started, a minute after the request was made: the name
    # the rename gives the source carries the same stamp as the new instance's name.
    env = recovery_env(restore_seconds=0.3, protected=("video-window",))  # staging renamable
    offset = [timedelta(0)]
    start = env.sandbox.current_time().replace(second=20, microsecond=0)
    app = env.app(clock=lambda: start + offset[0], environment="staging")
    async with app.run_test(size=SIZE) as pilot:
        plan = await pitr_plan(pilot, env, "video-window-staging")
        stamp = f"{start:%Y%m%d%H%M}"
        # restore.target_pattern's default names the recovery after its own source.
        assert plan.request.target == f"video-window-staging-recovery-{stamp}"
        offset[0] = timedelta(seconds=61)  # the engineer reads the plan for a minute
        await pilot.press("w")
        await pilot.pause()
        swap = next(s for s in plan.steps if s.key == "swap")
        assert f"video-window-staging-old-{stamp}" in swap.title, swap.title
        assert f"video-window-staging-old-{stamp}" in (swap.command or "")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        run = run_screen(app).run
        assert run.replaced == f"video-window-staging-old-{stamp}"
        journal = [json.loads(line) for line in run.journal_path.read_text().splitlines()]
        assert journal[0]["request"]["requested_at"] == iso(start)


async def test_quitting_while_a_wait_sleeps_cancels_it_and_journals_why(
        recovery_env: Start) -> None:
    env = recovery_env(restore_seconds=600)
    app = env.app(poll_seconds=30)  # the wait sleeps between polls, as it does for real
    async with app.run_test(size=SIZE) as pilot:
        run = await start_pitr(pilot, env)
        await wait_until(pilot, lambda: "creating (poll 1)" in screen_text(app), "the wait")
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the quit question")
        await pilot.press("y")
        # The run's task is cancelled when the quit is confirmed, not left to the teardown.
        await wait_until(pilot, lambda: not app.recovery.is_busy(run), "the wait cancelled")
    assert app.return_code == 0 and not run.finished
    records = [json.loads(line) for line in run.journal_path.read_text().splitlines()]
    ends = [r for r in records if r["event"] == "step-end" and r.get("step") == "wait"]
    assert ends and ends[-1]["outcome"] == "interrupted"
    assert "vwtui was quit" in ends[-1]["detail"]
