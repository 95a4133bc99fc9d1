"""The RDS half of the shim: what moto's RDS lacks, spoken in the query protocol (XML).

- DescribeDBInstanceAutomatedBackups with a RestoreWindow (earliest = now - retention days,
  latest = now - 5 minutes, advancing in 5-minute steps as the sandbox clock runs);
  DBInstance.LatestRestorableTime agrees with it.
- DescribeEvents over seeded events and the events of what was done in the sandbox, filtered
  by SourceIdentifier / SourceType / EventCategories / Duration / StartTime / EndTime, paged.
- DescribeDBSnapshots paged like AWS (MaxRecords 20..100, Marker).
- RestoreDBInstanceToPointInTime refuses a RestoreTime outside the window (InvalidRestoreFault);
  restored instances stay "creating" for `restore_seconds`, then turn "available".
- DeleteDBInstance adds its event; an instance still "creating" cannot be deleted or modified.
- Everything moto creates is re-dated to the sandbox clock, so a fixed `now` stays consistent.
- DB instance identifiers in a request are lower-cased before anything reads them, as RDS
  stores them: moto 5.2.5 looks instances up case-insensitively (a CaseInsensitiveDict) but
  keeps the key as spelled, and the shim's own handlers (events, automated backups, restore
  listeners) compared spellings exactly; now `Video-Window` is `video-window` everywhere.

Touches moto 5.2.5 internals (its RDS backend and DBInstance class), so moto is pinned.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from moto.core.serialize import QuerySerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBInstance as MotoDBInstance
from moto.rds.models import Event as MotoEvent
from moto.rds.models import RDSBackend, rds_backends

from vwtui.names import rds_key
from vwtui.sandbox.state import SandboxState, aware, naive, stable_uuid
from vwtui.sandbox.wire import Response, WireRequest, decode_token, encode_token, parse_time

# Only one sandbox runs per process (moto's backends are process-global); the instance class
# below asks it for the restore window.
_active: RdsShim | None = None


class SandboxDBInstance(MotoDBInstance):
    """moto's DBInstance with a LatestRestorableTime that follows the sandbox's restore window.

    Instances are moved into this class one by one (`adopt`), so moto itself is not patched.
    """

    @property
    def latest_restorable_time(self) -> datetime | None:  # type: ignore[override]
        if _active is None:
            return None
        window = _active.window(self)
        return naive(window[1]) if window else None


# moto's serializer finds some fields by stripping the class name from the shape's member
# name (DBInstanceIdentifier -> Identifier); keep the name it knows.
SandboxDBInstance.__name__ = "DBInstance"


def adopt(db: MotoDBInstance) -> None:
    if type(db) is MotoDBInstance:
        # moto's CloudFormationModel declares @abstractmethods that DBInstance leaves out, so
        # mypy calls it abstract; it is not an ABC and is instantiated as it is.
        db.__class__ = SandboxDBInstance  # type: ignore[type-abstract]


@dataclass
class SandboxEvent(MotoEvent):
    """An RDS event with a message and time of our choosing (moto's takes them from a table).

    A subclass of moto's, so it belongs in the backend's event list; its fields replace the
    ones moto's __init__ would set.
    """

    source_identifier: str
    source_type: str
    message: str
    event_categories: list[str]
    source_arn: str
    date: datetime  # naive UTC, like moto's


@dataclass
class _Census:
    """What moto's RDS backend held before a call (objects kept alive, so ids stay unique)."""

    databases: dict[int, Any]
    snapshots: dict[int, Any]
    events: int


# Request parameters that name a DB instance (RDS stores and compares them in lower case);
# SourceIdentifier only names one in DescribeEvents with SourceType db-instance.
IDENTIFIER_PARAMS = ("DBInstanceIdentifier", "TargetDBInstanceIdentifier",
                     "SourceDBInstanceIdentifier", "NewDBInstanceIdentifier")
# What each mutating call creates or changes (the request log's resources); any other
# mutating call changes its DBInstanceIdentifier.
CHANGED_BY = {
    "RestoreDBInstanceToPointInTime": ("TargetDBInstanceIdentifier",),
    "ModifyDBInstance": ("DBInstanceIdentifier", "NewDBInstanceIdentifier"),
    # An ARN: its last ":"-part is the instance (a tag change counts as a change of it).
    "AddTagsToResource": ("ResourceName",),
    "RemoveTagsFromResource": ("ResourceName",),
}


# moto's restores copy nearly every setting of the source; RDS does not: what the request does
# not give is RDS's default (its RestoreDBInstance* docs: single-AZ, the default parameter
# group; no deletion protection, log exports or IAM auth unless asked; a maintenance window of
# its choosing; enhanced monitoring off). The shim resets them, so a restore that does not carry
# the source's settings shows it, as it would on AWS.
_AWS_DEFAULTS_ON_RESTORE = {"RestoreDBInstanceToPointInTime": "TargetDBInstanceIdentifier",
                            "RestoreDBInstanceFromDBSnapshot": "DBInstanceIdentifier"}
_RESTORE_DEFAULTS: dict[str, tuple[str, Any]] = {
    "MultiAZ": ("multi_az", False),
    "DBParameterGroupName": ("db_parameter_group_name", None),
    "DeletionProtection": ("deletion_protection", False),
    "EnableCloudwatchLogsExports": ("enabled_cloudwatch_logs_exports", []),
    "EnableIAMDatabaseAuthentication": ("enable_iam_database_authentication", False),
    "CopyTagsToSnapshot": ("copy_tags_to_snapshot", False),
    "CACertificateIdentifier": ("ca_certificate_identifier", "rds-ca-rsa2048-g1"),
}
_RESTORE_ALWAYS: dict[str, Any] = {
    "preferred_maintenance_window": "wed:06:38-wed:07:08",
    "monitoring_interval": 0,
    "monitoring_role_arn": None,
}


def restore_defaults(db: MotoDBInstance, form: dict[str, str]) -> None:
    """RDS's defaults for what a restore request did not give (see _RESTORE_DEFAULTS)."""
    for param, (attribute, default) in _RESTORE_DEFAULTS.items():
        if not any(key == param or key.startswith(param + ".") for key in form):
            setattr(db, attribute, list(default) if isinstance(default, list) else default)
        elif form.get(param, "").lower() == "false":
            setattr(db, attribute, False)  # moto takes only a true override
    for attribute, value in _RESTORE_ALWAYS.items():
        setattr(db, attribute, value)


def lower_identifiers(request: WireRequest, environ: dict[str, Any]) -> WireRequest:
    """The request with its DB instance identifiers lower-cased, as RDS reads them; the
    environ's body replaced too, so moto reads the same. ARNs are left as they are."""
    if request.protocol != "query":
        return request
    pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
    instance_events = ("SourceType", "db-instance") in pairs
    changed = False
    out = []
    for key, value in pairs:
        if (key in IDENTIFIER_PARAMS or (key == "SourceIdentifier" and instance_events)) \
                and not value.startswith("arn:") and value != value.lower():
            value = value.lower()
            changed = True
        out.append((key, value))
    if not changed:
        return request
    body = urlencode(out).encode("utf-8")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return dataclasses.replace(request, body=body)


def changed_instances(operation: str, form: dict[str, str]) -> tuple[str, ...]:
    """The DB instances a mutating RDS call creates or changes, normalised (`rds_key`: an
    identifier with stray spaces or a dot still counts as the one it spells)."""
    params = CHANGED_BY.get(operation, ("DBInstanceIdentifier",))
    return tuple(rds_key(form[p].rsplit(":", 1)[-1]) for p in params if form.get(p))


def rds_xml(operation: str, result: Any) -> Response:
    """Serialize a result (or an RDSClientError) as AWS's query protocol would."""
    serializer = QuerySerializer(get_service_model("rds").operation_model(operation),
                                 value_picker=XFormedAttributePicker())
    out = serializer.serialize(result)
    headers = [(k, str(v)) for k, v in out["headers"].items()]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "text/xml"))
    body = out["body"]
    return int(out["status_code"]), headers, body.encode() if isinstance(body, str) else body


