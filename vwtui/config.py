"""Typed configuration: TOML in (tomllib), TOML out (tomli-w), one clear sentence on error.

Defaults live here, once; `config.example.toml` documents every key with the runbook's values.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import string
import tomllib
import typing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vwtui import names
from vwtui.errors import ConfigError

# More attempts only make a broken call hang longer (botocore backs off exponentially).
MAX_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class AwsConfig:
    region: str = "eu-west-1"
    # Empty: boto3's own chain (AWS_PROFILE, SSO, environment, instance role).
    profile: str = ""
    # Empty: boto3's own chain (AWS_ENDPOINT_URL); set only for a sandbox or a VPC endpoint.
    endpoint_url: str = ""
    # Attempts per call, botocore "standard" retry mode.
    max_attempts: int = 5
    # Second region for cross-region disaster recovery (scenario 4); empty = not configured.
    dr_region: str = ""


@dataclass(frozen=True, slots=True)
class InstancesConfig:
    production: str = "video-window"
    staging: str = "video-window-staging"
    # Never deleted, renamed or modified by vwtui, whatever is typed (production is protected
    # even when left out; staging only when listed, so a drill may rename and retire it).
    protected: tuple[str, ...] = ("video-window", "video-window-staging")


@dataclass(frozen=True, slots=True)
class BackupConfig:
    vault: str = "video-window-backup-vault"
    plan: str = "video-window-database-backup-plan"
    restore_role_arn: str = "arn:aws:iam::123456789012:role/video-window-backup-role"
    max_age_hours: float = 25.0
    retention_days: int = 30
    pitr_window_days: int = 7
    # Newest backup's size may differ from the trailing median by this fraction before it is
    # flagged.
    size_tolerance: float = 0.2
    # RDS automated backup window (PreferredBackupWindow, UTC) and the time of day (UTC) the
    # backup plan's rules run: the runbook's 03:00-04:00 and 05:00.
    backup_window: str = "03:00-04:00"
    plan_schedule_utc: str = "05:00"


@dataclass(frozen=True, slots=True)
class RestoreConfig:
    # Empty: copy from the source instance.
    subnet_group: str = ""
    security_groups: tuple[str, ...] = ()
    instance_class: str = ""
    # The name a recovery instance gets: {source} is the instance recovered from, {time:...}
    # the moment the recovery was requested (UTC, strftime codes).
    target_pattern: str = "{source}-recovery-{time:%Y%m%d%H%M}"
    # Every other setting a restore takes comes from the source instance. These two may be
    # set to differ on purpose (the parity step then says so): "true"/"false", empty = as the
    # source; a DB parameter group name, empty = the source's.
    multi_az: str = ""
    parameter_group: str = ""


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    # Empty: the endpoint of the instance being checked. Set it to reach the database through a
    # tunnel or a proxy from the bastion (the demo points it at its throwaway server).
    host: str = ""
    name: str = "serverpod"
    user: str = "postgres"
    port: int = 5432
    sslmode: str = "require"
    # Use an RDS IAM auth token instead of PGPASSWORD / .pgpass.
    iam_auth: bool = False
    statement_timeout_seconds: int = 30
    connect_timeout_seconds: int = 10


@dataclass(frozen=True, slots=True)
class ObjectivesConfig:
    rto_hours: float = 4.0
    rpo_hours: float = 1.0


@dataclass(frozen=True, slots=True)
class AlarmsConfig:
    backup_age: str = "video-window-backup-age"
    backup_failure: str = "video-window-backup-failure"
    sns_topic: str = "video-window-backup-notifications"


@dataclass(frozen=True, slots=True)
class DnsConfig:
    zone: str = "videowindow.internal."
    # The production application's record: only a recovery of production may repoint it.
    record: str = "db.videowindow.internal."
    # The staging application's record; empty: a recovery of staging changes no DNS.
    staging_record: str = ""
    ttl: int = 60


@dataclass(frozen=True, slots=True)
class UiConfig:
    # Refuse every mutating AWS call in the service layer.
    read_only: bool = False
    # Seconds between dashboard refreshes; 0 turns auto-refresh off.
    refresh_seconds: int = 60
    # Seconds between status polls while a restore runs (instance status, restore job).
    poll_seconds: float = 15.0


@dataclass(frozen=True, slots=True)
class DrillConfig:
    # The name of the monthly drill's test instance: {staging} is the staging instance, {date:...}
    # the day the drill was requested (UTC, strftime codes): the runbook's
    # video-window-test-YYYYMMDD.
    target_pattern: str = "{staging}-test-{date:%Y%m%d}"
    # A PITR drill restores staging to this many minutes ago (the runbook's "1 hour ago").
    restore_minutes_ago: int = 60
    # The application test: a shell command run with PGHOST, PGPORT, PGDATABASE, PGUSER and
    # VWTUI_TEST_ENDPOINT set to the test instance; exit 0 = pass. Empty: vwtui's built-in test
    # (connect, read, write and roll back in one transaction).
    smoke_command: str = ""
    smoke_timeout_seconds: float = 900.0
    # A file of the team's own read-only checks (SELECT ...;), run on the test instance at
    # verify through the read-only session; a row with a non-zero first column fails. Empty:
    # none.
    extra_sql: str = ""


@dataclass(frozen=True, slots=True)
class ContactsConfig:
    # Shown on the recovery screen when the RTO clock passes 75 %, breaches, or a drill fails.
    on_call: str = "DevOps Team: ops-team@craftvideomarketplace.com"
    escalation: str = "CTO"
    incident_response: str = "incident-response@craftvideomarketplace.com"
    aws_support_plan: str = "Business"
    aws_case_priority: str = "Urgent (< 1 hour response for production down)"


@dataclass(frozen=True, slots=True)
class StateConfig:
    # Where journals, the recovery test log and baselines live. Empty: the private XDG state
    # dir (~/.local/state/vwtui, 0700). Set: a shared directory on the bastion, readable by the
    # team's group, so that `vwtui watch` of any of its users can follow a run
    # ($VWTUI_STATE_DIR overrides it).
    dir: str = ""


@dataclass(frozen=True, slots=True)
class Config:
    aws: AwsConfig = field(default_factory=AwsConfig)
    instances: InstancesConfig = field(default_factory=InstancesConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    restore: RestoreConfig = field(default_factory=RestoreConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    objectives: ObjectivesConfig = field(default_factory=ObjectivesConfig)
    alarms: AlarmsConfig = field(default_factory=AlarmsConfig)
    dns: DnsConfig = field(default_factory=DnsConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    drill: DrillConfig = field(default_factory=DrillConfig)
    contacts: ContactsConfig = field(default_factory=ContactsConfig)
    state: StateConfig = field(default_factory=StateConfig)
    # Where it was read from; None for the built-in defaults.
    source: Path | None = field(default=None, compare=False)

    def protected_names(self) -> tuple[str, ...]:
        """Every protected identifier, normalised: production and `protected` (staging when
        listed there, as it is by default)."""
        listed = (self.instances.production, *self.instances.protected)
        return tuple(dict.fromkeys(n for n in map(names.rds_key, listed) if n))

    def is_protected(self, identifier: str) -> bool:
        """Production and anything listed in `protected` are never destroyed, however the
        identifier is spelled (RDS compares identifiers case-insensitively)."""
        wanted = names.rds_key(identifier)
        return bool(wanted) and wanted in self.protected_names()

    def target_name(self, source: str, time: datetime) -> str:
        """The name of the instance a recovery of `source` requested at `time` restores into
        (restore.target_pattern), normalised as RDS stores it."""
        if time.tzinfo is None or time.utcoffset() is None:
            raise ValueError("Config.target_name needs a timezone-aware time (UTC).")
        return _render_target(self.restore.target_pattern, names.rds_id(source),
                              time.astimezone(UTC))

    def drill_target_name(self, date: datetime) -> str:
        """The name of the drill's test instance requested at `date` (drill.target_pattern),
        normalised as RDS stores it."""
        if date.tzinfo is None or date.utcoffset() is None:
            raise ValueError("Config.drill_target_name needs a timezone-aware time (UTC).")
        return names.rds_id(self.drill.target_pattern.format(
            staging=names.rds_id(self.instances.staging), date=date.astimezone(UTC)))

    def with_read_only(self, read_only: bool) -> Config:
        """This config, read-only when `read_only` (--read-only); unchanged otherwise."""
        if not read_only:
            return self
        return self.replace(ui=dataclasses.replace(self.ui, read_only=True))

    def dns_record_for(self, source: str) -> str | None:
        """The DNS record a recovery of `source` may repoint: production's record for
        production, the staging record for staging; None for anything else, or when unset
        (then the swap changes no DNS)."""
        wanted = names.rds_key(source)
        if not wanted:
            return None
        if wanted == names.rds_key(self.instances.production):
            return self.dns.record or None
        if wanted == names.rds_key(self.instances.staging):
            return self.dns.staging_record or None
        return None

    def replace(self, **sections: Any) -> Config:
        return dataclasses.replace(self, **sections)


_SECTIONS: dict[str, type] = {
    name: tp for name, tp in typing.get_type_hints(Config).items() if name != "source"
}

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _describe(tp: Any) -> str:
    if typing.get_origin(tp) is tuple:
        (inner, _) = typing.get_args(tp)
        return f"a list of {_TYPE_NAMES[inner].split(' ', 1)[1]}s"
    return _TYPE_NAMES[tp]


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check one value against its declared type; raise ConfigError naming where and what."""
    if typing.get_origin(tp) is tuple:
        (inner, _) = typing.get_args(tp)
        if isinstance(value, list) and all(_is(v, inner) for v in value):
            return tuple(value)
    elif _is(value, tp):
        return float(value) if tp is float else value
    raise ConfigError(f"{where} must be {_describe(tp)}, got {_show(value)}")


