"""Troubleshooting for a failing check, as the runbook's Troubleshooting section describes it.

Pure: it assembles what was already read (RDS events, failed backup jobs, the instance's
BackupRetentionPeriod and restore window) with the runbook's symptoms, common causes,
resolution and diagnosis commands for the check's `diagnosis` key. No I/O here.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from vwtui import fmt
from vwtui.checks import FAILED_JOB_STATES, Readings, Unreadable, is_failure_event
from vwtui.model import CheckResult, Instance, PitrWindow

if TYPE_CHECKING:
    from vwtui.config import Config

RUNBOOK = "runbook, Troubleshooting"
NOT_IN_RUNBOOK = "vwtui (the runbook has no entry for this)"


@dataclass(frozen=True, slots=True)
class RunbookEntry:
    """One troubleshooting entry: the runbook's words, or vwtui's where the runbook has none."""

    key: str
    title: str
    symptoms: str
    causes: tuple[str, ...]
    resolution: tuple[str, ...]
    # Diagnosis commands; {instance} and {vault} are filled in (shell-quoted).
    commands: tuple[str, ...]
    source: str


_EVENTS = ("aws rds describe-events --source-identifier {instance} --source-type db-instance")
_FAILED_JOBS = ("aws backup list-backup-jobs --by-backup-vault-name {vault} --by-state FAILED")
_RETENTION = ("aws rds describe-db-instances --db-instance-identifier {instance} "
              "--query 'DBInstances[0].BackupRetentionPeriod'")

ENTRIES: dict[str, RunbookEntry] = {
    "backup-job-fails": RunbookEntry(
        key="backup-job-fails",
        title="Backup Job Fails",
        symptoms="CloudWatch alarm triggered, no recent snapshot",
        causes=(
            "Insufficient IAM permissions: verify backup role has required policies",
            "Storage full: check allocated storage and increase if needed",
            "Long-running queries: check for blocking queries during backup window",
            "Network issues: verify VPC connectivity",
        ),
        resolution=("Fix underlying cause", "Manually trigger backup if necessary",
                    "Monitor next automated backup"),
        commands=(_EVENTS, _FAILED_JOBS),
        source=f"{RUNBOOK} > Backup Job Fails",
    ),
    "backup-size": RunbookEntry(
        key="backup-size",
        title="Backup size inconsistent",
        symptoms="The newest backup is much larger or smaller than the ones before it",
        causes=(
            "A partial or failed backup (see the failed jobs below)",
            "Bulk deletion, truncation or a bad deployment shrinking the data",
            "A large import or runaway table growth",
            "Allocated storage changed (snapshot sizes follow allocated storage)",
        ),
        resolution=("Compare row counts with the validation queries before trusting the backup",
                    "If data was lost, restore to a time before it (PITR, Scenario 1)"),
        commands=(_FAILED_JOBS, _EVENTS),
        source=NOT_IN_RUNBOOK,
    ),
    "pitr": RunbookEntry(
        key="pitr",
        title="PITR Restore Fails",
        symptoms="Restore job fails or restored instance is incomplete",
        causes=(
            "Target time outside PITR window: PITR only available for last 7 days",
            "Insufficient subnet/security group access: verify network config",
            "Instance name conflict: use unique identifier",
        ),
        resolution=("Use snapshot restore if PITR unavailable", "Verify all restore parameters",
                    "Retry with corrected configuration"),
        commands=(_EVENTS, _RETENTION),
        source=f"{RUNBOOK} > PITR Restore Fails",
    ),
    "encryption": RunbookEntry(
        key="encryption",
        title="Backup not encrypted",
        symptoms="A snapshot, recovery point or instance is stored unencrypted (GDPR: backups "
                 "encrypted)",
        causes=(
            "The instance was created without StorageEncrypted: its snapshots inherit that",
            "A manual snapshot was copied or shared without --kms-key-id",
            "The backup vault has no KMS key of its own",
        ),
        resolution=("Copy the snapshot with aws rds copy-db-snapshot --kms-key-id, then delete "
                    "the unencrypted one",
                    "An unencrypted instance is encrypted by restoring an encrypted snapshot copy"),
        commands=("aws rds describe-db-snapshots --db-instance-identifier {instance} "
                  "--query 'DBSnapshots[?Encrypted==`false`].DBSnapshotIdentifier'",),
        source=NOT_IN_RUNBOOK,
    ),
    "retention": RunbookEntry(
        key="retention",
        title="Backup retention is not 30 days",
        symptoms="The backup plan keeps recovery points longer or shorter than 30 days",
        causes=("The plan's lifecycle (DeleteAfterDays) was changed or never set",),
        resolution=("Set DeleteAfterDays to 30 on every rule of the plan "
                    "(aws backup update-backup-plan)",),
        commands=("aws backup list-backup-plans",),
        source=NOT_IN_RUNBOOK,
    ),
    "data-residency": RunbookEntry(
        key="data-residency",
        title="Backup copied to another region",
        symptoms="Backups leave the source region (runbook: no cross-region backup copy)",
        causes=("A copy action to a vault in another region was added to the plan",
                "Cross-region automated backup replication was started on the instance"),
        resolution=("Remove the copy action (aws backup update-backup-plan)",
                    "Stop the replication (aws rds "
                    "stop-db-instance-automated-backups-replication)"),
        commands=("aws backup list-backup-plans",
                  "aws rds describe-db-instances --db-instance-identifier {instance} "
                  "--query 'DBInstances[0].DBInstanceAutomatedBackupsReplications'"),
        source=NOT_IN_RUNBOOK,
    ),
    "alarms": RunbookEntry(
        key="alarms",
        title="Alerting is not wired",
        symptoms="A backup failure or an old backup would not reach the ops team",
        causes=("An alarm or the EventBridge rule was deleted or disabled",
                "The alarm's action or the rule's target is not the SNS topic",
                "No subscriber has confirmed the topic subscription (email pending)"),
        resolution=("Restore the alarms and rule from the infrastructure code",
                    "Subscribe ops-team@craftvideomarketplace.com and confirm the email"),
        commands=("aws cloudwatch describe-alarms --alarm-names {alarms}",
                  "aws sns list-subscriptions-by-topic --topic-arn <topic-arn>",
                  "aws events list-rules"),
        source=NOT_IN_RUNBOOK,
    ),
    "access-logging": RunbookEntry(
        key="access-logging",
        title="API access is not logged",
        symptoms="No CloudTrail trail logs the account's API calls in the region (runbook: "
                 "GDPR compliance, access logged)",
        causes=("No trail covers the region (a single-region trail elsewhere)",
                "The trail's logging was stopped",
                "The trail's event selectors exclude management events"),
        resolution=("Start logging (aws cloudtrail start-logging --name <trail>)",
                    "Make the trail multi-region, or add one in this region, with management "
                    "events (read and write)"),
        commands=("aws cloudtrail describe-trails --include-shadow-trails",
                  "aws cloudtrail get-trail-status --name <trail>",
                  "aws cloudtrail get-event-selectors --trail-name <trail>"),
        source=NOT_IN_RUNBOOK,
    ),
}


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What one key shows for a failing check: sections of plain lines, headed."""

    check: CheckResult
    entry: RunbookEntry
    sections: tuple[tuple[str, tuple[str, ...]], ...]


