"""Judging a restored database: the runbook's "Verify recovered data", as pure functions.

The validation queries run in `vwtui.services.pg`; `vwtui.validation` reads their figures. Here
each figure is judged against a reference (the source database when it is reachable, else a
recorded baseline) and the restore point: a verdict per check and overall.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from vwtui import fmt, safefile
from vwtui.model import ValidationReport, utcnow
from vwtui.validation import ValidationFigures, figures

# Row counts may differ from the reference by this fraction (a restore to an earlier time has
# fewer rows than the live source; a baseline is days old).
ROW_COUNT_TOLERANCE = 0.2
# Clock skew between the application and RDS: rows this much after the restore point still pass.
CLOCK_SLACK = timedelta(minutes=5)
# A newest row older than this before the restore point suggests missing data.
MAX_QUIET = timedelta(hours=24)


class CheckVerdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    @property
    def symbol(self) -> str:
        return {CheckVerdict.PASS: "✓", CheckVerdict.WARN: "!", CheckVerdict.FAIL: "✗"}[self]


class ReferenceKind(StrEnum):
    SOURCE = "source"
    BASELINE = "baseline"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class VerifyCheck:
    key: str
    title: str
    verdict: CheckVerdict
    detail: str


@dataclass(frozen=True, slots=True)
class Baseline:
    """Figures of a healthy database to compare a restore with when the source is unreachable."""

    source: str
    recorded_at: datetime
    row_counts: dict[str, int]
    indexes: tuple[str, ...]

    @classmethod
    def from_report(cls, source: str, report: ValidationReport) -> Baseline:
        found = figures(report)
        return cls(source=source, recorded_at=report.ran_at, row_counts=dict(found.row_counts),
                   indexes=tuple(sorted(f"{i.table}.{i.name}" for i in found.indexes)))

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source,
                "recorded_at": fmt.iso(self.recorded_at),
                "row_counts": self.row_counts, "indexes": list(self.indexes)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Baseline:
        return cls(source=str(data["source"]),
                   recorded_at=datetime.fromisoformat(str(data["recorded_at"])).astimezone(UTC),
                   row_counts={str(k): int(v) for k, v in dict(data["row_counts"]).items()},
                   indexes=tuple(str(i) for i in data.get("indexes", [])))


@dataclass(frozen=True, slots=True)
class Verification:
    """The verdict of every check on one restored database, and overall."""

    host: str
    reference: ReferenceKind
    restore_point: datetime | None
    checks: tuple[VerifyCheck, ...]
    ran_at: datetime = field(default_factory=utcnow)
    report: ValidationReport | None = None

    @property
    def overall(self) -> CheckVerdict:
        verdicts = {c.verdict for c in self.checks}
        if CheckVerdict.FAIL in verdicts or not self.checks:
            return CheckVerdict.FAIL
        if CheckVerdict.WARN in verdicts:
            return CheckVerdict.WARN
        return CheckVerdict.PASS

    @property
    def passed(self) -> bool:
        """Good enough to swap to: no check failed (warnings are shown, not blocking)."""
        return self.overall is not CheckVerdict.FAIL

    @property
    def failures(self) -> tuple[VerifyCheck, ...]:
        return tuple(c for c in self.checks if c.verdict is CheckVerdict.FAIL)

    def summary(self) -> str:
        counts = {v: sum(1 for c in self.checks if c.verdict is v) for v in CheckVerdict}
        return (f"{self.overall.value.upper()}: {counts[CheckVerdict.PASS]} passed, "
                f"{counts[CheckVerdict.WARN]} warnings, {counts[CheckVerdict.FAIL]} failed "
                f"(reference: {self.reference.value})")


def judge(report: ValidationReport, *, restore_point: datetime | None,
          reference: Baseline | None, reference_kind: ReferenceKind,
          tolerance: float = ROW_COUNT_TOLERANCE) -> Verification:
    """Judge one validation report of the restored database; a verdict per check."""
    found = figures(report)
    checks: list[VerifyCheck] = []
    checks += _query_errors(found)
    checks += _row_counts(found, reference, tolerance)
    checks += _newest(found, restore_point)
    checks.append(_orphans(found))
    checks.append(_indexes(found, reference))
    kind = reference_kind if reference is not None else ReferenceKind.NONE
    return Verification(host=report.host, reference=kind, restore_point=restore_point,
                        checks=tuple(checks), report=report)


def _query_errors(found: ValidationFigures) -> list[VerifyCheck]:
    return [VerifyCheck(f"query:{name}", f"Query {name}", CheckVerdict.FAIL,
                        f"The query failed: {error}")
            for name, error in sorted(found.errors.items())]


def _row_counts(found: ValidationFigures, reference: Baseline | None,
                tolerance: float) -> list[VerifyCheck]:
    checks: list[VerifyCheck] = []
    expected = reference.row_counts if reference else {}
    for table in sorted(set(found.row_counts) | set(expected)):
        title = f"Row count of {table}"
        count = found.row_counts.get(table)
        if count is None:
            checks.append(VerifyCheck(f"rows:{table}", title, CheckVerdict.FAIL,
                                      f"{table} could not be counted on the restored database."))
            continue
        ref = expected.get(table)
        if count == 0 and ref != 0:
            checks.append(VerifyCheck(f"rows:{table}", title, CheckVerdict.FAIL,
                                      f"{table} is empty."))
            continue
        if ref is None:
            checks.append(VerifyCheck(f"rows:{table}", title, CheckVerdict.WARN,
                                      f"{count:,} rows; no reference count to compare with."))
            continue
        low, high = int(ref * (1 - tolerance)), int(ref * (1 + tolerance)) + 1
        inside = low <= count <= high
        checks.append(VerifyCheck(
            f"rows:{table}", title, CheckVerdict.PASS if inside else CheckVerdict.FAIL,
            f"{count:,} rows; expected {low:,} to {high:,} (reference {ref:,})"
            + ("" if inside else ": outside the expected range")))
    return checks


def _newest(found: ValidationFigures, restore_point: datetime | None) -> list[VerifyCheck]:
    checks: list[VerifyCheck] = []
    if not found.newest:
        return [VerifyCheck("newest", "Newest created_at", CheckVerdict.FAIL,
                            "No newest created_at could be read.")]
    for table, newest in sorted(found.newest.items()):
        title = f"Newest created_at of {table}"
        key = f"newest:{table}"
        if restore_point is None:
            checks.append(VerifyCheck(key, title, CheckVerdict.WARN,
                                      f"{_fmt(newest)}; restore point unknown, not compared."))
        elif newest > restore_point + CLOCK_SLACK:
            checks.append(VerifyCheck(
                key, title, CheckVerdict.FAIL,
                f"{_fmt(newest)} is after the restore point {_fmt(restore_point)}: this is not "
                f"the database as it stood then."))
        elif restore_point - newest > MAX_QUIET:
            checks.append(VerifyCheck(
                key, title, CheckVerdict.WARN,
                f"{_fmt(newest)}, {fmt.duration(restore_point - newest)} before the restore point: "
                f"recent data may be missing."))
        else:
            checks.append(VerifyCheck(
                key, title, CheckVerdict.PASS,
                f"{_fmt(newest)}, consistent with the restore point {_fmt(restore_point)}."))
    return checks


def _orphans(found: ValidationFigures) -> VerifyCheck:
    title = "Orphaned records (foreign keys)"
    if found.orphaned_records is None:
        return VerifyCheck("orphans", title, CheckVerdict.FAIL,
                           "The orphaned-records query returned nothing.")
    if found.orphaned_records:
        return VerifyCheck("orphans", title, CheckVerdict.FAIL,
                           f"{found.orphaned_records:,} videos belong to no user.")
    return VerifyCheck("orphans", title, CheckVerdict.PASS, "No videos without a user.")


def _indexes(found: ValidationFigures, reference: Baseline | None) -> VerifyCheck:
    title = "Indexes present and valid"
    have = {f"{i.table}.{i.name}" for i in found.indexes}
    if not have:
        return VerifyCheck("indexes", title, CheckVerdict.FAIL,
                           "No index in the public schema.")
    if found.invalid_indexes:
        bad = found.invalid_indexes
        return VerifyCheck("indexes", title, CheckVerdict.FAIL,
                           f"{len(bad)} invalid (REINDEX them): {', '.join(bad[:6])}"
                           + (" ..." if len(bad) > 6 else ""))
    if reference is None or not reference.indexes:
        return VerifyCheck("indexes", title, CheckVerdict.WARN,
                           f"{len(have)} indexes; no reference list to compare with.")
    missing = sorted(set(reference.indexes) - have)
    if missing:
        return VerifyCheck("indexes", title, CheckVerdict.FAIL,
                           f"Missing {len(missing)}: {', '.join(missing[:6])}"
                           + (" ..." if len(missing) > 6 else ""))
    return VerifyCheck("indexes", title, CheckVerdict.PASS,
                       f"All {len(reference.indexes)} indexes of the reference are present.")


# ---- the recorded baseline -----------------------------------------------------------------

def baseline_path(base: Path, source: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", source)
    return base / "baselines" / f"{safe}.json"


def save_baseline(base: Path, baseline: Baseline) -> Path:
    """Record a baseline atomically (a temporary file in the same directory, fsync'd, renamed
    over the old one), 0600 in a private directory, never through a symbolic link: UnsafePathError
    for a link (or another user's file) in its place, OSError when the disk refuses."""
    path = baseline_path(base, baseline.source)
    safefile.private_dir(path.parent, base=base)
    safefile.write_atomic(path, json.dumps(baseline.to_json()).encode("utf-8"))
    return path


def save_baselines(base: Path, report: ValidationReport, sources: Iterable[str]) -> None:
    """Record one report as the baseline of each of `sources` (the demo: one database stands
    behind every instance)."""
    for source in sources:
        save_baseline(base, Baseline.from_report(source, report))


def load_baseline(base: Path, source: str) -> Baseline | None:
    """The recorded baseline of `source`, or None when there is none (or it is unreadable)."""
    path = baseline_path(base, source)
    try:
        # Not through a link either: a baseline decides whether a restore passes verify.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            return Baseline.from_json(json.loads(handle.read().decode("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _fmt(moment: datetime) -> str:
    return fmt.utc(moment, seconds=True, zone=True)