def _is(value: Any, tp: type) -> bool:
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, tp)


def _show(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list",
            dict: "table"}.get(type(value), type(value).__name__)
    return f"{kind} {value!r}" if not isinstance(value, dict) else "a table"


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_mapping(data: dict[str, Any], source: Path | None = None) -> Config:
    """Build a Config from parsed TOML, refusing unknown keys and wrong types."""
    where_file = f"{source}: " if source else ""
    sections: dict[str, Any] = {}
    for name, value in data.items():
        if name not in _SECTIONS:
            known = ", ".join(f"[{s}]" for s in _SECTIONS)
            raise ConfigError(f"{where_file}unknown section [{name}]; expected one of {known}")
        if not isinstance(value, dict):
            raise ConfigError(f"{where_file}{name} must be a table ([{name}]), got {_show(value)}")
        cls = _SECTIONS[name]
        hints = _hints(cls)
        kwargs = {}
        for key, item in value.items():
            if key not in hints:
                known = ", ".join(hints)
                raise ConfigError(f"{where_file}unknown key {name}.{key}; [{name}] takes {known}")
            kwargs[key] = _coerce(item, hints[key], f"{where_file}{name}.{key}")
        sections[name] = cls(**kwargs)
    config = _normalised(Config(**sections, source=source))
    _check_values(config, where_file)
    return config


