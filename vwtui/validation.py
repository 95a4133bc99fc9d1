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
# Troubleshooting's read of the source: sessions, locks, size.
TROUBLESHOOT_FILE = "troubleshoot_activity.sql"

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
    """Split SQL text into statements, each named by the `-- comment` line just above it.

    Statements end with a `;` outside quotes and comments (see `split_statements`): a line
    holding `COMMIT; BEGIN READ WRITE; CREATE TABLE t ...` is three statements, each run (and
    refused) on its own. A comment line directly above a statement names it; a statement with
    no comment gets `query_<n>`.
    """
    queries: list[ValidationQuery] = []
    for title, sql in split_statements(text):
        number = len(queries) + 1
        queries.append(ValidationQuery(name=short_name(title) if title else f"query_{number}",
                                       title=title or f"Query {number}", sql=sql))
    names = [q.name for q in queries]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"validation queries share names: {', '.join(sorted(duplicates))}")
    return tuple(queries)


# ---- splitting SQL text into statements ------------------------------------------------------
# A small tokenizer rather than a library (sqlparse): splitting only needs to know where quotes
# and comments start and end, in PostgreSQL's lexical rules, and a mistake here cannot open a
# way to write: each statement still goes alone through the extended protocol (services.pg),
# where PostgreSQL itself refuses two commands in one.

_WORD = re.compile(r"[A-Za-z_\x80-\uffff][A-Za-z0-9_$\x80-\uffff]*")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")


def _skip_quoted(text: str, start: int, quote: str, backslash: bool = False) -> int:
    """The index after the string or quoted identifier opening at `start` (a doubled quote
    stands for itself; with `backslash`, as in E'...', a backslash escapes the next
    character). Unterminated: the end of the text."""
    i = start + 1
    while i < len(text):
        char = text[i]
        if backslash and char == "\\":
            i += 2
            continue
        if char == quote:
            if text.startswith(quote, i + 1):
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)


def _skip_block_comment(text: str, start: int) -> int:
    """The index after the /* ... */ comment at `start` (they nest in PostgreSQL)."""
    depth, i = 0, start
    while i < len(text):
        if text.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(text)


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of each token that matters for splitting: "comment" (a -- line
    comment), "block" (/* */), "semicolon", "code" (anything else but white space)."""
    found: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        start = i
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            found.append(("comment", start, i))
            continue
        if text.startswith("/*", i):
            i = _skip_block_comment(text, i)
            found.append(("block", start, i))
            continue
        if char == ";":
            found.append(("semicolon", i, i + 1))
            i += 1
            continue
        if char == "'":
            i = _skip_quoted(text, i, "'")
        elif char == '"':
            i = _skip_quoted(text, i, '"')
        elif char == "$" and (tag := _DOLLAR_TAG.match(text, i)):
            close = text.find(tag.group(), tag.end())
            i = n if close < 0 else close + len(tag.group())
        elif word := _WORD.match(text, i):
            i = word.end()
            if word.group() in ("E", "e") and text.startswith("'", i):
                i = _skip_quoted(text, i, "'", backslash=True)
        else:
            i += 1
        found.append(("code", start, i))
    return found


def split_statements(text: str) -> list[tuple[str | None, str]]:
    """(title, sql) of each statement of `text`, in order, without its `;`.

    The title is the last `-- comment` standing on a line of its own before the statement (a
    comment after a `;` on the same line belongs to the statement before). Comments inside a
    statement stay in its SQL; empty statements are dropped.
    """
    statements: list[tuple[str | None, str]] = []
    title: str | None = None
    body_start: int | None = None
    body_end = 0
    for kind, start, end in [*_tokens(text), ("semicolon", len(text), len(text))]:
        if kind == "semicolon":
            if body_start is not None:
                statements.append((title, text[body_start:body_end].strip()))
            title, body_start = None, None
            continue
        if body_start is None and kind in ("comment", "block"):
            line_start = text.rfind("\n", 0, start) + 1
            if kind == "comment" and not text[line_start:start].strip():
                title = text[start:end].lstrip("-").strip() or title
            continue
        if body_start is None:
            body_start = start
        body_end = end
    return statements


# Statements that only read. Anything else (COMMIT, BEGIN, SET, DO, CALL, CREATE ...) is refused
# before it reaches the server; a write hidden in one of these (a data-modifying WITH, EXPLAIN
# ANALYZE of an INSERT) is refused by the read-only transaction it runs in.
READ_STATEMENTS = frozenset({"SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN"})


def first_keyword(sql: str) -> str:
    """The statement's first word, upper case, past comments and opening parentheses."""
    for kind, start, end in _tokens(sql):
        if kind in ("comment", "block"):
            continue
        token = sql[start:end]
        if token == "(":  # (SELECT ...) UNION (SELECT ...)
            continue
        return token.upper() if _WORD.fullmatch(token) else token
    return ""


def read_only_refusal(query: ValidationQuery) -> str | None:
    """Why `query` may not run in the read-only validation session (one sentence), or None."""
    keyword = first_keyword(query.sql)
    if keyword in READ_STATEMENTS:
        return None
    what = f"a {keyword} statement" if keyword else "an empty statement"
    return (f"{query.name}: refused, only read statements (SELECT, WITH, VALUES, TABLE, SHOW, "
            f"EXPLAIN) run in the validation session's read-only transaction, one at a time, "
            f"and this is {what}.")


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


FOREIGN_KEY_FILE = "foreign_key_orphans.sql"


@cache
def foreign_key_queries() -> tuple[ValidationQuery, ...]:
    """sql/foreign_key_orphans.sql: one row per foreign key of the schema with its orphans."""
    text = files("vwtui.sql").joinpath(FOREIGN_KEY_FILE).read_text(encoding="utf-8")
    return tuple(ValidationQuery("foreign_key_orphans", q.title, q.sql)
                 for q in parse_validation_queries(text))


def extra_queries(text: str) -> tuple[ValidationQuery, ...]:
    """The team's own read-only checks (drill.extra_sql), named extra:<name>."""
    return tuple(ValidationQuery(f"extra:{q.name}", q.title, q.sql)
                 for q in parse_validation_queries(text))


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


@cache
def troubleshoot_queries() -> tuple[ValidationQuery, ...]:
    """The queries of sql/troubleshoot_activity.sql (active sessions, blocked/blocking pairs,
    database size), in that order."""
    text = files("vwtui.sql").joinpath(TROUBLESHOOT_FILE).read_text(encoding="utf-8")
    return parse_validation_queries(text)
