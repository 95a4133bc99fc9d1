"""Plain model objects: what the services return and the screens draw.

Every datetime is timezone-aware UTC. No I/O, no Textual, no boto3 here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    account: str
    arn: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Instance:
    """An RDS DB instance, as DescribeDBInstances reports it."""

    identifier: str
    arn: str
    status: str
    engine: str
    engine_version: str
    instance_class: str
    allocated_storage_gb: int
    storage_encrypted: bool
    kms_key_id: str | None
    backup_retention_days: int
    latest_restorable_time: datetime | None
    subnet_group: str | None
    security_groups: tuple[str, ...]
    endpoint_address: str | None
    endpoint_port: int | None
    multi_az: bool
    created: datetime | None
    tags: tuple[tuple[str, str], ...] = ()
    # PreferredBackupWindow, "hh:mm-hh:mm" in UTC (None when not reported).
    backup_window: str | None = None
    # Every setting of vwtui.instance_settings.SETTINGS as read (the parity step compares them).
    settings: tuple[tuple[str, object], ...] = ()

    @property
    def setting_values(self) -> dict[str, object]:
        return dict(self.settings)

    @property
    def pitr_enabled(self) -> bool:
        """PITR is on when automated backups are retained (BackupRetentionPeriod > 0)."""
        return self.backup_retention_days > 0


@dataclass(frozen=True, slots=True)
class PitrWindow:
    """The span an instance can be restored to.

    From DescribeDBInstanceAutomatedBackups' RestoreWindow.
    """

    instance_identifier: str
    earliest: datetime | None
    latest: datetime | None
    retention_days: int

    def contains(self, moment: datetime) -> bool:
        if self.earliest is None or self.latest is None:
            return False
        return self.earliest <= moment <= self.latest

    def rpo_exposure(self, now: datetime) -> timedelta | None:
        """Data at risk right now: the time since the latest restorable moment."""
        if self.latest is None:
            return None
        return max(now - self.latest, timedelta(0))

    @property
    def span(self) -> timedelta | None:
        if self.earliest is None or self.latest is None:
            return None
        return self.latest - self.earliest


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An RDS DB snapshot, automated or manual."""

    identifier: str
    arn: str
    instance_identifier: str
    snapshot_type: str  # "automated" | "manual" | "awsbackup"
    created: datetime | None
    status: str
    allocated_storage_gb: int
    encrypted: bool
    engine: str
    engine_version: str

    def age(self, now: datetime) -> timedelta | None:
        return None if self.created is None else now - self.created


@dataclass(frozen=True, slots=True)
class RecoveryPoint:
    """An AWS Backup recovery point in a vault."""

    arn: str
    vault: str
    resource_arn: str
    resource_type: str
    created: datetime | None
    completed: datetime | None
    status: str  # COMPLETED | PARTIAL | DELETING | EXPIRED | ...
    size_bytes: int | None
    encrypted: bool
    delete_after_days: int | None
    iam_role_arn: str | None

    def age(self, now: datetime) -> timedelta | None:
        return None if self.created is None else now - self.created


@dataclass(frozen=True, slots=True)
class BackupJob:
    """An AWS Backup job (ListBackupJobs)."""

    job_id: str
    vault: str
    resource_arn: str
    # CREATED | PENDING | RUNNING | ABORTING | ABORTED | COMPLETED | FAILED | EXPIRED | PARTIAL
    state: str
    status_message: str | None
    created: datetime | None
    completed: datetime | None
    size_bytes: int | None
    percent_done: str | None = None