def _normalised(config: Config) -> Config:
    """Names as AWS stores them, once, at load: RDS identifiers (and DB subnet group names,
    also stored in lower case) stripped and lower-cased; Route53 names lower-cased with one
    trailing dot, as Route53 returns them."""
    inst, dns, restore = config.instances, config.dns, config.restore
    return config.replace(
        instances=dataclasses.replace(
            inst, production=names.rds_id(inst.production), staging=names.rds_id(inst.staging),
            protected=tuple(dict.fromkeys(names.rds_id(p) for p in inst.protected))),
        dns=dataclasses.replace(dns, zone=names.fqdn(dns.zone), record=names.fqdn(dns.record),
                                staging_record=names.fqdn(dns.staging_record)),
        restore=dataclasses.replace(
            restore, subnet_group=names.rds_id(restore.subnet_group),
            security_groups=tuple(g.strip() for g in restore.security_groups),
            instance_class=names.rds_id(restore.instance_class),
            target_pattern=restore.target_pattern.strip()),
        drill=dataclasses.replace(config.drill,
                                  target_pattern=config.drill.target_pattern.strip()))


# The allowed range of every number: (key, lowest, highest, unit, lowest excluded). A value
# outside is a typo or a unit mistake (minutes for seconds), never a choice.
_RANGES: tuple[tuple[str, float, float, str, bool], ...] = (
    ("aws.max_attempts", 1, MAX_ATTEMPTS, "attempts (each attempt waits longer)", False),
    ("backup.max_age_hours", 0, 8760, "hours (a year)", True),
    ("backup.retention_days", 1, 36500, "days", False),
    # RDS keeps automated backups (the PITR window) 1 to 35 days.
    ("backup.pitr_window_days", 1, 35, "days (RDS's longest backup retention)", False),
    ("database.port", 1, 65535, "", False),
    ("database.statement_timeout_seconds", 1, 3600, "seconds", False),
    # libpq reads 0 as "wait forever": a dead endpoint would hang the check.
    ("database.connect_timeout_seconds", 1, 300, "seconds", False),
    ("objectives.rto_hours", 0, 720, "hours (30 days)", True),
    ("objectives.rpo_hours", 0, 720, "hours (30 days)", True),
    # A long TTL keeps clients on the old endpoint long after a swap.
    ("dns.ttl", 0, 86400, "seconds (a day)", False),
    ("ui.refresh_seconds", 0, 3600, "seconds (0 = off)", False),
    ("ui.poll_seconds", 0, 600, "seconds", True),
    ("drill.restore_minutes_ago", 1, 10080, "minutes (a week)", False),
    ("drill.smoke_timeout_seconds", 0, 14400, "seconds (4 h)", True),
)


