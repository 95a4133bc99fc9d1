"""The guardrails on mutating AWS calls, as pure decisions.

`vwtui.services.recovery_ops` calls these before every mutating request, so a refusal happens
in the service layer whatever the screen does. Each raises GuardrailError with the reason and
what to do instead.

Every comparison goes through `vwtui.names`: RDS identifiers and Route53 names are compared as
AWS compares them (case-insensitively, with or without the trailing dot), so no spelling of a
protected name, a record or an owned instance slips past.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vwtui import names
from vwtui.errors import GuardrailError

if TYPE_CHECKING:
    from vwtui.config import Config


def check_writable(config: Config, action: str) -> None:
    """A read-only session refuses every mutation."""
    if config.ui.read_only:
        raise GuardrailError(
            f"Refused to {action}: this session is read-only (ui.read_only, or --read-only). "
            f"Start vwtui without it to make changes.")


def check_not_protected(config: Config, identifier: str, action: str) -> None:
    """A protected instance (production, or listed in instances.protected) is never deleted,
    renamed or modified."""
    if config.is_protected(identifier):
        raise GuardrailError(
            f"Refused to {action} {identifier}: it is a protected instance (production or "
            f"listed in instances.protected). vwtui never deletes, renames or modifies it.")


def check_record(config: Config, record: str, source: str) -> None:
    """A recovery repoints only the DNS record configured for its source: a drill on staging
    never moves production's traffic."""
    allowed = config.dns_record_for(source)
    if allowed is None or not names.same_dns_name(record, allowed):
        raise GuardrailError(
            f"Refused to change the DNS record {record}: a recovery of {source} may only "
            f"repoint {allowed or 'no record (none is configured for it)'}. Production's "
            f"record is dns.record, staging's dns.staging_record.")


def check_owned(identifier: str, owned: Collection[str], action: str) -> None:
    """Only an instance this run created or renamed may be deleted."""
    # rds_id, not the broader rds_key: ownership lets a delete through, so only the exact
    # name RDS stores counts.
    if names.rds_id(identifier) not in {names.rds_id(name) for name in owned}:
        made = ", ".join(sorted(owned)) or "nothing yet"
        raise GuardrailError(
            f"Refused to {action} {identifier}: this recovery did not create or rename it "
            f"(it owns: {made}). Delete it by hand if it really must go.")


def check_confirmation(identifier: str, typed: str | None, action: str) -> None:
    """The engineer must type the identifier (RDS's spelling: case and surrounding spaces do
    not matter, as they do not to RDS)."""
    if not typed or names.rds_id(typed) != names.rds_id(identifier):
        shown = f"'{typed}'" if typed else "nothing"
        raise GuardrailError(
            f"Refused to {action} {identifier}: the confirmation typed ({shown}) is not its "
            f"identifier. Type {identifier} exactly to confirm.")


def check_not_serving(identifier: str, serving: Collection[str], action: str) -> None:
    """The instance a swap put in service (the application now uses it) is never deleted by
    the run that swapped it, not even on abort."""
    if names.rds_id_in(identifier, serving):
        raise GuardrailError(
            f"Refused to {action} {identifier}: the swap made it the database the application "
            f"uses. Swap back first (the journal keeps the old value), or delete it by hand.")


def check_delete(config: Config, identifier: str, *, owned: Collection[str],
                 typed_confirmation: str | None, serving: Collection[str] = ()) -> None:
    """Everything a delete must pass, in order: writable, not protected, not in service,
    owned, confirmed."""
    action = "delete"
    check_writable(config, action)
    check_not_protected(config, identifier, action)
    check_not_serving(identifier, serving, action)
    check_owned(identifier, owned, action)
    check_confirmation(identifier, typed_confirmation, action)


def check_rename(config: Config, identifier: str, new_identifier: str) -> None:
    """A rename: writable, the instance renamed not protected, the new name not the same."""
    check_writable(config, "rename")
    check_not_protected(config, identifier, "rename")
    if names.same_rds_id(identifier, new_identifier):
        raise GuardrailError(f"Refused to rename {identifier} to itself.")


