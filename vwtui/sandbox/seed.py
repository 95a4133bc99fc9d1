"""Seed the sandbox with the Video Window account, the same every time for a given `now`.

Through the API (boto3 against the running sandbox) wherever the API can do it: network, KMS
key, DB subnet group, both instances, manual snapshots, backup vault, plan and selection, SNS,
alarms, EventBridge rule, Route53. Through moto's internals only where it cannot: history
(30 days of automated snapshots, recovery points, backup jobs, RDS events) and the dates of
what was made just now, so nothing depends on the wall clock.

Names come from `vwtui.config` defaults, so a default config finds everything.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from vwtui.config import Config
from vwtui.sandbox import STAGING_RECORD
from vwtui.sandbox.backup import BackupJob, RecoveryPoint, source_of
from vwtui.sandbox.scenarios import Scenario
from vwtui.sandbox.state import naive

if TYPE_CHECKING:
    from vwtui.sandbox.backup import BackupShim
    from vwtui.sandbox.rds import RdsShim

DAY = timedelta(days=1)
HISTORY_DAYS = 30
EVENT_DAYS = 14  # RDS keeps events for 14 days
# moto needs a master password; this fake instance has no data and the value is never shown.
_MOTO_PASSWORD = "sandbox-fake-instance"
OPS_EMAIL = "ops-team@craftvideomarketplace.com"
OPS_SMS = "+15555550100"  # a number reserved for fiction
TRAIL = "video-window-audit"

_session_lock = threading.Lock()
_session: Any = None


def _boto_session(region: str) -> Any:
    """One boto3 session per process: its loader caches service models between sandboxes."""
    global _session
    import boto3

    with _session_lock:
        if _session is None or _session.region_name != region:
            _session = boto3.session.Session(aws_access_key_id="testing",
                                             aws_secret_access_key="testing",
                                             region_name=region)
        return _session


@dataclass
class Fleet:
    """What the seed made, for the sandbox (and tests) to refer to."""

    kms_key_arn: str = ""
    vpc_id: str = ""
    subnet_ids: list[str] = field(default_factory=list)
    security_group_id: str = ""
    topic_arn: str = ""
    plan_id: str = ""
    hosted_zone_id: str = ""
    instance_arns: dict[str, str] = field(default_factory=dict)


class Seeder:
    def __init__(self, endpoint_url: str, now: datetime, scenario: Scenario,
                 rds: RdsShim, backup: BackupShim) -> None:
        self.now = now
        self.scenario = scenario
        self.rds_shim = rds
        self.backup_shim = backup
        self.state = rds.state
        self.config = Config()
        self.fleet = Fleet()
        self._endpoint = endpoint_url
        self._session = _boto_session(self.state.region)

    def client(self, service: str) -> Any:
        from botocore.config import Config as BotoConfig

        return self._session.client(service, endpoint_url=self._endpoint,
                                    config=BotoConfig(retries={"max_attempts": 1}))

    @property
    def production(self) -> str:
        return self.config.instances.production

    @property
    def staging(self) -> str:
        return self.config.instances.staging

    def run(self) -> Fleet:
        self.network()
        self.kms()
        self.instances()
        self.automated_snapshots()
        self.manual_snapshots()
        self.backup_plan()
        self.backup_history()
        self.notifications()
        self.alarms()
        self.dns()
        self.rds_events()
        self.aborted_backup_jobs()
        self.cloudtrail()
        return self.fleet

    # ---- network and encryption ------------------------------------------------------------

    def network(self) -> None:
        """VPC, two private subnets and the database security group.

        Made in moto's EC2 backend directly, not through the API: loading botocore's 2 MB EC2
        model on the client and the server side was a third of a cold start, and the product
        never calls EC2 (it reads subnet group and security group ids from RDS).
        """
        from moto.ec2.models import ec2_backends

        ec2 = ec2_backends[self.state.account][self.state.region]
        vpc = ec2.create_vpc("10.20.0.0/16")
        subnets = [ec2.create_subnet(vpc.id, f"10.20.{i + 1}.0/24",
                                     availability_zone=f"{self.state.region}{az}")
                   for i, az in enumerate("ab")]
        group = ec2.create_security_group("video-window-db",
                                          "PostgreSQL from the application subnets", vpc.id)
        ec2.authorize_security_group_ingress(group.id, "tcp", "5432", "5432",
                                             [{"CidrIp": "10.20.0.0/16"}], vpc_id=vpc.id)
        ec2.create_tags([vpc.id], {"Name": "video-window-vpc", "Application": "video-window"})
        for subnet, az in zip(subnets, "ab", strict=True):
            ec2.create_tags([subnet.id], {"Name": f"video-window-db-{az}"})
        self.fleet.vpc_id = vpc.id
        self.fleet.subnet_ids = [s.id for s in subnets]
        self.fleet.security_group_id = group.id

    def kms(self) -> None:
        kms = self.client("kms")
        key = kms.create_key(Description="Video Window RDS and backup encryption",
                             Tags=[{"TagKey": "Application", "TagValue": "video-window"}])
        kms.create_alias(AliasName="alias/video-window-rds",
                         TargetKeyId=key["KeyMetadata"]["KeyId"])
        self.fleet.kms_key_arn = key["KeyMetadata"]["Arn"]

    # ---- RDS -------------------------------------------------------------------------------

    def instances(self) -> None:
        rds = self.client("rds")
        rds.create_db_subnet_group(
            DBSubnetGroupName="video-window-db-subnets",
            DBSubnetGroupDescription="Private subnets of the Video Window database",
            SubnetIds=self.fleet.subnet_ids)
        # Production's own parameter group, log exports and deletion protection: a restore
        # that does not carry them over shows it (the parity step).
        rds.create_db_parameter_group(
            DBParameterGroupName=PRODUCTION_PARAMETER_GROUP, DBParameterGroupFamily="postgres16",
            Description="Video Window production (max_connections, work_mem)")
        specs = (
            (self.production, "db.t3.medium", 100, True, "production", 412),
            (self.staging, "db.t3.micro", 20, False, "staging", 298),
        )
        for identifier, klass, storage, multi_az, env, age_days in specs:
            data = rds.create_db_instance(
                DBInstanceIdentifier=identifier, DBInstanceClass=klass, Engine="postgres",
                EngineVersion="16.4", AllocatedStorage=storage, MaxAllocatedStorage=storage * 2,
                StorageType="gp3", StorageEncrypted=True, KmsKeyId=self.fleet.kms_key_arn,
                MasterUsername="postgres", MasterUserPassword=_MOTO_PASSWORD, DBName="serverpod",
                Port=5432, DBSubnetGroupName="video-window-db-subnets",
                VpcSecurityGroupIds=[self.fleet.security_group_id], BackupRetentionPeriod=7,
                PreferredBackupWindow="03:00-04:00",
                PreferredMaintenanceWindow="sun:04:30-sun:05:00", MultiAZ=multi_az,
                CopyTagsToSnapshot=True, PubliclyAccessible=False,
                Tags=[{"Key": "Application", "Value": "video-window"},
                      {"Key": "Environment", "Value": env},
                      {"Key": "Owner", "Value": "devops"},
                      {"Key": "BackupPlan", "Value": self.config.backup.plan}],
                **(_PRODUCTION_EXTRAS if identifier == self.production else {}))["DBInstance"]
            self.fleet.instance_arns[identifier] = data["DBInstanceArn"]
            db = self.rds_shim.backend.databases[identifier]
            created = (self.now - age_days * DAY).replace(hour=10 + age_days % 7, minute=17,
                                                          second=0, microsecond=0)
            db.created = db.instance_create_time = naive(created)
        # moto takes an automated snapshot at creation, named by the wall clock: the history
        # below replaces it.
        backend = self.rds_shim.backend
        for name in [n for n, s in backend.database_snapshots.items()
                     if s.snapshot_type == "automated"]:
            del backend.database_snapshots[name]

    def automated_snapshot_times(self) -> list[datetime]:
        """Newest first: daily at 03:00 UTC (the backup window), or stale as the scenario says."""
        if self.scenario.stale_hours is not None:
            latest = (self.now - timedelta(hours=self.scenario.stale_hours)).replace(
                second=0, microsecond=0)
        else:
            latest = _last_daily(self.now, 3, 0, settle=timedelta(minutes=10))
        return [latest - k * DAY for k in range(HISTORY_DAYS)]

    def automated_snapshots(self) -> None:
        backend = self.rds_shim.backend
        for identifier, storage in ((self.production, 100), (self.staging, 20)):
            for k, moment in reversed(list(enumerate(self.automated_snapshot_times()))):
                name = f"rds:{identifier}-{moment:%Y-%m-%d-%H-%M}"
                snap = backend.create_db_snapshot(identifier, name, snapshot_type="automated")
                snap.created = snap.original_snapshot_create_time = naive(moment)
                snap.allocated_storage = _storage_on(storage, k)

    def manual_snapshots(self) -> None:
        rds = self.client("rds")
        backend = self.rds_shim.backend
        plan = [
            ("pre-migration", 21, (14, 5)),
            ("pre-pg16-upgrade", 13, (22, 30)),
            ("before-data-fix", 4, (9, 47)),
        ]
        if self.scenario.unencrypted_manual:
            plan.append(("adhoc-export", 1, (16, 20)))
        for label, days_ago, (hour, minute) in plan:
            moment = (self.now - days_ago * DAY).replace(hour=hour, minute=minute, second=0,
                                                        microsecond=0)
            name = f"{self.production}-{label}-{moment:%Y-%m-%d}"
            rds.create_db_snapshot(DBSnapshotIdentifier=name,
                                   DBInstanceIdentifier=self.production)
            snap = backend.database_snapshots[name]
            snap.created = snap.original_snapshot_create_time = naive(moment)
            snap.allocated_storage = _storage_on(100, days_ago)
            if label == "adhoc-export":
                # Taken from an unencrypted copy of the instance: what the encryption check
                # must catch.
                snap.kms_key_id = None
                snap.encrypted = snap.storage_encrypted = False

    def rds_events(self) -> None:
        """Daily backup events of both instances over the 14 days RDS keeps events."""
        backend = self.rds_shim.backend
        backend.events.clear()  # moto's, dated by the wall clock
        horizon = self.now - EVENT_DAYS * DAY
        entries: list[tuple[datetime, str, str, str]] = []
        for identifier in (self.production, self.staging):
            for k, moment in enumerate(self.automated_snapshot_times()):
                if moment < horizon:
                    continue
                took = timedelta(minutes=4 + (k * 5) % 6, seconds=(k * 17) % 60)
                entries.append((moment, identifier, "Backing up DB instance", "backup"))
                entries.append((moment + took, identifier, "Finished DB Instance backup",
                                "backup"))
        for _label, days_ago, at in (("pre-migration", 21, (14, 5)),
                                     ("before-data-fix", 4, (9, 47))):
            moment = (self.now - days_ago * DAY).replace(hour=at[0], minute=at[1], second=0,
                                                        microsecond=0)
            if moment >= horizon:
                entries.append((moment, self.production, "Creating manual snapshot", "backup"))
        maintenance = (self.now - 6 * DAY).replace(hour=4, minute=41, second=12, microsecond=0)
        entries.append((maintenance, self.production,
                        "Applying off-line patches to DB instance", "maintenance"))
        entries.append((maintenance + timedelta(minutes=3), self.production,
                        "Finished applying off-line patches to DB instance", "maintenance"))
        for moment, identifier, message, category in sorted(entries):
            self.rds_shim.add_event(identifier, message, category, moment)

    # ---- AWS Backup ------------------------------------------------------------------------

    def backup_plan(self) -> None:
        backup = self.client("backup")
        cfg = self.config.backup
        backup.create_backup_vault(
            BackupVaultName=cfg.vault, EncryptionKeyArn=self.fleet.kms_key_arn,
            BackupVaultTags={"Application": "video-window"})
        plan = backup.create_backup_plan(BackupPlan={
            "BackupPlanName": cfg.plan,
            "Rules": [{
                "RuleName": "daily-0500-utc",
                "TargetBackupVaultName": cfg.vault,
                "ScheduleExpression": "cron(0 5 ? * * *)",
                "ScheduleExpressionTimezone": "Etc/UTC",
                "StartWindowMinutes": 60,
                "CompletionWindowMinutes": 180,
                "Lifecycle": {"DeleteAfterDays": cfg.retention_days},
                "RecoveryPointTags": {"Application": "video-window"},
            }],
        }, BackupPlanTags={"Application": "video-window"})
        self.fleet.plan_id = plan["BackupPlanId"]
        backup.create_backup_selection(BackupPlanId=plan["BackupPlanId"], BackupSelection={
            "SelectionName": "video-window-databases",
            "IamRoleArn": cfg.restore_role_arn,
            "Resources": [self.fleet.instance_arns[self.production],
                          self.fleet.instance_arns[self.staging]],
        })
        moto_backup = self.backup_shim.backend
        created = (self.now - 412 * DAY).timestamp()
        moto_backup.vaults[cfg.vault].creation_date = created
        moto_backup.plans[plan["BackupPlanId"]].creation_date = created + 3600

    def backup_runs(self) -> list[datetime]:
        """Newest first: the scheduled 05:00 UTC runs, or stale as the scenario says."""
        if self.scenario.stale_hours is not None:
            latest = (self.now - timedelta(hours=self.scenario.stale_hours)).replace(
                second=0, microsecond=0)
        elif self.scenario.failed_latest_run:
            # A job refused for permissions fails at once: the run that failed is the latest
            # one that started, so "a FAILED job in the last 24 hours" holds at any time.
            latest = _last_daily(self.now, 5, 0, settle=timedelta(0))
        else:
            latest = _last_daily(self.now, 5, 0, settle=timedelta(minutes=30))
        return [latest - k * DAY for k in range(HISTORY_DAYS)]

    def backup_history(self) -> None:
        """One job per scheduled run and instance, a recovery point per completed job."""
        cfg = self.config.backup
        plan = self.backup_shim.backend.plans[self.fleet.plan_id]
        created_by = {"BackupPlanId": plan.backup_plan_id, "BackupPlanArn": plan.backup_plan_arn,
                      "BackupPlanVersion": plan.version_id,
                      "BackupRuleId": plan.backup_plan["Rules"][0]["RuleId"]}
        runs = self.backup_runs()
        planned: list[tuple[datetime, str, int, str]] = []
        for identifier in (self.production, self.staging):
            for k, run in enumerate(runs):
                outcome = "completed"
                if identifier == self.staging and k == 3:
                    outcome = "failed-then-retried"
                if identifier == self.staging and k == 12:
                    outcome = "expired"
                if self.scenario.failed_latest_run and k == 0:
                    outcome = "failed"
                planned.append((run, identifier, k, outcome))
        planned.sort()
        for run, identifier, k, outcome in planned:
            db = self.rds_shim.backend.databases[identifier]
            resource_arn = db.arn
            start = run + timedelta(seconds=(k * 37) % 50 + (9 if identifier == self.staging
                                                             else 0))
            size = _backup_size(identifier == self.production, k)
            if self.scenario.size_drop and identifier == self.production and k == 0:
                size = size * 2 // 5
            if outcome in ("failed", "failed-then-retried"):
                start = min(start, self.now)
                self._job(resource_arn, start, "FAILED", created_by,
                          completed=min(start + timedelta(minutes=2, seconds=14), self.now),
                          message=(f"IAM Role {cfg.restore_role_arn} does not have sufficient "
                                   f"permissions to execute the backup"))
                if outcome == "failed":
                    continue
                start = run + timedelta(hours=4, minutes=12)
                created_by_retry = None
                self._completed(db, start, size, k, created_by_retry)
                continue
            if outcome == "expired":
                self._job(resource_arn, start, "EXPIRED", created_by,
                          completed=run + timedelta(minutes=60),
                          message=("Backup job failed to start before the end of its "
                                   "60-minute start window (StartWindowMinutes)."))
                continue
            self._completed(db, start, size, k, created_by)

    def _completed(self, db: Any, start: datetime, size: int, k: int,
                   created_by: dict[str, str] | None) -> RecoveryPoint:
        took = timedelta(minutes=14 + (k * 3) % 9, seconds=(k * 23) % 60)
        source = source_of(db)
        source.allocated_storage = _storage_on(int(db.allocated_storage), k)
        point = self.backup_shim.add_recovery_point(
            vault=self.config.backup.vault, source=source, created=start,
            completed=start + took, iam_role_arn=self.config.backup.restore_role_arn,
            size_bytes=size, delete_after_days=self.config.backup.retention_days,
            created_by=created_by)
        job = self._job(db.arn, start, "COMPLETED", created_by, completed=start + took)
        job.recovery_point_arn, job.size_bytes = point.arn, size
        return point

    def _job(self, resource_arn: str, start: datetime, state: str,
             created_by: dict[str, str] | None, *, completed: datetime,
             message: str | None = None) -> BackupJob:
        job = BackupJob(job_id=self.state.next_id("backup-job").upper(),
                        vault=self.config.backup.vault, resource_arn=resource_arn,
                        created=start, state=state, completed=completed,
                        iam_role_arn=self.config.backup.restore_role_arn,
                        status_message=message, created_by=created_by)
        self.backup_shim.add_backup_job(job)
        return job

    def aborted_backup_jobs(self) -> None:
        """Two on-demand backups of production that an operator stopped, 9 and 20 days ago:
        the health view's 30-day success rate has failures to show, while the checks' 25-hour
        and 7-day spans and the FAILED/EXPIRED jobs other tests count stay as they were.
        Made last, so every other job keeps its id."""
        db = self.rds_shim.backend.databases[self.production]
        for days_ago, (hour, minute) in ((9, (11, 42)), (20, (14, 7))):
            start = (self.now - days_ago * DAY).replace(hour=hour, minute=minute, second=0,
                                                       microsecond=0)
            self._job(db.arn, start, "ABORTED", None,
                      completed=start + timedelta(minutes=38),
                      message="Backup job was stopped by user.")

    # ---- notifications, alarms, DNS --------------------------------------------------------

    def notifications(self) -> None:
        sns = self.client("sns")
        topic = sns.create_topic(Name=self.config.alarms.sns_topic,
                                 Tags=[{"Key": "Application", "Value": "video-window"}])["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=OPS_EMAIL)
        # The runbook: "Email + SMS for critical alerts".
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=OPS_SMS)
        self.fleet.topic_arn = topic
        events = self.client("events")
        rule = "video-window-backup-job-failed"
        events.put_rule(
            Name=rule, State="ENABLED",
            Description="AWS Backup job for Video Window ended FAILED or EXPIRED",
            EventPattern=json.dumps({
                "source": ["aws.backup"],
                "detail-type": ["Backup Job State Change"],
                "detail": {"state": ["FAILED", "EXPIRED"],
                           "backupVaultName": [self.config.backup.vault]},
            }))
        events.put_targets(Rule=rule, Targets=[{"Id": "ops-notifications", "Arn": topic}])

    def alarms(self) -> None:
        cw = self.client("cloudwatch")
        names = self.config.alarms
        made: list[tuple[str, str, str, datetime]] = []
        newest = self._newest_production_backup()
        if "backup_age" not in self.scenario.missing_alarms:
            cw.put_metric_alarm(
                AlarmName=names.backup_age,
                AlarmDescription=(f"Newest backup of {self.production} is older than 25 hours "
                                  f"(runbook: Backup Age Alarm)."),
                MetricName="TimeSinceLastBackup", Namespace="VideoWindow/Backup",
                Dimensions=[{"Name": "DBInstanceIdentifier", "Value": self.production}],
                Statistic="Maximum", Period=3600, EvaluationPeriods=1, Threshold=90000.0,
                ComparisonOperator="GreaterThanThreshold", TreatMissingData="breaching",
                Unit="Seconds", AlarmActions=[self.fleet.topic_arn],
                OKActions=[self.fleet.topic_arn])
            made.append((names.backup_age, *self._age_state(newest)))
        if "backup_failure" not in self.scenario.missing_alarms:
            cw.put_metric_alarm(
                AlarmName=names.backup_failure,
                AlarmDescription=("An AWS Backup job of the Video Window databases failed in "
                                  "the last 24 hours (runbook: Backup Failure Alarm)."),
                MetricName="NumberOfBackupJobsFailed", Namespace="AWS/Backup",
                Statistic="Sum", Period=3600, EvaluationPeriods=24, DatapointsToAlarm=1,
                Threshold=0.0, ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="notBreaching", AlarmActions=[self.fleet.topic_arn],
                OKActions=[self.fleet.topic_arn])
            made.append((names.backup_failure, *self._failure_state()))
        from moto.cloudwatch.models import cloudwatch_backends

        backend = cloudwatch_backends[self.state.account][self.state.region]
        for name, value, reason, since in made:
            cw.set_alarm_state(AlarmName=name, StateValue=value, StateReason=reason)
            alarm = backend.alarms[name]
            alarm.state_updated_timestamp = naive(since)
            alarm.configuration_updated_timestamp = naive(self.now - 90 * DAY)
            alarm.history = []
        if newest is not None:
            cw.put_metric_data(Namespace="VideoWindow/Backup", MetricData=[{
                "MetricName": "TimeSinceLastBackup",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": self.production}],
                "Timestamp": self.now - h * timedelta(hours=1),
                "Value": max(0.0, (self.now - h * timedelta(hours=1) - newest).total_seconds()),
                "Unit": "Seconds"} for h in range(24)])

    def _newest_production_backup(self) -> datetime | None:
        arn = self.fleet.instance_arns[self.production]
        done = [p.completed for p in self.backup_shim.recovery_points.values()
                if p.resource_arn == arn and p.status == "COMPLETED" and p.completed]
        return max(done) if done else None

    def _age_state(self, newest: datetime | None) -> tuple[str, str, datetime]:
        threshold = 90000.0
        stamp = self.now.replace(minute=self.now.minute - self.now.minute % 5, second=0,
                                 microsecond=0)
        age = (stamp - newest).total_seconds() if newest else threshold * 2
        when = f"{stamp:%d/%m/%y %H:%M:%S}"
        if age > threshold:
            since = newest + timedelta(seconds=threshold) if newest else self.now
            return ("ALARM", f"Threshold Crossed: 1 out of the last 1 datapoints [{age:.1f} "
                             f"({when})] was greater than the threshold ({threshold:.1f}) "
                             f"(minimum 1 datapoint for OK -> ALARM transition).",
                    min(since, self.now))
        return ("OK", f"Threshold Crossed: 1 out of the last 1 datapoints [{age:.1f} ({when})] "
                      f"was not greater than the threshold ({threshold:.1f}) (minimum 1 "
                      f"datapoint for ALARM -> OK transition).",
                newest or self.now)

    def _failure_state(self) -> tuple[str, str, datetime]:
        failed = sorted(j.completed or j.created for j in self.backup_shim.backup_jobs.values()
                        if j.state in ("FAILED", "EXPIRED"))
        recent = [t for t in failed if t >= self.now - DAY]
        if recent:
            at = recent[-1].replace(second=0, microsecond=0) + timedelta(minutes=1)
            return ("ALARM", f"Threshold Crossed: 1 out of the last 24 datapoints "
                             f"[{float(len(recent)):.1f} ({at:%d/%m/%y %H:%M:%S})] was greater "
                             f"than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM "
                             f"transition).", min(at, self.now))
        back_to_ok = (failed[-1] + DAY) if failed else self.now - 90 * DAY
        return ("OK", "Threshold Crossed: no datapoints were received for 24 periods and 24 "
                      "missing datapoints were treated as [NonBreaching].",
                min(back_to_ok, self.now))

    def cloudtrail(self) -> None:
        """A multi-region trail logging the account's API calls ("access logged").

        Its S3 bucket is made in moto's S3 backend directly (the product never calls S3, and
        botocore's S3 model is large to load for one call)."""
        from moto.s3.models import s3_backends

        bucket = f"video-window-cloudtrail-{self.state.account}"
        s3_backends[self.state.account]["aws"].create_bucket(bucket, self.state.region)
        trail = self.client("cloudtrail")
        trail.create_trail(Name=TRAIL, S3BucketName=bucket, IsMultiRegionTrail=True,
                           IncludeGlobalServiceEvents=True, EnableLogFileValidation=True)
        trail.put_event_selectors(TrailName=TRAIL, EventSelectors=[
            {"ReadWriteType": "All", "IncludeManagementEvents": True}])
        trail.start_logging(Name=TRAIL)

    def dns(self) -> None:
        route53 = self.client("route53")
        zone = route53.create_hosted_zone(
            Name=self.config.dns.zone, CallerReference="video-window-internal",
            HostedZoneConfig={"Comment": "Video Window internal names", "PrivateZone": True},
            VPC={"VPCRegion": self.state.region, "VPCId": self.fleet.vpc_id})
        zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        self.fleet.hosted_zone_id = zone_id
        changes = []
        for record, identifier in ((self.config.dns.record, self.production),
                                   (STAGING_RECORD, self.staging)):
            address = self.rds_shim.backend.databases[identifier].address
            changes.append({"Action": "UPSERT", "ResourceRecordSet": {
                "Name": record, "Type": "CNAME", "TTL": self.config.dns.ttl,
                "ResourceRecords": [{"Value": address}]}})
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
            "Comment": "database endpoints", "Changes": changes})


