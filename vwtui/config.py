"""Typed configuration: TOML in (tomllib), TOML out (tomli-w), one clear sentence on error.

Defaults live here, once; `config.example.toml` documents every key with the runbook's values.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    # Never deleted, renamed or modified by vwtui, whatever is typed.
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


@dataclass(frozen=True, slots=True)
class RestoreConfig:
    # Empty: copy from the source instance.
    subnet_group: str = ""
    security_groups: tuple[str, ...] = ()
    instance_class: str = ""


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
    # Where it was read from; None for the built-in defaults.
    source: Path | None = field(default=None, compare=False)

    def is_protected(self, identifier: str) -> bool:
        """The production source and anything listed in `protected` are never destroyed."""
        return identifier in self.instances.protected or identifier == self.instances.production

    def with_read_only(self, read_only: bool) -> Config:
        """This config, read-only when `read_only` (--read-only); unchanged otherwise."""
        if not read_only:
            return self
        return self.replace(ui=dataclasses.replace(self.ui, read_only=True))

    def dns_record_for(self, source: str) -> str | None:
        """The DNS record a recovery of `source` may repoint: production's record for
        production, the staging record for staging; None for anything else, or when unset
        (then the swap changes no DNS)."""
        if source == self.instances.production:
            return self.dns.record or None
        if source == self.instances.staging:
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
    config = Config(**sections, source=source)
    _check_values(config, where_file)
    return config


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
    positive = {
        "objectives.rto_hours": config.objectives.rto_hours,
        "objectives.rpo_hours": config.objectives.rpo_hours,
        "backup.max_age_hours": config.backup.max_age_hours,
        "backup.retention_days": config.backup.retention_days,
        "backup.pitr_window_days": config.backup.pitr_window_days,
        "database.statement_timeout_seconds": config.database.statement_timeout_seconds,
        "aws.max_attempts": config.aws.max_attempts,
    }
    for name in _SECTIONS:  # nan and inf are TOML floats, and no setting means them
        for key, value in dataclasses.asdict(getattr(config, name)).items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{where_file}{name}.{key} must be a finite number, got "
                                  f"{value}")
    for key, number in positive.items():
        if number <= 0:
            raise ConfigError(f"{where_file}{key} must be greater than 0, got {number}")
    if not 0 < config.backup.size_tolerance < 1:
        raise ConfigError(f"{where_file}backup.size_tolerance is a fraction between 0 and 1 "
                          f"(0.2 = 20 %), got {config.backup.size_tolerance}")
    if config.aws.max_attempts > MAX_ATTEMPTS:
        raise ConfigError(f"{where_file}aws.max_attempts must be at most {MAX_ATTEMPTS} (each "
                          f"attempt waits longer), got {config.aws.max_attempts}")
    endpoint = config.aws.endpoint_url
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"{where_file}aws.endpoint_url must start with http:// or https://, "
                          f"got {endpoint!r}")
    if config.ui.poll_seconds <= 0:
        raise ConfigError(f"{where_file}ui.poll_seconds must be greater than 0")
    if config.ui.refresh_seconds < 0:
        raise ConfigError(f"{where_file}ui.refresh_seconds must be 0 (off) or more seconds")
    sslmodes = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
    if config.database.sslmode not in sslmodes:
        raise ConfigError(
            f"{where_file}database.sslmode must be one of {', '.join(sslmodes)}, "
            f"got {config.database.sslmode!r}"
        )


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

