"""Async facade over boto3: RDS, AWS Backup, CloudWatch, STS (and, for recovery, Route53).

Every method returns model objects, never a response dict. boto3 calls run off the event loop
(`asyncio.to_thread`); clients are made once per service and shared (they are thread-safe,
sessions are not); list calls use paginators; retries come from one botocore `Config`.
botocore errors become the project's exceptions (`vwtui.errors`) with a message that says what
to do. boto3 is imported on first use so that the first frame does not wait for it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from vwtui.errors import (
    AwsError,
    AwsSettingError,
    CredentialsError,
    NotFound,
)
from vwtui.model import (
    Alarm,
    AlarmState,
    BackupJob,
    BackupPlan,
    CallerIdentity,
    EventRule,
    Instance,
    PitrWindow,
    RdsEvent,
    RecoveryPoint,
    RestoreJob,
    Snapshot,
    SnsSubscription,
    SnsTopic,
    Trail,
    utcnow,
)

# The error translation and the response parsers live beside this facade (aws_errors,
# aws_parse); their names stay importable from here, as other modules and tests use them.
from vwtui.services.aws_errors import NotAwsAnswer, Place, looks_like_html, translate
from vwtui.services.aws_parse import (
    _aware,
    _newest_key,
    _pattern_names_source,
    alarm_from,
    backup_job_from,
    backup_plan_from,
    instance_from,
    recovery_point_from,
    restore_job_from,
    snapshot_from,
    trail_from,
)
from vwtui.services.early import EarlyReads

if TYPE_CHECKING:
    from vwtui.config import Config

T = TypeVar("T")


class AwsService:
    """The only place vwtui talks to AWS."""

    def __init__(self, config: Config, *, profile: str | None = None,
                 region: str | None = None, endpoint_url: str | None = None) -> None:
        self.config = config
        self.profile = profile or config.aws.profile or None
        self.region = region or config.aws.region or None
        self.endpoint_url = endpoint_url or config.aws.endpoint_url or None
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        # DB instance ARNs by lower-cased identifier (an ARN never changes for a name): the
        # server-side ByResourceArn filters need them.
        self._arns: dict[str, str] = {}
        self._arn_prefix: str | None = None
        # Reads started before the UI (services/early.py): the dashboard takes their answers.
        self.early = EarlyReads()

    # ---- plumbing -------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """The one boto3 client for `service`, made on first use (thread-safe)."""
        made = self._clients.get(service)
        if made is not None:
            # Made already: no lock, so a call never waits while another thread makes a
            # client for another service (a few tens of ms each).
            return made
        with self._lock:
            if service not in self._clients:
                import boto3
                from botocore.config import Config as BotoConfig

                if self._session is None:
                    self._session = boto3.session.Session(
                        profile_name=self.profile, region_name=self.region)
                boto_config = BotoConfig(
                    retries={"mode": "standard", "max_attempts": self.config.aws.max_attempts},
                    connect_timeout=5, read_timeout=30, max_pool_connections=20,
                    user_agent_extra="vwtui/0.1",
                )
                kwargs: dict[str, Any] = {"config": boto_config}
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                try:
                    client = self._make_client(service, kwargs)
                except Exception:
                    if not self._clients:
                        # botocore reads the AWS config and credentials files once per session
                        # (Session.full_config is kept): a session that made no client (its
                        # profile is not in them) is dropped, so that the next try, after the
                        # engineer fixed the files and pressed r, reads them again. boto3 most
                        # often fails making such a session already, but not when botocore
                        # finds its settings without the files (AWS_DATA_PATH, which importing
                        # awscli sets for its whole process).
                        self._session = None
                    raise
                client.meta.events.register("before-parse", _refuse_web_pages)
                self._clients[service] = client
            return self._clients[service]

    @property
    def place(self) -> Place:
        """Region, endpoint and profile, as a session error names them."""
        return Place(region=self.region,
                     endpoint_url=self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL"),
                     profile=self.profile)

    def _translate(self, exc: BaseException, service: str, operation: str) -> AwsError:
        error = translate(exc, service, operation, place=self.place)
        if isinstance(error, CredentialsError):
            self._forget_session()
        return error

    def _forget_session(self) -> None:
        """After a credentials error, the next call makes the session and its clients again.

        A boto3 client resolves its credentials once, when it is made, and its session reads
        the AWS config and credentials files once: a client made with no credentials kept
        none after the engineer added keys to ~/.aws/credentials (or ran `aws sso login`) and
        pressed r. Calls already under way keep the clients they hold."""
        with self._lock:
            self._clients.clear()
            self._session = None

    def _make_client(self, service: str, kwargs: dict[str, Any]) -> Any:
        """session.client(), a bad region or endpoint said as the setting it comes from (a
        config error that every call of the session shares)."""
        from botocore.exceptions import InvalidRegionError

        try:
            return self._session.client(service, **kwargs)
        except InvalidRegionError:
            raise AwsSettingError(f"AWS region {self.region!r} is not valid (aws.region or "
                              f"--region); write it like eu-west-1.") from None
        except ValueError as exc:  # botocore: "Invalid endpoint: ..."
            url = self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
            raise AwsSettingError(f"AWS endpoint URL {url!r} is not valid "
                              f"(aws.endpoint_url or AWS_ENDPOINT_URL): {exc}; write it with "
                              f"its scheme, e.g. https://rds.eu-west-1.amazonaws.com.") from None

    async def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """One AWS API call off the event loop, errors translated."""
        return await asyncio.to_thread(self._call_sync, service, operation, params)

    def _call_sync(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            method = getattr(self.client(service), _snake(operation))
            return method(**params)
        except _botocore_errors() as exc:
            raise self._translate(exc, service, operation) from exc

    async def paginate(self, service: str, operation: str, key: str,
                       **params: Any) -> list[dict[str, Any]]:
        """Every item under `key` across all pages of a list call."""
        return await asyncio.to_thread(self._paginate_sync, service, operation, key, params)

    def _paginate_sync(self, service: str, operation: str, key: str,
                       params: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            paginator = self.client(service).get_paginator(_snake(operation))
            items: list[dict[str, Any]] = []
            for page in paginator.paginate(**params):
                items.extend(page.get(key, []))
            return items
        except _botocore_errors() as exc:
            raise self._translate(exc, service, operation) from exc

    async def paginate_ahead(self, service: str, operation: str, key: str,
                             **params: Any) -> list[dict[str, Any]]:
        """As `paginate`, for an XML list whose pages are slow to parse (DescribeDBSnapshots):
        each next page is requested while botocore parses the last (services/read_ahead.py).
        The same pages, in the same order; a list that does not page by Marker in XML (a
        JSON service's, EC2's) is read as `paginate` reads it."""
        return await asyncio.to_thread(self._paginate_ahead_sync, service, operation, key,
                                       params)

    def _paginate_ahead_sync(self, service: str, operation: str, key: str,
                             params: dict[str, Any]) -> list[dict[str, Any]]:
        from vwtui.services.read_ahead import can_read_ahead, pages_ahead

        try:
            client = self.client(service)
            if not can_read_ahead(client, operation):
                return self._paginate_sync(service, operation, key, params)
            items: list[dict[str, Any]] = []
            for page in pages_ahead(client, _snake(operation), params, items=key):
                items.extend(page.get(key, []))
            return items
        except _botocore_errors() as exc:
            raise self._translate(exc, service, operation) from exc

    async def pages(self, service: str, operation: str, key: str, *, read_ahead: bool = False,
                    **params: Any) -> AsyncIterator[list[dict[str, Any]]]:
        """The items under `key` page by page, each page as soon as it arrives (one thread
        hop per page): a long list can be shown from its first page. Stopping the iteration
        (or cancelling its task) reads no further page (`read_ahead`: at most the one already
        asked for). `read_ahead`: each next page asked for while the last is parsed, as
        `paginate_ahead`."""
        stop = threading.Event()  # a read-ahead sends no request once the reader has gone

        def first() -> Any:
            try:
                client = self.client(service)
                if read_ahead:
                    from vwtui.services.read_ahead import can_read_ahead, pages_ahead

                    if can_read_ahead(client, operation):
                        return pages_ahead(client, _snake(operation), params, items=key,
                                           stop=stop)
                paginator = client.get_paginator(_snake(operation))
                return iter(paginator.paginate(**params))
            except _botocore_errors() as exc:
                raise self._translate(exc, service, operation) from exc

        done = object()

        def following(iterator: Any) -> Any:
            try:
                return next(iterator, done)
            except _botocore_errors() as exc:
                raise self._translate(exc, service, operation) from exc

        iterator = await asyncio.to_thread(first)
        try:
            while True:
                page = await asyncio.to_thread(following, iterator)
                if page is done:
                    return
                yield page.get(key, [])
        finally:
            stop.set()
            close = getattr(iterator, "close", None)
            try:
                if close is not None:  # a read-ahead's requests pool goes with it
                    close()
            except ValueError:  # still running in its thread (a cancelled task): it ends there
                pass

    # ---- identity -------------------------------------------------------------------------

    async def caller_identity(self) -> CallerIdentity:
        """sts:GetCallerIdentity: who vwtui is acting as."""
        data = await self.call("sts", "GetCallerIdentity")
        return CallerIdentity(account=data["Account"], arn=data["Arn"], user_id=data["UserId"])

    # ---- RDS ------------------------------------------------------------------------------

    async def instance(self, identifier: str) -> Instance:
        """rds:DescribeDBInstances for one instance."""
        data = await self.call("rds", "DescribeDBInstances", DBInstanceIdentifier=identifier)
        found = data.get("DBInstances", [])
        if not found:
            raise NotFound(f"No RDS instance named {identifier}.", operation="DescribeDBInstances")
        return self._remember(instance_from(found[0]))

    def _remember(self, instance: Instance) -> Instance:
        if instance.arn:
            self._arns[instance.identifier.lower()] = instance.arn
        return instance

    async def _arns_of(self, instances: Iterable[str]) -> list[str]:
        """The ARNs of these DB instances, for the ByResourceArn filters: as an instance read
        gave them, else spelled from the caller's account and partition (sts:GetCallerIdentity,
        once; it needs no permission), so neither rds:DescribeDBInstances nor the instance
        itself is needed: a deleted instance's backups keep its ARN."""
        names = list(dict.fromkeys(n.lower() for n in instances if n))
        if any(n not in self._arns for n in names):
            prefix = await self._rds_arn_prefix()
            for name in names:
                self._arns.setdefault(name, f"{prefix}:db:{name}")
        return [self._arns[n] for n in names]

    async def _rds_arn_prefix(self) -> str:
        """arn:PARTITION:rds:REGION:ACCOUNT of this session."""
        if self._arn_prefix is None:
            identity = await self.caller_identity()
            parts = identity.arn.split(":")
            partition = parts[1] if len(parts) > 1 and parts[0] == "arn" else "aws"
            region = await asyncio.to_thread(lambda: self.client("rds").meta.region_name)
            self._arn_prefix = f"arn:{partition}:rds:{region}:{identity.account}"
        return self._arn_prefix

    async def instance_arn(self, identifier: str) -> str:
        """The instance's ARN: rds:DescribeDBInstances the first time, then remembered."""
        known = self._arns.get(identifier.lower())
        if known is not None:
            return known
        return (await self.instance(identifier)).arn

    async def instance_exists(self, identifier: str) -> bool:
        """rds:DescribeDBInstances, answering whether the identifier is taken."""
        try:
            await self.instance(identifier)
        except NotFound:
            return False
        return True

    async def instances(self) -> list[Instance]:
        """rds:DescribeDBInstances, every instance in the region (paginated)."""
        items = await self.paginate("rds", "DescribeDBInstances", "DBInstances")
        return [instance_from(item) for item in items]

    async def pitr_window(self, identifier: str) -> PitrWindow:
        """rds:DescribeDBInstanceAutomatedBackups: the instance's RestoreWindow.

        An RDS instance reports only LatestRestorableTime; the earliest restorable time is on
        its automated-backups record.
        """
        items = await self.paginate("rds", "DescribeDBInstanceAutomatedBackups",
                                    "DBInstanceAutomatedBackups",
                                    DBInstanceIdentifier=identifier)
        # The live instance's record is "active"; retained ones from deleted instances are not.
        fallback = items[0] if items else None
        record = next((i for i in items if i.get("Status") == "active"), fallback)
        if record is None:
            return PitrWindow(identifier, None, None, 0)
        window = record.get("RestoreWindow") or {}
        return PitrWindow(
            instance_identifier=identifier,
            earliest=_aware(window.get("EarliestTime")),
            latest=_aware(window.get("LatestTime")),
            retention_days=int(record.get("BackupRetentionPeriod") or 0),
        )

    async def snapshots(self, identifier: str, snapshot_type: str | None = None, *,
                        read_ahead: bool = False) -> list[Snapshot]:
        """rds:DescribeDBSnapshots for one instance (paginated), newest first.

        `snapshot_type` is "automated", "manual" or None for both. `read_ahead`: each next
        page asked for while the last is parsed (`paginate_ahead`): every page, in half the
        time on a long list.
        """
        params: dict[str, Any] = {"DBInstanceIdentifier": identifier}
        if snapshot_type:
            params["SnapshotType"] = snapshot_type
        read = self.paginate_ahead if read_ahead else self.paginate
        items = await read("rds", "DescribeDBSnapshots", "DBSnapshots", **params)
        snaps = [snapshot_from(item) for item in items]
        return sorted(snaps, key=_newest_key, reverse=True)

    async def snapshot_pages(self, identifier: str,
                             snapshot_type: str | None = None) -> AsyncIterator[list[Snapshot]]:
        """rds:DescribeDBSnapshots for one instance, page by page as the pages arrive (in
        AWS's order: sort what has arrived to show it), each next page asked for while the last
        is parsed (services/read_ahead.py)."""
        params: dict[str, Any] = {"DBInstanceIdentifier": identifier}
        if snapshot_type:
            params["SnapshotType"] = snapshot_type
        async for items in self.pages("rds", "DescribeDBSnapshots", "DBSnapshots",
                                      read_ahead=True, **params):
            yield [snapshot_from(item) for item in items]

    async def snapshot(self, snapshot_id: str) -> Snapshot:
        """rds:DescribeDBSnapshots for one snapshot identifier."""
        data = await self.call("rds", "DescribeDBSnapshots", DBSnapshotIdentifier=snapshot_id)
        found = data.get("DBSnapshots", [])
        if not found:
            raise NotFound(f"No DB snapshot named {snapshot_id}.", operation="DescribeDBSnapshots")
        return snapshot_from(found[0])

    async def rds_events(self, identifier: str, *, hours: int = 24 * 7) -> list[RdsEvent]:
        """rds:DescribeEvents for one DB instance over the last `hours` (max 14 days).

        Newest first.
        """
        items = await self.paginate("rds", "DescribeEvents", "Events",
                                    SourceIdentifier=identifier, SourceType="db-instance",
                                    Duration=min(hours, 24 * 14) * 60)
        events = [
            RdsEvent(time=_aware(e.get("Date")) or utcnow(),
                     source_identifier=e.get("SourceIdentifier", identifier),
                     source_type=e.get("SourceType", "db-instance"),
                     message=e.get("Message", ""),
                     categories=tuple(e.get("EventCategories", [])))
            for e in items
        ]
        return sorted(events, key=lambda e: e.time, reverse=True)

    # ---- AWS Backup -----------------------------------------------------------------------

    async def recovery_points(self, vault: str, *, created_after: datetime | None = None,
                              resource_arn: str | None = None) -> list[RecoveryPoint]:
        """backup:ListRecoveryPointsByBackupVault (paginated, filtered on the server by age
        and, with `resource_arn`, by resource: ByResourceArn).

        Newest first.
        """
        params: dict[str, Any] = {"BackupVaultName": vault}
        if created_after is not None:
            params["ByCreatedAfter"] = created_after
        if resource_arn:
            params["ByResourceArn"] = resource_arn
        items = await self.paginate("backup", "ListRecoveryPointsByBackupVault", "RecoveryPoints",
                                    **params)
        points = [recovery_point_from(item, vault) for item in items]
        return sorted(points, key=_newest_key, reverse=True)

    async def recovery_points_of(self, vault: str, instances: Iterable[str], *,
                                 created_after: datetime | None = None) -> list[RecoveryPoint]:
        """The recovery points of these RDS instances in `vault`, newest first: one
        backup:ListRecoveryPointsByBackupVault ByResourceArn per instance, at once (a shared
        vault's other resources are never read). The ARNs come from rds:DescribeDBInstances
        (once per instance and session)."""
        arns = await self._arns_of(instances)
        found = await asyncio.gather(*(
            self.recovery_points(vault, created_after=created_after, resource_arn=arn)
            for arn in arns))
        points = [p for points in found for p in points]
        return sorted(points, key=_newest_key, reverse=True)

    async def backup_jobs(self, *, vault: str | None = None, state: str | None = None,
                          created_after: datetime | None = None,
                          resource_arn: str | None = None) -> list[BackupJob]:
        """backup:ListBackupJobs filtered on the server by vault, state, age and resource
        (ByResourceArn); newest first."""
        params: dict[str, Any] = {}
        if vault:
            params["ByBackupVaultName"] = vault
        if state:
            params["ByState"] = state
        if created_after is not None:
            params["ByCreatedAfter"] = created_after
        if resource_arn:
            params["ByResourceArn"] = resource_arn
        items = await self.paginate("backup", "ListBackupJobs", "BackupJobs", **params)
        jobs = [backup_job_from(item) for item in items]
        return sorted(jobs, key=_newest_key, reverse=True)

    async def backup_jobs_of(self, instances: Iterable[str], *, vault: str | None = None,
                             state: str | None = None,
                             created_after: datetime | None = None) -> list[BackupJob]:
        """The backup jobs of these RDS instances, newest first: one backup:ListBackupJobs
        ByResourceArn per instance, at once, with the other filters on the server too."""
        arns = await self._arns_of(instances)
        found = await asyncio.gather(*(
            self.backup_jobs(vault=vault, state=state, created_after=created_after,
                             resource_arn=arn)
            for arn in arns))
        jobs = [j for jobs in found for j in jobs]
        return sorted(jobs, key=_newest_key, reverse=True)

    async def recovery_point(self, vault: str, arn: str) -> RecoveryPoint | None:
        """backup:DescribeRecoveryPoint: one recovery point by its ARN in `vault`, None when
        it is not there (deleted, expired, or in another vault). One call, however many
        points a shared vault holds."""
        try:
            data = await self.call("backup", "DescribeRecoveryPoint", BackupVaultName=vault,
                                   RecoveryPointArn=arn)
        except NotFound:
            return None
        return recovery_point_from(data, vault)

    async def restore_job(self, job_id: str) -> RestoreJob:
        """backup:DescribeRestoreJob."""
        data = await self.call("backup", "DescribeRestoreJob", RestoreJobId=job_id)
        return restore_job_from(data)

    # ---- CloudWatch -----------------------------------------------------------------------

    async def alarms(self, names: Iterable[str]) -> list[Alarm]:
        """cloudwatch:DescribeAlarms by name; a configured alarm that does not exist is
        returned with exists=False so the screen can say so."""
        wanted = [n for n in names if n]
        if not wanted:
            return []
        items = await self.paginate("cloudwatch", "DescribeAlarms", "MetricAlarms",
                                    AlarmNames=wanted)
        by_name = {item["AlarmName"]: alarm_from(item) for item in items}
        return [
            by_name.get(name) or Alarm(name=name, state=AlarmState.INSUFFICIENT_DATA,
                                       reason="No alarm with this name exists.", updated=None,
                                       metric=None, namespace=None, threshold=None, exists=False)
            for name in wanted
        ]


    # ---- backup verification: plan, SNS, EventBridge, replication (issue 4) ---------------

    def prepare(self, services: Iterable[str]) -> None:
        """Make the session and the clients for `services` now, before any call (no AWS call
        is made), so concurrent calls do not queue on client creation; an unknown profile
        becomes CredentialsError here rather than one error per call."""
        from botocore.exceptions import BotoCoreError

        for name in services:
            try:
                self.client(name)
            except BotoCoreError as exc:
                raise self._translate(exc, name, "CreateClient") from None

    async def backup_plan(self, name: str) -> BackupPlan | None:
        """backup:ListBackupPlans (paginated) to find the plan by name, then backup:GetBackupPlan.

        None when no plan has this name.
        """
        plans = await self.paginate("backup", "ListBackupPlans", "BackupPlansList")
        found = next((p for p in plans if p.get("BackupPlanName") == name), None)
        if found is None:
            return None
        data = await self.call("backup", "GetBackupPlan", BackupPlanId=found["BackupPlanId"])
        return backup_plan_from(data)

    async def sns_topic(self, name: str) -> SnsTopic:
        """sns:ListTopics (paginated) to find the topic by name, then
        sns:ListSubscriptionsByTopic (paginated). A missing topic comes back with arn=None."""
        topics = await self.paginate("sns", "ListTopics", "Topics")
        arn = next((t["TopicArn"] for t in topics
                    if t.get("TopicArn", "").rsplit(":", 1)[-1] == name), None)
        if arn is None:
            return SnsTopic(name=name, arn=None)
        subs = await self.paginate("sns", "ListSubscriptionsByTopic", "Subscriptions",
                                   TopicArn=arn)
        return SnsTopic(name=name, arn=arn, subscriptions=tuple(
            SnsSubscription(arn=s.get("SubscriptionArn", ""), protocol=s.get("Protocol", ""),
                            endpoint=s.get("Endpoint", "")) for s in subs))

    async def eventbridge_rules(self, *, source: str | None = None) -> list[EventRule]:
        """events:ListRules (paginated) on the default bus, then events:ListTargetsByRule
        (paginated, concurrently) for each rule kept. With `source` (e.g. "aws.backup") only
        the rules whose event pattern names that source are kept."""
        rules = await self.paginate("events", "ListRules", "Rules")
        if source is not None:
            rules = [r for r in rules if _pattern_names_source(r.get("EventPattern"), source)]
        targets = await asyncio.gather(*(
            self.paginate("events", "ListTargetsByRule", "Targets", Rule=r["Name"])
            for r in rules))
        return [
            EventRule(name=r["Name"], arn=r.get("Arn", ""), state=r.get("State", "UNKNOWN"),
                      event_pattern=r.get("EventPattern"),
                      targets=tuple(t["Arn"] for t in found if t.get("Arn")))
            for r, found in zip(rules, targets, strict=True)
        ]

    async def cloudtrail_trails(self) -> list[Trail]:
        """cloudtrail:DescribeTrails (shadow trails too: an organisation or multi-region trail
        made elsewhere shows in every region), then cloudtrail:GetTrailStatus and
        cloudtrail:GetEventSelectors of each, concurrently."""
        data = await self.call("cloudtrail", "DescribeTrails", includeShadowTrails=True)
        found = data.get("trailList") or []

        async def one(item: dict[str, Any]) -> Trail:
            arn = item.get("TrailARN") or item.get("Name", "")
            status, selectors = await asyncio.gather(
                self.call("cloudtrail", "GetTrailStatus", Name=arn),
                self.call("cloudtrail", "GetEventSelectors", TrailName=arn))
            return trail_from(item, status, selectors)

        return list(await asyncio.gather(*(one(item) for item in found)))

    async def instance_with_replications(
            self, identifier: str) -> tuple[Instance, tuple[str, ...]]:
        """rds:DescribeDBInstances for one instance, with the ARNs of its automated backups
        replicated to another region (DBInstanceAutomatedBackupsReplications; empty when none),
        in one call."""
        data = await self.call("rds", "DescribeDBInstances", DBInstanceIdentifier=identifier)
        found = data.get("DBInstances", [])
        if not found:
            raise NotFound(f"No RDS instance named {identifier}.", operation="DescribeDBInstances")
        replications = tuple(
            r["DBInstanceAutomatedBackupsArn"]
            for r in found[0].get("DBInstanceAutomatedBackupsReplications") or []
            if r.get("DBInstanceAutomatedBackupsArn"))
        return self._remember(instance_from(found[0])), replications

    # ---- PostgreSQL IAM authentication ---------------------------------------------------

    async def rds_auth_token(self, host: str, port: int, user: str) -> str:
        """rds:GenerateDBAuthToken (signed locally, no request): a 15-minute IAM password for
        `user` at the RDS endpoint `host`:`port`. Keep it in memory only."""
        def sign() -> str:
            try:
                return str(self.client("rds").generate_db_auth_token(
                    DBHostname=host, Port=port, DBUsername=user, Region=self.region))
            except _botocore_errors() as exc:
                raise self._translate(exc, "rds", "GenerateDBAuthToken") from exc

        return await asyncio.to_thread(sign)


def _botocore_errors() -> tuple[type[Exception], ...]:
    """What a boto3 call raises that `translate` turns into the project's errors: botocore's
    own, a reply it could not parse, and a web page refused before parsing."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    return ClientError, BotoCoreError, ResponseParserError, NotAwsAnswer


def _refuse_web_pages(response_dict: dict[str, Any], **_: Any) -> None:
    """botocore's before-parse hook: a web page where an AWS answer should be (a proxy's login
    page, a web server at the endpoint's address) is refused, not parsed: parsed, a 200 page
    reads as an empty list to the JSON services and a KeyError to the XML ones."""
    body = response_dict.get("body")
    if isinstance(body, bytes) and looks_like_html(body):
        raise NotAwsAnswer(int(response_dict.get("status_code") or 0))


def _snake(operation: str) -> str:
    """DescribeDBInstances -> describe_db_instances, as botocore names client methods."""
    from botocore import xform_name
    return xform_name(operation)
