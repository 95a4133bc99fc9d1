"""Every check against the sandbox account: seeded to pass it, and seeded or altered to fail it.

The product's code end to end: AwsService talks HTTP to the sandbox (moto plus the shim), the
checklist reads everything once, the pure checks judge. Where no scenario breaks a check, the
test breaks the account itself through boto3 (delete an alarm, unsubscribe the topic, change
the plan), as an operator would in the console. Unknown: `sandbox.deny` makes one API call
answer AccessDenied.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fixtures_sandbox import sandbox_client, sandbox_config

from vwtui.checklist import read_all
from vwtui.checks import evaluate
from vwtui.config import AwsConfig, Config
from vwtui.model import CheckResult, Verdict
from vwtui.services.aws import AwsService

ALL = {
    "daily.backup_jobs", "daily.snapshot_age", "daily.recovery_point_age",
    "daily.size_consistency", "daily.encryption", "weekly.latest_snapshot",
    "weekly.vault_recent", "weekly.no_alarms", "weekly.backup_logs", "compliance.pitr_window",
    "compliance.plan_lifecycle", "compliance.encryption", "compliance.no_cross_region",
    "compliance.alarms_wired", "compliance.eventbridge_rule", "compliance.sns_subscribers",
    "compliance.backup_age_alarm", "compliance.backup_schedule", "compliance.access_logged",
    "compliance.back_under_protection",
}


async def check(sandbox: Any, config: Config | None = None, *,
                signed_days_ago: float | None = None) -> dict[str, CheckResult]:
    """Read the sandbox account once and evaluate every check, at the sandbox's time; with
    `signed_days_ago`, as if the weekly review was signed off that long ago."""
    config = config or sandbox_config(sandbox)
    now = sandbox.current_time()
    signed = None if signed_days_ago is None else now - timedelta(days=signed_days_ago)
    readings = await read_all(AwsService(config), config, now, signed)
    return {r.id: r for r in evaluate(readings, config)}


async def signed(sandbox: Any, config: Config | None = None) -> dict[str, CheckResult]:
    """As `check`, with yesterday's sign-off: the staging job that failed three days ago (and
    was retried) was reviewed, so the weekly logs item is clear."""
    return await check(sandbox, config, signed_days_ago=1)


def by_verdict(results: dict[str, CheckResult], verdict: Verdict) -> set[str]:
    return {i for i, r in results.items() if r.verdict is verdict}


client = sandbox_client  # a boto3 client on the sandbox, to change it behind vwtui's back


def evidence(result: CheckResult) -> str:
    return "\n".join(result.evidence)


# ---- scenarios -------------------------------------------------------------------------------

async def test_the_healthy_account_passes_every_check_once_the_week_is_signed_off(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    results = await check(sandbox)
    assert set(results) == ALL
    # The week holds a FAILED staging job, retried and completed: the reviewer is asked about
    # it (the item fails, saying it was resolved and when) until the review is signed off.
    assert by_verdict(results, Verdict.FAIL) == {"weekly.backup_logs"}
    logs = evidence(results["weekly.backup_logs"])
    assert "(video-window-staging) FAILED" in logs
    assert "(resolved: job" in logs and "1 failed backup job(s) in the last 7 d, 0 not yet " \
        "resolved" in logs
    # The daily completion check keeps it as resolved (it is, in the last 25 h's sense).
    assert results["daily.backup_jobs"].verdict is Verdict.PASS
    before = await check(sandbox, signed_days_ago=4)  # signed before the failure: still asked
    assert by_verdict(before, Verdict.FAIL) == {"weekly.backup_logs"}
    assert "since the last sign-off" in evidence(before["weekly.backup_logs"])
    after = await signed(sandbox)
    assert by_verdict(after, Verdict.PASS) == ALL
    assert "no failed backup job since the last sign-off" in evidence(
        after["weekly.backup_logs"])
    compliance = {i: evidence(r) for i, r in after.items() if i.startswith("compliance.")}
    assert "email subscriber ops-team@craftvideomarketplace.com" in compliance[
        "compliance.sns_subscribers"]
    assert "sms subscriber +15555550100" in compliance["compliance.sns_subscribers"]
    assert "watches VideoWindow/Backup/TimeSinceLastBackup" in compliance[
        "compliance.backup_age_alarm"]
    assert "backup window of video-window is 03:00-04:00 UTC" in compliance[
        "compliance.backup_schedule"]
    assert "runs daily at 05:00 UTC" in compliance["compliance.backup_schedule"]
    assert "trail video-window-audit (all regions) is logging API calls" in compliance[
        "compliance.access_logged"]
    assert "matches FAILED and EXPIRED backup jobs" in compliance["compliance.eventbridge_rule"]


async def test_stale_backups_fail_the_age_checks(make_sandbox: Callable[..., Any]) -> None:
    results = await signed(make_sandbox("stale-backups"))
    assert by_verdict(results, Verdict.FAIL) == {
        "daily.backup_jobs", "daily.snapshot_age", "daily.recovery_point_age",
        "weekly.latest_snapshot", "weekly.vault_recent", "weekly.no_alarms"}
    assert "30 h ago: older than 25 h" in evidence(results["daily.snapshot_age"])
    assert "video-window-backup-age is in ALARM" in evidence(results["weekly.no_alarms"])


async def test_a_failed_backup_fails_job_completion_and_the_logs(
        make_sandbox: Callable[..., Any]) -> None:
    results = await check(make_sandbox("failed-backup"))
    failed = by_verdict(results, Verdict.FAIL)
    assert {"daily.backup_jobs", "weekly.backup_logs", "weekly.no_alarms"} <= failed
    assert "does not have sufficient permissions" in evidence(results["daily.backup_jobs"])
    assert "(video-window) FAILED" in evidence(results["weekly.backup_logs"])


async def test_an_unencrypted_snapshot_fails_both_encryption_checks(
        make_sandbox: Callable[..., Any]) -> None:
    results = await signed(make_sandbox("unencrypted-snapshot"))
    assert by_verdict(results, Verdict.FAIL) == {"daily.encryption", "compliance.encryption"}
    assert "video-window-adhoc-export" in evidence(results["daily.encryption"])


async def test_a_shrunk_backup_fails_size_consistency(make_sandbox: Callable[..., Any]) -> None:
    results = await signed(make_sandbox("backup-size-drop"))
    assert by_verdict(results, Verdict.FAIL) == {"daily.size_consistency"}
    assert "beyond the 20% tolerance" in evidence(results["daily.size_consistency"])


async def test_a_missing_alarm_fails_wiring_and_leaves_alarm_state_unknown(
        make_sandbox: Callable[..., Any]) -> None:
    results = await signed(make_sandbox("missing-alarm"))
    assert by_verdict(results, Verdict.FAIL) == {"compliance.alarms_wired",
                                                 "compliance.back_under_protection"}
    assert by_verdict(results, Verdict.UNKNOWN) == {"weekly.no_alarms"}
    assert "video-window-backup-failure does not exist" in evidence(
        results["compliance.alarms_wired"])


async def test_without_backup_access_its_checks_are_unknown_never_pass(
        make_sandbox: Callable[..., Any]) -> None:
    results = await check(make_sandbox("no-backup-access"))
    assert by_verdict(results, Verdict.FAIL) == set()
    assert by_verdict(results, Verdict.UNKNOWN) == {
        "daily.backup_jobs", "daily.recovery_point_age", "daily.size_consistency",
        "daily.encryption", "weekly.vault_recent", "weekly.backup_logs",
        "compliance.plan_lifecycle", "compliance.encryption", "compliance.no_cross_region",
        "compliance.backup_schedule", "compliance.back_under_protection"}
    assert "was denied" in evidence(results["daily.backup_jobs"])


# ---- one call denied: only the checks that need it are unknown -------------------------------

DENIED = {
    "ListBackupJobs": {"daily.backup_jobs", "weekly.backup_logs"},
    "DescribeDBSnapshots": {"daily.snapshot_age", "daily.size_consistency", "daily.encryption",
                            "weekly.latest_snapshot", "compliance.encryption"},
    "DescribeAlarms": {"weekly.no_alarms", "compliance.alarms_wired",
                       "compliance.back_under_protection", "compliance.backup_age_alarm"},
    "DescribeEvents": {"weekly.backup_logs"},
    "DescribeDBInstanceAutomatedBackups": {"compliance.pitr_window",
                                           "compliance.back_under_protection"},
    "GetBackupPlan": {"compliance.plan_lifecycle", "compliance.no_cross_region",
                      "compliance.backup_schedule"},
    "ListSubscriptionsByTopic": {"compliance.alarms_wired", "compliance.sns_subscribers"},
    "ListRules": {"compliance.eventbridge_rule",
                  "compliance.back_under_protection"},
    "DescribeDBInstances": {"compliance.pitr_window", "compliance.encryption",
                            "compliance.no_cross_region", "compliance.backup_schedule",
                            "compliance.back_under_protection"},
    "DescribeTrails": {"compliance.access_logged"},
    "GetTrailStatus": {"compliance.access_logged"},
}


async def test_one_denied_call_makes_only_its_checks_unknown(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    for operation, unknown in DENIED.items():
        sandbox.deny(operation)
        results = await signed(sandbox)
        sandbox.allow(operation)
        assert by_verdict(results, Verdict.UNKNOWN) == unknown, operation
        assert by_verdict(results, Verdict.PASS) == ALL - unknown, operation
        for check_id in unknown:
            assert f":{operation} was denied" in evidence(results[check_id]), operation


# ---- the account altered through boto3 -------------------------------------------------------

async def test_broken_alerting_fails_one_check_at_a_time(
        make_sandbox: Callable[..., Any]) -> None:
    """Break the alerting chain a piece at a time, as the runbook's alarms section lists it."""
    sandbox = make_sandbox("healthy")
    cloudwatch, sns, events = (client(sandbox, name) for name in ("cloudwatch", "sns", "events"))

    cloudwatch.set_alarm_state(AlarmName="video-window-backup-failure", StateValue="ALARM",
                               StateReason="Backup job failed")
    results = await signed(sandbox)
    assert by_verdict(results, Verdict.FAIL) == {"weekly.no_alarms"}
    assert "Backup job failed" in evidence(results["weekly.no_alarms"])

    alarm = cloudwatch.describe_alarms(AlarmNames=["video-window-backup-age"])["MetricAlarms"][0]
    keep = ("AlarmName", "MetricName", "Namespace", "Statistic", "Period", "EvaluationPeriods",
            "Threshold", "ComparisonOperator", "Dimensions")
    cloudwatch.put_metric_alarm(**{k: alarm[k] for k in keep if k in alarm}, AlarmActions=[])
    results = await signed(sandbox)
    assert "compliance.alarms_wired" in by_verdict(results, Verdict.FAIL)
    assert "video-window-backup-age does not notify" in evidence(
        results["compliance.alarms_wired"])

    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                 if t["TopicArn"].endswith(":video-window-backup-notifications"))
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    sms = next(sub for sub in subs if sub["Protocol"] == "sms")
    sns.unsubscribe(SubscriptionArn=sms["SubscriptionArn"])
    results = await signed(sandbox)
    assert results["compliance.sns_subscribers"].verdict is Verdict.FAIL
    assert "has no confirmed sms subscriber" in evidence(results["compliance.sns_subscribers"])
    assert "email subscriber ops-team@" in evidence(results["compliance.sns_subscribers"])
    for sub in subs:
        if sub is not sms:
            sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    results = await signed(sandbox)
    assert "has no confirmed email subscriber" in evidence(
        results["compliance.sns_subscribers"])
    assert results["compliance.eventbridge_rule"].verdict is Verdict.PASS

    rule = next(r for r in events.list_rules()["Rules"]
                if "aws.backup" in (r.get("EventPattern") or ""))
    pattern = json.loads(rule["EventPattern"])
    pattern["detail"]["state"] = ["COMPLETED"]  # no longer about failures
    events.put_rule(Name=rule["Name"], EventPattern=json.dumps(pattern), State="ENABLED")
    results = await signed(sandbox)
    assert results["compliance.eventbridge_rule"].verdict is Verdict.FAIL
    assert "no EventBridge rule matches failed AWS Backup jobs" in evidence(
        results["compliance.eventbridge_rule"])

    events.put_rule(Name=rule["Name"], EventPattern=rule["EventPattern"], State="DISABLED")
    results = await signed(sandbox)
    assert "is DISABLED" in evidence(results["compliance.eventbridge_rule"])
    assert by_verdict(results, Verdict.FAIL) == {
        "weekly.no_alarms", "compliance.alarms_wired", "compliance.eventbridge_rule",
        "compliance.sns_subscribers"}