def _check_values(config: Config, where_file: str) -> None:
    """Values with the right type that still make no sense."""
    required = {
        "instances.production": config.instances.production,
        "backup.vault": config.backup.vault,
        "database.name": config.database.name,
        "database.user": config.database.user,
        "aws.region": config.aws.region,
    }
    for key, value in required.items():
        if not value.strip():
            raise ConfigError(f"{where_file}{key} is required and must not be empty")
    for name in _SECTIONS:  # nan and inf are TOML floats, and no setting means them
        for key, value in dataclasses.asdict(getattr(config, name)).items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{where_file}{name}.{key} must be a finite number, got "
                                  f"{value}")
    for key, low, high, unit, low_excluded in _RANGES:
        section, attribute = key.split(".")
        number = getattr(getattr(config, section), attribute)
        if (number <= low if low_excluded else number < low) or number > high:
            allowed = (f"greater than {low:g} and at most {high:g}" if low_excluded
                       else f"between {low:g} and {high:g}")
            raise ConfigError(f"{where_file}{key} must be {allowed}{' ' if unit else ''}{unit}, "
                              f"got {number}")
    if not 0 < config.backup.size_tolerance < 1:
        raise ConfigError(f"{where_file}backup.size_tolerance is a fraction between 0 and 1 "
                          f"(0.2 = 20 %), got {config.backup.size_tolerance}")
    if config.restore.multi_az not in ("", "true", "false"):
        raise ConfigError(f"{where_file}restore.multi_az must be \"true\", \"false\" or empty "
                          f"(as the source), got {config.restore.multi_az!r}")
    endpoint = config.aws.endpoint_url
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"{where_file}aws.endpoint_url must start with http:// or https://, "
                          f"got {endpoint!r}")
    sslmodes = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
    if config.database.sslmode not in sslmodes:
        raise ConfigError(
            f"{where_file}database.sslmode must be one of {', '.join(sslmodes)}, "
            f"got {config.database.sslmode!r}"
        )
    _check_names(config, where_file)
    _check_target_pattern(config, where_file)
    _check_drill_pattern(config, where_file)
    state_dir = config.state.dir.strip()
    if state_dir and not os.path.isabs(os.path.expanduser(state_dir)):
        raise ConfigError(f"{where_file}state.dir must be an absolute path (or start with ~), "
                          f"got {state_dir!r}: a relative one would change with the directory "
                          f"vwtui is started from")


