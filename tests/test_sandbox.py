"""The sandbox account over real HTTP with plain boto3: what it is seeded with, and that the
shim answers like AWS where moto does not (AWS Backup jobs and restores, RDS restore window,
events, paging, restore timing, AccessDenied in every protocol)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import pairwise
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from fixtures_sandbox import SANDBOX_NOW

from vwtui.config import Config
from vwtui.demo import demo_config
from vwtui.sandbox import STAGING_RECORD

CFG = Config()
PROD = CFG.instances.production
STAGING = CFG.instances.staging
VAULT = CFG.backup.vault


def client(name: str) -> Any:
    """A boto3 client configured only by the environment the fixture set (sandbox.env())."""
    return boto3.client(name)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """Poll until `check()` is truthy; fail naming `what` if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def status_of(identifier: str) -> str:
    return str(client("rds").describe_db_instances(
        DBInstanceIdentifier=identifier)["DBInstances"][0]["DBInstanceStatus"])


class TestHealthyAccount:
    """Read-only looks at one healthy account (started once for the class)."""

    @pytest.fixture
    def sandbox(self, shared_sandbox: Any) -> Iterator[Any]:
        yield shared_sandbox
        shared_sandbox.allow_all()

    def test_instances_are_seeded_as_the_runbook_describes(self, sandbox: Any) -> None:
        rds = client("rds")
        prod, staging = (rds.describe_db_instances(DBInstanceIdentifier=i)["DBInstances"][0]
                         for i in (PROD, STAGING))
        assert (prod["DBInstanceClass"], staging["DBInstanceClass"]) == ("db.t3.medium",
                                                                         "db.t3.micro")
        for db in (prod, staging):
            assert db["Engine"] == "postgres" and db["EngineVersion"].startswith("16.")
            assert db["DBInstanceStatus"] == "available"
            assert db["StorageEncrypted"] is True and db["KmsKeyId"] == sandbox.fleet.kms_key_arn
            assert db["BackupRetentionPeriod"] == 7
            assert db["PreferredBackupWindow"] == "03:00-04:00"
            assert db["DBSubnetGroup"]["DBSubnetGroupName"] == "video-window-db-subnets"
            assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [
                sandbox.fleet.security_group_id]
            assert db["Endpoint"]["Port"] == 5432 and db["MasterUsername"] == "postgres"
            assert db["InstanceCreateTime"] < sandbox.now - timedelta(days=200)
        assert {"Key": "Environment", "Value": "production"} in prod["TagList"]

    def test_automated_snapshots_are_daily_at_0300_for_30_days(self, sandbox: Any) -> None:
        snaps = client("rds").describe_db_snapshots(DBInstanceIdentifier=PROD,
                                                    SnapshotType="automated")["DBSnapshots"]
        assert len(snaps) == 30
        snaps.sort(key=lambda s: s["SnapshotCreateTime"])
        for snap in snaps:
            created = snap["SnapshotCreateTime"]
            assert (created.hour, created.minute) == (3, 0)
            assert snap["DBSnapshotIdentifier"] == f"rds:{PROD}-{created:%Y-%m-%d-03-00}"
            assert snap["Encrypted"] is True
        gaps = {b["SnapshotCreateTime"] - a["SnapshotCreateTime"] for a, b in pairwise(snaps)}
        assert gaps == {timedelta(days=1)}
        sizes = [s["AllocatedStorage"] for s in snaps]
        assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
        # Healthy: the newest is younger than the runbook's 25-hour age alarm.
        assert sandbox.now - snaps[-1]["SnapshotCreateTime"] < timedelta(hours=25)

    def test_manual_snapshots_of_production(self, sandbox: Any) -> None:
        snaps = client("rds").describe_db_snapshots(DBInstanceIdentifier=PROD,
                                                    SnapshotType="manual")["DBSnapshots"]
        names = sorted(s["DBSnapshotIdentifier"] for s in snaps)
        assert len(names) == 3 and any("pre-migration" in n for n in names)
        assert all(s["Encrypted"] for s in snaps)

    def test_restore_window_is_seven_days_up_to_five_minutes_ago(self, sandbox: Any) -> None:
        rds = client("rds")
        record = rds.describe_db_instance_automated_backups(
            DBInstanceIdentifier=PROD)["DBInstanceAutomatedBackups"][0]
        window = record["RestoreWindow"]
        assert window["LatestTime"] == sandbox.now - timedelta(minutes=5)
        assert window["EarliestTime"] == sandbox.now - timedelta(days=7)
        assert record["Status"] == "active" and record["BackupRetentionPeriod"] == 7
        db = rds.describe_db_instances(DBInstanceIdentifier=PROD)["DBInstances"][0]
        assert db["LatestRestorableTime"] == window["LatestTime"]

    def test_describe_db_snapshots_pages_like_aws(self, sandbox: Any) -> None:
        rds = client("rds")
        first = rds.describe_db_snapshots(DBInstanceIdentifier=PROD, MaxRecords=20)
        assert len(first["DBSnapshots"]) == 20 and first["Marker"]
        rest = rds.describe_db_snapshots(DBInstanceIdentifier=PROD, MaxRecords=20,
                                         Marker=first["Marker"])
        assert len(rest["DBSnapshots"]) == 13 and "Marker" not in rest
        names = [s["DBSnapshotIdentifier"] for s in first["DBSnapshots"] + rest["DBSnapshots"]]
        assert len(set(names)) == 33
        with pytest.raises(ClientError) as exc:
            rds.describe_db_snapshots(DBInstanceIdentifier=PROD, MaxRecords=5)
        assert error_code(exc) == "InvalidParameterValue"

    def test_events_are_filtered_by_source_and_duration(self, sandbox: Any) -> None:
        rds = client("rds")
        two_days = rds.describe_events(SourceIdentifier=PROD, SourceType="db-instance",
                                       Duration=2 * 24 * 60)["Events"]
        week = rds.describe_events(SourceIdentifier=PROD, SourceType="db-instance",
                                   Duration=7 * 24 * 60)["Events"]
        assert 0 < len(two_days) < len(week)
        assert {e["SourceIdentifier"] for e in week} == {PROD}
        assert all(e["Date"] >= sandbox.now - timedelta(days=2) for e in two_days)
        assert "Finished DB Instance backup" in {e["Message"] for e in two_days}
        with pytest.raises(ClientError) as exc:
            rds.describe_events(SourceIdentifier=PROD)
        assert error_code(exc) == "InvalidParameterCombination"

    def test_pitr_outside_the_window_is_refused(self, sandbox: Any) -> None:
        with pytest.raises(ClientError) as exc:
            client("rds").restore_db_instance_to_point_in_time(
                SourceDBInstanceIdentifier=PROD, TargetDBInstanceIdentifier="too-old",
                RestoreTime=sandbox.now - timedelta(days=8))
        assert error_code(exc) == "InvalidRestoreFault"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "restorable window" in str(exc.value)

    def test_recovery_points_daily_at_0500_filter_and_page(self, sandbox: Any) -> None:
        backup = client("backup")
        every = backup.get_paginator("list_recovery_points_by_backup_vault").paginate(
            BackupVaultName=VAULT, PaginationConfig={"PageSize": 7})
        pages = [page["RecoveryPoints"] for page in every]
        points = [p for page in pages for p in page]
        assert len(pages) > 5 and max(len(p) for p in pages) == 7
        prod = [p for p in points if p["ResourceName"] == PROD]
        assert len(prod) == 30
        for point in prod:
            assert point["Status"] == "COMPLETED" and point["IsEncrypted"] is True
            assert point["Lifecycle"]["DeleteAfterDays"] == 30
            assert (point["CreationDate"].hour, point["CreationDate"].minute) == (5, 0)
        recent = backup.list_recovery_points_by_backup_vault(
            BackupVaultName=VAULT, ByCreatedAfter=sandbox.now - timedelta(days=3))["RecoveryPoints"]
        assert 0 < len(recent) < len(points)
        assert all(p["CreationDate"] >= sandbox.now - timedelta(days=3) for p in recent)

    def test_backup_jobs_by_state_vault_and_age(self, sandbox: Any) -> None:
        backup = client("backup")
        failed = backup.list_backup_jobs(ByState="FAILED")["BackupJobs"]
        assert len(failed) == 1 and "IAM Role" in failed[0]["StatusMessage"]
        assert failed[0]["CreationDate"] < sandbox.now - timedelta(days=1)
        assert len(backup.list_backup_jobs(ByState="EXPIRED")["BackupJobs"]) == 1
        completed = backup.list_backup_jobs(ByState="COMPLETED", ByBackupVaultName=VAULT)[
            "BackupJobs"]
        assert {j["RecoveryPointArn"] for j in completed} == {
            p["RecoveryPointArn"] for p in backup.list_recovery_points_by_backup_vault(
                BackupVaultName=VAULT)["RecoveryPoints"]}
        cutoff = sandbox.now - timedelta(days=3)
        recent = backup.list_backup_jobs(ByCreatedAfter=cutoff)["BackupJobs"]
        every = backup.list_backup_jobs()["BackupJobs"]
        assert {j["BackupJobId"] for j in recent} == {
            j["BackupJobId"] for j in every if j["CreationDate"] >= cutoff}
        assert {j["ResourceName"] for j in recent} == {PROD, STAGING}
        assert backup.list_backup_jobs(ByBackupVaultName="other-vault")["BackupJobs"] == []

    def test_unknown_backup_objects_are_resource_not_found(self, sandbox: Any) -> None:
        backup = client("backup")
        for call in (lambda: backup.describe_restore_job(RestoreJobId="NOPE"),
                     lambda: backup.list_recovery_points_by_backup_vault(BackupVaultName="nope"),
                     lambda: backup.start_restore_job(RecoveryPointArn="arn:aws:rds:x",
                                                      Metadata={"DBInstanceIdentifier": "x"})):
            with pytest.raises(ClientError) as exc:
                call()
            assert error_code(exc) == "ResourceNotFoundException"

    def test_backup_plan_round_trips_with_its_30_day_lifecycle(self, sandbox: Any) -> None:
        backup = client("backup")
        plans = backup.list_backup_plans()["BackupPlansList"]
        assert [p["BackupPlanName"] for p in plans] == [CFG.backup.plan]
        plan = backup.get_backup_plan(BackupPlanId=plans[0]["BackupPlanId"])["BackupPlan"]
        (rule,) = plan["Rules"]
        assert rule["Lifecycle"]["DeleteAfterDays"] == 30
        assert rule["ScheduleExpression"] == "cron(0 5 ? * * *)"
        assert rule["TargetBackupVaultName"] == VAULT
        (selection,) = backup.list_backup_selections(BackupPlanId=plans[0]["BackupPlanId"])[
            "BackupSelectionsList"]
        resources = backup.get_backup_selection(
            BackupPlanId=plans[0]["BackupPlanId"],
            SelectionId=selection["SelectionId"])["BackupSelection"]["Resources"]
        arns = sandbox.fleet.instance_arns
        assert resources == [arns[PROD], arns[STAGING]]
        vault = backup.describe_backup_vault(BackupVaultName=VAULT)
        assert vault["EncryptionKeyArn"] == sandbox.fleet.kms_key_arn

    def test_alarms_notify_the_ops_topic(self, sandbox: Any) -> None:
        alarms = {a["AlarmName"]: a for a in client("cloudwatch").describe_alarms()["MetricAlarms"]}
        age, failure = alarms[CFG.alarms.backup_age], alarms[CFG.alarms.backup_failure]
        assert (age["MetricName"], age["Threshold"], age["ComparisonOperator"]) == (
            "TimeSinceLastBackup", 90000.0, "GreaterThanThreshold")
        assert (failure["MetricName"], failure["Namespace"]) == ("NumberOfBackupJobsFailed",
                                                                "AWS/Backup")
        assert age["StateValue"] == failure["StateValue"] == "OK" and age["StateReason"]
        topic = sandbox.fleet.topic_arn
        assert topic.endswith(":" + CFG.alarms.sns_topic)
        assert age["AlarmActions"] == failure["AlarmActions"] == [topic]
        subs = client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [
            ("email", "ops-team@craftvideomarketplace.com"), ("sms", "+15555550100")]
        events = client("events")
        rule = events.describe_rule(Name="video-window-backup-job-failed")
        assert '"FAILED"' in rule["EventPattern"] and '"EXPIRED"' in rule["EventPattern"]
        assert [t["Arn"] for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]] == [
            topic]

    def test_database_cname_points_at_production(self, sandbox: Any) -> None:
        route53 = client("route53")
        zone = route53.get_hosted_zone(Id=sandbox.fleet.hosted_zone_id)["HostedZone"]
        assert zone["Name"] == CFG.dns.zone and zone["Config"]["PrivateZone"] is True
        records = route53.list_resource_record_sets(HostedZoneId=sandbox.fleet.hosted_zone_id)[
            "ResourceRecordSets"]
        cname = next(r for r in records if r["Name"] == CFG.dns.record)
        address = client("rds").describe_db_instances(DBInstanceIdentifier=PROD)[
            "DBInstances"][0]["Endpoint"]["Address"]
        assert cname["Type"] == "CNAME" and cname["ResourceRecords"] == [{"Value": address}]
        # Staging has its own record, the one the demo's config names for a staging drill.
        staging = next(r for r in records if r["Name"] == STAGING_RECORD)
        address = client("rds").describe_db_instances(DBInstanceIdentifier=STAGING)[
            "DBInstances"][0]["Endpoint"]["Address"]
        assert staging["ResourceRecords"] == [{"Value": address}]
        assert demo_config("http://x", "eu-west-1", "h", 1, "u").dns.staging_record == \
            STAGING_RECORD

    @pytest.mark.parametrize(("operation", "call", "code"), [
        ("ListRecoveryPointsByBackupVault",
         lambda: client("backup").list_recovery_points_by_backup_vault(BackupVaultName=VAULT),
         "AccessDeniedException"),                                       # rest-json
        ("DescribeDBInstances", lambda: client("rds").describe_db_instances(), "AccessDenied"),
        ("DescribeAlarms", lambda: client("cloudwatch").describe_alarms(), "AccessDenied"),
        ("ListRules", lambda: client("events").list_rules(), "AccessDeniedException"),  # json
        ("ListHostedZones", lambda: client("route53").list_hosted_zones(), "AccessDenied"),
        ("GetCallerIdentity", lambda: client("sts").get_caller_identity(), "AccessDenied"),
    ])
    def test_deny_answers_access_denied_in_the_services_protocol(
            self, sandbox: Any, operation: str, call: Callable[[], Any], code: str) -> None:
        sandbox.deny(operation)
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == code
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert operation in exc.value.response["Error"]["Message"]
        sandbox.allow(operation)
        call()

    def test_deny_patterns_name_a_service(self, sandbox: Any) -> None:
        sandbox.deny("rds:Describe*")
        with pytest.raises(ClientError):
            client("rds").describe_db_snapshots()
        client("backup").list_backup_jobs()  # another service is not affected
        sandbox.allow("rds:Describe*")
        client("rds").describe_db_snapshots()

    @pytest.mark.skipif(shutil.which("aws") is None, reason="no aws CLI on PATH")
    def test_the_runbooks_aws_cli_commands_reach_the_sandbox(self, sandbox: Any) -> None:
        env = sandbox.environ()
        listed = subprocess.run(
            ["aws", "backup", "list-backup-jobs", "--by-backup-vault-name", VAULT,
             "--by-state", "FAILED", "--output", "json"],
            env=env, capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0, listed.stderr
        (job,) = json.loads(listed.stdout)["BackupJobs"]
        assert job["State"] == "FAILED"
        snaps = subprocess.run(
            ["aws", "rds", "describe-db-snapshots", "--db-instance-identifier", PROD,
             "--snapshot-type", "automated", "--output", "json"],
            env=env, capture_output=True, text=True, timeout=60)
        assert snaps.returncode == 0, snaps.stderr
        assert len(json.loads(snaps.stdout)["DBSnapshots"]) == 30

    def test_env_alone_wins_over_a_profile_in_the_users_config(
            self, sandbox: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        """`os.environ.update(sandbox.env())` is enough, even with AWS_PROFILE set."""
        config = tmp_path / "config"
        config.write_text("[profile work]\nregion = us-east-1\n"
                          "endpoint_url = https://rds.example.invalid\n"
                          "credential_process = /bin/false\n")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
        monkeypatch.setenv("AWS_PROFILE", "work")
        for name, value in sandbox.env().items():
            monkeypatch.setenv(name, value)
        rds = boto3.session.Session().client("rds")
        assert rds.meta.region_name == sandbox.region
        assert len(rds.describe_db_instances()["DBInstances"]) == 2


# ---- each with a sandbox of its own: lifecycle --------------------------------------------

def test_seed_is_the_same_for_the_same_now(make_sandbox: Callable[..., Any]) -> None:
    def picture() -> tuple[Any, ...]:
        rds, backup = client("rds"), client("backup")
        snaps = sorted((s["DBSnapshotIdentifier"], s["SnapshotCreateTime"], s["DBSnapshotArn"])
                       for s in rds.describe_db_snapshots()["DBSnapshots"])
        points = sorted((p["RecoveryPointArn"], p["CreationDate"], p["BackupSizeInBytes"])
                        for p in backup.list_recovery_points_by_backup_vault(
                            BackupVaultName=VAULT)["RecoveryPoints"])
        jobs = sorted((j["BackupJobId"], j["State"]) for j in backup.list_backup_jobs()[
            "BackupJobs"])
        alarms = [(a["AlarmName"], a["StateValue"], a["StateReason"], a["StateUpdatedTimestamp"])
                  for a in client("cloudwatch").describe_alarms()["MetricAlarms"]]
        db = rds.describe_db_instances(DBInstanceIdentifier=PROD)["DBInstances"][0]
        return snaps, points, jobs, alarms, db["KmsKeyId"], db["InstanceCreateTime"]

    make_sandbox(now=SANDBOX_NOW)
    first = picture()
    make_sandbox(now=SANDBOX_NOW)
    assert picture() == first


def test_successive_sandboxes_share_no_state(make_sandbox: Callable[..., Any]) -> None:
    make_sandbox()
    client("rds").create_db_snapshot(DBSnapshotIdentifier="left-behind",
                                     DBInstanceIdentifier=PROD)
    make_sandbox()
    with pytest.raises(ClientError) as exc:
        client("rds").describe_db_snapshots(DBSnapshotIdentifier="left-behind")
    assert error_code(exc) == "DBSnapshotNotFound"


def test_only_one_sandbox_runs_per_process(sandbox: Any) -> None:
    from vwtui.sandbox.server import Sandbox, SandboxBusy

    with pytest.raises(SandboxBusy, match="already running"):
        Sandbox().start()
    assert status_of(PROD) == "available"  # the running one is untouched


def test_unknown_scenario_is_refused_naming_the_known_ones() -> None:
    from vwtui.sandbox import SCENARIOS
    from vwtui.sandbox.server import Sandbox

    with pytest.raises(ValueError, match="stale-backups"):
        Sandbox(scenario="no-such-thing")
    assert {"healthy", "stale-backups", "failed-backup", "unencrypted-snapshot",
            "no-backup-access"} <= set(SCENARIOS)


def test_nothing_reaches_stderr(capfd: pytest.CaptureFixture[str],
                                make_sandbox: Callable[..., Any]) -> None:
    make_sandbox()
    client("rds").describe_db_instances()
    client("backup").list_backup_jobs()
    with pytest.raises(ClientError):
        client("rds").describe_db_instances(DBInstanceIdentifier="missing")
    assert capfd.readouterr().err == ""


# ---- RDS restores and deletes ---------------------------------------------------------------

def test_pitr_restore_is_creating_then_available(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox(restore_seconds=0.5)
    rds = client("rds")
    target = "video-window-recovery-202511111030"
    made = rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier=PROD, TargetDBInstanceIdentifier=target,
        RestoreTime=sandbox.now - timedelta(hours=2),
        DBSubnetGroupName="video-window-db-subnets",
        VpcSecurityGroupIds=[sandbox.fleet.security_group_id])["DBInstance"]
    assert made["DBInstanceStatus"] == "creating"
    assert status_of(target) == "creating"
    wait_for(lambda: status_of(target) == "available", "the restored instance to be available")
    messages = [e["Message"] for e in rds.describe_events(
        SourceIdentifier=target, SourceType="db-instance", Duration=60)["Events"]]
    assert any(m.startswith(f"Restored from DB instance {PROD}") for m in messages)
    restored = rds.describe_db_instances(DBInstanceIdentifier=target)["DBInstances"][0]
    assert restored["StorageEncrypted"] is True
    assert restored["DBSubnetGroup"]["DBSubnetGroupName"] == "video-window-db-subnets"


def test_snapshot_restore_is_creating_then_available(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox(restore_seconds=0.5)
    rds = client("rds")
    snapshot = f"rds:{PROD}-{sandbox.now - timedelta(days=2):%Y-%m-%d}-03-00"
    made = rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier="video-window-restored", DBSnapshotIdentifier=snapshot,
        DBInstanceClass="db.t3.micro")["DBInstance"]
    assert made["DBInstanceStatus"] == "creating"
    wait_for(lambda: status_of("video-window-restored") == "available", "the snapshot restore")
    messages = [e["Message"] for e in rds.describe_events(
        SourceIdentifier="video-window-restored", SourceType="db-instance",
        Duration=60)["Events"]]
    assert f"Restored from snapshot {snapshot}" in messages


def test_deleting_an_instance_takes_effect_and_is_an_event(
        make_sandbox: Callable[..., Any]) -> None:
    make_sandbox(restore_seconds=0.2)
    rds = client("rds")
    with pytest.raises(ClientError) as exc:
        rds.delete_db_instance(DBInstanceIdentifier=STAGING)
    assert error_code(exc) == "InvalidParameterCombination"
    rds.delete_db_instance(DBInstanceIdentifier=STAGING, SkipFinalSnapshot=True)
    with pytest.raises(ClientError) as exc:
        rds.describe_db_instances(DBInstanceIdentifier=STAGING)
    assert error_code(exc) == "DBInstanceNotFound"
    events = rds.describe_events(SourceIdentifier=STAGING, SourceType="db-instance",
                                 Duration=60)["Events"]
    assert events[-1]["Message"] == "DB instance deleted"
    assert events[-1]["EventCategories"] == ["deletion"]


def test_an_instance_still_creating_cannot_be_deleted(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox(restore_seconds=30)
    rds = client("rds")
    rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier=STAGING, TargetDBInstanceIdentifier="staging-test",
        UseLatestRestorableTime=True)
    with pytest.raises(ClientError) as exc:
        rds.delete_db_instance(DBInstanceIdentifier="staging-test", SkipFinalSnapshot=True)
    assert error_code(exc) == "InvalidDBInstanceState"
    assert sandbox.errors == []


# ---- AWS Backup ------------------------------------------------------------------------------

def test_start_backup_job_ends_with_a_recovery_point(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox(restore_seconds=0.3)
    backup = client("backup")
    job_id = backup.start_backup_job(
        BackupVaultName=VAULT, ResourceArn=sandbox.fleet.instance_arns[PROD],
        IamRoleArn=CFG.backup.restore_role_arn, Lifecycle={"DeleteAfterDays": 30})["BackupJobId"]
    job = wait_for(lambda: (j := backup.describe_backup_job(BackupJobId=job_id))["State"]
                   == "COMPLETED" and j, "the backup job to complete")
    point = backup.describe_recovery_point(BackupVaultName=VAULT,
                                           RecoveryPointArn=job["RecoveryPointArn"])
    assert point["Status"] == "COMPLETED" and point["ResourceName"] == PROD
    vault = backup.describe_backup_vault(BackupVaultName=VAULT)
    assert vault["NumberOfRecoveryPoints"] == 60


def test_restore_job_runs_and_creates_the_instance(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox(restore_seconds=1.0)
    backup = client("backup")
    point = backup.list_recovery_points_by_backup_vault(
        BackupVaultName=VAULT, ByResourceArn=sandbox.fleet.instance_arns[PROD])[
        "RecoveryPoints"][0]
    job_id = backup.start_restore_job(
        RecoveryPointArn=point["RecoveryPointArn"], IamRoleArn=CFG.backup.restore_role_arn,
        Metadata={"DBInstanceIdentifier": "video-window-restored",
                  "DBInstanceClass": "db.t3.micro", "Engine": "postgres",
                  "MultiAZ": "false"})["RestoreJobId"]
    first = backup.describe_restore_job(RestoreJobId=job_id)
    assert first["Status"] in ("PENDING", "RUNNING")
    assert first["ExpectedCompletionTimeMinutes"] >= 1
    running = wait_for(lambda: (j := backup.describe_restore_job(RestoreJobId=job_id))[
        "Status"] != "PENDING" and j, "the restore job to start")
    assert running["CreatedResourceArn"].endswith(":db:video-window-restored")
    assert status_of("video-window-restored") in ("creating", "available")
    done = wait_for(lambda: (j := backup.describe_restore_job(RestoreJobId=job_id))[
        "Status"] == "COMPLETED" and j, "the restore job to complete")
    assert done["PercentDone"] == "100.00%" and done["CompletionDate"] >= done["CreationDate"]
    wait_for(lambda: status_of("video-window-restored") == "available", "the instance")
    restored = client("rds").describe_db_instances(
        DBInstanceIdentifier="video-window-restored")["DBInstances"][0]
    assert restored["DBInstanceClass"] == "db.t3.micro" and restored["StorageEncrypted"]
    listed = backup.list_restore_jobs()["RestoreJobs"]
    assert [j["RestoreJobId"] for j in listed] == [job_id]


def test_restore_job_into_an_existing_name_fails(make_sandbox: Callable[..., Any]) -> None:
    make_sandbox(restore_seconds=0.2)
    backup = client("backup")
    point = backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)[
        "RecoveryPoints"][0]
    job_id = backup.start_restore_job(RecoveryPointArn=point["RecoveryPointArn"],
                                      Metadata={"DBInstanceIdentifier": STAGING})["RestoreJobId"]
    job = wait_for(lambda: (j := backup.describe_restore_job(RestoreJobId=job_id))[
        "Status"] == "FAILED" and j, "the restore job to fail")
    assert "already exists" in job["StatusMessage"]


# ---- scenarios --------------------------------------------------------------------------------

def test_stale_backups(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("stale-backups")
    newest_snapshot = max(s["SnapshotCreateTime"] for s in client("rds").describe_db_snapshots(
        DBInstanceIdentifier=PROD, SnapshotType="automated")["DBSnapshots"])
    newest_point = max(p["CreationDate"] for p in client("backup").
                       list_recovery_points_by_backup_vault(
                           BackupVaultName=VAULT,
                           ByResourceArn=sandbox.fleet.instance_arns[PROD])["RecoveryPoints"])
    for newest in (newest_snapshot, newest_point):
        assert timedelta(hours=30) <= sandbox.now - newest < timedelta(hours=30, minutes=1)
    (age,) = client("cloudwatch").describe_alarms(AlarmNames=[CFG.alarms.backup_age])[
        "MetricAlarms"]
    assert age["StateValue"] == "ALARM" and "greater than the threshold" in age["StateReason"]


def test_failed_backup(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("failed-backup")
    failed = client("backup").list_backup_jobs(
        ByState="FAILED", ByCreatedAfter=sandbox.now - timedelta(hours=24))["BackupJobs"]
    assert {j["ResourceName"] for j in failed} == {PROD, STAGING}
    (alarm,) = client("cloudwatch").describe_alarms(AlarmNames=[CFG.alarms.backup_failure])[
        "MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"


def test_unencrypted_snapshot(make_sandbox: Callable[..., Any]) -> None:
    make_sandbox("unencrypted-snapshot")
    snaps = client("rds").describe_db_snapshots(DBInstanceIdentifier=PROD)["DBSnapshots"]
    plain = [s["DBSnapshotIdentifier"] for s in snaps if not s["Encrypted"]]
    assert len(plain) == 1 and plain[0].startswith(f"{PROD}-")


def test_no_backup_access(make_sandbox: Callable[..., Any]) -> None:
    make_sandbox("no-backup-access")
    for call in (lambda: client("backup").list_backup_jobs(),
                 lambda: client("backup").list_backup_plans()):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "AccessDeniedException"
    assert status_of(PROD) == "available"


def test_backup_size_drop(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("backup-size-drop")
    points = sorted((p for p in client("backup").list_recovery_points_by_backup_vault(
        BackupVaultName=VAULT, ByResourceArn=sandbox.fleet.instance_arns[PROD])[
        "RecoveryPoints"]), key=lambda p: p["CreationDate"], reverse=True)
    assert points[0]["BackupSizeInBytes"] < points[1]["BackupSizeInBytes"] / 2


def test_missing_alarm(make_sandbox: Callable[..., Any]) -> None:
    make_sandbox("missing-alarm")
    names = [a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]]
    assert names == [CFG.alarms.backup_age]


# ---- more RDS and the wire ------------------------------------------------------------------

def test_rename_keeps_the_instance_and_is_an_event(sandbox: Any) -> None:
    rds = client("rds")
    before = rds.describe_db_instances(DBInstanceIdentifier=STAGING)["DBInstances"][0]
    rds.modify_db_instance(DBInstanceIdentifier=STAGING,
                           NewDBInstanceIdentifier="video-window-staging-old",
                           ApplyImmediately=True)
    after = rds.describe_db_instances(DBInstanceIdentifier="video-window-staging-old")[
        "DBInstances"][0]
    assert after["InstanceCreateTime"] == before["InstanceCreateTime"]
    assert after["LatestRestorableTime"] == before["LatestRestorableTime"]
    events = rds.describe_events(SourceIdentifier="video-window-staging-old",
                                 SourceType="db-instance", Duration=60)["Events"]
    assert events[-1]["Message"].startswith(f"Renamed instance from {STAGING}")


def test_access_denied_in_rpc_v2_cbor_parses_as_botocore_would() -> None:
    """CloudWatch may be spoken in CBOR (botocore lists smithy-rpc-v2-cbor for it): the
    denial must parse there too."""
    import io

    import botocore.session
    from botocore.awsrequest import HeadersDict
    from botocore.parsers import create_parser

    from vwtui.sandbox.wire import access_denied, read_request

    environ = {
        "REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/cbor", "CONTENT_LENGTH": "1",
        "PATH_INFO": "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
        "HTTP_SMITHY_PROTOCOL": "rpc-v2-cbor", "wsgi.input": io.BytesIO(b"\xa0"),
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=testing/20251111/eu-west-1/"
                              "monitoring/aws4_request, SignedHeaders=host, Signature=x",
    }
    request = read_request(environ)
    assert (request.service, request.operation, request.protocol) == (
        "cloudwatch", "DescribeAlarms", "cbor")
    status, headers, body = access_denied(request, "arn:aws:iam::123456789012:user/moto")
    model = botocore.session.get_session().get_service_model("cloudwatch")
    parsed = create_parser("smithy-rpc-v2-cbor").parse(
        {"status_code": status, "headers": HeadersDict(headers), "body": body},
        model.operation_model("DescribeAlarms").output_shape)
    assert status == 403 and parsed["Error"]["Code"] == "AccessDenied"
    assert "cloudwatch:DescribeAlarms" in parsed["Error"]["Message"]



# ---- hooks for tests of the product -------------------------------------------------------

def test_calls_lists_every_request_as_its_iam_action(sandbox: Any) -> None:
    seeded = len(sandbox.calls())
    assert "rds:CreateDBInstance" in sandbox.calls()[:seeded]
    sandbox.deny("DeleteDBInstance")
    with pytest.raises(ClientError):
        client("rds").delete_db_instance(DBInstanceIdentifier=STAGING, SkipFinalSnapshot=True)
    client("backup").list_backup_jobs()
    assert sandbox.calls()[seeded:] == ["rds:DeleteDBInstance", "backup:ListBackupJobs"]
    assert sandbox.calls("DeleteDBInstance") == ["rds:DeleteDBInstance"]
    assert sandbox.calls("backup:List*")[-1] == "backup:ListBackupJobs"


def test_set_instance_status_ends_a_restore_with_its_event(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox(restore_seconds=60)
    client("rds").restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier=PROD, TargetDBInstanceIdentifier="video-window-failing",
        UseLatestRestorableTime=True)
    sandbox.set_instance_status("video-window-failing", "failed",
                                "Database instance restore failed: storage full")
    assert status_of("video-window-failing") == "failed"
    events = client("rds").describe_events(SourceIdentifier="video-window-failing",
                                           SourceType="db-instance", Duration=60)["Events"]
    assert events[-1]["Message"] == "Database instance restore failed: storage full"
    with pytest.raises(ValueError, match="no-such"):
        sandbox.set_instance_status("no-such", "available")


def test_end_restore_job_as_aws_would(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox(restore_seconds=60)
    backup = client("backup")
    point = backup.list_recovery_points_by_backup_vault(BackupVaultName=VAULT)[
        "RecoveryPoints"][0]
    job_id = backup.start_restore_job(RecoveryPointArn=point["RecoveryPointArn"],
                                      Metadata={"DBInstanceIdentifier": "vw-aborted"})[
        "RestoreJobId"]
    sandbox.end_restore_job(job_id, "ABORTED", "stopped by an operator")
    job = backup.describe_restore_job(RestoreJobId=job_id)
    assert (job["Status"], job["StatusMessage"]) == ("ABORTED", "stopped by an operator")
    assert "CompletionDate" in job
    with pytest.raises(ValueError, match="FAILED or ABORTED"):
        sandbox.end_restore_job(job_id, "RUNNING")
