"""Recovery scenarios and their plans: pure, no I/O.

A plan is the runbook's steps for one scenario (restore, wait, verify, swap, cleanup), each with
the runbook's time estimate and, for every step that changes anything, the exact `aws ...` command
line it amounts to (the dry-run twin shown on screen and written to the journal).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from vwtui import fmt, names
from vwtui import instance_settings as settings_catalog
from vwtui.errors import VwtuiError
from vwtui.services import calls
from vwtui.services.calls import RUN_ID_PLACEHOLDER, retired_identifier

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.model import PitrWindow, RecoveryPoint, Snapshot


class RecoveryInputError(VwtuiError):
    """A recovery input (time, identifier, choice) that cannot be used, with the reason."""

    title = "Cannot use this input"


def _freeze(value: Any) -> Any:
    """A JSON value as held in a request: lists become tuples (hashable, as read)."""
    return tuple(_freeze(v) for v in value) if isinstance(value, list) else value


def _thaw(value: Any) -> Any:
    return [_thaw(v) for v in value] if isinstance(value, tuple) else value


def _pairs(value: object) -> list[tuple[Any, Any]]:
    if not isinstance(value, list):
        return []
    return [(item[0], item[1]) for item in value if isinstance(item, list) and len(item) == 2]


class Scenario(StrEnum):
    PITR = "pitr"
    SNAPSHOT = "snapshot"
    AWS_BACKUP = "aws-backup"
    CROSS_REGION = "cross-region"

    @property
    def label(self) -> str:
        return _SCENARIO_LABELS[self]


_SCENARIO_LABELS = {
    Scenario.PITR: "Scenario 1: point-in-time recovery",
    Scenario.SNAPSHOT: "Scenario 2: snapshot restore",
    Scenario.AWS_BACKUP: "Scenario 3: AWS Backup restore",
    Scenario.CROSS_REGION: "Scenario 4: cross-region disaster recovery",
}


class StepKey(StrEnum):
    """The runbook's steps of a recovery (scenario 4 has only its prerequisites)."""

    PREREQUISITES = "prerequisites"
    RESTORE = "restore"
    WAIT = "wait"
    VERIFY = "verify"
    PARITY = "parity"
    SWAP = "swap"
    CLEANUP = "cleanup"
    # The monthly drill's own steps (no swap in a drill).
    SMOKE = "smoke"
    RTO = "rto"

    # After the swap: the instance now serving is backed up, watched and protected (issue 13).
    PROTECTION = "protection"


class SwapMethod(StrEnum):
    ROUTE53 = "route53"
    RENAME = "rename"