def _check_names(config: Config, where_file: str) -> None:
    """Instance identifiers RDS would accept, and production and staging kept apart (names
    already normalised: compared as AWS compares them)."""
    inst = config.instances
    named = [("instances.production", inst.production)]
    if inst.staging:
        named.append(("instances.staging", inst.staging))
    named += [("instances.protected", name) for name in inst.protected]
    for key, name in named:
        reason = names.check_rds_id(name)
        if reason:
            raise ConfigError(f"{where_file}{key} holds {name!r}, not a valid RDS instance "
                              f"identifier: {reason}")
    if inst.staging == inst.production:
        raise ConfigError(
            f"{where_file}instances.staging must not be the production instance (both name "
            f"{inst.production}): a staging drill would restore, swap and clean up production")
    dns = config.dns
    if dns.staging_record and names.same_dns_name(dns.staging_record, dns.record):
        raise ConfigError(
            f"{where_file}dns.staging_record must not be production's dns.record (both name "
            f"{dns.record}): a staging drill would move production's traffic")


# A moment to render restore.target_pattern at (and one a minute later): what it gives there
# shows whether it can be used at all.
_SAMPLE_TIME = datetime(2025, 11, 11, 10, 30, tzinfo=UTC)
_PATTERN_DEFAULT = RestoreConfig().target_pattern
# strftime codes and the text each can give; any other code: any text (so a name the pattern
# might give is never missed).
_STRFTIME = {"Y": r"\d{4}", "y": r"\d{2}", "m": r"\d{2}", "d": r"\d{2}", "H": r"\d{2}",
             "M": r"\d{2}", "S": r"\d{2}", "j": r"\d{3}", "f": r"\d{6}", "%": "%"}


def _render_target(pattern: str, source: str, time: datetime) -> str:
    return names.rds_id(pattern.format(source=source, time=time))


def _time_regex(spec: str) -> str:
    """A regular expression for every text `{time:spec}` can give."""
    out: list[str] = []
    i = 0
    while i < len(spec):
        if spec[i] != "%":
            out.append(re.escape(spec[i]))
            i += 1
            continue
        j = i + 1
        while j < len(spec) and spec[j] in "-_0^#":  # glibc flags: widths change
            j += 1
        code = spec[j] if j < len(spec) else ""
        out.append(_STRFTIME.get(code, ".*") if j == i + 1 else ".*")
        i = j + 1
    return "".join(out)


def _check_target_pattern(config: Config, where_file: str) -> None:
    """restore.target_pattern must give, for production and for staging, a valid RDS
    identifier that changes every minute and can never be a protected name (the source's
    own included), whatever the time."""
    key = f"{where_file}restore.target_pattern"
    pattern = config.restore.target_pattern
    example = f"write it like {_PATTERN_DEFAULT!r}"
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ConfigError(f"{key} is not a valid pattern ({exc}); {example}") from None
    has_time = False
    for _literal, field_name, spec, conversion in parts:
        if field_name is None:
            continue
        if field_name not in ("source", "time") or conversion or "{" in (spec or ""):
            raise ConfigError(f"{key} may hold only the fields {{source}} and {{time:...}}, "
                              f"not {{{field_name}}}; {example}")
        has_time = has_time or field_name == "time"
    if not has_time:
        raise ConfigError(f"{key} must hold {{time:...}} (e.g. {{time:%Y%m%d%H%M}}), or two "
                          f"recoveries would get the same name; {example}")
    sources = tuple(dict.fromkeys(s for s in (config.instances.production,
                                              config.instances.staging) if s))
    # Neither source's name (a recovery never restores over production or staging) nor any
    # protected one.
    avoid = dict.fromkeys((*config.protected_names(), *sources))
    for source in sources:
        try:
            first = _render_target(pattern, source, _SAMPLE_TIME)
            later = _render_target(pattern, source, _SAMPLE_TIME + timedelta(minutes=1))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{key} cannot be filled in ({exc}); {example}") from None
        if first == later:
            raise ConfigError(f"{key} gives {first!r} a minute later too: its {{time:...}} "
                              f"needs the minute (%M), or two recoveries would get the same "
                              f"name; {example}")
        reason = names.check_rds_id(first)
        if reason:
            raise ConfigError(f"{key} gives {first!r} for {source}, not a valid RDS instance "
                              f"identifier: {reason}")
        regex = "".join(
            re.escape(literal)
            + ("" if field_name is None else
               _time_regex(spec or "") if field_name == "time" else
               re.escape(source) if not spec else ".*")
            for literal, field_name, spec, _ in parts)
        for name in avoid:
            if name == first or re.fullmatch(rf"\s*{regex}\s*", name, re.IGNORECASE):
                whose = ("the source's own name" if name == source else
                         "a protected instance's name" if config.is_protected(name) else
                         "the other source's name")
                raise ConfigError(
                    f"{key} can give {name!r}, {whose}, to a recovery of {source}: a restore "
                    f"must never take it; {example}")


