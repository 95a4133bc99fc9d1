"""Judging a restored database's validation report.

Pure; the real-PG run is in test_recovery_run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from vwtui.model import QueryResult, ValidationReport
from vwtui.recovery.verify import (
    Baseline,
    CheckVerdict,
    ReferenceKind,
    judge,
    load_baseline,
    save_baseline,
)

POINT = datetime(2025, 11, 11, 10, 30, tzinfo=UTC)
INDEXES = (("users", "users_pkey"), ("users", "users_created_at_idx"),
           ("transactions", "transactions_pkey"))


def report(users: int = 5000, transactions: int = 40000, orphans: int = 0,
           newest: datetime = POINT - timedelta(minutes=3),
           indexes: tuple[tuple[str, str], ...] = INDEXES) -> ValidationReport:
    return ValidationReport(host="db", database="serverpod", results=(
        QueryResult("users", "", ("table_name", "row_count", "oldest_record", "newest_record"),
                    (("users", users, newest - timedelta(days=90), newest),)),
        QueryResult("transactions", "",
                    ("table_name", "row_count", "total_amount", "latest_transaction"),
                    (("transactions", transactions, 12345, newest),)),
        QueryResult("orphaned_records", "", ("check_name", "issue_count"),
                    (("orphaned_records", orphans),)),
        QueryResult("indexes", "", ("tablename", "indexname", "indexdef"),
                    tuple((t, i, f"CREATE INDEX {i}") for t, i in indexes)),
    ))


REFERENCE = Baseline.from_report("video-window", report())


def verdicts(verification: object) -> dict[str, CheckVerdict]:
    return {c.key: c.verdict for c in verification.checks}  # type: ignore[attr-defined]


def test_a_good_restore_passes_every_check() -> None:
    result = judge(report(users=4900), restore_point=POINT, reference=REFERENCE,
                   reference_kind=ReferenceKind.SOURCE)
    assert result.overall is CheckVerdict.PASS, result.checks
    assert result.reference is ReferenceKind.SOURCE
    assert set(verdicts(result)) >= {"rows:users", "rows:transactions", "newest:users",
                                     "orphans", "indexes"}


def test_row_count_outside_range_fails() -> None:
    result = judge(report(users=1000), restore_point=POINT, reference=REFERENCE,
                   reference_kind=ReferenceKind.BASELINE)
    assert verdicts(result)["rows:users"] is CheckVerdict.FAIL
    assert result.overall is CheckVerdict.FAIL
    assert not result.passed


def test_empty_table_fails_even_without_reference() -> None:
    result = judge(report(users=0), restore_point=POINT, reference=None,
                   reference_kind=ReferenceKind.NONE)
    assert verdicts(result)["rows:users"] is CheckVerdict.FAIL
    assert verdicts(result)["rows:transactions"] is CheckVerdict.WARN
    assert result.reference is ReferenceKind.NONE


def test_rows_newer_than_the_restore_point_fail() -> None:
    result = judge(report(newest=POINT + timedelta(hours=1)), restore_point=POINT,
                   reference=REFERENCE, reference_kind=ReferenceKind.SOURCE)
    assert verdicts(result)["newest:users"] is CheckVerdict.FAIL
    stale = judge(report(newest=POINT - timedelta(days=3)), restore_point=POINT,
                  reference=REFERENCE, reference_kind=ReferenceKind.SOURCE)
    assert verdicts(stale)["newest:users"] is CheckVerdict.WARN
    assert stale.passed


def test_orphans_fail() -> None:
    result = judge(report(orphans=3), restore_point=POINT, reference=REFERENCE,
                   reference_kind=ReferenceKind.SOURCE)
    assert verdicts(result)["orphans"] is CheckVerdict.FAIL


def test_missing_index_fails() -> None:
    result = judge(report(indexes=INDEXES[:1]), restore_point=POINT, reference=REFERENCE,
                   reference_kind=ReferenceKind.SOURCE)
    check = next(c for c in result.checks if c.key == "indexes")
    assert check.verdict is CheckVerdict.FAIL
    assert "transactions.transactions_pkey" in check.detail


def test_failed_query_fails() -> None:
    broken = ValidationReport("db", "serverpod", (
        QueryResult("users", "", (), (), error="relation \"users\" does not exist"),))
    result = judge(broken, restore_point=POINT, reference=None, reference_kind=ReferenceKind.NONE)
    assert verdicts(result)["query:users"] is CheckVerdict.FAIL


def test_baseline_roundtrips_on_disk(tmp_path: Path) -> None:
    path = save_baseline(tmp_path, REFERENCE)
    assert path.is_file()
    assert load_baseline(tmp_path, "video-window") == REFERENCE
    assert load_baseline(tmp_path, "other") is None


def test_a_table_empty_in_the_reference_too_is_no_failure() -> None:
    empty_source = Baseline.from_report("video-window", report(transactions=0))
    result = judge(report(transactions=0), restore_point=POINT, reference=empty_source,
                   reference_kind=ReferenceKind.SOURCE)
    assert verdicts(result)["rows:transactions"] is CheckVerdict.PASS
    lost = judge(report(transactions=0), restore_point=POINT, reference=REFERENCE,
                 reference_kind=ReferenceKind.SOURCE)
    assert verdicts(lost)["rows:transactions"] is CheckVerdict.FAIL  # emptied by the restore
