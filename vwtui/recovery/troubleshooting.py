"""The runbook's troubleshooting for a failed recovery step, by case. Pure text, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from vwtui.model import RdsEvent
from vwtui.recovery.plan import Scenario
from vwtui.recovery.state import Troubleshooting

if TYPE_CHECKING:
    from vwtui.config import Config


def restore_failed(config: Config, scenario: Scenario, source: str, target: str,
                   events: Sequence[RdsEvent] = ()) -> Troubleshooting:
    """Runbook, "PITR Restore Fails": the restore call or the new instance failed."""
    region = f" --region {config.aws.region}" if config.aws.region else ""
    causes = [
        "Target time outside PITR window: PITR only available for last 7 days",
        "Insufficient subnet/security group access: verify network config",
        "Instance name conflict: use unique identifier",
    ]
    if scenario is Scenario.SNAPSHOT:
        causes[0] = "Snapshot not available (still creating, deleted, or in another region)"
    commands = (
        f"aws rds describe-events --source-identifier {target} --source-type db-instance{region}",
        (f"aws rds describe-db-instances --db-instance-identifier {source} "
        f"--query 'DBInstances[0].BackupRetentionPeriod'{region}"),
    )
    return Troubleshooting(
        title="PITR restore fails" if scenario is Scenario.PITR else "Restore fails",
        causes=tuple(causes), commands=commands,
        resolution=("Use snapshot restore if PITR unavailable",
                    "Verify all restore parameters",
                    "Retry with corrected configuration"),
        events=tuple(events))


def restore_job_failed(config: Config, job_id: str | None, status: str,
                       message: str | None, target: str,
                       events: Sequence[RdsEvent] = ()) -> Troubleshooting:
    """A restore job that ended FAILED or ABORTED (scenario 3)."""
    region = f" --region {config.aws.region}" if config.aws.region else ""
    causes = [f"The restore job ended {status}" + (f": {message}" if message else ""),
              (f"Insufficient IAM permissions: verify {config.backup.restore_role_arn} may "
              f"restore RDS (AWSBackupServiceRolePolicyForRestores)"),
              "Instance name conflict: use unique identifier",
              "Insufficient subnet/security group access: verify network config"]
    commands = [(f"aws rds describe-events --source-identifier {target} "
                f"--source-type db-instance{region}")]
    if job_id:
        commands.insert(0, f"aws backup describe-restore-job --restore-job-id {job_id}{region}")
    return Troubleshooting(
        title=f"AWS Backup restore job {status}", causes=tuple(causes), commands=tuple(commands),
        resolution=("Fix the cause, then retry: a new restore job is started",
                    "Or restore from an RDS snapshot (scenario 2)"),
        events=tuple(events))


def verify_failed(config: Config, target: str) -> Troubleshooting:
    """The restored data did not pass validation."""
    return Troubleshooting(
        title="Restored data failed validation",
        causes=("Restore time or snapshot too early or too late for the incident",
                "Restore incomplete (the instance was not fully available)",
                "Data corruption already present at the restore point"),
        commands=((f"psql -h <endpoint of {target}> -U {config.database.user} "
                  f"-d {config.database.name} -f validation_queries.sql"),),
        resolution=("Do not swap to this instance",
                    "Pick an earlier restore time or another snapshot and start a new recovery",
                    "Skip with a reason only if the failure is understood and accepted"))


def database_unreachable(config: Config, target: str, message: str) -> Troubleshooting:
    """Verify could not reach the restored database at all: no data was judged, so the
    causes are the connection's, not the data's (the runbook has no entry for this)."""
    db = config.database
    region = f" --region {config.aws.region}" if config.aws.region else ""
    via = (f"{target}'s endpoint resolves from here (a new instance's DNS name can take "
           f"minutes)")
    if db.host:
        via += f", and database.host {db.host}:{db.port} (a tunnel or proxy) forwards to it"
    password = ("the RDS IAM auth token is accepted (the user has the rds_iam role, the caller "
                "may rds-db:connect)" if db.iam_auth else
                "a password is supplied: PGPASSWORD, or a line in ~/.pgpass "
                "(host:port:database:user) for the new endpoint")
    return Troubleshooting(
        title="Cannot reach the restored database",
        causes=(message,
                (f"Security group / subnet access: {target}'s security groups must admit "
                 f"this host (the bastion) on port {db.port}"),
                f"Endpoint not reachable yet: check that {via}",
                (f"TLS: database.sslmode is {db.sslmode!r}; RDS wants require (or "
                 f"verify-full with the RDS CA bundle)"),
                f"Credentials for {db.user}: {password}"),
        commands=((f"aws rds describe-db-instances --db-instance-identifier {target} "
                   f"--query 'DBInstances[0].[DBInstanceStatus,Endpoint.Address,"
                   f"VpcSecurityGroups]'{region}"),
                  (f"psql \"host=<endpoint of {target}> port={db.port} dbname={db.name} "
                   f"user={db.user} sslmode={db.sslmode}\" -c 'select 1'")),
        resolution=("Fix the connection (security group rule, tunnel, sslmode, password), "
                    "then retry verify: nothing was judged yet",
                    "Do not swap to an instance whose data was not verified"))


def aws_call_failed(step: str, message: str) -> Troubleshooting:
    """An AWS call of the swap or cleanup failed."""
    return Troubleshooting(
        title=f"The {step} step's AWS call failed", causes=(message,), commands=(),
        resolution=("Fix the cause (permission, name, state) and retry",
                    "Or skip with a reason and do it by hand"))
