"""Troubleshooting that acts: the runbook's causes checked, each as a finding with a verdict.

Pure: every function takes what vwtui.services.diagnostics (and PgService.activity) read and
says what it means, in plain lines, with the runbook's advice. A read that failed (AccessDenied,
no connection) makes the finding UNKNOWN with the failure's own sentence: never a pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from vwtui import fmt
from vwtui.model import Instance, ValidationReport, Verdict

# Storage: free space under this fraction of the allocated storage (the minimum over the last
# 24 h) is "full" for a backup (RDS stops an instance at storage-full; a snapshot of a full
# instance fails or stalls).
STORAGE_FAIL_FRACTION = 0.10
# Queries (or open transactions) older than this many minutes are "long-running".
LONG_RUNNING_MINUTES = 5

# RDS instance sizes, smallest first (db.<family>.<size>).
_SIZES = ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge",
          "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "48xlarge")
_CLASS = re.compile(r"^db\.(?P<family>[a-z0-9-]+)\.(?P<size>[a-z0-9]+)$")


@dataclass(frozen=True, slots=True)
class Finding:
    """One troubleshooting check: a verdict and the lines that show why."""

    key: str
    title: str
    verdict: Verdict
    summary: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Probe:
    """A timed TCP connect from this host (the bastion) to host:port."""

    label: str
    host: str
    port: int
    ok: bool
    seconds: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    group_id: str
    name: str | None
    # The ingress rules admitting the database port (None: the rules were not read).
    admits: tuple[str, ...] | None = None


def unknown(key: str, title: str, reason: str) -> Finding:
    """A finding whose reading failed."""
    return Finding(key, title, Verdict.UNKNOWN, f"could not be read: {reason}", (reason,))


# ---- storage full ------------------------------------------------------------------------------

def storage_finding(instance: Instance, free_min_bytes: float | None,
                    hours: int = 24) -> Finding:
    """Allocated storage and CloudWatch FreeStorageSpace (minimum over `hours`)."""
    title = "Storage full?"
    allocated = instance.allocated_storage_gb * 1024 ** 3
    lines = [f"allocated storage: {fmt.storage(instance.allocated_storage_gb)} "
             f"({instance.identifier})"]
    if free_min_bytes is None:
        lines.append(f"FreeStorageSpace: no datapoint in the last {hours} h (is Enhanced "
                     f"Monitoring or the CloudWatch metric missing?)")
        return Finding("storage", title, Verdict.UNKNOWN,
                       f"no FreeStorageSpace datapoint in {hours} h", tuple(lines))
    fraction = free_min_bytes / allocated if allocated else 0.0
    lines.append(f"FreeStorageSpace, minimum over the last {hours} h: "
                 f"{fmt.gigabytes(int(free_min_bytes))} ({fraction:.0%} of allocated)")
    if fraction < STORAGE_FAIL_FRACTION:
        bigger = max(instance.allocated_storage_gb + 10, round(instance.allocated_storage_gb
                                                               * 1.2))
        lines += ["Storage full: a backup can fail or stall. Increase the allocated storage:",
                  f"$ aws rds modify-db-instance --db-instance-identifier "
                  f"{instance.identifier} --allocated-storage {bigger} --apply-immediately"]
        return Finding("storage", title, Verdict.FAIL,
                       f"{fraction:.0%} free at the lowest ({fmt.gigabytes(int(free_min_bytes))})",
                       tuple(lines))
    lines.append(f"Not full: at least {STORAGE_FAIL_FRACTION:.0%} free throughout.")
    return Finding("storage", title, Verdict.PASS,
                   f"{fraction:.0%} free at the lowest ({fmt.gigabytes(int(free_min_bytes))})",
                   tuple(lines))


# ---- long-running and blocking queries ---------------------------------------------------------

def activity_finding(report: ValidationReport, backup_window: str | None, now: datetime,
                     minutes: int = LONG_RUNNING_MINUTES) -> Finding:
    """Queries older than `minutes` and the blocked/blocking pairs, from PgService.activity,
    with the backup window and whether now is inside it."""
    title = "Long-running / blocking queries"
    by_name = {r.name: r for r in report.results}
    sessions = by_name.get("active_sessions")
    pairs = by_name.get("blocked_and_blocking_sessions")
    lines = [window_line(backup_window, now)]
    failed = [r.error for r in (sessions, pairs) if r is not None and r.error]
    if sessions is None or pairs is None or failed:
        reason = "; ".join(e for e in failed if e) or "the queries did not run"
        return Finding("activity", title, Verdict.UNKNOWN, f"could not be read: {reason}",
                       (*lines, reason))
    old = [dict(zip(sessions.columns, row, strict=False)) for row in sessions.rows]
    old = [s for s in old if _seconds(s) >= minutes * 60]
    blocked = [dict(zip(pairs.columns, row, strict=False)) for row in pairs.rows]
    lines.append(f"Older than {minutes} min: {len(old) or 'none'}")
    for s in old:
        lines.append(f"  pid {s.get('pid')}  {s.get('state')}  "
                     f"{fmt.duration(timedelta(seconds=_seconds(s)))}  "
                     f"{_one_line(s.get('query'))}")
    lines.append(f"Blocked / blocking: {len(blocked) or 'none'}")
    for p in blocked:
        lines.append(f"  pid {p.get('blocked_pid')} waits on pid {p.get('blocking_pid')} "
                     f"({p.get('blocking_state')})")
        lines.append(f"    blocked:  {_one_line(p.get('blocked_query'))}")
        lines.append(f"    blocking: {_one_line(p.get('blocking_query'))}")
    if blocked or old:
        lines.append("A backup in the window can wait on these: end the blocking session "
                     "(SELECT pg_terminate_backend(pid), by hand) or move the work out of the "
                     "backup window.")
        summary = f"{len(blocked)} blocked, {len(old)} older than {minutes} min"
        return Finding("activity", title, Verdict.FAIL, summary, tuple(lines))
    return Finding("activity", title, Verdict.PASS,
                   f"no query older than {minutes} min, nothing blocked", tuple(lines))


def _seconds(row: dict[str, object]) -> int:
    return int(str(row.get("seconds") or 0))


def window_line(window: str | None, now: datetime) -> str:
    """"Backup window 03:00-04:00 UTC (now inside it)"."""
    if not window:
        return "Backup window: not reported"
    span = _window(window)
    if span is None:
        return f"Backup window: {window} UTC"
    start, end = span
    clock = now.time().replace(second=0, microsecond=0)
    inside = start <= clock < end if start <= end else (clock >= start or clock < end)
    return f"Backup window: {window} UTC (now {'inside' if inside else 'outside'} it)"


def _window(text: str) -> tuple[time, time] | None:
    try:
        first, last = text.split("-")
        return time.fromisoformat(first), time.fromisoformat(last)
    except ValueError:
        return None


def _one_line(value: object, width: int = 60) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[:width - 1] + "…"


# ---- VPC connectivity -----------------------------------------------------------------------

def connectivity_finding(probes: Sequence[Probe],
                         groups: Sequence[SecurityGroup] | str) -> Finding:
    """The timed TCP connects and the instance's security groups (or why they were not read)."""
    title = "VPC connectivity"
    lines: list[str] = []
    for p in probes:
        took = f"{p.seconds * 1000:.0f} ms"
        lines.append(f"{'✔' if p.ok else '✖'} {p.label} {p.host}:{p.port}: "
                     + (f"connected in {took}" if p.ok else f"{p.error} (after {took})"))
    if isinstance(groups, str):
        lines.append(f"Security groups: {groups}")
    else:
        lines.append("Security groups: " + (", ".join(
            f"{g.group_id} ({g.name})" if g.name else g.group_id for g in groups) or "none"))
        for g in groups:
            if g.admits is not None:
                lines.append(f"  {g.group_id} admits the port from: "
                             + (", ".join(g.admits) or "nothing"))
    if not probes:
        return Finding("connectivity", title, Verdict.UNKNOWN, "no endpoint to connect to",
                       (*lines, "The instance reports no endpoint (is it available?)."))
    if all(p.ok for p in probes):
        return Finding("connectivity", title, Verdict.PASS,
                       f"{probes[0].host}:{probes[0].port} reachable", tuple(lines))
    lines.append("From this host (the bastion) the database port is not reachable: check that "
                 "a security group above admits the bastion's address or group on the port, "
                 "and the subnet's route table and network ACL.")
    bad = next(p for p in probes if not p.ok)
    # The summary names what failed; the reason (which depends on this host's resolver and
    # network) is in the lines.
    return Finding("connectivity", title, Verdict.FAIL,
                   f"{bad.label} port {bad.port} not reachable", tuple(lines))


