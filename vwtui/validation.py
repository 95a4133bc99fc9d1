"""The runbook's validation queries (sql/validation_queries.sql) and what their results say.

Pure: parsing the shipped SQL file and reading figures out of a `ValidationReport`. The queries
run in `vwtui.services.pg`; the recovery verify step compares the figures read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from importlib.resources import files

from vwtui.model import ValidationReport

VALIDATION_FILE = "validation_queries.sql"

# Stable short names for the runbook's comments, so code never depends on their wording.
SHORT_NAMES = {
    "User data validation": "users",
    "Transaction validation": "transactions",
    "Data integrity checks": "orphaned_records",
    "Index validation": "indexes",
    "Database size": "database_size",
}


@dataclass(frozen=True, slots=True)
class ValidationQuery:
    """One query of the file: its short name, the comment above it, and its SQL."""

    name: str
    title: str
    sql: str


@dataclass(frozen=True, slots=True)
class IndexInfo:
    table: str
    name: str
    definition: str


@dataclass(frozen=True, slots=True)
class ValidationFigures:
    """The figures the runbook asks to check after a restore, read from one report.

    A figure is None when its query failed or returned nothing.
    """

    row_counts: dict[str, int]
    total_amount: Decimal | None
    newest: dict[str, datetime]
    orphaned_records: int | None
    indexes: tuple[IndexInfo, ...]
    database_size: str | None
    errors: dict[str, str]
    # "table.index" of indexes PostgreSQL marks invalid or not ready; None when not read.
    invalid_indexes: tuple[str, ...] | None = None


def parse_validation_queries(text: str) -> tuple[ValidationQuery, ...]:
    """Split SQL text into queries, each named by the `-- comment` line just above it.

    Statements end with `;`. A comment directly followed by SQL names that statement; a
    statement with no comment gets `query_<n>`.
    """
    queries: list[ValidationQuery] = []
    title: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not body and stripped.startswith("--"):
            title = stripped.lstrip("-").strip()
            continue
        if not body and not stripped:
            continue
        body.append(line)
        if stripped.endswith(";"):
            queries.append(_query(title, body, len(queries) + 1))
            title, body = None, []
    if body:  # a last statement without its semicolon
        queries.append(_query(title, body, len(queries) + 1))
    names = [q.name for q in queries]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"validation queries share names: {', '.join(sorted(duplicates))}")
    return tuple(queries)


def _query(title: str | None, body: list[str], number: int) -> ValidationQuery:
    sql = "\n".join(body).strip().rstrip(";").rstrip()
    label = title or f"Query {number}"
    return ValidationQuery(name=short_name(title) if title else f"query_{number}",
                           title=label, sql=sql)


def short_name(title: str) -> str:
    """The stable short name of a runbook comment (`User data validation` -> `users`)."""
    if title in SHORT_NAMES:
        return SHORT_NAMES[title]
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_") or "query"


# Beyond the runbook's appendix: pg_indexes, which it reads, cannot tell a valid index from an
# invalid one (a failed CREATE INDEX CONCURRENTLY, an interrupted REINDEX); pg_index can.
INVALID_INDEXES = ValidationQuery(
    name="invalid_indexes", title="Invalid indexes (vwtui, beyond the runbook)",
    sql="SELECT t.relname AS tablename, c.relname AS indexname FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = 'public' AND (NOT i.indisvalid OR NOT i.indisready) "
        "ORDER BY 1, 2")
# The runbook's queries name the database; vwtui runs them against database.name.
RUNBOOK_DATABASE = "serverpod"


def queries_for(database: str) -> tuple[ValidationQuery, ...]:
    """The runbook's queries for `database` (its literal 'serverpod' replaced), and vwtui's
    invalid-index query."""
    literal = "'" + database.replace("'", "''") + "'"
    runbook = tuple(q if database == RUNBOOK_DATABASE else
                    ValidationQuery(q.name, q.title,
                                    q.sql.replace(f"'{RUNBOOK_DATABASE}'", literal))
                    for q in validation_queries())
    return (*runbook, INVALID_INDEXES)


@cache
def validation_queries() -> tuple[ValidationQuery, ...]:
    """The queries of sql/validation_queries.sql, as shipped in the package vwtui.sql."""
    text = files("vwtui.sql").joinpath(VALIDATION_FILE).read_text(encoding="utf-8")
    return parse_validation_queries(text)


# ---- figures out of a report ---------------------------------------------------------------

def _rows(report: ValidationReport, name: str) -> list[dict[str, object]]:
    result = report.result(name)
    if result is None or result.error is not None:
        return []
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _first(report: ValidationReport, name: str, column: str) -> object | None:
    rows = _rows(report, name)
    return rows[0].get(column) if rows else None


def row_counts(report: ValidationReport) -> dict[str, int]:
    """Rows per table, from every result that has `table_name` and `row_count` columns."""
    counts: dict[str, int] = {}
    for result in report.results:
        for row in _rows(report, result.name):
            table, count = row.get("table_name"), row.get("row_count")
            if isinstance(table, str) and isinstance(count, int):
                counts[table] = count
    return counts


def newest_created_at(report: ValidationReport) -> dict[str, datetime]:
    """Newest created_at per table: users.newest_record, transactions.latest_transaction."""
    found: dict[str, datetime] = {}
    for name, column in (("users", "newest_record"), ("transactions", "latest_transaction")):
        value = _first(report, name, column)
        if isinstance(value, datetime):
            found[name] = _utc(value)
    return found


def total_amount(report: ValidationReport) -> Decimal | None:
    value = _first(report, "transactions", "total_amount")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    return None


def orphan_count(report: ValidationReport) -> int | None:
    """Videos whose user is missing (the data integrity check)."""
    value = _first(report, "orphaned_records", "issue_count")
    return value if isinstance(value, int) else None


def index_list(report: ValidationReport) -> tuple[IndexInfo, ...]:
    """Indexes of the public schema, by table then name."""
    return tuple(
        IndexInfo(table=str(row["tablename"]), name=str(row["indexname"]),
                  definition=str(row["indexdef"]))
        for row in _rows(report, "indexes")
    )


def invalid_indexes(report: ValidationReport) -> tuple[str, ...] | None:
    """"table.index" of each invalid or unready index; None when the query did not run."""
    result = report.result(INVALID_INDEXES.name)
    if result is None or result.error is not None:
        return None
    return tuple(f"{row['tablename']}.{row['indexname']}"
                 for row in _rows(report, INVALID_INDEXES.name))


def database_size(report: ValidationReport) -> str | None:
    """pg_size_pretty of the database, e.g. `21 MB`."""
    value = _first(report, "database_size", "database_size")
    return value if isinstance(value, str) else None


def errors(report: ValidationReport) -> dict[str, str]:
    return {r.name: r.error for r in report.results if r.error is not None}


def figures(report: ValidationReport) -> ValidationFigures:
    """Every figure of a report at once."""
    return ValidationFigures(
        row_counts=row_counts(report),
        total_amount=total_amount(report),
        newest=newest_created_at(report),
        orphaned_records=orphan_count(report),
        indexes=index_list(report),
        database_size=database_size(report),
        errors=errors(report),
        invalid_indexes=invalid_indexes(report),
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