def rds_error(operation: str, code: str, message: str) -> Response:
    return rds_xml(operation, RDSClientError(code, message))


class RdsShim:
    """RDS handlers and bookkeeping; every method runs under the sandbox lock."""

    STEP = timedelta(minutes=5)

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        # Restored instances still "creating": identifier -> when they become available.
        self.pending: dict[str, datetime] = {}
        # DescribeDBSnapshots' last answer (question, census, snapshots), for its next pages;
        # `snapshot_changes` counts calls that went to moto (any of them may change snapshots).
        self._snapshot_cursor: tuple[Any, Any, list[Any]] | None = None
        self.snapshot_changes = 0

    def activate(self) -> None:
        global _active
        _active = self

    def deactivate(self) -> None:
        global _active
        if _active is self:
            _active = None

    @property
    def backend(self) -> RDSBackend:
        return rds_backends[self.state.account][self.state.region]

    # ---- time ------------------------------------------------------------------------------

    def latest_restorable(self) -> datetime:
        """now - 5 min at start, then moving forward in 5-minute steps like RDS log uploads."""
        steps = int(self.state.clock.elapsed() / self.STEP)
        return self.state.clock.start - self.STEP + steps * self.STEP

    def window(self, db: MotoDBInstance) -> tuple[datetime, datetime] | None:
        """(earliest, latest) restorable time of an instance; None without PITR."""
        retention = int(db.backup_retention_period or 0)
        if retention <= 0 or db.status == "creating":
            return None
        created = aware(db.instance_create_time)
        latest = max(self.latest_restorable(), created)
        earliest = max(latest + self.STEP - timedelta(days=retention), created)
        return earliest, latest

    # ---- events ----------------------------------------------------------------------------

    def add_event(self, source_identifier: str, message: str, category: str,
                  date: datetime | None = None, source_type: str = "db-instance") -> None:
        resource = {"db-instance": "db", "db-snapshot": "snapshot"}.get(source_type, "db")
        self.backend.events.append(SandboxEvent(
            source_identifier=source_identifier, source_type=source_type, message=message,
            event_categories=[category],
            source_arn=self.state.arn("rds", f"{resource}:{source_identifier}"),
            date=naive(date or self.state.clock.now())))

    # ---- the request cycle -----------------------------------------------------------------

    def advance(self) -> None:
        """Turn restored instances "available" once their restore time has passed."""
        now = self.state.clock.now()
        for identifier, ready_at in list(self.pending.items()):
            if now < ready_at:
                continue
            del self.pending[identifier]
            db = self.backend.databases.get(identifier)
            if db is None or db.status != "creating":
                continue
            db.status = "available"
            self.add_event(identifier, "DB instance restored and available", "availability",
                           ready_at)
            self.add_event(identifier, "Backing up DB instance", "backup", ready_at)
            self.add_event(identifier, "Finished DB Instance backup", "backup",
                           ready_at + timedelta(seconds=1))

    def handle(self, request: WireRequest, call_moto: Any) -> Response:
        """Answer an RDS request: ours, or moto's with the bookkeeping around it."""
        op = request.operation or ""
        own = {
            "DescribeDBInstanceAutomatedBackups": self.describe_automated_backups,
            "DescribeEvents": self.describe_events,
            "DescribeDBSnapshots": self.describe_snapshots,
        }
        if op in own:
            return own[op](request.form())
        refused = self.refuse(op, request.form())
        if refused is not None:
            return refused
        if op == "CreateDBInstanceReadReplica" and request.region:
            self._parameter_group_for_replica(request.region, request.form())
        before = self._census()
        self.snapshot_changes += 1
        response = call_moto()
        self._redate_new(before)
        if response[0] != 200:
            return response
        form = request.form()
        if op in _AWS_DEFAULTS_ON_RESTORE:
            target = form.get(_AWS_DEFAULTS_ON_RESTORE[op], "").lower()
            db = self.backend.databases.get(target)
            if db is not None:
                restore_defaults(db, form)
        if op == "RestoreDBInstanceToPointInTime":
            target = form.get("TargetDBInstanceIdentifier", "")
            when = form.get("RestoreTime")
            source = form.get("SourceDBInstanceIdentifier", "")
            moment = parse_time(when) if when else self.latest_restorable()
            message = f"Restored from DB instance {source} to {moment:%Y-%m-%d %H:%M:%S} UTC"
            if moment is not None:
                self.state.restored(target, moment)
            return self._restored(op, target, message, before, form)
        if op == "RestoreDBInstanceFromDBSnapshot":
            snapshot_id = form.get("DBSnapshotIdentifier", "")
            snapshot = self.backend.database_snapshots.get(snapshot_id)
            if snapshot is not None and snapshot.created is not None:
                created = snapshot.created
                self.state.restored(form.get("DBInstanceIdentifier", ""),
                                    created if created.tzinfo else created.replace(tzinfo=UTC))
            message = f"Restored from snapshot {snapshot_id}"
            return self._restored(op, form.get("DBInstanceIdentifier", ""), message, before,
                                  form)
        if op == "DeleteDBInstance":
            identifier = form.get("DBInstanceIdentifier", "")
            self.pending.pop(identifier, None)
            self.add_event(identifier, "DB instance deleted", "deletion")
        if op == "ModifyDBInstance" and form.get("NewDBInstanceIdentifier"):
            new = form["NewDBInstanceIdentifier"].lower()
            self.add_event(new, f"Renamed instance from {form.get('DBInstanceIdentifier')} "
                                f"to {new}", "configuration change")
        return response

    def _parameter_group_for_replica(self, region: str, form: dict[str, str]) -> None:
        """moto fails a cross-region replica of an instance whose custom parameter group does
        not exist in the replica's region (AWS gives the replica that region's default): the
        shim makes the group there first."""
        source = form.get("SourceDBInstanceIdentifier", "").rsplit(":db:", 1)[-1].lower()
        db = self.backend.databases.get(source)
        group = getattr(db, "db_parameter_group_name", None) if db is not None else None
        there = rds_backends[self.state.account][region]
        if not group or group.startswith("default") or group in there.db_parameter_groups:
            return
        mine = self.backend.db_parameter_groups.get(group)
        if mine is not None:
            there.create_db_parameter_group({
                "db_parameter_group_name": group, "db_parameter_group_family": mine.family,
                "description": mine.description, "tags": []})

    def refuse(self, op: str, form: dict[str, str]) -> Response | None:
        """Checks AWS makes that moto does not."""
        identifier = form.get("DBInstanceIdentifier", "")
        busy_ops = {"DeleteDBInstance", "ModifyDBInstance", "RebootDBInstance",
                    "CreateDBSnapshot", "StopDBInstance"}
        db = self.backend.databases.get(identifier)
        if op in busy_ops and db is not None and db.status == "creating":
            return rds_error(op, "InvalidDBInstanceState",
                             f"Instance {identifier} is not in available state: it is still "
                             f"creating.")
        if op == "DeleteDBInstance":
            skip = form.get("SkipFinalSnapshot", "false").lower() == "true"
            if not skip and not form.get("FinalDBSnapshotIdentifier"):
                return rds_error(op, "InvalidParameterCombination",
                                 "FinalDBSnapshotIdentifier is required unless "
                                 "SkipFinalSnapshot is specified.")
        if op == "RestoreDBInstanceToPointInTime":
            return self._check_restore_time(op, form)
        return None

    def _check_restore_time(self, op: str, form: dict[str, str]) -> Response | None:
        when = form.get("RestoreTime")
        use_latest = form.get("UseLatestRestorableTime", "false").lower() == "true"
        if when and use_latest:
            return rds_error(op, "InvalidParameterCombination",
                             "Cannot specify both RestoreTime and UseLatestRestorableTime.")
        source = self.backend.databases.get(form.get("SourceDBInstanceIdentifier", ""))
        if source is None or not when:
            return None  # moto answers DBInstanceNotFound; "latest" needs no check
        try:
            moment = parse_time(when)
        except ValueError:
            return rds_error(op, "InvalidParameterValue", f"Invalid RestoreTime: {when}")
        window = self.window(source)
        if window is None:
            return rds_error(op, "InvalidRestoreFault",
                             f"Point-in-time recovery is not enabled for DB instance "
                             f"{source.db_instance_identifier} (BackupRetentionPeriod is 0).")
        earliest, latest = window
        if moment is None or not earliest <= moment <= latest:
            return rds_error(op, "InvalidRestoreFault",
                             f"Restore time {when} is outside the restorable window of DB "
                             f"instance {source.db_instance_identifier}: it must be between "
                             f"{earliest:%Y-%m-%dT%H:%M:%SZ} and {latest:%Y-%m-%dT%H:%M:%SZ}.")
        return None

    def _census(self) -> _Census:
        backend = self.backend
        return _Census({id(db): db for db in backend.databases.values()},
                       {id(snap): snap for snap in backend.database_snapshots.values()},
                       len(backend.events))

    def _redate_new(self, before: _Census) -> None:
        """Put whatever moto just made on the sandbox clock (moto dates with the wall clock).

        New means a new object: a renamed instance keeps its creation time.
        """
        now = naive(self.state.clock.now())
        backend = self.backend
        for db in backend.databases.values():
            if id(db) not in before.databases:
                adopt(db)
                db.created = db.instance_create_time = now
        for identifier, snap in list(backend.database_snapshots.items()):
            if id(snap) in before.snapshots:
                continue
            snap.created = snap.original_snapshot_create_time = now
            if snap.snapshot_type == "automated":
                name = f"rds:{snap.db_instance_identifier}-{now:%Y-%m-%d-%H-%M}"
                if name not in backend.database_snapshots:
                    del backend.database_snapshots[identifier]
                    snap.db_snapshot_identifier = name
                    backend.database_snapshots[name] = snap
        for event in backend.events[before.events:]:
            event.date = now

    def _restored(self, op: str, target: str, message: str, before: _Census,
                  form: dict[str, str]) -> Response:
        """A restore moto finished at once: make it take `restore_seconds`, as RDS would."""
        databases = self.backend.databases
        db = databases.get(target.lower()) or databases[target]
        # RDS restores without deletion protection unless the request asks for it; moto copies
        # the source's.
        db.deletion_protection = form.get("DeletionProtection", "").lower() == "true"
        self.start_creating(db, message, drop_events_from=before.events)
        return rds_xml(op, {"DBInstance": db})

    def start_creating(self, db: MotoDBInstance, message: str, drop_events_from: int) -> None:
        """Status "creating" until restore_seconds have passed; moto's events replaced by ours."""
        del self.backend.events[drop_events_from:]
        adopt(db)
        now = self.state.clock.now()
        db.status = "creating"
        self.pending[db.db_instance_identifier] = now + timedelta(
            seconds=self.state.restore_seconds)
        self.add_event(db.db_instance_identifier, "DB instance created", "creation", now)
        self.add_event(db.db_instance_identifier, message, "restoration", now)

    def create_instance(self, kwargs: dict[str, Any], message: str) -> MotoDBInstance:
        """Make an instance straight in moto's backend (AWS Backup restores), then "creating"."""
        before = self._census()
        db = self.backend.create_db_instance(kwargs)
        self._redate_new(before)
        self.start_creating(db, message, drop_events_from=before.events)
        return db

    # ---- our own answers -------------------------------------------------------------------

    def describe_automated_backups(self, form: dict[str, str]) -> Response:
        op = "DescribeDBInstanceAutomatedBackups"
        identifier = form.get("DBInstanceIdentifier")
        records = []
        for db in self.backend.databases.values():
            if identifier and db.db_instance_identifier != identifier:
                continue
            window = self.window(db)
            if window is None:
                continue
            records.append(self._automated_backup(db, window))
        if identifier and not records:
            return rds_error(op, "DBInstanceAutomatedBackupNotFound",
                             f"No automated backups found for DB instance {identifier}.")
        try:
            page, marker = _page(records, form)
        except _BadPaging as exc:
            return rds_error(op, "InvalidParameterValue", str(exc))
        return rds_xml(op, {"DBInstanceAutomatedBackups": page, "Marker": marker})

    def _automated_backup(self, db: MotoDBInstance, window: tuple[datetime, datetime]) -> dict:
        identifier = db.db_instance_identifier
        return {
            "DBInstanceArn": db.arn,
            "DbiResourceId": db.dbi_resource_id,
            "Region": self.state.region,
            "DBInstanceIdentifier": identifier,
            "RestoreWindow": {"EarliestTime": naive(window[0]), "LatestTime": naive(window[1])},
            "AllocatedStorage": db.allocated_storage,
            "Status": "active",
            "Port": db.port,
            "AvailabilityZone": db.availability_zone,
            "InstanceCreateTime": db.instance_create_time,
            "MasterUsername": db.master_username,
            "Engine": db.engine,
            "EngineVersion": db.engine_version,
            "LicenseModel": db.license_model,
            "Encrypted": bool(db.storage_encrypted),
            "StorageType": db.storage_type,
            "KmsKeyId": db.kms_key_id,
            "IAMDatabaseAuthenticationEnabled": False,
            "BackupRetentionPeriod": db.backup_retention_period,
            "DBInstanceAutomatedBackupsArn": self.state.arn(
                "rds", f"auto-backup:ab-{stable_uuid('auto-backup', identifier)[:26]}"),
            "BackupTarget": "region",
        }

    def describe_events(self, form: dict[str, str]) -> Response:
        op = "DescribeEvents"
        source_id = form.get("SourceIdentifier")
        source_type = form.get("SourceType")
        if source_id and not source_type:
            return rds_error(op, "InvalidParameterCombination",
                             "Cannot specify source identifier without source type")
        now = self.state.clock.now()
        try:
            end = parse_time(form.get("EndTime")) or now
            start = parse_time(form.get("StartTime"))
        except ValueError as exc:
            return rds_error(op, "InvalidParameterValue", f"Invalid time: {exc}")
        if start is None:
            minutes = int(form.get("Duration") or 60)
            start = end - timedelta(minutes=minutes)
        categories = {v for k, v in form.items() if k.startswith("EventCategories.")}
        events = [
            e for e in self.backend.events
            if (not source_id or e.source_identifier == source_id)
            and (not source_type or e.source_type == source_type)
            and (not categories or categories & set(e.event_categories))
            and start <= aware(e.date) <= end
        ]
        events.sort(key=lambda e: e.date)
        try:
            page, marker = _page(events, form)
        except _BadPaging as exc:
            return rds_error(op, "InvalidParameterValue", str(exc))
        return rds_xml(op, {"Events": page, "Marker": marker})

    def describe_snapshots(self, form: dict[str, str]) -> Response:
        op = "DescribeDBSnapshots"
        # A later page (Marker) of the same question reuses the first page's answer while the
        # snapshots are unchanged, as AWS's cursor would: moto filters every snapshot of the
        # region on each call, which over a scaled account's 101 pages was seconds of work.
        question = tuple(sorted((k, v) for k, v in form.items()
                                if k not in ("Marker", "MaxRecords", "Action", "Version")))
        census = (len(self.backend.database_snapshots), self.snapshot_changes)
        cached = self._snapshot_cursor
        if form.get("Marker") and cached is not None and cached[:2] == (question, census):
            snapshots = cached[2]
        else:
            try:
                quick = _quick_snapshots(self.backend, form)
                snapshots = quick if quick is not None else self.backend.describe_db_snapshots(
                    form.get("DBInstanceIdentifier"), form.get("DBSnapshotIdentifier"),
                    form.get("SnapshotType"), _filters(form) or None)
            except RDSClientError as exc:
                return rds_xml(op, exc)
            snapshots.sort(key=lambda s: (s.created, s.db_snapshot_identifier))
            self._snapshot_cursor = (question, census, snapshots)
        try:
            page, marker = _page(snapshots, form)
        except _BadPaging as exc:
            return rds_error(op, "InvalidParameterValue", str(exc))
        return snapshots_xml(page, marker)