def check_create(config: Config, identifier: str, source: str | None = None) -> None:
    """A restore creates a new instance: writable, and its name is neither the source's nor a
    protected one (only the rename swap gives it such a name, once verified)."""
    check_writable(config, f"create {identifier}")
    if (source is not None and names.same_rds_id(identifier, source)) \
            or config.is_protected(identifier):
        raise GuardrailError(
            f"Refused to restore as {identifier}: that name belongs to the source or a protected "
            f"instance. Restore under a new name (restore.target_pattern, e.g. "
            f"{config.restore.target_pattern}).")


def check_drill_delete(config: Config, identifier: str, *, tags: Collection[tuple[str, str]],
                       run_id: str, created_by_job: bool = False) -> None:
    """A drill deletes only its own test instance: never production or staging (even when
    staging is not listed as protected), and only one carrying this run's tag (every restore
    of the run sends it), or made by this run's own AWS Backup restore job (whose instance AWS
    tags with nothing of ours)."""
    action = "delete"
    for role, name in (("production", config.instances.production),
                       ("staging", config.instances.staging)):
        if name and names.same_rds_id(identifier, name):
            raise GuardrailError(
                f"Refused to {action} {identifier}: it is {role}. A drill deletes only its own "
                f"test instance.")
    from vwtui.services.calls import RUN_TAG

    if (RUN_TAG, run_id) not in set(tags) and not created_by_job:
        raise GuardrailError(
            f"Refused to {action} {identifier}: it does not carry this drill's tag "
            f"{RUN_TAG}={run_id}, so this drill did not create it. Delete it by hand if it "
            f"really must go.")


def check_not_issued_twice(kind: str, instance: str, actions: Collection[Any],
                           now: datetime) -> None:
    """A manual backup is asked for once: refused while one of the same kind and instance is
    on its way (asked, answer not known yet, or running) or when one completed today (UTC).
    `actions` are the actions journal's (vwtui.actions_journal.Action), lost answers already
    looked up in AWS. A failed one, or one AWS never made, may be asked for again."""
    what = "AWS Backup job" if kind == "backup-job" else "manual RDS snapshot"
    for action in actions:
        if action.kind != kind or not names.same_rds_id(action.instance, instance):
            continue
        since = f"{action.asked_at.astimezone(UTC):%H:%M} UTC"
        made = f" ({action.resource_id})" if action.resource_id else ""
        if action.state == "running":
            raise GuardrailError(
                f"Refused to start another {what} of {instance}: the one asked at {since}"
                f"{made} is still running. It is followed below; wait for it to end.")
        if action.state == "asked":
            raise GuardrailError(
                f"Refused to start another {what} of {instance}: the one asked at {since} has "
                f"no answer yet and AWS does not show it so far. Look again in a minute: a "
                f"second request could make two.")
        if action.state == "completed" and \
                action.asked_at.astimezone(UTC).date() == now.astimezone(UTC).date():
            raise GuardrailError(
                f"Refused to start another {what} of {instance}: one{made} was asked at "
                f"{since} today and completed. One manual backup a day is enough; the next "
                f"automated backup runs in the backup window.")

def check_protection_fix(config: Config, identifier: str, owned: Collection[str],
                         action: str) -> None:
    """A fix of "back under protection" on an instance (tag it, add it to the backup plan,
    turn deletion protection on, keep its backups): a modify, said as what it does."""
    check_modify(config, identifier, owned=owned, action=action)


def check_alarm_fix(config: Config, alarm_name: str) -> None:
    """put-metric-alarm only on the configured backup alarms (alarms.backup_age,
    alarms.backup_failure), on a writable session."""
    check_writable(config, f"change the alarm {alarm_name}")
    configured = {config.alarms.backup_age, config.alarms.backup_failure} - {""}
    if alarm_name not in configured:
        raise GuardrailError(
            f"Refused to change the alarm {alarm_name}: a recovery changes only the configured "
            f"backup alarms ({', '.join(sorted(configured)) or 'none'}).")


def check_modify(config: Config, identifier: str, *, owned: Collection[str],
                 action: str = "modify") -> None:
    """A modify of settings (the source's settings after a restore, the parity step's fixes,
    deletion protection off before a cleanup, the protection step's fixes): writable, never a
    protected instance (vwtui never modifies one; fix it by hand), only one this run created
    or renamed."""
    check_writable(config, action)
    check_not_protected(config, identifier, action)
    check_owned(identifier, owned, action)
