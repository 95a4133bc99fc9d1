"""The validation session stays read-only whatever the SQL says (issue 9, section 5): the file is
split into statements (quotes and comments respected), only read statements are sent, each alone
through the extended query protocol. Against the real PostgreSQL of the test suite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from vwtui.config import Config
from vwtui.services.pg import PgService
from vwtui.validation import (
    ValidationQuery,
    first_keyword,
    parse_validation_queries,
    split_statements,
)

SNEAKY_TABLE = "vwtui_sneaky"


def fetch(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query.encode()).fetchall()


def table_exists(dsn: str, name: str) -> bool:
    return fetch(dsn, f"SELECT to_regclass('public.{name}') IS NOT NULL") == [(True,)]


@pytest.fixture
def no_sneaky_table(pg_server: Any) -> Iterator[str]:
    """The tables a test tries to create: absent before, dropped after whatever happens."""
    names = [SNEAKY_TABLE, f"{SNEAKY_TABLE}_2", f"{SNEAKY_TABLE}_3"]

    def drop() -> None:
        with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
            for name in names:
                conn.execute(f"DROP TABLE IF EXISTS {name}".encode())

    drop()
    yield pg_server.dsn
    drop()


def one_sentence(error: str | None) -> str:
    assert error is not None
    assert "\n" not in error and error.endswith(".") and ". " not in error, error
    return error


async def test_a_file_that_commits_and_opens_a_write_transaction_writes_nothing(
        pg_config: Config, no_sneaky_table: str) -> None:
    dsn = no_sneaky_table
    (audit_before,), = fetch(dsn, "SELECT count(*) FROM audit_log")
    text = ("-- Sneaky\n"
            f"COMMIT; BEGIN READ WRITE; CREATE TABLE {SNEAKY_TABLE} (x int);\n"
            "-- Rows\n"
            "SELECT count(*) AS n FROM users;\n"
            "-- Sneakier\n"
            "COMMIT; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; "
            "INSERT INTO audit_log (action, entity) VALUES ('tamper', 'user');\n")
    queries = parse_validation_queries(text)

    report = await PgService(pg_config).run_queries(queries)

    assert not table_exists(dsn, SNEAKY_TABLE)
    assert fetch(dsn, "SELECT count(*) FROM audit_log") == [(audit_before,)]
    assert [r.name for r in report.results] == [
        "sneaky", "query_2", "query_3", "rows", "sneakier", "query_6", "query_7"]
    errors = {r.name: r.error for r in report.results}
    for name, keyword in (("sneaky", "COMMIT"), ("query_2", "BEGIN"), ("query_3", "CREATE"),
                          ("sneakier", "COMMIT"), ("query_6", "SET"), ("query_7", "INSERT")):
        error = one_sentence(errors[name])
        assert error.startswith(f"{name}: refused, only read statements")
        assert "read-only transaction" in error
        assert f"a {keyword} statement" in error
    assert errors["rows"] is None  # a read still runs, after and between the refusals


async def test_two_statements_in_one_query_are_refused_by_the_server(
        pg_config: Config, no_sneaky_table: str) -> None:
    # Even when the splitting is bypassed, the extended protocol takes one statement only.
    report = await PgService(pg_config).run_queries([
        ValidationQuery("two", "two", f"SELECT 1; CREATE TABLE {SNEAKY_TABLE}_2 (x int)"),
        ValidationQuery("three", "three",
                        f"SELECT 1; COMMIT; BEGIN READ WRITE; "
                        f"CREATE TABLE {SNEAKY_TABLE}_3 (x int)"),
        ValidationQuery("after", "after", "SELECT 'still here'"),
    ])

    for name in ("two", "three"):
        error = one_sentence(report.result(name).error)  # type: ignore[union-attr]
        assert "one statement at a time" in error and "multiple commands" in error
    assert report.result("after").rows == (("still here",),)  # type: ignore[union-attr]
    assert not table_exists(no_sneaky_table, f"{SNEAKY_TABLE}_2")
    assert not table_exists(no_sneaky_table, f"{SNEAKY_TABLE}_3")


async def test_turning_the_session_default_off_does_not_open_a_way_to_write(
        pg_config: Config, pg_server: Any) -> None:
    # A read statement may change the session's default; each query's own transaction is
    # still opened READ ONLY, so a write hidden in a WITH is refused.
    (before,), = fetch(pg_server.dsn, "SELECT count(*) FROM audit_log")
    report = await PgService(pg_config).run_queries([
        ValidationQuery("off", "off",
                        "SELECT set_config('default_transaction_read_only', 'off', false)"),
        ValidationQuery("write", "write",
                        "WITH w AS (INSERT INTO audit_log (action, entity) "
                        "VALUES ('tamper', 'user') RETURNING 1) SELECT count(*) FROM w"),
        ValidationQuery("tx", "tx",
                        "SELECT set_config('transaction_read_only', 'off', true)"),
    ])

    assert "read-only" in (report.result("write").error or "")  # type: ignore[union-attr]
    assert report.result("tx").error is not None  # type: ignore[union-attr]
    assert fetch(pg_server.dsn, "SELECT count(*) FROM audit_log") == [(before,)]


async def test_the_shipped_file_still_validates(pg_config: Config) -> None:
    report = await PgService(pg_config).validate()
    assert [r.error for r in report.results] == [None] * len(report.results)


# ---- splitting -------------------------------------------------------------------------------

def test_semicolons_inside_quotes_and_comments_do_not_split() -> None:
    text = ("-- One\n"
            "SELECT 'a;b' AS s, \"odd;name\" AS q, $$c;d$$ AS d, $t$e;$$;f$t$ AS t,\n"
            "       E'g\\';h' AS e /* i; /* nested; */ j; */;\n"
            "SELECT 2; -- not the next one's name\n"
            "\n"
            "-- Three\n"
            "-- (the last comment line names it)\n"
            "SELECT 3\n")

    assert split_statements(text) == [
        ("One", "SELECT 'a;b' AS s, \"odd;name\" AS q, $$c;d$$ AS d, $t$e;$$;f$t$ AS t,\n"
                "       E'g\\';h' AS e /* i; /* nested; */ j; */"),
        (None, "SELECT 2"),
        ("(the last comment line names it)", "SELECT 3"),
    ]
    assert split_statements("COMMIT;BEGIN;;  ;\n-- only a comment\n") == [
        (None, "COMMIT"), (None, "BEGIN")]


async def test_quoted_semicolons_reach_the_server_whole(pg_config: Config) -> None:
    queries = parse_validation_queries(
        "-- Quoted\nSELECT 'a;b' AS s, $$c;d$$ AS d, E'e\\';f' AS e, \"x;y\".v FROM "
        "(SELECT 1 AS v) AS \"x;y\";")
    report = await PgService(pg_config).run_queries(queries)
    assert report.result("quoted").rows == (("a;b", "c;d", "e';f", 1),)  # type: ignore[union-attr]


def test_the_first_keyword_skips_comments_and_parentheses() -> None:
    assert first_keyword("-- x\n/* y */ ((select 1) union (select 2))") == "SELECT"
    assert first_keyword("  with a as (select 1) select * from a") == "WITH"
    assert first_keyword("/* a */ CoMmIt") == "COMMIT"
    assert first_keyword("-- nothing") == ""