class _BadPaging(ValueError):
    pass


def _page(items: list[Any], form: dict[str, str]) -> tuple[list[Any], str | None]:
    """AWS paging for RDS describe calls: MaxRecords 20..100 (default 100) and a Marker."""
    raw = form.get("MaxRecords")
    size = int(raw) if raw and raw.isdigit() else 100
    if raw and not (raw.isdigit() and 20 <= size <= 100):
        raise _BadPaging(f"Invalid value {raw} for MaxRecords. Must be between 20 and 100")
    offset = decode_token(form.get("Marker"))
    if offset is None:
        raise _BadPaging("The marker is not valid: pass the Marker of the previous page.")
    page = items[offset:offset + size]
    marker = encode_token(offset + size) if offset + size < len(items) else None
    return page, marker


def _filters(form: dict[str, str]) -> dict[str, list[str]]:
    """Filters.Filter.N.Name / Filters.Filter.N.Values.Value.M -> {name: [values]}."""
    names: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for key, value in form.items():
        parts = key.split(".")
        if len(parts) >= 4 and parts[0] == "Filters":
            index = parts[2]
            if parts[3] == "Name":
                names[index] = value
            elif parts[3] == "Values":
                values.setdefault(index, []).append(value)
    return {name: values.get(index, []) for index, name in names.items()}