@dataclass(frozen=True, slots=True)
class RecoveryRequest:
    """What the engineer chose: scenario, source, target identifier and the scenario's input.

    `restore_time` is the PITR target (scenario 1); `snapshot_id` scenario 2;
    `recovery_point_arn` scenario 3. `restore_point` is the moment the restored data stands at
    when the chooser already knows it (the snapshot's or recovery point's creation time); the
    run looks it up otherwise. `requested_at` is the one moment the request's names derive from:
    the target identifier's stamp and the rename swap's `<source>-old-` stamp.
    """

    scenario: Scenario
    source: str
    target: str
    incident_time: datetime | None = None
    restore_time: datetime | None = None
    snapshot_id: str | None = None
    recovery_point_arn: str | None = None
    subnet_group: str | None = None
    security_groups: tuple[str, ...] = ()
    instance_class: str | None = None  # None: as the source (AWS's default)
    swap: SwapMethod = SwapMethod.ROUTE53
    dry_run: bool = False
    restore_point: datetime | None = None
    requested_at: datetime | None = None
    # The monthly drill (vwtui.recovery.drill): staging into a test instance, no swap, the test
    # instance deleted at the end. The method the rotation gave when the engineer chose
    # another, and why.
    drill: bool = False
    rotation_method: str | None = None
    override_reason: str | None = None
    # The source instance's settings as read when the request was made (instance_settings
    # keys, normalised values): what the restore carries over. Empty: not read.
    source_settings: tuple[tuple[str, Any], ...] = ()

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping (the journal's record of the request)."""
        return {
            "scenario": self.scenario.value,
            "source": self.source,
            "target": self.target,
            "incident_time": _iso(self.incident_time),
            "restore_time": _iso(self.restore_time),
            "snapshot_id": self.snapshot_id,
            "recovery_point_arn": self.recovery_point_arn,
            "subnet_group": self.subnet_group,
            "security_groups": list(self.security_groups),
            "instance_class": self.instance_class,
            "swap": self.swap.value,
            "dry_run": self.dry_run,
            "restore_point": _iso(self.restore_point),
            "requested_at": _iso(self.requested_at),
            "drill": self.drill,
            "rotation_method": self.rotation_method,
            "override_reason": self.override_reason,
            "source_settings": [[k, _thaw(v)] for k, v in self.source_settings],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> RecoveryRequest:
        """The inverse of `to_json`."""
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return parse_utc(str(value)) if value else None

        def text(key: str) -> str | None:
            value = data.get(key)
            return str(value) if value is not None else None

        groups = data.get("security_groups") or []
        return cls(
            scenario=Scenario(str(data["scenario"])),
            source=str(data["source"]),
            target=str(data["target"]),
            incident_time=when("incident_time"),
            restore_time=when("restore_time"),
            snapshot_id=text("snapshot_id"),
            recovery_point_arn=text("recovery_point_arn"),
            subnet_group=text("subnet_group"),
            security_groups=tuple(str(g) for g in groups) if isinstance(groups, list) else (),
            instance_class=text("instance_class") or None,
            swap=SwapMethod(str(data.get("swap") or SwapMethod.ROUTE53.value)),
            dry_run=bool(data.get("dry_run")),
            restore_point=when("restore_point"),
            requested_at=when("requested_at"),
            drill=bool(data.get("drill")),
            rotation_method=text("rotation_method"),
            override_reason=text("override_reason"),
            source_settings=tuple((str(k), _freeze(v)) for k, v
                                  in _pairs(data.get("source_settings"))),
        )


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One step of a plan. `command` is the `aws ...` line it amounts to (None: no AWS call)."""

    key: StepKey
    title: str
    estimate: timedelta
    mutating: bool
    command: str | None
    notes: tuple[str, ...] = field(default=())


# The runbook's estimates. Scenario 1 takes 1-2 h, scenario 2 1.5-3 h, scenario 3 2-4 h; the
# monthly test gives preparation 5 min, validation 30 min, connection test 15 min, cleanup 10 min;
# scenario 1 says the wait for `available` takes 10-20 minutes. The wait absorbs the difference.
def _minutes(restore: int, wait: int, verify: int, swap: int,
             cleanup: int) -> dict[StepKey, timedelta]:
    return {StepKey.RESTORE: timedelta(minutes=restore), StepKey.WAIT: timedelta(minutes=wait),
            StepKey.VERIFY: timedelta(minutes=verify),
            StepKey.PARITY: timedelta(minutes=PARITY_MINUTES),
            StepKey.SWAP: timedelta(minutes=swap), StepKey.CLEANUP: timedelta(minutes=cleanup)}


# The parity step: a read, and a modify of the new instance when something differs.
PARITY_MINUTES = 5


STEP_ESTIMATES: dict[Scenario, dict[StepKey, timedelta]] = {
    Scenario.PITR: _minutes(5, 20, 30, 15, 10),
    Scenario.SNAPSHOT: _minutes(5, 60, 30, 15, 10),
    Scenario.AWS_BACKUP: _minutes(5, 90, 30, 15, 10),
    Scenario.CROSS_REGION: {StepKey.PREREQUISITES: timedelta(minutes=5)},
}
# Back under protection: a few reads, and the fixes the engineer confirms.
PROTECTION_ESTIMATE = timedelta(minutes=10)

# The runbook's monthly test: preparation 5 min, recovery 60-90 min (restore and wait, as each
# scenario's), validation 30, application connection test 15, RTO 5, cleanup 10.
DRILL_ESTIMATES: dict[StepKey, timedelta] = {StepKey.SMOKE: timedelta(minutes=15),
                                             StepKey.RTO: timedelta(minutes=5)}

STEP_KEYS = (StepKey.RESTORE, StepKey.WAIT, StepKey.VERIFY, StepKey.PARITY, StepKey.SWAP,
             StepKey.PROTECTION, StepKey.CLEANUP)

# The manual items of the runbook's swap ("minimal downtime approach"), ticked by the engineer.
# Those before the swap action must be ticked before it runs; "resume" after it.
SWAP_CHECKLIST_BEFORE: tuple[tuple[str, str], ...] = (
    ("maintenance", "Set maintenance mode"),
    ("stop-connections", "Stop application connections"),
)
SWAP_CHECKLIST_AFTER: tuple[tuple[str, str], ...] = (
    ("resume", "Resume application"),
)

READ_ONLY_PLAN = ("This session is read-only (--read-only or ui.read_only): nothing can be "
                  "changed, so the plan can only run dry (d).")

RENAME_WARNING = ("Renaming changes the instance's endpoint; DNS takes minutes to follow. "
                  "A Route53 UPSERT is the quick swap.")


# ---- inputs --------------------------------------------------------------------------------

def target_identifier(now: datetime, config: Config | None = None,
                      source: str | None = None) -> str:
    """The name of a recovery instance (restore.target_pattern), of `source` (default the
    configured production), at `now` (UTC): by default <source>-recovery-YYYYMMDDHHMM."""
    from vwtui.config import Config

    _require_aware(now, "now")
    config = config or Config()
    return config.target_name(source or config.instances.production, now)


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time with a zone (`Z` or an offset), returned as aware UTC.

    Raises RecoveryInputError naming what is wrong: not ISO 8601, or no zone given.
    """
    cleaned = text.strip()
    if not cleaned:
        raise RecoveryInputError("Type a time in UTC, ISO 8601, e.g. 2025-11-11T10:30:00Z.")
    candidate = cleaned[:-1] + "+00:00" if cleaned[-1] in "zZ" else cleaned
    try:
        moment = datetime.fromisoformat(candidate.replace(" ", "T", 1))
    except ValueError:
        raise RecoveryInputError(
            f"{cleaned!r} is not an ISO 8601 time; type it like 2025-11-11T10:30:00Z.") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RecoveryInputError(
            f"{cleaned!r} has no time zone; add Z for UTC, e.g. {cleaned}Z.")
    return moment.astimezone(UTC)


def check_restore_time(window: PitrWindow, restore_time: datetime, now: datetime) -> datetime:
    """Refuse a PITR target time that cannot be restored to, saying why; return it in UTC.

    Refused: a naive time, a time in the future, a time outside the instance's restore window
    (the message gives the window), or an instance with no window at all (PITR off).
    """
    _require_aware(restore_time, "The restore time")
    _require_aware(now, "now")
    moment = restore_time.astimezone(UTC)
    if moment > now:
        raise RecoveryInputError(
            f"{_fmt(moment)} is in the future (now is {_fmt(now)}); pick a time before the "
            f"incident.")
    if window.earliest is None or window.latest is None:
        raise RecoveryInputError(
            f"{window.instance_identifier} has no point-in-time restore window (automated "
            f"backups off or none yet); use a snapshot restore (scenario 2) instead.")
    if not window.contains(moment):
        side = "before the earliest" if moment < window.earliest else "after the latest"
        raise RecoveryInputError(
            f"{_fmt(moment)} is outside the restore window of {window.instance_identifier}: "
            f"{_fmt(window.earliest)} to {_fmt(window.latest)} ({side} restorable time). "
            f"Pick a time inside it, or use a snapshot restore (scenario 2).")
    return moment


def check_incident_time(incident_time: datetime, restore_time: datetime | None,
                        now: datetime) -> datetime:
    """Refuse an incident time that is naive, in the future, or before the restore time."""
    _require_aware(incident_time, "The incident time")
    moment = incident_time.astimezone(UTC)
    if moment > now:
        raise RecoveryInputError(
            f"The incident time {_fmt(moment)} is in the future (now is {_fmt(now)}).")
    if restore_time is not None and restore_time > moment:
        raise RecoveryInputError(
            f"The restore time {_fmt(restore_time)} is after the incident ({_fmt(moment)}): "
            f"it would restore the damage too. Pick a time before the incident.")
    return moment


def check_snapshot(snapshot: Snapshot, source: str) -> None:
    """A snapshot may restore `source` only if it is one of `source`'s, and available (the
    chooser and the restore step both ask this, in these words)."""
    if not names.same_rds_id(snapshot.instance_identifier or "", source):
        raise RecoveryInputError(f"Snapshot {snapshot.identifier} is of "
                                 f"{snapshot.instance_identifier}, not of {source}; pick one "
                                 f"of {source}.")
    if snapshot.status != "available":
        raise RecoveryInputError(f"Snapshot {snapshot.identifier} is {snapshot.status}, not "
                                 f"available; pick another one.")


def check_recovery_point(point: RecoveryPoint, source: str) -> None:
    """A recovery point may restore `source` only if it is of `source`'s instance, and
    COMPLETED."""
    owner = point.resource_arn.rsplit(":db:", 1)[-1] if ":db:" in point.resource_arn else ""
    if not names.same_rds_id(owner, source):
        raise RecoveryInputError(f"Recovery point {point.arn} is of {point.resource_arn}, not "
                                 f"of {source}; pick one of {source}.")
    if point.status != "COMPLETED":
        raise RecoveryInputError(f"Recovery point {point.arn} is {point.status}, not "
                                 f"COMPLETED; pick another one.")


def implied_rpo(incident_time: datetime, restore_time: datetime) -> timedelta:
    """The data lost by restoring to `restore_time`: incident time minus restore time (>= 0)."""
    _require_aware(incident_time, "The incident time")
    _require_aware(restore_time, "The restore time")
    return max(incident_time - restore_time, timedelta(0))


def check_request(request: RecoveryRequest) -> None:
    """Refuse a request that lacks its scenario's input (or names its own source as target)."""
    if not request.source.strip():
        raise RecoveryInputError("Choose the source instance (production or staging).")
    if request.scenario is Scenario.CROSS_REGION:
        return
    if not request.target.strip():
        raise RecoveryInputError("The new instance needs an identifier.")
    if names.same_rds_id(request.target, request.source):
        raise RecoveryInputError(
            f"The new instance cannot be named {request.source}: that is the source. Use "
            f"{request.source}-recovery-YYYYMMDDHHMM.")
    if request.scenario is Scenario.PITR and request.restore_time is None:
        raise RecoveryInputError("Type the restore time (UTC, ISO 8601) for a PITR restore.")
    if request.scenario is Scenario.SNAPSHOT and not request.snapshot_id:
        raise RecoveryInputError("Pick a snapshot from the snapshots pane.")
    if request.scenario is Scenario.AWS_BACKUP and not request.recovery_point_arn:
        raise RecoveryInputError("Pick a recovery point from the recovery points pane.")


def host_override_note(config: Config, target: str) -> str:
    """Where verify connects when database.host overrides the instance's endpoint."""
    db = config.database
    return (f"Connects to {db.host}:{db.port} (database.host), not to the endpoint of "
            f"{target}: keep it only if it reaches the restored instance; on a bastion inside "
            f"the VPC, leave it empty.")


def no_record_note(source: str) -> str:
    """Why a Route53 swap of `source` changes no DNS."""
    return (f"No DNS record is configured for {source} (production's is dns.record, "
            f"staging's dns.staging_record): the swap changes no DNS. Point the application "
            f"(for a drill, the test environment) at the new endpoint by hand.")


def plan_warnings(request: RecoveryRequest, config: Config) -> tuple[str, ...]:
    """Things the engineer should read before confirming the plan."""
    warnings: list[str] = []
    if request.scenario is Scenario.CROSS_REGION:
        return ()
    if config.ui.read_only:
        warnings.append(READ_ONLY_PLAN)
    if request.drill:
        if request.override_reason:
            warnings.append(f"Method chosen by hand instead of the rotation's "
                            f"{request.rotation_method}: {request.override_reason}")
        return tuple(warnings)
    if request.swap is SwapMethod.ROUTE53 and config.dns_record_for(request.source) is None:
        warnings.append(no_record_note(request.source))
    if request.swap is SwapMethod.RENAME:
        warnings.append(RENAME_WARNING)
        if config.is_protected(request.source):
            warnings.append(
                f"{request.source} is protected: vwtui will refuse to rename it, so the rename "
                f"swap cannot run. Choose the Route53 swap.")
    if config.is_protected(request.source):
        warnings.append(
            f"Cleanup never deletes {request.source} (protected); after a Route53 swap it stays "
            f"running until someone deletes it by hand, or skip cleanup with a reason.")
    return tuple(warnings)


# ---- the source's settings ------------------------------------------------------------------

# Set by vwtui on every restore, whatever the source: the new instance must stay deletable
# by an abort until it serves production (part of the protection step's job after the swap).
DELIBERATE_SETTINGS: dict[str, Any] = {"DeletionProtection": False}
# Carried in RecoveryRequest's own fields (and the plan's lines) already.
_REQUEST_FIELDS = frozenset({"DBInstanceClass", "DBSubnetGroupName", "VpcSecurityGroupIds"})


def restore_path(scenario: Scenario) -> settings_catalog.RestorePath:
    return {Scenario.PITR: settings_catalog.RestorePath.PITR,
            Scenario.SNAPSHOT: settings_catalog.RestorePath.SNAPSHOT}.get(
        scenario, settings_catalog.RestorePath.BACKUP)


def config_overrides(config: Config) -> dict[str, Any]:
    """The settings config sets for a restored instance (instance_settings keys, normalised
    values): these differ from the source on purpose."""
    r = config.restore
    out: dict[str, Any] = {}
    if r.instance_class:
        out["DBInstanceClass"] = r.instance_class
    if r.subnet_group:
        out["DBSubnetGroupName"] = r.subnet_group
    if r.security_groups:
        out["VpcSecurityGroupIds"] = tuple(sorted(r.security_groups))
    if r.multi_az:
        out["MultiAZ"] = r.multi_az == "true"
    if r.parameter_group:
        out["DBParameterGroupName"] = r.parameter_group
    return out


def restore_choices(request: RecoveryRequest,
                    config: Config) -> list[settings_catalog.Chosen]:
    """Every setting the restore sends, with where it came from (none when the source's
    settings were not read: AWS's defaults then)."""
    if not request.source_settings:
        return []
    return settings_catalog.restore_choices(
        dict(request.source_settings), restore_path(request.scenario), config_overrides(config),
        DELIBERATE_SETTINGS)


def restore_extra_params(request: RecoveryRequest, config: Config) -> dict[str, Any]:
    """The restore's parameters beyond the request's own fields, as the API takes them."""
    return {c.key: c.value for c in restore_choices(request, config)
            if c.key not in _REQUEST_FIELDS}


def post_restore_settings(request: RecoveryRequest,
                          config: Config) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """What the restore cannot take, applied by a modify (and tags) once the instance is
    available: (ModifyDBInstance parameters, tags to add)."""
    if not request.source_settings:
        return {}, []
    return settings_catalog.after_restore(dict(request.source_settings),
                                          restore_path(request.scenario),
                                          config_overrides(config))


def settings_notes(request: RecoveryRequest, config: Config) -> tuple[str, ...]:
    """Where the restore's settings come from, and what a modify applies after it."""
    if not request.source_settings:
        return (f"The settings of {request.source} were not read: the restore takes AWS's "
                f"defaults (single-AZ, default parameter group); the parity step compares.",)
    chosen = restore_choices(request, config)
    label = {s.key: s.label for s in settings_catalog.SETTINGS}
    by_origin: dict[str, list[str]] = {}
    for c in chosen:
        by_origin.setdefault(c.origin, []).append(label[c.key])
    names_of = {"source": f"from {request.source}", "config": "from config (restore.*)",
                "vwtui": "set by vwtui"}
    parts = [f"{names_of[o]}: {', '.join(items)}" for o, items in by_origin.items()]
    notes = ["Restore settings " + "; ".join(parts) + "."]
    params, tags = post_restore_settings(request, config)
    after = [p for p in params] + (["tags"] if tags else [])
    if after:
        notes.append("The restore cannot take " + ", ".join(after) + ": a modify-db-instance "
                     "applies them once the instance is available.")
    return tuple(notes)


# ---- AWS CLI twins -------------------------------------------------------------------------
# Thin wrappers over vwtui.services.calls: every line the plan shows is the CLI rendering of
# the very AwsCall the run sends. Values not known yet show as <...> placeholders.

def cli_restore_pitr(config: Config | None, source: str, target: str, restore_time: datetime,
                     subnet_group: str | None, security_groups: Sequence[str],
                     instance_class: str | None, run_id: str = RUN_ID_PLACEHOLDER,
                     settings: Mapping[str, Any] | None = None) -> str:
    """aws rds restore-db-instance-to-point-in-time ... (scenario 1, step 2)."""
    return calls.restore_to_point_in_time(
        source, target, restore_time, subnet_group=subnet_group,
        security_groups=security_groups, instance_class=instance_class,
        run_id=run_id, settings=settings).cli(config)


def cli_restore_snapshot(config: Config | None, snapshot_id: str, target: str,
                         subnet_group: str | None, security_groups: Sequence[str],
                         instance_class: str | None, run_id: str = RUN_ID_PLACEHOLDER,
                         settings: Mapping[str, Any] | None = None) -> str:
    """aws rds restore-db-instance-from-db-snapshot ... (scenario 2, step 2)."""
    return calls.restore_from_snapshot(
        snapshot_id, target, subnet_group=subnet_group, security_groups=security_groups,
        instance_class=instance_class, run_id=run_id, settings=settings).cli(config)


def restore_job_metadata(target: str, instance_class: str | None, subnet_group: str | None,
                         security_groups: Sequence[str],
                         settings: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The runbook's metadata for an RDS restore job (scenario 3, step 2), plus the class and
    the network choices when known. AWS Backup takes every value as a string, a list as a
    JSON-array-encoded string: VpcSecurityGroupIds is '["sg-1","sg-2"]' (AWS Backup developer
    guide, "Restore testing inferred metadata", format for list-typed values; the Aurora
    restore page shows the same in GetRecoveryPointRestoreMetadata's answer). `settings`: the
    source's other settings, in the API's form."""
    metadata = {"DBInstanceIdentifier": target}
    if instance_class:
        metadata["DBInstanceClass"] = instance_class
    metadata["Engine"] = "postgres"
    # The source's settings (MultiAZ among them: never a fixed "false"), as strings.
    for key, value in (settings or {}).items():
        if key not in metadata and key not in _REQUEST_FIELDS:
            metadata[key] = settings_catalog.backup_metadata_value(value)
    if subnet_group:
        metadata["DBSubnetGroupName"] = subnet_group
    if security_groups:
        metadata["VpcSecurityGroupIds"] = json.dumps(list(security_groups),
                                                     separators=(",", ":"))
    return metadata


def cli_start_restore_job(config: Config | None, recovery_point_arn: str, role_arn: str,
                          metadata: Mapping[str, str]) -> str:
    """aws backup start-restore-job ... (scenario 3, step 2)."""
    return calls.start_restore_job(recovery_point_arn, metadata, role_arn=role_arn).cli(config)


def cli_describe_restore_job(config: Config | None, job_id: str) -> str:
    """aws backup describe-restore-job --restore-job-id ... (scenario 3, step 3)."""
    return calls.describe_restore_job(job_id).cli(config)


def cli_wait_available(config: Config | None, identifier: str) -> str:
    """aws rds wait db-instance-available ... (the runbook's wait)."""
    return calls.wait_available_line(config, identifier)


def cli_route53_upsert(config: Config | None, zone_id: str, record: str, value: str,
                       ttl: int) -> str:
    """aws route53 change-resource-record-sets with one CNAME UPSERT (swap, option A)."""
    return calls.upsert_record(zone_id, record, value, ttl=ttl).cli(config)


def cli_rename_instance(config: Config | None, identifier: str, new_identifier: str) -> str:
    """aws rds modify-db-instance --new-db-instance-identifier ... (swap, option B)."""
    return calls.rename_instance(identifier, new_identifier).cli(config)


def cli_delete_instance(config: Config | None, identifier: str, *, now: datetime,
                        skip_final_snapshot: bool = False) -> str:
    """aws rds delete-db-instance ... with a final snapshot unless declined (cleanup)."""
    return calls.delete_instance(identifier, skip_final_snapshot=skip_final_snapshot,
                                 now=now).cli(config)


# ---- the plan ------------------------------------------------------------------------------

def build_plan(request: RecoveryRequest, config: Config, *, zone_id: str | None = None,
               new_endpoint: str | None = None, replaced: str | None = None,
               now: datetime | None = None,
               restore_job_id: str | None = None,
               run_id: str = RUN_ID_PLACEHOLDER) -> tuple[PlannedStep, ...]:
    """The runbook's steps for the request's scenario, with estimates and CLI twins.

    Values not known before the run (the hosted zone id, the new endpoint, the restore job id)
    appear as `<...>` placeholders unless given.
    """
    estimates = STEP_ESTIMATES[request.scenario]
    if request.scenario is Scenario.CROSS_REGION:
        return (PlannedStep(
            StepKey.PREREQUISITES, "Check cross-region prerequisites",
            estimates[StepKey.PREREQUISITES],
            mutating=False, command=None,
            notes=(("Cross-region snapshot copies and a read replica in a second region; the "
                   "runbook's steps for scenario 4 are still to be written."),)),)
    target = request.target
    subnet = request.subnet_group or None
    groups = request.security_groups
    extra = restore_extra_params(request, config)
    restore_notes = settings_notes(request, config)
    if request.scenario is Scenario.PITR:
        restore_time = request.restore_time or datetime(1970, 1, 1, tzinfo=UTC)
        restore = PlannedStep(
            StepKey.RESTORE, f"Restore {request.source} to {_fmt(restore_time)} as {target}",
            estimates[StepKey.RESTORE], True,
            cli_restore_pitr(config, request.source, target, restore_time, subnet, groups,
                             request.instance_class, run_id, extra), notes=restore_notes)
        wait_cmd = cli_wait_available(config, target)
    elif request.scenario is Scenario.SNAPSHOT:
        snapshot = request.snapshot_id or "<snapshot-id>"
        restore = PlannedStep(
            StepKey.RESTORE, f"Restore snapshot {snapshot} as {target}",
            estimates[StepKey.RESTORE], True,
            cli_restore_snapshot(config, snapshot, target, subnet, groups,
                                 request.instance_class, run_id, extra), notes=restore_notes)
        wait_cmd = cli_wait_available(config, target)
    else:
        point = request.recovery_point_arn or "<recovery-point-arn>"
        metadata = restore_job_metadata(target, request.instance_class, subnet, groups, extra)
        restore = PlannedStep(
            StepKey.RESTORE,
            f"Start an AWS Backup restore job of {_short_arn(point)} as {target}",
            estimates[StepKey.RESTORE], True,
            cli_start_restore_job(config, point, config.backup.restore_role_arn, metadata),
            notes=restore_notes)
        wait_cmd = (cli_describe_restore_job(config, restore_job_id or "<restore-job-id>") + "\n"
                    + cli_wait_available(config, target))
    post_params, post_tags = post_restore_settings(request, config)
    wait_mutating = False
    if post_params:
        wait_cmd += "\n" + calls.modify_instance(target, post_params).cli(config)
        wait_mutating = True
    if post_tags:
        wait_cmd += "\n" + calls.add_tags(f"<arn of {target}>", post_tags).cli(config)
        wait_mutating = True
    wait = PlannedStep(StepKey.WAIT, f"Wait until {target} is available",
                       estimates[StepKey.WAIT], wait_mutating,
                       wait_cmd)
    verify_notes = ["Row counts, newest created_at against the restore point, orphaned "
                    "records, indexes."]
    if config.database.host:
        verify_notes.append(host_override_note(config, target))
    verify = PlannedStep(
        StepKey.VERIFY, f"Verify the data of {target} (validation queries)",
        estimates[StepKey.VERIFY],
        False, None, notes=tuple(verify_notes))
    parity = PlannedStep(
        StepKey.PARITY, f"Parity: {target}'s settings against {request.source}'s",
        estimates[StepKey.PARITY], False, None,
        notes=(f"Each setting side by side, with a verdict; a key applies the fixes to "
               f"{target} (modify-db-instance), never to a protected instance.",))
    if request.drill:
        return (restore, wait, _drill_verify(verify, config), parity,
                *_drill_steps(request, config, estimates, now))
    swap = _swap_step(request, config, estimates[StepKey.SWAP], zone_id, new_endpoint, now)
    old = replaced or _replaced(request, now)
    if config.is_protected(old):
        # Never a delete command for a protected instance, not even as a preview.
        cleanup = PlannedStep(
            StepKey.CLEANUP, f"Cleanup: {old} is protected, never deleted here",
            estimates[StepKey.CLEANUP], False, None,
            notes=(f"Skip this step with a reason; delete {old} by hand once it is no longer "
                   f"needed.",))
    else:
        cleanup = PlannedStep(
            StepKey.CLEANUP, f"Delete the replaced instance {old}",
            estimates[StepKey.CLEANUP], True,
            cli_delete_instance(config, old, now=now or datetime.now(UTC)),
            notes=(("Only an instance this recovery created or renamed; type its identifier "
                   "to confirm; a final snapshot unless declined."),))
    return (restore, wait, verify, parity, swap, protection_step(request, config), cleanup)


def protection_step(request: RecoveryRequest, config: Config) -> PlannedStep:
    """Back under protection: the instance now serving is in the AWS Backup plan, keeps its
    automated backups, is watched by the backup alarms and the EventBridge rule, and has
    deletion protection; each fix is shown, confirmed and journaled when found."""
    serving = request.source if request.swap is SwapMethod.RENAME else request.target
    notes = ["Reads only; each fix found (tag or add to the backup plan, put-metric-alarm, "
             "deletion protection, backup retention) is shown as its aws command and runs "
             "only once confirmed (p)."]
    if config.is_protected(serving):
        notes.append(f"{serving} is protected: vwtui never modifies it; fixes to the instance "
                     f"are shown to run by hand.")
    return PlannedStep(StepKey.PROTECTION, f"Back under protection: {serving}",
                       PROTECTION_ESTIMATE, False, None, notes=tuple(notes))


def _drill_verify(verify: PlannedStep, config: Config) -> PlannedStep:
    notes = [*verify.notes, "Every foreign key of the schema checked for orphaned rows "
             "(pg_constraint)."]
    if config.drill.extra_sql:
        notes.append(f"The team's read-only checks of {config.drill.extra_sql} (drill.extra_sql).")
    return PlannedStep(verify.key, verify.title, verify.estimate, False, None, tuple(notes))


def _drill_steps(request: RecoveryRequest, config: Config, estimates: Mapping[StepKey, timedelta],
                 now: datetime | None) -> tuple[PlannedStep, ...]:
    """A drill's steps after verify: the application test, the RTO, and the deletion of its own
    test instance without a final snapshot (the runbook's cleanup). No swap: staging's traffic
    never moves."""
    command = config.drill.smoke_command
    smoke = PlannedStep(
        StepKey.SMOKE, f"Application test on {request.target}", DRILL_ESTIMATES[StepKey.SMOKE],
        False, None,
        notes=((f"Runs: {command} (drill.smoke_command) with PGHOST, PGPORT, PGDATABASE, "
                f"PGUSER and VWTUI_TEST_ENDPOINT set to {request.target}; timeout "
                f"{config.drill.smoke_timeout_seconds:g} s.") if command else
               (f"Built-in test: connect to {request.target} as {config.database.user}, read, "
                f"write and roll back in one transaction (drill.smoke_command is empty)."),))
    rto = PlannedStep(
        StepKey.RTO, f"RTO achieved, against the {config.objectives.rto_hours:g} h target",
        DRILL_ESTIMATES[StepKey.RTO], False, None,
        notes=("The time from the start to the application test passing; the recovery test "
               "log keeps it.",))
    cleanup = PlannedStep(
        StepKey.CLEANUP, f"Delete the test instance {request.target}",
        estimates[StepKey.CLEANUP], True,
        cli_delete_instance(config, request.target, now=now or datetime.now(UTC),
                            skip_final_snapshot=True),
        notes=("Only the test instance this drill created and tagged; type its identifier to "
               "confirm; no final snapshot (the runbook's --skip-final-snapshot).",))
    return (smoke, rto, cleanup)


def _swap_step(request: RecoveryRequest, config: Config, estimate: timedelta,
               zone_id: str | None, new_endpoint: str | None,
               now: datetime | None) -> PlannedStep:
    manual = tuple(label for _, label in SWAP_CHECKLIST_BEFORE + SWAP_CHECKLIST_AFTER)
    record = config.dns_record_for(request.source)
    if request.swap is SwapMethod.ROUTE53 and record is None:
        # No record of this source's own (a staging drill, by default): no DNS call at all.
        title = f"Swap: point the application at {request.target} by hand (no DNS record)"
        return PlannedStep(StepKey.SWAP, title, estimate, False, None,
                           notes=(no_record_note(request.source),
                                  "Manual: " + "; ".join(manual) + "."))
    if request.swap is SwapMethod.ROUTE53:
        assert record is not None
        command = cli_route53_upsert(config, zone_id or f"<zone-id of {config.dns.zone}>",
                                     record,
                                     new_endpoint or f"<endpoint of {request.target}>",
                                     config.dns.ttl)
        title = f"Swap: point {record} at {request.target} (Route53 UPSERT)"
        notes = ("Manual: " + "; ".join(manual) + ".", ("The old record value is kept for "
                 "rollback."))
    else:
        retired = retired_identifier(request.source, name_stamp(request, now))
        command = (cli_rename_instance(config, request.source, retired) + "\n"
                   + cli_rename_instance(config, request.target, request.source))
        title = f"Swap: rename {request.source} to {retired}, {request.target} to {request.source}"
        notes = ("Manual: " + "; ".join(manual) + ".", RENAME_WARNING)
    return PlannedStep(StepKey.SWAP, title, estimate, True, command, notes=notes)


def _replaced(request: RecoveryRequest, now: datetime | None) -> str:
    """The instance the swap replaces: the source, or its retired name after a rename."""
    if request.swap is SwapMethod.RENAME:
        return retired_identifier(request.source, name_stamp(request, now))
    return request.source


def name_stamp(request: RecoveryRequest, now: datetime | None = None) -> datetime:
    """The moment the request's names are stamped with: when it was made (the target's stamp),
    else `now` (a request journaled before requested_at existed), else the current time."""
    return request.requested_at or now or datetime.now(UTC)


def total_estimate(plan: Sequence[PlannedStep]) -> timedelta:
    return sum((step.estimate for step in plan), timedelta(0))


# ---- helpers -------------------------------------------------------------------------------

def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RecoveryInputError(
            f"{what} has no time zone; give it in UTC (ISO 8601 with Z, e.g. "
            f"2025-11-11T10:30:00Z).")


# The writers are fmt's, one for the whole product; the short names keep the call sites.
_iso = fmt.iso
_short_arn = fmt.short_arn


def _fmt(moment: datetime) -> str:
    return fmt.utc(moment, seconds=True, zone=True)