def entry_for(key: str) -> RunbookEntry:
    """The troubleshooting entry for a diagnosis key (the Backup Job Fails one when unknown)."""
    return ENTRIES.get(key, ENTRIES["backup-job-fails"])


def diagnose(check: CheckResult, readings: Readings, config: Config,
             days: int = 7) -> Diagnosis:
    """The runbook's diagnosis of `check`, filled from what the checklist read."""
    entry = entry_for(check.diagnosis)
    production = readings.production
    sections: list[tuple[str, tuple[str, ...]]] = [
        (f"{check.title}: {check.verdict.value.upper()}", check.evidence),
        (f"Symptoms ({entry.source})", (entry.symptoms,)),
        (f"RDS events of {production} (last {days} d)", _event_lines(readings)),
        (f"Failed backup jobs in {config.backup.vault} (last {days} d)",
         _failed_job_lines(readings, days)),
        ("Is PITR enabled? (BackupRetentionPeriod)",
         _pitr_lines(readings.instances.get(production), readings.pitr_window)),
        ("Common causes", tuple(f"{n}. {c}" for n, c in enumerate(entry.causes, 1))),
        ("Resolution", tuple(f"- {r}" for r in entry.resolution)),
        ("Diagnosis commands", tuple(_command(c, config) for c in entry.commands)),
    ]
    return Diagnosis(check=check, entry=entry, sections=tuple(sections))


def _event_lines(readings: Readings, limit: int = 10) -> tuple[str, ...]:
    events = readings.rds_events
    if isinstance(events, Unreadable):
        return (f"could not read {events.source}: {events.reason}",)
    if not events:
        return ("no events",)
    lines = [f"{'!' if is_failure_event(e) else ' '} {fmt.utc(e.time)}  {e.message}"
             for e in events[:limit]]
    if len(events) > limit:
        lines.append(f"  ... and {len(events) - limit} older")
    return tuple(lines)


def _failed_job_lines(readings: Readings, days: int) -> tuple[str, ...]:
    jobs = readings.backup_jobs
    if isinstance(jobs, Unreadable):
        return (f"could not read {jobs.source}: {jobs.reason}",)
    since = readings.now - timedelta(days=days)
    failed = [j for j in jobs if j.state in FAILED_JOB_STATES
              and j.created is not None and j.created >= since]
    if not failed:
        return ("none",)
    return tuple(f"{fmt.utc(j.created)}  {j.state}  {j.job_id}  "
                 f"{fmt.short_arn(j.resource_arn)}: {j.status_message or 'no status message'}"
                 for j in failed if j.created is not None)


def _pitr_lines(instance: Instance | Unreadable | None,
                window: PitrWindow | Unreadable) -> tuple[str, ...]:
    lines: list[str] = []
    if instance is None:
        lines.append("the instance was not read")
    elif isinstance(instance, Unreadable):
        lines.append(f"could not read {instance.source}: {instance.reason}")
    elif instance.pitr_enabled:
        lines.append(f"yes: BackupRetentionPeriod = {instance.backup_retention_days} d")
    else:
        lines.append("NO: BackupRetentionPeriod = 0, automated backups and PITR are off")
    if isinstance(window, Unreadable):
        lines.append(f"restore window: could not read {window.source}: {window.reason}")
    elif window.earliest and window.latest and window.span is not None:
        lines.append(f"restore window {fmt.utc(window.earliest)} to "
                     f"{fmt.utc(window.latest, zone=True)} ({fmt.duration(window.span)})")
    else:
        lines.append("no restore window reported")
    return tuple(lines)


def _command(template: str, config: Config) -> str:
    alarms = " ".join(shlex.quote(a) for a in (config.alarms.backup_age,
                                               config.alarms.backup_failure) if a)
    return "$ " + template.format(instance=shlex.quote(config.instances.production),
                                  vault=shlex.quote(config.backup.vault), alarms=alarms)