def _plan_like_the_seeded_one(sandbox: Any, name: str,
                              change: Callable[[dict[str, Any]], None]) -> Config:
    """Create a plan called `name` from the seeded plan's rules, each changed, and return a
    config that checks it. (moto has no UpdateBackupPlan and keeps deleted plans' names.)"""
    backup = client(sandbox, "backup")
    plan_id = next(p["BackupPlanId"] for p in backup.list_backup_plans()["BackupPlansList"]
                   if p["BackupPlanName"] == "video-window-database-backup-plan")
    plan = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]
    keep = ("RuleName", "TargetBackupVaultName", "ScheduleExpression", "Lifecycle",
            "CopyActions", "StartWindowMinutes", "CompletionWindowMinutes")
    rules = [{k: v for k, v in rule.items() if k in keep} for rule in plan["Rules"]]
    for rule in rules:
        change(rule)
    backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": rules})
    config = sandbox_config(sandbox)
    return config.replace(backup=dataclasses.replace(config.backup, plan=name))


async def test_plan_lifecycle_and_copy_actions_are_checked(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    short = _plan_like_the_seeded_one(
        sandbox, "plan-14-days", lambda rule: rule.update(Lifecycle={"DeleteAfterDays": 14}))
    results = await signed(sandbox, short)
    assert by_verdict(results, Verdict.FAIL) == {"compliance.plan_lifecycle",
                                                 "compliance.back_under_protection"}
    assert "deletes after 14 d, not 30 d" in evidence(results["compliance.plan_lifecycle"])

    vault = "arn:aws:backup:us-east-1:123456789012:backup-vault:video-window-dr"
    copying = _plan_like_the_seeded_one(sandbox, "plan-copying", lambda rule: rule.update(
        CopyActions=[{"DestinationBackupVaultArn": vault,
                      "Lifecycle": {"DeleteAfterDays": 30}}]))
    results = await signed(sandbox, copying)
    assert by_verdict(results, Verdict.FAIL) == {"compliance.no_cross_region",
                                                 "compliance.back_under_protection"}
    assert "copies to us-east-1" in evidence(results["compliance.no_cross_region"])

    config = sandbox_config(sandbox)
    missing = config.replace(backup=dataclasses.replace(config.backup, plan="no-such-plan"))
    results = await signed(sandbox, missing)
    assert by_verdict(results, Verdict.FAIL) == {"compliance.plan_lifecycle",
                                                 "compliance.backup_schedule",
                                                 "compliance.back_under_protection"}
    assert "no backup plan named no-such-plan" in evidence(results["compliance.plan_lifecycle"])


async def test_short_retention_and_an_unencrypted_instance_fail_compliance(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    rds = client(sandbox, "rds")
    rds.modify_db_instance(DBInstanceIdentifier="video-window", BackupRetentionPeriod=3,
                           ApplyImmediately=True)
    results = await signed(sandbox)
    assert by_verdict(results, Verdict.FAIL) == {"compliance.pitr_window",
                                                 "compliance.back_under_protection"}
    assert "BackupRetentionPeriod of video-window is 3 d, below 7 d" in evidence(
        results["compliance.pitr_window"])

    rds.delete_db_instance(DBInstanceIdentifier="video-window-staging",
                           SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
    rds.create_db_instance(DBInstanceIdentifier="video-window-staging", Engine="postgres",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="postgres", MasterUserPassword="not-a-secret-1",
                           StorageEncrypted=False)
    results = await signed(sandbox)
    assert results["compliance.encryption"].verdict is Verdict.FAIL
    assert "instance video-window-staging storage is NOT encrypted" in evidence(
        results["compliance.encryption"])


async def test_backup_window_plan_schedule_and_age_alarm_are_checked(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    late = _plan_like_the_seeded_one(
        sandbox, "plan-at-seven", lambda rule: rule.update(ScheduleExpression="cron(0 7 ? * * *)"))
    results = await signed(sandbox, late)
    # A plan made for the test selects nothing: production is outside it.
    assert by_verdict(results, Verdict.FAIL) == {"compliance.backup_schedule",
                                                  "compliance.back_under_protection"}
    assert "rule daily-0500-utc runs at 07:00 UTC, not 05:00 UTC" in evidence(
        results["compliance.backup_schedule"])

    client(sandbox, "rds").modify_db_instance(DBInstanceIdentifier="video-window",
                                              PreferredBackupWindow="22:00-23:00",
                                              ApplyImmediately=True)
    results = await signed(sandbox)
    assert by_verdict(results, Verdict.FAIL) == {"compliance.backup_schedule"}
    assert "backup window of video-window is 22:00-23:00 UTC, not 03:00-04:00 UTC" in evidence(
        results["compliance.backup_schedule"])
    client(sandbox, "rds").modify_db_instance(DBInstanceIdentifier="video-window",
                                              PreferredBackupWindow="03:00-04:00",
                                              ApplyImmediately=True)

    cloudwatch = client(sandbox, "cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=["video-window-backup-age"])["MetricAlarms"][0]
    keep = ("AlarmName", "MetricName", "Namespace", "Statistic", "Period", "EvaluationPeriods",
            "ComparisonOperator", "Dimensions", "AlarmActions")
    cloudwatch.put_metric_alarm(**{k: alarm[k] for k in keep if k in alarm}, Threshold=172800.0)
    results = await signed(sandbox)
    assert by_verdict(results, Verdict.FAIL) == {"compliance.backup_age_alarm"}
    assert "threshold is 172800 s (2 d), not 90000 s (25 h)" in evidence(
        results["compliance.backup_age_alarm"])


async def test_the_failure_rule_must_match_expired_jobs_too(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    events = client(sandbox, "events")
    rule = next(r for r in events.list_rules()["Rules"]
                if "aws.backup" in (r.get("EventPattern") or ""))
    pattern = json.loads(rule["EventPattern"])
    pattern["detail"]["state"] = ["FAILED"]
    events.put_rule(Name=rule["Name"], EventPattern=json.dumps(pattern), State="ENABLED")
    results = await signed(sandbox)
    assert by_verdict(results, Verdict.FAIL) == {"compliance.eventbridge_rule"}
    assert "does not match EXPIRED" in evidence(results["compliance.eventbridge_rule"])


async def test_api_access_is_logged_by_cloudtrail(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    trail = client(sandbox, "cloudtrail")
    trail.put_event_selectors(TrailName="video-window-audit", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": False}])
    results = await signed(sandbox)
    assert by_verdict(results, Verdict.FAIL) == {"compliance.access_logged"}
    assert "logs no management events" in evidence(results["compliance.access_logged"])
    trail.put_event_selectors(TrailName="video-window-audit", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    trail.stop_logging(Name="video-window-audit")
    results = await signed(sandbox)
    assert by_verdict(results, Verdict.FAIL) == {"compliance.access_logged"}
    logged = evidence(results["compliance.access_logged"])
    assert "trail video-window-audit (all regions) is NOT logging" in logged
    assert f"no CloudTrail trail logs API calls in {sandbox.region}" in logged
    trail.delete_trail(Name="video-window-audit")
    results = await signed(sandbox)
    assert "(0 trail(s) seen)" in evidence(results["compliance.access_logged"])


async def test_the_dr_region_holds_no_snapshot_of_production(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    config = sandbox_config(sandbox)
    config = config.replace(aws=AwsConfig(region=sandbox.region,
                                          endpoint_url=sandbox.endpoint_url, max_attempts=2,
                                          dr_region="eu-central-1"))
    results = await signed(sandbox, config)
    assert results["compliance.no_cross_region"].verdict is Verdict.PASS
    assert "no snapshot of video-window in eu-central-1" in evidence(
        results["compliance.no_cross_region"])


def test_a_snapshot_copied_to_the_dr_region_fails_data_residency(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """moto in process (the sandbox's shim answers snapshots for its home region only): a
    snapshot of production copied to the DR region is found there and fails the check."""
    import asyncio

    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    config = Config(aws=AwsConfig(region="eu-west-1", dr_region="eu-central-1",
                                  max_attempts=1))
    with mock_aws():
        import boto3

        home = boto3.client("rds", region_name="eu-west-1")
        home.create_db_instance(DBInstanceIdentifier="video-window", Engine="postgres",
                                DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                                MasterUsername="postgres", MasterUserPassword="not-a-secret-1")
        snap = home.create_db_snapshot(DBInstanceIdentifier="video-window",
                                       DBSnapshotIdentifier="video-window-manual")["DBSnapshot"]
        clean = asyncio.run(read_all(AwsService(config), config))
        assert clean.dr_snapshots == []
        boto3.client("rds", region_name="eu-central-1").copy_db_snapshot(
            SourceDBSnapshotIdentifier=snap["DBSnapshotArn"],
            TargetDBSnapshotIdentifier="video-window-dr-copy", SourceRegion="eu-west-1")
        readings = asyncio.run(read_all(AwsService(config), config))
    results = {r.id: r for r in evaluate(readings, config)}
    residency = results["compliance.no_cross_region"]
    assert residency.verdict is Verdict.FAIL
    assert "snapshot video-window-dr-copy" in evidence(residency)
    assert "is in eu-central-1" in evidence(residency)