# ---- slow restore ----------------------------------------------------------------------------

def class_rank(instance_class: str) -> tuple[str, int] | None:
    """(family, size rank) of db.<family>.<size>; None when the name is not one."""
    found = _CLASS.match(instance_class or "")
    if found is None or found["size"] not in _SIZES:
        return None
    return found["family"], _SIZES.index(found["size"])


def larger_class(instance_class: str) -> str | None:
    """The next size up in the same family (db.t3.medium -> db.t3.large)."""
    rank = class_rank(instance_class)
    if rank is None or rank[1] + 1 >= len(_SIZES):
        return None
    return f"db.{rank[0]}.{_SIZES[rank[1] + 1]}"


def restore_finding(source: Instance, restore_class: str | None,
                    database_bytes: int | None, size_note: str | None = None) -> Finding:
    """Database size vs the restore's instance class and the source's (runbook, Slow Restore
    Performance: verify the class matches the source; use a larger class for the restore,
    scale down after)."""
    title = "Slow restore"
    target = restore_class or source.instance_class
    lines = [f"Source {source.identifier}: {source.instance_class}, "
             f"{fmt.storage(source.allocated_storage_gb)} allocated"]
    if database_bytes is not None:
        lines.append(f"Database size: {fmt.gigabytes(database_bytes)}")
    else:
        lines.append(f"Database size: not read ({size_note or 'no connection'}); allocated "
                     f"storage is its upper bound")
    lines.append(f"Restore class: {target}"
                 + ("" if restore_class else " (restore.instance_class empty: as the source)"))
    ours, theirs = class_rank(target), class_rank(source.instance_class)
    bigger = larger_class(source.instance_class)
    advice = ["Runbook: use a larger instance class for the restore"
              + (f" (e.g. {bigger}: restore.instance_class)" if bigger else "")
              + ", scale down after (aws rds modify-db-instance --db-instance-class "
              f"{source.instance_class} --apply-immediately)",
              "Restore during low-traffic periods; Multi-AZ for production after the restore."]
    if ours is not None and theirs is not None and ours[0] == theirs[0] and ours[1] < theirs[1]:
        lines.append(f"The restore class {target} is smaller than the source's "
                     f"{source.instance_class}: the restore and the catch-up will be slower.")
        return Finding("restore", title, Verdict.FAIL,
                       f"{target} is smaller than the source's {source.instance_class}",
                       (*lines, *advice))
    same = "the same as" if target == source.instance_class else "at least"
    lines.append(f"The restore class is {same} the source's.")
    return Finding("restore", title, Verdict.PASS,
                   f"{target} (source {source.instance_class})",
                   (*lines, *advice))


def database_bytes(report: ValidationReport) -> tuple[int | None, str | None]:
    """The database size PgService.activity read, or why not."""
    for result in report.results:
        if result.name == "database_size":
            if result.error:
                return None, result.error
            if result.rows:
                return int(str(result.rows[0][0])), None
    return None, "not read"