class AlarmState(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


@dataclass(frozen=True, slots=True)
class Alarm:
    """A CloudWatch metric alarm."""

    name: str
    state: AlarmState
    reason: str
    updated: datetime | None
    metric: str | None
    namespace: str | None
    threshold: float | None
    alarm_actions: tuple[str, ...] = ()
    exists: bool = True


@dataclass(frozen=True, slots=True)
class RdsEvent:
    time: datetime
    source_identifier: str
    source_type: str
    message: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RestoreJob:
    """An AWS Backup restore job (DescribeRestoreJob)."""

    job_id: str
    status: str  # PENDING | RUNNING | COMPLETED | ABORTED | FAILED
    percent_done: str | None
    expected_minutes: int | None
    created_resource_arn: str | None
    status_message: str | None
    created: datetime | None
    completed: datetime | None
    recovery_point_arn: str | None = None


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One validation query's result: a named table."""

    name: str
    sql: str
    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    error: str | None = None
    # The runbook's comment above the query ("User data validation"); `name` is the short one.
    title: str = ""


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """All validation queries run against one database."""

    host: str
    database: str
    results: tuple[QueryResult, ...]
    ran_at: datetime = field(default_factory=utcnow)

    def result(self, name: str) -> QueryResult | None:
        return next((r for r in self.results if r.name == name), None)


# ---- backup verification (checks, compliance) -------------------------------------------------

class Verdict(StrEnum):
    """A check's answer. UNKNOWN when its data could not be read: never a pass by default."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One daily, weekly or compliance check: its verdict and the evidence behind it."""

    id: str
    title: str
    group: str  # "daily" | "weekly" | "compliance"
    verdict: Verdict
    evidence: tuple[str, ...]
    # Key of the runbook troubleshooting entry that explains a failure (vwtui.checks.DIAGNOSES).
    diagnosis: str

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS


@dataclass(frozen=True, slots=True)
class CopyAction:
    """A backup rule's copy of each recovery point to another vault (maybe another region)."""

    destination_vault_arn: str
    delete_after_days: int | None


@dataclass(frozen=True, slots=True)
class BackupRule:
    name: str
    target_vault: str
    schedule: str | None
    delete_after_days: int | None
    copy_actions: tuple[CopyAction, ...] = ()
    # ScheduleExpressionTimezone (None: AWS Backup's default, UTC).
    schedule_timezone: str | None = None


@dataclass(frozen=True, slots=True)
class BackupPlan:
    """An AWS Backup plan (GetBackupPlan)."""

    plan_id: str
    name: str
    arn: str
    rules: tuple[BackupRule, ...]


@dataclass(frozen=True, slots=True)
class SnsSubscription:
    arn: str  # "PendingConfirmation" until the subscriber confirms
    protocol: str
    endpoint: str

    @property
    def confirmed(self) -> bool:
        return self.arn.startswith("arn:")


@dataclass(frozen=True, slots=True)
class SnsTopic:
    """An SNS topic found by name, with its subscriptions."""

    name: str
    arn: str | None  # None when no topic has this name
    subscriptions: tuple[SnsSubscription, ...] = ()

    @property
    def exists(self) -> bool:
        return self.arn is not None


@dataclass(frozen=True, slots=True)
class EventRule:
    """An EventBridge rule on the default bus, with its targets' ARNs."""

    name: str
    arn: str
    state: str  # ENABLED | DISABLED
    event_pattern: str | None
    targets: tuple[str, ...] = ()


# ---- back under protection (issue 13, part 3) -----------------------------------------------

@dataclass(frozen=True, slots=True)
class BackupSelection:
    """A resource selection of an AWS Backup plan (GetBackupSelection): what the plan backs up,
    by ARN (`resources`, wildcards allowed) or by tag (`tags`: key, value pairs of ListOfTags
    and Conditions.StringEquals)."""

    selection_id: str
    plan_id: str
    name: str
    iam_role_arn: str
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AlarmDefinition:
    """A CloudWatch metric alarm as DescribeAlarms defines it: its dimensions, and the
    PutMetricAlarm parameters that would define it again as it is (`put_params`)."""

    name: str
    namespace: str | None
    metric: str | None
    dimensions: tuple[tuple[str, str], ...]
    put_params: dict[str, object] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class ProtectionReadings:
    """What "back under protection" looks at for one instance, read once. A reading that
    failed is None with its reason in `unreadable` (what -> why)."""

    identifier: str
    instance: Instance | None
    deletion_protection: bool | None
    pitr_window: PitrWindow | None
    plan_id: str | None
    selections: tuple[BackupSelection, ...] | None
    alarms: tuple[AlarmDefinition, ...] | None  # the configured alarms that exist
    event_rules: tuple[EventRule, ...] | None
    unreadable: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Trail:
    """A CloudTrail trail (DescribeTrails) with its logging status (GetTrailStatus)."""

    name: str
    arn: str
    home_region: str
    multi_region: bool
    logging: bool
    # Whether its event selectors record management events (the API calls); None: not said.
    management_events: bool | None = None
