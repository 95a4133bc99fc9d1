"""The mutating AWS calls of a recovery, each guarded before it reaches AWS.

Guardrails live here, in the service layer, not in the screens: a read-only session refuses
every mutation; a protected instance is never deleted, renamed or modified; a delete needs an
identifier the run created or renamed and the engineer's typed confirmation, and takes a final
snapshot unless declined. Every call goes through `AwsService.call` (errors translated); each
mutating call is an `AwsCall` built in `vwtui.services.calls`, whose parameters are what is sent
and whose CLI line (`cli_command`) is rendered from those same parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vwtui import names
from vwtui.errors import AwsError, InvalidParameter, NotFound
from vwtui.model import Instance, RestoreJob, utcnow
from vwtui.services import calls, guardrails
from vwtui.services.aws import AwsService, instance_from, restore_job_from
from vwtui.services.calls import RUN_ID_PLACEHOLDER, RUN_TAG, AwsCall, dotted

__all__ = ["NO_FINAL_SNAPSHOT", "RUN_TAG", "CrossRegionStatus", "RecoveryOps"]


@dataclass(frozen=True, slots=True)
class CrossRegionStatus:
    """Scenario 4's prerequisites as found in AWS (runbook: cross-region snapshot copy, read
    replica in a secondary region)."""

    primary_region: str
    dr_region: str | None
    snapshot_copies: tuple[str, ...]
    backup_replications: tuple[str, ...]
    read_replicas: tuple[str, ...]
    errors: tuple[str, ...] = ()

    @property
    def has_snapshot_copies(self) -> bool:
        return bool(self.snapshot_copies or self.backup_replications)

    @property
    def has_read_replica(self) -> bool:
        return bool(self.read_replicas)

    @property
    def configured(self) -> bool:
        """Both prerequisites are in place."""
        return self.has_snapshot_copies and self.has_read_replica

    def lines(self) -> tuple[str, ...]:
        """What to say on screen, plainly."""
        where = self.dr_region or "a second region"
        out = [
            ("✓ " if self.has_snapshot_copies else "✗ ")
            + (f"Cross-region snapshot copies in {where}: "
               + ", ".join((*self.snapshot_copies, *self.backup_replications))
               if self.has_snapshot_copies else
               f"Cross-region snapshot copy: not configured (no snapshot copy or replicated "
               f"automated backup in {where})."),
            ("✓ " if self.has_read_replica else "✗ ")
            + (f"Read replica in another region: {', '.join(self.read_replicas)}"
               if self.has_read_replica else
               f"Read replica in a secondary region: not configured (none in {where})."),
        ]
        if self.dr_region is None:
            out.append("No DR region is configured (aws.dr_region).")
        out += [f"! {e}" for e in self.errors]
        if not self.configured:
            out.append("Cross-region disaster recovery is not configured: the runbook lists it "
                       "as a future enhancement. Restore in this region (scenarios 1-3).")
        return tuple(out)


# Instance states in which RDS deletes only with SkipFinalSnapshot (its DeleteDBInstance docs).
NO_FINAL_SNAPSHOT = frozenset({"failed", "incompatible-restore", "incompatible-network"})

class RecoveryOps:
    """Mutating RDS, AWS Backup and Route53 calls of a recovery, with their guardrails."""

    def __init__(self, aws: AwsService, *, now: Callable[[], datetime] = utcnow) -> None:
        self.aws = aws
        self.config = aws.config
        self._now = now

    # ---- restore --------------------------------------------------------------------------

    async def restore_to_point_in_time(
            self, source: str, target: str, restore_time: datetime, *,
            subnet_group: str | None = None, security_groups: Sequence[str] = (),
            instance_class: str | None = None, run_id: str | None = None,
            settings: Mapping[str, Any] | None = None) -> Instance:
        """rds:RestoreDBInstanceToPointInTime (scenario 1). Refused on a read-only session or
        when `target` is the source or a protected name."""
        call = calls.restore_to_point_in_time(
            source, target, restore_time, subnet_group=subnet_group,
            security_groups=security_groups, instance_class=instance_class, run_id=run_id,
            settings=settings)
        guardrails.check_create(self.config, target, source)
        data = await self._send(call)
        return instance_from(data["DBInstance"])

    async def restore_from_snapshot(
            self, snapshot_id: str, target: str, *, subnet_group: str | None = None,
            security_groups: Sequence[str] = (), instance_class: str | None = None,
            run_id: str | None = None, settings: Mapping[str, Any] | None = None) -> Instance:
        """rds:RestoreDBInstanceFromDBSnapshot (scenario 2)."""
        call = calls.restore_from_snapshot(
            snapshot_id, target, subnet_group=subnet_group, security_groups=security_groups,
            instance_class=instance_class, run_id=run_id, settings=settings)
        guardrails.check_create(self.config, target)
        data = await self._send(call)
        return instance_from(data["DBInstance"])

    async def start_restore_job(self, recovery_point_arn: str, metadata: Mapping[str, str], *,
                                role_arn: str | None = None) -> str:
        """backup:StartRestoreJob (scenario 3) with the configured restore role; the job id."""
        call = calls.start_restore_job(
            recovery_point_arn, metadata, role_arn=role_arn or self.config.backup.restore_role_arn)
        target = metadata.get("DBInstanceIdentifier", "")
        guardrails.check_create(self.config, target or "a restored instance")
        data = await self._send(call)
        return str(data["RestoreJobId"])

    async def restore_job(self, job_id: str) -> RestoreJob:
        """backup:DescribeRestoreJob."""
        return await self.aws.restore_job(job_id)

    async def restore_jobs_since(self, since: datetime) -> list[RestoreJob]:
        """backup:ListRestoreJobs created after `since` (paginated): to find a job started just
        before vwtui was killed, so that it is never started twice."""
        items = await self.aws.paginate("backup", "ListRestoreJobs", "RestoreJobs",
                                        ByCreatedAfter=since)
        return [restore_job_from(item) for item in items]

    async def instance_or_none(self, identifier: str) -> Instance | None:
        """rds:DescribeDBInstances; None when there is no such instance."""
        try:
            return await self.aws.instance(identifier)
        except NotFound:
            return None

    # ---- settings of the run's own instance -----------------------------------------------

    async def modify_instance(self, identifier: str, settings: Mapping[str, Any], *,
                              owned: Collection[str]) -> Instance:
        """rds:ModifyDBInstance of `settings`, applied immediately: only an instance the run
        created or renamed (`owned`), never a protected one, never on a read-only session."""
        call = calls.modify_instance(identifier, settings)
        guardrails.check_modify(self.config, identifier, owned=owned)
        data = await self._send(call)
        return instance_from(data["DBInstance"])

    async def add_tags(self, arn: str, tags: Sequence[tuple[str, str]], *,
                       owned: Collection[str], action: str = "modify") -> None:
        """rds:AddTagsToResource on the run's own instance, named by its ARN (same guardrails
        as a modify, on the identifier the ARN names)."""
        call = calls.add_tags(arn, tags)
        if ":db:" not in arn:
            raise InvalidParameter(f"{arn} is not the ARN of a DB instance.")
        guardrails.check_modify(self.config, arn.rsplit(":db:", 1)[-1], owned=owned,
                                action=action)
        await self._send(call)

    async def disable_deletion_protection(self, identifier: str, *, owned: Collection[str],
                                          typed_confirmation: str | None,
                                          serving: Collection[str] = ()) -> Instance:
        """rds:ModifyDBInstance DeletionProtection=false, before the cleanup deletes an
        instance that kept the source's protection: only what a delete itself may pass
        (writable, not protected by config, not in service, owned, typed name)."""
        guardrails.check_delete(self.config, identifier, owned=owned,
                                typed_confirmation=typed_confirmation, serving=serving)
        data = await self._send(calls.disable_deletion_protection(identifier))
        return instance_from(data["DBInstance"])

    # ---- swap -----------------------------------------------------------------------------

    async def rename_instance(self, identifier: str, new_identifier: str) -> Instance:
        """rds:ModifyDBInstance with NewDBInstanceIdentifier, applied immediately. A protected
        instance is never renamed."""
        call = calls.rename_instance(identifier, new_identifier)
        guardrails.check_rename(self.config, identifier, new_identifier)
        data = await self._send(call)
        return instance_from(data["DBInstance"])

    async def hosted_zone_id(self, zone_name: str) -> str:
        """route53:ListHostedZonesByName: the id of the zone named `zone_name`."""
        wanted = dotted(zone_name)
        data = await self.aws.call("route53", "ListHostedZonesByName", DNSName=wanted)
        for zone in data.get("HostedZones", []):
            if zone.get("Name") == wanted:
                return str(zone["Id"]).rsplit("/", 1)[-1]
        raise NotFound(f"No Route53 hosted zone named {wanted}. Check dns.zone in the config.",
                       operation="ListHostedZonesByName")

    async def record_value(self, zone_id: str, record: str) -> str | None:
        """route53:ListResourceRecordSets: the CNAME value of `record` (None when absent)."""
        wanted = dotted(record)
        data = await self.aws.call("route53", "ListResourceRecordSets", HostedZoneId=zone_id,
                                   StartRecordName=wanted, StartRecordType="CNAME", MaxItems="1")
        for item in data.get("ResourceRecordSets", []):
            if item.get("Name") == wanted and item.get("Type") == "CNAME":
                values = item.get("ResourceRecords") or []
                return str(values[0]["Value"]) if values else None
        return None

    async def upsert_record(self, zone_id: str, record: str, value: str, *, source: str,
                            ttl: int | None = None) -> str | None:
        """route53:ChangeResourceRecordSets, one CNAME UPSERT; returns the old value (for
        rollback), None when the record did not exist. Refused unless `record` is the one
        configured for the recovery's `source` (Config.dns_record_for)."""
        call = calls.upsert_record(zone_id, record, value,
                                   ttl=ttl if ttl is not None else self.config.dns.ttl)
        guardrails.check_writable(self.config, f"change the DNS record {record}")
        guardrails.check_record(self.config, record, source)
        old = await self.record_value(zone_id, record)
        await self._send(call)
        return old

    # ---- cleanup --------------------------------------------------------------------------

    async def delete_instance(self, identifier: str, *, owned: Collection[str],
                              typed_confirmation: str | None,
                              skip_final_snapshot: bool = False,
                              serving: Collection[str] = ()) -> str | None:
        """rds:DeleteDBInstance. Only an instance the run created or renamed (`owned`), never a
        protected one nor one its swap put in service (`serving`), and only when
        `typed_confirmation` is its identifier. Takes a final snapshot unless
        `skip_final_snapshot`; returns its identifier."""
        guardrails.check_delete(self.config, identifier, owned=owned,
                                typed_confirmation=typed_confirmation, serving=serving)
        if not skip_final_snapshot:
            current = await self.instance_or_none(identifier)
            # AWS deletes an instance in these states only without a final snapshot.
            skip_final_snapshot = current is not None and current.status in NO_FINAL_SNAPSHOT
        call = calls.delete_instance(identifier, skip_final_snapshot=skip_final_snapshot,
                                     now=self._now())
        await self._send(call)
        return call.params.get("FinalDBSnapshotIdentifier")

    async def delete_test_instance(self, identifier: str, *, run_id: str,
                                   owned: Collection[str], typed_confirmation: str | None,
                                   restore_job_id: str | None = None) -> None:
        """rds:DeleteDBInstance of a drill's own test instance, with --skip-final-snapshot as
        the runbook says. Every guardrail of a delete, and: never production or staging, only
        an instance tagged with this run (or created by this run's AWS Backup restore job, as
        backup:DescribeRestoreJob says), read with rds:DescribeDBInstances first."""
        guardrails.check_delete(self.config, identifier, owned=owned,
                                typed_confirmation=typed_confirmation)
        current = await self.aws.instance(identifier)
        by_job = False
        if restore_job_id and (RUN_TAG, run_id) not in set(current.tags):
            job = await self.restore_job(restore_job_id)
            by_job = bool(job.created_resource_arn) and names.same_rds_id(
                str(job.created_resource_arn).rsplit(":db:", 1)[-1], identifier)
        guardrails.check_drill_delete(self.config, identifier, tags=current.tags,
                                      run_id=run_id, created_by_job=by_job)
        await self._send(calls.delete_instance(identifier, skip_final_snapshot=True,
                                               now=self._now()))

    # ---- back under protection ------------------------------------------------------------

    async def add_to_backup_selection(self, plan_id: str, selection_name: str, role_arn: str,
                                      resource_arns: Sequence[str], *, owned: Collection[str],
                                      request_id: str | None = None) -> str:
        """backup:CreateBackupSelection listing `resource_arns` (each the run's own instance,
        never a protected one); returns the new selection's id."""
        for arn in resource_arns:
            guardrails.check_protection_fix(self.config, arn.rsplit(":", 1)[-1], owned,
                                            "add to the backup plan")
        call = calls.add_to_backup_selection(plan_id, selection_name, role_arn, resource_arns,
                                             request_id=request_id)
        data = await self._send(call)
        return str(data.get("SelectionId", ""))

    async def tag_instance(self, instance_arn: str, tags: Sequence[tuple[str, str]], *,
                           owned: Collection[str]) -> None:
        """rds:AddTagsToResource on the run's own instance (never a protected one)."""
        await self.add_tags(instance_arn, tags, owned=owned, action="tag")

    async def put_metric_alarm(self, alarm: Mapping[str, Any]) -> None:
        """cloudwatch:PutMetricAlarm of a configured backup alarm (its whole definition)."""
        guardrails.check_alarm_fix(self.config, str(alarm.get("AlarmName", "")))
        await self._send(calls.put_metric_alarm(alarm))

    async def enable_deletion_protection(self, identifier: str, *,
                                         owned: Collection[str]) -> None:
        """rds:ModifyDBInstance DeletionProtection on the run's own instance."""
        guardrails.check_protection_fix(self.config, identifier, owned,
                                        "turn on deletion protection of")
        await self._send(calls.enable_deletion_protection(identifier))

    async def set_backup_retention(self, identifier: str, days: int, *,
                                   owned: Collection[str]) -> None:
        """rds:ModifyDBInstance BackupRetentionPeriod on the run's own instance."""
        guardrails.check_protection_fix(self.config, identifier, owned,
                                        "change the backup retention of")
        await self._send(calls.set_backup_retention(identifier, days))

    # ---- scenario 4 -----------------------------------------------------------------------

    async def cross_region_prerequisites(self, source: str,
                                         dr_region: str | None = None) -> CrossRegionStatus:
        """Scenario 4's prerequisites: rds:DescribeDBInstances of the source (its read replicas
        and replicated automated backups) and, in the DR region, rds:DescribeDBSnapshots
        (manual snapshots copied from the source)."""
        primary = self.aws.region or self.config.aws.region
        dr = dr_region or self.config.aws.dr_region or None
        errors: list[str] = []
        data = await self.aws.call("rds", "DescribeDBInstances", DBInstanceIdentifier=source)
        found = data.get("DBInstances") or [{}]
        raw = found[0]
        replicas = tuple(r for r in raw.get("ReadReplicaDBInstanceIdentifiers", [])
                         if _region_of(r) not in (None, primary))
        replications = tuple(r["DBInstanceAutomatedBackupsArn"]
                             for r in raw.get("DBInstanceAutomatedBackupsReplications") or []
                             if r.get("DBInstanceAutomatedBackupsArn"))
        copies: tuple[str, ...] = ()
        if dr and dr != primary:
            remote = AwsService(self.config, profile=self.aws.profile, region=dr,
                                endpoint_url=self.aws.endpoint_url)
            try:
                items = await remote.paginate("rds", "DescribeDBSnapshots", "DBSnapshots",
                                              SnapshotType="manual")
                # Only snapshots that live in the DR region (their ARN says where).
                copies = tuple(s["DBSnapshotIdentifier"] for s in items
                               if _region_of(str(s.get("DBSnapshotArn", ""))) == dr
                               and (s.get("DBInstanceIdentifier") == source
                                    or f":snapshot:{source}" in str(
                                        s.get("SourceDBSnapshotIdentifier", ""))
                                    or f"{source}-" in str(
                                        s.get("SourceDBSnapshotIdentifier", ""))))
                dr_instances = await remote.paginate("rds", "DescribeDBInstances", "DBInstances")
                replicas += tuple(
                    str(i.get("DBInstanceArn") or i["DBInstanceIdentifier"])
                    for i in dr_instances
                    if _region_of(str(i.get("ReadReplicaSourceDBInstanceIdentifier", "")))
                    == primary and str(i.get("ReadReplicaSourceDBInstanceIdentifier", ""))
                    .endswith(f":db:{source}"))
            except AwsError as exc:
                errors.append(f"Could not read {dr}: {exc.message}")
        return CrossRegionStatus(primary_region=primary, dr_region=dr,
                                 snapshot_copies=copies, backup_replications=replications,
                                 read_replicas=tuple(dict.fromkeys(replicas)),
                                 errors=tuple(errors))

    # ---- the calls themselves -------------------------------------------------------------

    async def _send(self, call: AwsCall) -> dict[str, Any]:
        """The one way a mutating call reaches AWS: exactly `call.params`."""
        return await self.aws.call(call.service, call.operation, **call.params)

    def aws_call(self, operation: str, *args: Any, **kwargs: Any) -> AwsCall:
        """The AwsCall a mutating method makes with these arguments (its guardrails aside).

        `operation` is the method's name: restore_to_point_in_time, restore_from_snapshot,
        start_restore_job, rename_instance, upsert_record, delete_instance. The run id of a
        restore, when not given, shows as RUN_ID_PLACEHOLDER; a delete's final snapshot is
        named from now (the method may still skip it for an instance AWS deletes only
        without one).
        """
        c = self.config
        if operation in ("restore_to_point_in_time", "restore_from_snapshot"):
            kwargs.setdefault("run_id", RUN_ID_PLACEHOLDER)
            return calls.MUTATING[operation](*args, **kwargs)
        if operation == "start_restore_job":
            point, metadata = args
            return calls.start_restore_job(
                point, metadata, role_arn=kwargs.get("role_arn") or c.backup.restore_role_arn)
        if operation == "rename_instance":
            return calls.rename_instance(*args)
        if operation == "upsert_record":
            zone_id, record, value = args[:3]
            ttl = kwargs.get("ttl")
            return calls.upsert_record(zone_id, record, value,
                                       ttl=ttl if ttl is not None else c.dns.ttl)
        if operation in ("modify_instance", "add_tags", "disable_deletion_protection"):
            return calls.MUTATING[operation](*args)
        if operation == "delete_instance":
            (identifier,) = args
            return calls.delete_instance(
                identifier, skip_final_snapshot=bool(kwargs.get("skip_final_snapshot")),
                now=self._now())
        if operation in calls.MUTATING:
            return calls.MUTATING[operation](*args, **kwargs)
        raise InvalidParameter(f"No AWS call for {operation}.")

    def cli_command(self, operation: str, *args: Any, **kwargs: Any) -> str:
        """The `aws ...` line a mutating method amounts to, with the same arguments: the
        CLI rendering of `aws_call(operation, ...)`."""
        return self.aws_call(operation, *args, **kwargs).cli(self.config)


def _region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and arn.startswith("arn:") else None
