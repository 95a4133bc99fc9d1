"""`--scale`: the Video Window account as a big, shared account holds it.

On top of the scenario's seed:

- 10,000 more snapshots of the source instance (an hourly manual snapshot job that has run
  for a year and more), so its snapshot list is 101 pages of `DescribeDBSnapshots`;
- a shared backup vault: the runbook's vault also holds 10,000 recovery points of other
  resources (other databases, EBS volumes, EFS file systems, DynamoDB tables);
- 30 days of backup jobs for 50 other resources (a few of them FAILED, as in any big account).

What is ours (the two instances' snapshots, points and jobs) is unchanged, so every scenario
reads the same with or without `--scale`: a list that reads only what is ours shows the same
rows, and one that reads the whole vault is slow (what `bench/scale.py` measures).

Seeded straight into moto's RDS backend and the backup shim (not through the API): 20,000
objects in a couple of seconds, not minutes. Deterministic for a given `now`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from vwtui.sandbox.backup_model import BackupJob, RecoveryPoint, SourceInstance, source_of
from vwtui.sandbox.state import naive, stable_uuid

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.sandbox.backup import BackupShim
    from vwtui.sandbox.rds import RdsShim


@dataclass(frozen=True, slots=True)
class Scale:
    """How big `--scale` makes the account."""

    snapshots: int = 10_000
    other_points: int = 10_000
    job_resources: int = 50
    job_days: int = 30


SCALE = Scale()
# Room for the scaled snapshots and what a session makes on top of them (moto caps a region at
# MOTO_RDS_SNAPSHOT_LIMIT, default 1000).
SNAPSHOT_LIMIT = 100_000

# Other resources that share the vault: (ARN resource type, ARN format, AWS Backup type).
_KINDS = (
    ("RDS", "arn:aws:rds:{region}:{account}:db:{name}", "db"),
    ("EBS", "arn:aws:ec2:{region}:{account}:volume/vol-{hex}", "vol"),
    ("EFS", "arn:aws:elasticfilesystem:{region}:{account}:file-system/fs-{hex}", "fs"),
    ("DynamoDB", "arn:aws:dynamodb:{region}:{account}:table/{name}", "table"),
)


def other_resources(count: int, region: str, account: str) -> list[tuple[str, str, str]]:
    """`count` other resources of the account: (resource type, ARN, name)."""
    out = []
    for i in range(count):
        kind, form, prefix = _KINDS[i % len(_KINDS)]
        name = f"{prefix}-shared-{i:03d}"
        arn = form.format(region=region, account=account, name=name,
                          hex=stable_uuid("resource", i).replace("-", "")[:17])
        out.append((kind, arn, name))
    return out


def seed_scale(rds: RdsShim, backup: BackupShim, config: Config, now: datetime,
               scale: Scale = SCALE) -> None:
    """Add the big account's snapshots, recovery points and jobs (see the module's doc)."""
    _snapshots(rds, config.instances.production, now, scale.snapshots)
    resources = other_resources(scale.job_resources, rds.state.region, rds.state.account)
    _other_points(backup, rds, config, resources, now, scale.other_points)
    _other_jobs(backup, config, resources, now, scale.job_days)


def _snapshots(rds: RdsShim, identifier: str, now: datetime, count: int) -> None:
    """`count` manual snapshots of `identifier`, one every 59 minutes back from an hour ago.

    One snapshot is made by moto; the rest are shallow copies of it with their own name and
    date (moto's constructor copies the instance each time: a hundred times slower).
    """
    backend = rds.backend
    if count <= 0:
        return
    first = now - timedelta(hours=1)
    template = backend.create_db_snapshot(identifier, "vwtui-scale-template")
    del backend.database_snapshots["vwtui-scale-template"]
    snapshots = backend.database_snapshots
    for i in range(count):
        moment = (first - timedelta(minutes=59 * i)).replace(second=0, microsecond=0)
        snap = copy.copy(template)
        snap.db_snapshot_identifier = f"{identifier}-hourly-{moment:%Y-%m-%d-%H-%M}"
        snap.created = snap.original_snapshot_create_time = naive(moment)
        snapshots[snap.db_snapshot_identifier] = snap


def _other_points(backup: BackupShim, rds: RdsShim, config: Config,
                  resources: list[tuple[str, str, str]], now: datetime, count: int) -> None:
    """`count` completed recovery points of other resources in the runbook's vault, spread
    over the resources and back in time (every resource backed up about hourly)."""
    if count <= 0 or not resources:
        return
    vault = config.backup.vault
    state = backup.state
    model = backup.backend.vaults.get(vault)
    key = model.encryption_key_arn if model else None
    production = rds.backend.databases[config.instances.production]
    template = source_of(production)
    sources = {arn: replace(template, identifier=name, tags=[])
               for _kind, arn, name in resources}
    per_resource = -(-count // len(resources))
    made = 0
    for n in range(per_resource):
        for index, (kind, arn, _name) in enumerate(resources):
            if made == count:
                return
            created = (now - timedelta(hours=n + 1, minutes=index)).replace(microsecond=0)
            point = RecoveryPoint(
                arn=_point_arn(state.region, state.account, kind, made), vault=vault,
                resource_arn=arn, source=sources[arn], created=created,
                completed=created + timedelta(minutes=6), status="COMPLETED",
                size_bytes=(5 + (made * 7919) % 500) * 1024 ** 3, encrypted=True,
                encryption_key_arn=key, iam_role_arn=config.backup.restore_role_arn,
                delete_after_days=35, resource_type=kind)
            backup.recovery_points[point.arn] = point
            made += 1


def _point_arn(region: str, account: str, kind: str, n: int) -> str:
    ref = stable_uuid("scale-point", n)
    if kind == "RDS":
        return f"arn:aws:rds:{region}:{account}:snapshot:awsbackup:job-{ref}"
    if kind == "EBS":
        return f"arn:aws:ec2:{region}::snapshot/snap-{ref.replace('-', '')[:17]}"
    return f"arn:aws:backup:{region}:{account}:recovery-point:{ref}"


def _other_jobs(backup: BackupShim, config: Config, resources: list[tuple[str, str, str]],
                now: datetime, days: int) -> None:
    """One backup job a day per other resource over `days`; every 17th FAILED."""
    for day in range(days):
        for index, (kind, arn, _name) in enumerate(resources):
            n = day * len(resources) + index
            created = (now - timedelta(days=day, hours=2) + timedelta(minutes=index)).replace(
                microsecond=0)
            failed = n % 17 == 5
            job = BackupJob(
                job_id=stable_uuid("scale-job", n).upper(), vault=config.backup.vault,
                resource_arn=arn, created=created, state="FAILED" if failed else "COMPLETED",
                iam_role_arn=config.backup.restore_role_arn,
                completed=created + timedelta(minutes=2 if failed else 11),
                status_message=("Insufficient privileges to perform this action."
                                if failed else None),
                size_bytes=0 if failed else (3 + n % 200) * 1024 ** 3, resource_type=kind)
            backup.add_backup_job(job)


__all__ = ["SCALE", "SNAPSHOT_LIMIT", "Scale", "SourceInstance", "other_resources",
           "seed_scale"]
