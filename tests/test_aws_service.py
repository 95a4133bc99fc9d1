"""Every AwsService method against the sandbox account (real HTTP, real botocore), and the
translation of AWS errors into the project's exceptions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    ReadTimeoutError,
    SSOTokenLoadError,
)

from vwtui.config import AwsConfig, Config
from vwtui.errors import AccessDenied, CredentialsError, InvalidParameter, NotFound
from vwtui.model import AlarmState
from vwtui.services.aws import AwsService

CFG = Config()
PROD = CFG.instances.production
STAGING = CFG.instances.staging
VAULT = CFG.backup.vault


class TestHealthyAccount:
    """AwsService reading one healthy account (started once for the class)."""

    @pytest.fixture
    def sandbox(self, shared_sandbox: Any) -> Iterator[Any]:
        yield shared_sandbox
        shared_sandbox.allow_all()

    @pytest.fixture
    def aws(self, shared_aws: AwsService) -> AwsService:
        return shared_aws

    async def test_caller_identity_is_the_sandbox_account(self, aws: AwsService,
                                                          sandbox: Any) -> None:
        me = await aws.caller_identity()
        assert me.account == sandbox.account == "123456789012"
        assert me.arn.startswith("arn:aws:")

    async def test_instance_reads_the_production_instance(self, aws: AwsService,
                                                          sandbox: Any) -> None:
        prod = await aws.instance(PROD)
        assert (prod.identifier, prod.status, prod.engine) == (PROD, "available", "postgres")
        assert prod.instance_class == "db.t3.medium" and prod.allocated_storage_gb == 100
        assert prod.storage_encrypted and prod.kms_key_id == sandbox.fleet.kms_key_arn
        assert prod.backup_retention_days == 7 and prod.pitr_enabled
        assert prod.subnet_group == "video-window-db-subnets"
        assert prod.security_groups == (sandbox.fleet.security_group_id,)
        assert prod.endpoint_port == 5432 and prod.endpoint_address
        assert prod.latest_restorable_time == sandbox.now - timedelta(minutes=5)
        assert prod.created is not None and prod.created.tzinfo is not None
        assert ("Environment", "production") in prod.tags

    async def test_unknown_instance_is_not_found(self, aws: AwsService) -> None:
        with pytest.raises(NotFound) as exc:
            await aws.instance("no-such-instance")
        assert exc.value.code == "DBInstanceNotFound"
        assert await aws.instance_exists(PROD) is True
        assert await aws.instance_exists("no-such-instance") is False

    async def test_instances_lists_both(self, aws: AwsService) -> None:
        assert sorted(i.identifier for i in await aws.instances()) == [PROD, STAGING]

    async def test_pitr_window_is_seven_days(self, aws: AwsService, sandbox: Any) -> None:
        window = await aws.pitr_window(PROD)
        assert window.earliest == sandbox.now - timedelta(days=7)
        assert window.latest == sandbox.now - timedelta(minutes=5)
        assert window.retention_days == 7
        assert window.contains(sandbox.now - timedelta(days=1))
        assert not window.contains(sandbox.now - timedelta(days=8))
        with pytest.raises(NotFound):
            await aws.pitr_window("no-such-instance")

    async def test_snapshots_by_type_newest_first(self, aws: AwsService, sandbox: Any) -> None:
        every = await aws.snapshots(PROD)
        automated = await aws.snapshots(PROD, "automated")
        manual = await aws.snapshots(PROD, "manual")
        assert (len(every), len(automated), len(manual)) == (33, 30, 3)
        assert {s.snapshot_type for s in automated} == {"automated"}
        assert {s.snapshot_type for s in manual} == {"manual"}
        created = [s.created for s in every]
        assert created == sorted(created, reverse=True)  # type: ignore[type-var]
        newest = automated[0]
        assert newest.identifier == f"rds:{PROD}-{newest.created:%Y-%m-%d-%H-%M}"
        assert newest.encrypted and newest.instance_identifier == PROD
        assert newest.age(sandbox.now) < timedelta(hours=25)  # type: ignore[operator]

    async def test_snapshot_by_identifier(self, aws: AwsService) -> None:
        newest = (await aws.snapshots(PROD, "automated"))[0]
        assert (await aws.snapshot(newest.identifier)).arn == newest.arn
        with pytest.raises(NotFound):
            await aws.snapshot("rds:no-such-snapshot")

    async def test_rds_events_over_the_last_hours(self, aws: AwsService, sandbox: Any) -> None:
        events = await aws.rds_events(PROD, hours=48)
        assert events and all(e.time >= sandbox.now - timedelta(hours=48) for e in events)
        assert [e.time for e in events] == sorted((e.time for e in events), reverse=True)
        assert {e.source_identifier for e in events} == {PROD}
        assert "Finished DB Instance backup" in {e.message for e in events}
        assert len(await aws.rds_events(PROD, hours=24 * 14)) > len(events)

    async def test_recovery_points_newest_first_and_filtered(self, aws: AwsService,
                                                             sandbox: Any) -> None:
        points = await aws.recovery_points(VAULT)
        assert len(points) == 59  # 30 of production, 29 of staging (one run EXPIRED)
        created = [p.created for p in points if p.created is not None]
        assert len(created) == len(points) and created == sorted(created, reverse=True)
        newest = points[0]
        assert newest.status == "COMPLETED" and newest.encrypted
        assert newest.delete_after_days == 30 and newest.vault == VAULT
        assert newest.resource_type == "RDS" and newest.size_bytes
        assert newest.iam_role_arn == CFG.backup.restore_role_arn
        recent = await aws.recovery_points(VAULT, created_after=sandbox.now - timedelta(days=2))
        assert 2 <= len(recent) <= 4
        assert all(p.created >= sandbox.now - timedelta(days=2) for p in recent)  # type: ignore

    async def test_recovery_points_of_an_unknown_vault_is_not_found(self, aws: AwsService) -> None:
        with pytest.raises(NotFound):
            await aws.recovery_points("no-such-vault")

    async def test_backup_jobs_by_state_vault_and_age(self, aws: AwsService, sandbox: Any) -> None:
        (failed,) = await aws.backup_jobs(state="FAILED")
        assert failed.resource_arn.endswith(f":db:{STAGING}")
        assert failed.status_message and "permissions" in failed.status_message
        (expired,) = await aws.backup_jobs(vault=VAULT, state="EXPIRED")
        assert expired.state == "EXPIRED"
        cutoff = sandbox.now - timedelta(days=2)
        recent = await aws.backup_jobs(vault=VAULT, created_after=cutoff)
        every = await aws.backup_jobs()
        assert recent and {j.job_id for j in recent} == {
            j.job_id for j in every if j.created and j.created >= cutoff}
        assert {j.state for j in recent} == {"COMPLETED"}
        completed = await aws.backup_jobs(state="COMPLETED")
        assert all(j.size_bytes for j in completed)
        created = [j.created for j in completed]
        assert created == sorted(created, reverse=True)  # type: ignore[type-var]

    async def test_alarms_including_a_missing_one(self, aws: AwsService) -> None:
        age, failure, missing = await aws.alarms(
            [CFG.alarms.backup_age, CFG.alarms.backup_failure, "video-window-no-such-alarm"])
        assert (age.state, failure.state) == (AlarmState.OK, AlarmState.OK)
        assert age.metric == "TimeSinceLastBackup" and age.threshold == 90000.0
        assert failure.namespace == "AWS/Backup" and failure.alarm_actions
        assert age.reason and age.updated is not None
        assert missing.exists is False and missing.name == "video-window-no-such-alarm"
        assert await aws.alarms([]) == []

    async def test_backup_plan_by_name(self, aws: AwsService) -> None:
        plan = await aws.backup_plan(CFG.backup.plan)
        assert plan is not None and plan.name == CFG.backup.plan
        (rule,) = plan.rules
        assert (rule.target_vault, rule.delete_after_days) == (VAULT, 30)
        assert rule.schedule == "cron(0 5 ? * * *)"
        assert await aws.backup_plan("no-such-plan") is None

    async def test_sns_topic_and_its_subscription(self, aws: AwsService) -> None:
        topic = await aws.sns_topic(CFG.alarms.sns_topic)
        assert topic.exists
        assert [(s.protocol, s.endpoint) for s in topic.subscriptions] == [
            ("email", "ops-team@craftvideomarketplace.com"), ("sms", "+15555550100")]
        assert not (await aws.sns_topic("no-such-topic")).exists

    async def test_cloudtrail_trails_with_their_logging_status(self, aws: AwsService) -> None:
        (trail,) = await aws.cloudtrail_trails()
        assert trail.name == "video-window-audit" and trail.multi_region
        assert trail.logging and trail.management_events is True
        assert trail.home_region == aws.region

    async def test_eventbridge_rule_for_backup_failures(self, aws: AwsService) -> None:
        (rule,) = await aws.eventbridge_rules(source="aws.backup")
        assert rule.name == "video-window-backup-job-failed" and rule.state == "ENABLED"
        assert rule.targets and rule.targets[0].endswith(":" + CFG.alarms.sns_topic)
        assert await aws.eventbridge_rules(source="aws.ec2") == []

    async def test_instance_with_replications_none_in_the_sandbox(self,
                                                                  aws: AwsService) -> None:
        instance, replications = await aws.instance_with_replications(PROD)
        assert instance.identifier == PROD and replications == ()
        with pytest.raises(NotFound):
            await aws.instance_with_replications("no-such-instance")

    async def test_rds_auth_token_is_signed_locally(self, aws: AwsService) -> None:
        host = (await aws.instance(PROD)).endpoint_address
        assert host
        token = await aws.rds_auth_token(host, 5432, "postgres")
        assert token.startswith(f"{host}:5432/?") and "X-Amz-Signature=" in token

    async def test_prepare_makes_clients_without_calling(self, aws: AwsService) -> None:
        aws.prepare(["rds", "backup", "cloudwatch", "sts"])
        assert (await aws.caller_identity()).account == "123456789012"

    @pytest.mark.parametrize(("operation", "call", "action"), [
        ("ListRecoveryPointsByBackupVault", lambda aws: aws.recovery_points(VAULT),
         "backup:ListRecoveryPointsByBackupVault"),
        ("ListBackupJobs", lambda aws: aws.backup_jobs(state="FAILED"), "backup:ListBackupJobs"),
        ("DescribeAlarms", lambda aws: aws.alarms([CFG.alarms.backup_age]),
         "cloudwatch:DescribeAlarms"),
        ("DescribeDBInstanceAutomatedBackups", lambda aws: aws.pitr_window(PROD),
         "rds:DescribeDBInstanceAutomatedBackups"),
        ("GetCallerIdentity", lambda aws: aws.caller_identity(), "sts:GetCallerIdentity"),
    ])
    async def test_access_denied_names_the_iam_action(
            self, aws: AwsService, sandbox: Any, operation: str,
            call: Callable[[AwsService], Any], action: str) -> None:
        sandbox.deny(operation)
        with pytest.raises(AccessDenied) as exc:
            await call(aws)
        assert action in str(exc.value) and exc.value.operation == operation

    async def test_pitr_outside_the_window_is_invalid_parameter(
            self, aws: AwsService, sandbox: Any) -> None:
        with pytest.raises(InvalidParameter) as exc:
            await aws.call("rds", "RestoreDBInstanceToPointInTime",
                           SourceDBInstanceIdentifier=PROD,
                           TargetDBInstanceIdentifier="video-window-recovery-too-old",
                           RestoreTime=sandbox.now - timedelta(days=9))
        assert exc.value.code == "InvalidRestoreFault"
        assert "restorable window" in str(exc.value)
        assert not await aws.instance_exists("video-window-recovery-too-old")

    async def test_no_credentials_is_a_credentials_error(
            self, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        aws = AwsService(Config(aws=AwsConfig(region=sandbox.region,
                                              endpoint_url=sandbox.endpoint_url,
                                              max_attempts=1)))
        with pytest.raises(CredentialsError, match="No AWS credentials"):
            await aws.caller_identity()

    async def test_unknown_profile_is_a_credentials_error(self, aws: AwsService) -> None:
        named = AwsService(aws.config, profile="no-such-profile")
        with pytest.raises(CredentialsError, match="no-such-profile"):
            named.prepare(["rds"])


# ---- each with a sandbox of its own --------------------------------------------------------

async def test_snapshots_page_through_more_than_a_hundred(aws: AwsService) -> None:
    rds = boto3.client("rds")
    for n in range(80):
        rds.create_db_snapshot(DBSnapshotIdentifier=f"bulk-{n:03d}", DBInstanceIdentifier=PROD)
    every = await aws.snapshots(PROD)
    assert len(every) == 113
    assert len({s.identifier for s in every}) == 113
    assert len(await aws.snapshots(PROD, "manual")) == 83


async def test_restore_job_reports_progress(make_sandbox: Callable[..., Any],
                                            aws_for: Callable[[Any], AwsService]) -> None:
    sandbox = make_sandbox(restore_seconds=0.5)
    aws = aws_for(sandbox)
    point = (await aws.recovery_points(VAULT))[0]
    started = await aws.call("backup", "StartRestoreJob", RecoveryPointArn=point.arn,
                             IamRoleArn=CFG.backup.restore_role_arn,
                             Metadata={"DBInstanceIdentifier": "video-window-restored"})
    job = await aws.restore_job(started["RestoreJobId"])
    assert job.job_id == started["RestoreJobId"] and job.expected_minutes == 1
    for _ in range(200):
        job = await aws.restore_job(job.job_id)
        if job.status == "COMPLETED":
            break
        await asyncio.sleep(0.05)
    assert job.status == "COMPLETED" and job.percent_done == "100.00%"
    assert job.created_resource_arn and job.created_resource_arn.endswith(
        ":db:video-window-restored")
    assert (await aws.instance("video-window-restored")).storage_encrypted
    with pytest.raises(NotFound):
        await aws.restore_job("NO-SUCH-JOB")


async def test_alarm_states_follow_the_scenario(make_sandbox: Callable[..., Any],
                                                aws_for: Callable[[Any], AwsService]) -> None:
    aws = aws_for(make_sandbox("stale-backups"))
    (age,) = await aws.alarms([CFG.alarms.backup_age])
    assert age.state is AlarmState.ALARM
    aws = aws_for(make_sandbox("missing-alarm"))
    (failure,) = await aws.alarms([CFG.alarms.backup_failure])
    assert failure.exists is False


async def test_no_backup_access_scenario_is_access_denied(
        make_sandbox: Callable[..., Any], aws_for: Callable[[Any], AwsService]) -> None:
    aws = aws_for(make_sandbox("no-backup-access"))
    with pytest.raises(AccessDenied, match="backup:ListRecoveryPointsByBackupVault"):
        await aws.recovery_points(VAULT)
    assert (await aws.instance(PROD)).status == "available"



def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "ListBackupJobs")


BACKUP_URL = "https://backup.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(("raised", "kind", "says"), [
    (lambda: _client_error("UnrecognizedClientException"), "CredentialsError", "expired"),
    (lambda: _client_error("TooManyRequestsException"), "AwsUnavailable", "try again"),
    (lambda: _client_error("ServiceUnavailableException"), "AwsUnavailable", "try again"),
    (lambda: ConnectTimeoutError(endpoint_url=BACKUP_URL), "EndpointUnreachable", "timed out"),
    (lambda: ReadTimeoutError(endpoint_url=BACKUP_URL), "AwsUnavailable", "timed out"),
    (lambda: SSOTokenLoadError(error_msg="no cached token"), "CredentialsError",
     "aws sso login"),
    (lambda: CredentialRetrievalError(provider="custom-process", error_msg="exit 1"),
     "CredentialsError", "credential_process"),
])
def test_botocore_errors_become_the_project_error_that_says_what_to_do(
        raised: Callable[[], BaseException], kind: str, says: str) -> None:
    from vwtui.services.aws import translate

    error = translate(raised(), "backup", "ListBackupJobs")
    assert type(error).__name__ == kind
    assert says in str(error)


@pytest.mark.parametrize(("aws_config", "says"), [
    ({"endpoint_url": "localhost:5000"}, "aws.endpoint_url or AWS_ENDPOINT_URL"),
    ({"region": "eu west 1"}, "aws.region or --region"),
])
def test_a_bad_region_or_endpoint_is_a_config_error_naming_the_setting(
        aws_config: dict[str, Any], says: str) -> None:
    from vwtui.errors import ConfigError

    config = Config(aws=AwsConfig(**{"region": "eu-west-1", **aws_config}))
    with pytest.raises(ConfigError, match=says):
        AwsService(config).prepare(["rds"])