PRODUCTION_PARAMETER_GROUP = "video-window-postgres16"
# Production cannot be deleted by accident; the new instance must get the same after a swap.
_PRODUCTION_EXTRAS: dict[str, Any] = {
    "DBParameterGroupName": PRODUCTION_PARAMETER_GROUP,
    "DeletionProtection": True,
    "EnableCloudwatchLogsExports": ["postgresql", "upgrade"],
}


def demo_restore_history(now: datetime, config: Config) -> list[Any]:
    """Five months of the demo's restore tests, oldest first, as `vwtui.recovery.history`
    records: monthly staging drills rotating the method (one over the RTO target, one aborted)
    and one real recovery. The health view's tests and benchmark read it (the demo seeds its
    own three drills: demo.seed_drill_history)."""
    from vwtui.recovery.history import HistoryRecord, RunKind

    target = config.objectives.rto_hours * 3600
    staging, production = config.instances.staging, config.instances.production
    plan: list[tuple[int, RunKind, str, str, int, str, str | None]] = [
        # days ago, kind, method, source, minutes, outcome, verify
        (152, "drill", "pitr", staging, 74, "finished", "pass"),
        (124, "drill", "snapshot", staging, 96, "finished", "pass"),
        (96, "drill", "aws-backup", staging, 262, "finished", "pass"),
        (68, "drill", "pitr", staging, 31, "aborted", None),
        (47, "recovery", "pitr", production, 83, "finished", "pass"),
        (33, "drill", "snapshot", staging, 88, "finished", "pass"),
        (5, "drill", "aws-backup", staging, 117, "finished", "pass"),
    ]
    records = []
    for n, (days_ago, kind, method, source, minutes, outcome, verify) in enumerate(plan):
        started = (now - days_ago * DAY).replace(hour=9, minute=30, second=0, microsecond=0)
        finished = started + timedelta(minutes=minutes)
        records.append(HistoryRecord(
            run_id=f"demo-{kind}-{started:%Y%m%d}-{n}", kind=kind, outcome=outcome,
            method=method, source=source, target=f"{source}-recovery-{started:%Y%m%d%H%M}",
            started_at=started, finished_at=finished, rto_seconds=minutes * 60.0,
            rto_target_seconds=target, verify_overall=verify, os_user="oncall",
            notes="seeded by vwtui demo"))
    return records


def _last_daily(now: datetime, hour: int, minute: int, settle: timedelta) -> datetime:
    """The latest daily hour:minute whose run has had `settle` to finish by `now`."""
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return moment if moment + settle <= now else moment - DAY


def _storage_on(current_gb: int, days_ago: int) -> int:
    """Allocated storage `days_ago` days back: today's less about 0.4 % of it a day."""
    return max(5, current_gb - round(days_ago * current_gb * 0.004))


def _backup_size(production: bool, days_ago: int) -> int:
    """Recovery point size: slow growth with a small deterministic wobble."""
    base = 41.2 if production else 3.1
    wobble = ((days_ago * 7919) % 11 - 5) / 1000
    gib = base * (1 - 0.004 * days_ago) * (1 + wobble)
    return int(gib * 1024 ** 3)