def _quick_snapshots(backend: RDSBackend, form: dict[str, str]) -> list[Any] | None:
    """DescribeDBSnapshots by instance (and type) without moto's generic filters, which read
    every snapshot's attributes through reflection (0.4 s over a scaled account's 10,000);
    None for any other question (moto answers it)."""
    identifier = form.get("DBInstanceIdentifier")
    kind = form.get("SnapshotType")
    if (not identifier or identifier.startswith("arn:") or form.get("DBSnapshotIdentifier")
            or _filters(form) or kind not in (None, "automated", "manual")):
        return None
    if identifier not in backend.databases:
        return None  # moto's answer: DBInstanceNotFound
    types = (kind,) if kind else ("automated", "manual")
    wanted = identifier.lower()
    return [s for s in backend.database_snapshots.values()
            if s.snapshot_type in types and s.db_instance_identifier.lower() == wanted]


_RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"


def snapshots_xml(page: list[Any], marker: str | None) -> Response:
    """A DescribeDBSnapshots answer, written directly: the same XML as moto's serializer
    (tests/test_sandbox_scale.py compares them), forty times faster, which a 101-page list
    needs."""
    from xml.sax.saxutils import escape

    def when(moment: datetime | None) -> str:
        return "" if moment is None else f"{naive(moment):%Y-%m-%dT%H:%M:%S}Z"

    parts = [f'<DescribeDBSnapshotsResponse xmlns="{_RDS_NS}"><DescribeDBSnapshotsResult>']
    if marker:
        parts.append(f"<Marker>{escape(marker)}</Marker>")
    parts.append("<DBSnapshots>")
    for snap in page:
        parts.append(
            f"<DBSnapshot><DBSnapshotIdentifier>{escape(snap.db_snapshot_identifier)}"
            f"</DBSnapshotIdentifier><DBInstanceIdentifier>"
            f"{escape(snap.db_instance_identifier)}</DBInstanceIdentifier>"
            f"<SnapshotCreateTime>{when(snap.created)}</SnapshotCreateTime>"
            f"<Engine>{escape(snap.engine)}</Engine>"
            f"<AllocatedStorage>{int(snap.allocated_storage)}</AllocatedStorage>"
            f"<Status>{escape(snap.status)}</Status><Port>{int(snap.port)}</Port>"
            f"<InstanceCreateTime>{when(snap.instance_create_time)}</InstanceCreateTime>"
            f"<MasterUsername>{escape(snap.master_username)}</MasterUsername>"
            f"<EngineVersion>{escape(snap.engine_version)}</EngineVersion>"
            f"<SnapshotType>{escape(snap.snapshot_type)}</SnapshotType>"
            f"<Encrypted>{'true' if snap.encrypted else 'false'}</Encrypted>")
        if snap.kms_key_id:
            parts.append(f"<KmsKeyId>{escape(snap.kms_key_id)}</KmsKeyId>")
        parts.append(
            f"<DBSnapshotArn>{escape(snap.arn)}</DBSnapshotArn>"
            f"<IAMDatabaseAuthenticationEnabled>"
            f"{'true' if snap.iam_database_authentication_enabled else 'false'}"
            f"</IAMDatabaseAuthenticationEnabled>"
            f"<DbiResourceId>{escape(snap.dbi_resource_id)}</DbiResourceId>")
        if snap.tags:
            parts.append("<TagList>")
            parts.extend(f"<Tag><Key>{escape(t['Key'])}</Key><Value>{escape(t['Value'])}"
                         f"</Value></Tag>" for t in snap.tags)
            parts.append("</TagList>")
        else:
            parts.append("<TagList/>")
        parts.append(f"<OriginalSnapshotCreateTime>{when(snap.original_snapshot_create_time)}"
                     f"</OriginalSnapshotCreateTime></DBSnapshot>")
    parts.append("</DBSnapshots></DescribeDBSnapshotsResult><ResponseMetadata><RequestId>"
                 "request-id</RequestId></ResponseMetadata></DescribeDBSnapshotsResponse>")
    return 200, [("Content-Type", "text/xml")], "".join(parts).encode("utf-8")