_DRILL_PATTERN_DEFAULT = DrillConfig().target_pattern


def _check_drill_pattern(config: Config, where_file: str) -> None:
    """drill.target_pattern must give a valid RDS identifier that can never be production's,
    staging's or a protected instance's name, whatever the date."""
    key = f"{where_file}drill.target_pattern"
    pattern = config.drill.target_pattern
    example = f"write it like {_DRILL_PATTERN_DEFAULT!r}"
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ConfigError(f"{key} is not a valid pattern ({exc}); {example}") from None
    has_date = False
    for _literal, field_name, spec, conversion in parts:
        if field_name is None:
            continue
        if field_name not in ("staging", "date") or conversion or "{" in (spec or ""):
            raise ConfigError(f"{key} may hold only the fields {{staging}} and {{date:...}}, "
                              f"not {{{field_name}}}; {example}")
        has_date = has_date or field_name == "date"
    if not has_date:
        raise ConfigError(f"{key} must hold {{date:...}} (e.g. {{date:%Y%m%d}}), or every "
                          f"drill would get the same name; {example}")
    staging = config.instances.staging
    try:
        first = config.drill_target_name(_SAMPLE_TIME)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ConfigError(f"{key} cannot be filled in ({exc}); {example}") from None
    reason = names.check_rds_id(first)
    if reason:
        raise ConfigError(f"{key} gives {first!r}, not a valid RDS instance identifier: "
                          f"{reason}")
    regex = "".join(
        re.escape(literal)
        + ("" if field_name is None else
           _time_regex(spec or "") if field_name == "date" else
           re.escape(staging) if not spec else ".*")
        for literal, field_name, spec, _ in parts)
    avoid = dict.fromkeys((*config.protected_names(), config.instances.production, staging))
    for name in avoid:
        if name and (name == first or re.fullmatch(rf"\s*{regex}\s*", name, re.IGNORECASE)):
            whose = ("staging's own name" if name == staging else
                     "production's name" if name == config.instances.production else
                     "a protected instance's name")
            raise ConfigError(f"{key} can give {name!r}, {whose}: a drill's test instance "
                              f"is deleted at its end and must never take it; {example}")


def to_mapping(config: Config) -> dict[str, Any]:
    """The TOML-ready mapping of a Config (tuples become lists)."""
    out: dict[str, Any] = {}
    for name in _SECTIONS:
        section = dataclasses.asdict(getattr(config, name))
        out[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in section.items()}
    return out


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vwtui" / "config.toml"


def find(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Search order: --config, $VWTUI_CONFIG, $XDG_CONFIG_HOME/vwtui/config.toml.

    An explicit path (flag or variable) must exist; the XDG file is optional.
    """
    explicit_ones = (("--config", explicit), ("VWTUI_CONFIG", os.environ.get("VWTUI_CONFIG")))
    for origin, candidate in explicit_ones:
        if candidate:
            path = Path(candidate).expanduser()
            if not path.is_file():
                raise ConfigError(f"{path}: no such config file (from {origin})")
            return path
    path = default_path()
    return path if path.is_file() else None


def load(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Find and load the config; the built-in defaults when there is none."""
    path = find(explicit)
    if path is None:
        return Config()
    return load_file(path)


def load_file(path: Path) -> Config:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    return from_mapping(data, source=path)


def write(config: Config, path: Path, *, force: bool = False) -> Path:
    """Write a config with tomli-w; never overwrite an existing file without force."""
    import tomli_w

    from vwtui import safefile
    from vwtui.errors import UnsafePathError

    if os.path.lexists(path) and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0600, written whole (temp file, fsync, rename), never through a symbolic link.
        safefile.write_atomic(path, tomli_w.dumps(to_mapping(config)).encode("utf-8"))
    except UnsafePathError as exc:
        raise ConfigError(exc.message) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be written ({exc.strerror}); choose another "
                          f"path with --config or make its directory writable") from None
    return path

