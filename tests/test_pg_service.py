"""PgService against a real PostgreSQL: the runbook's validation queries, read-only, timeouts,
connection failures, IAM tokens; DemoPostgres start and cleanup; the query file parser."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.resources import files
from typing import Any

import psutil
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from vwtui.config import Config, DatabaseConfig
from vwtui.errors import DatabaseError, DatabaseUnavailable
from vwtui.model import QueryResult, ValidationReport
from vwtui.recovery.verify import CheckVerdict, ReferenceKind, judge
from vwtui.sandbox.postgres import DemoPostgres, seed_demo_database
from vwtui.services.aws import AwsService
from vwtui.services.pg import PgService
from vwtui.validation import (
    INVALID_INDEXES,
    ValidationQuery,
    figures,
    parse_validation_queries,
    queries_for,
    validation_queries,
)

RUNBOOK_QUERIES = [
    ("users", "User data validation"),
    ("transactions", "Transaction validation"),
    ("orphaned_records", "Data integrity checks"),
    ("indexes", "Index validation"),
    ("database_size", "Database size"),
]
SECRET = "s3cret-Not-To-Show-42"


def fetch(dsn: str, query: str) -> list[tuple[Any, ...]]:
    """An independent look at the database, outside the service under test."""
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return conn.execute(query.encode()).fetchall()


def result(report: ValidationReport, name: str) -> QueryResult:
    """The report's result for the query `name`; the test fails when there is none."""
    found = report.result(name)
    assert found is not None, f"no result for {name!r}"
    return found


def q(name: str, sql: str) -> ValidationQuery:
    return ValidationQuery(name=name, title=name, sql=sql)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the runbook's validation queries on the seeded database -----------------------------------

async def test_validate_runs_the_five_runbook_queries_by_name(pg_config: Config) -> None:
    report = await PgService(pg_config).validate()

    # The runbook's five, then vwtui's own: pg_indexes cannot tell an invalid index.
    expected = [*RUNBOOK_QUERIES, ("invalid_indexes", INVALID_INDEXES.title)]
    assert [(r.name, r.title) for r in report.results] == expected
    assert {r.name: r.error for r in report.results} == dict.fromkeys(dict(expected))
    assert report.database == "serverpod"
    assert report.host == pg_config.database.host
    assert result(report, "users").columns == (
        "table_name", "row_count", "oldest_record", "newest_record")
    assert result(report, "transactions").columns == (
        "table_name", "row_count", "total_amount", "latest_transaction")


async def test_validate_reports_the_figures_of_the_seeded_database(pg_config, pg_server) -> None:
    report = await PgService(pg_config).validate()
    found = figures(report)

    users = fetch(pg_server.dsn, "SELECT count(*), max(created_at) FROM users")[0]
    tx = fetch(pg_server.dsn,
               "SELECT count(*), sum(amount), max(created_at) FROM transactions")[0]
    size = fetch(pg_server.dsn, "SELECT pg_size_pretty(pg_database_size('serverpod'))")[0][0]
    indexes = fetch(pg_server.dsn, "SELECT tablename, indexname FROM pg_indexes "
                                   "WHERE schemaname = 'public' ORDER BY 1, 2")

    # The seed's sizes (sql/demo_schema.sql) ...
    assert found.row_counts == {"users": 5000, "transactions": 40000}
    assert found.orphaned_records == 0
    # ... and the same figures as read independently.
    assert (found.row_counts["users"], found.newest["users"]) == users
    assert (found.row_counts["transactions"], found.total_amount,
            found.newest["transactions"]) == tx
    assert isinstance(found.total_amount, Decimal) and found.total_amount > 0
    assert found.database_size == size
    assert [(i.table, i.name) for i in found.indexes] == indexes
    assert {"users_pkey", "users_email_key", "transactions_user_id_idx",
            "videos_user_id_idx"} <= {i.name for i in found.indexes}
    assert all(i.definition.startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))
               for i in found.indexes)
    assert found.errors == {}


async def test_timestamps_come_back_aware_utc_and_recent(pg_config: Config) -> None:
    found = figures(await PgService(pg_config).validate())

    now = datetime.now(UTC)
    for table, newest in found.newest.items():
        assert newest.utcoffset() == timedelta(0), table
        # The seed ends a few minutes before it was loaded (this session, or earlier on a
        # server from VWTUI_TEST_PG_DSN): in the past, within the seed's 90 days of it.
        assert newest < now, table
    assert found.newest["transactions"] - found.newest["users"] == timedelta(minutes=2)


@pytest.fixture(scope="module")
def damaged_db(pg_server) -> Iterator[str]:
    """A copy of the demo database after a bad deployment: transactions dropped, the videos
    foreign key gone and some users deleted, leaving their videos orphaned."""
    name = "vwtui_test_damaged"
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}".encode())
        conn.execute(f"CREATE DATABASE {name}".encode())
    dsn = make_conninfo(pg_server.dsn, dbname=name)
    seed_demo_database(dsn)
    with psycopg.connect(dsn) as conn:
        conn.execute("DROP TABLE transactions")
        conn.execute("ALTER TABLE videos DROP CONSTRAINT videos_user_id_fkey")
        conn.execute("DELETE FROM users WHERE id IN (SELECT user_id FROM videos WHERE id <= 5)")
    yield name
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


async def test_damaged_database_shows_orphans_and_a_failed_query_only_marks_itself(
        pg_config: Config, pg_server, damaged_db: str) -> None:
    config = pg_config.replace(database=dataclasses.replace(pg_config.database, name=damaged_db))
    dsn = make_conninfo(pg_server.dsn, dbname=damaged_db)

    report = await PgService(config).validate()
    found = figures(report)

    (users,), = fetch(dsn, "SELECT count(*) FROM users")
    (orphans,), = fetch(dsn, "SELECT count(*) FROM videos v "
                             "WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = v.user_id)")
    assert users < 5000 and orphans >= 5
    transactions = result(report, "transactions")
    assert transactions.rows == ()
    assert 'relation "transactions" does not exist' in (transactions.error or "")
    assert found.errors.keys() == {"transactions"}
    assert found.row_counts == {"users": users}
    assert found.orphaned_records == orphans
    assert found.total_amount is None and "transactions" not in found.newest
    assert not any(i.table == "transactions" for i in found.indexes)
    assert found.database_size is not None


# ---- guardrails: read-only, statement timeout ---------------------------------------------------

async def test_validation_transactions_are_read_only(pg_config: Config, pg_server) -> None:
    (before,), = fetch(pg_server.dsn, "SELECT count(*) FROM audit_log")

    report = await PgService(pg_config).run_queries([
        q("read_only", "SHOW transaction_read_only"),
        q("write", "INSERT INTO audit_log (action, entity) VALUES ('tamper', 'user')"),
        q("after", "SELECT count(*) FROM audit_log"),
    ])

    assert result(report, "read_only").rows == (("on",),)
    assert "read-only transaction" in (result(report, "write").error or "")
    assert result(report, "after").rows == ((before,),)
    assert fetch(pg_server.dsn, "SELECT count(*) FROM audit_log") == [(before,)]


async def test_statement_timeout_cancels_a_slow_query_and_the_next_still_runs(
        pg_config: Config) -> None:
    config = pg_config.replace(database=dataclasses.replace(
        pg_config.database, statement_timeout_seconds=1))

    report = await PgService(config).run_queries([
        q("setting", "SHOW statement_timeout"),
        q("slow", "SELECT pg_sleep(3)"),
        q("after", "SELECT 'still here'"),
    ])

    assert result(report, "setting").rows == (("1s",),)
    slow = result(report, "slow")
    assert slow.rows == () and slow.error is not None
    assert "statement timeout" in slow.error and "1 s" in slow.error
    assert result(report, "after").rows == (("still here",),)


async def test_ping_returns_the_server_version(pg_config: Config, pg_server) -> None:
    version = await PgService(pg_config).ping()

    assert [(version,)] == fetch(pg_server.dsn, "SHOW server_version")


# ---- PostgreSQL unreachable ---------------------------------------------------------------------

async def test_no_server_on_the_socket_is_unavailable_with_where_and_no_password(
        tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PGPASSWORD", SECRET)
    config = Config(database=DatabaseConfig(host=str(tmp_path), port=5432, sslmode="disable"))

    with pytest.raises(DatabaseUnavailable) as caught:
        await PgService(config).validate()

    message = str(caught.value)
    assert f"socket {tmp_path}/.s.PGSQL.5432" in message
    assert "database serverpod" in message and "user postgres" in message
    assert "Check" in message and SECRET not in message


async def test_refused_tcp_port_is_unavailable(monkeypatch) -> None:
    monkeypatch.setenv("PGPASSWORD", SECRET)
    port = free_port()
    config = Config(database=DatabaseConfig(host="127.0.0.1", port=port, sslmode="disable"))

    with pytest.raises(DatabaseUnavailable, match="Connection refused") as caught:
        await PgService(config).ping()

    assert f"127.0.0.1:{port}" in str(caught.value) and SECRET not in str(caught.value)


async def test_silent_server_times_out_as_unavailable() -> None:
    # Accepts TCP connections (kernel backlog) and never answers, like a dead tunnel.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        config = Config(database=DatabaseConfig(host="127.0.0.1", port=port, sslmode="disable",
                                                connect_timeout_seconds=2))
        with pytest.raises(DatabaseUnavailable, match="connect timeout of 2 s"):
            await PgService(config).ping()


async def test_unknown_database_says_which(pg_config: Config) -> None:
    config = pg_config.replace(database=dataclasses.replace(pg_config.database, name="nope_db"))

    with pytest.raises(DatabaseError, match=r"no database nope_db.*database\.name"):
        await PgService(config).ping()


# ---- endpoint and IAM auth ----------------------------------------------------------------------

def test_config_host_overrides_the_instance_endpoint() -> None:
    tunnel = PgService(Config(database=DatabaseConfig(host="127.0.0.1", port=15432)))
    direct = PgService(Config(database=DatabaseConfig(port=5433)))

    assert tunnel.endpoint("vw.abc.eu-west-1.rds.amazonaws.com", 5432) == ("127.0.0.1", 15432)
    assert direct.endpoint("vw.abc.eu-west-1.rds.amazonaws.com", 5432) == (
        "vw.abc.eu-west-1.rds.amazonaws.com", 5432)
    assert direct.endpoint("vw.abc.eu-west-1.rds.amazonaws.com") == (
        "vw.abc.eu-west-1.rds.amazonaws.com", 5433)
    with pytest.raises(DatabaseError, match=r"database\.host"):
        direct.endpoint(None)


async def test_iam_auth_without_a_token_provider_is_refused_before_connecting() -> None:
    config = Config(database=DatabaseConfig(host="127.0.0.1", port=free_port(), iam_auth=True))

    with pytest.raises(DatabaseError, match="iam_auth"):
        await PgService(config).ping()


@pytest.fixture(scope="module")
def password_server() -> Iterator[DemoPostgres]:
    """A server where role vwtui_pw must give a password (scram), as on RDS."""
    with DemoPostgres(seed=False) as server:
        hba = server.pgdata / "pg_hba.conf"
        hba.write_text("local all vwtui_pw scram-sha-256\n" + hba.read_text())
        with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE vwtui_pw LOGIN PASSWORD '{SECRET}'".encode())
            conn.execute("SELECT pg_reload_conf()")
        yield server


def password_config(server: DemoPostgres, **extra) -> Config:
    return Config(database=DatabaseConfig(host=server.host, port=server.port, user="vwtui_pw",
                                          sslmode="disable", **extra))


async def test_password_comes_from_pgpassword(password_server, monkeypatch) -> None:
    monkeypatch.setenv("PGPASSWORD", SECRET)

    assert await PgService(password_config(password_server)).ping()


async def test_wrong_password_is_refused_without_showing_it(password_server, monkeypatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "wrong-" + SECRET)

    with pytest.raises(DatabaseError, match=r"refused the login.*PGPASSWORD") as caught:
        await PgService(password_config(password_server)).ping()

    assert not isinstance(caught.value, DatabaseUnavailable)
    assert SECRET not in str(caught.value)


async def test_iam_token_is_asked_for_the_endpoint_and_used_as_password(
        password_server, monkeypatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    asked: list[tuple[str, int, str]] = []

    async def token(host: str, port: int, user: str) -> str:
        asked.append((host, port, user))
        return SECRET

    service = PgService(password_config(password_server, iam_auth=True), token_provider=token)

    assert await service.ping()
    assert asked == [(password_server.host, password_server.port, "vwtui_pw")]


async def test_refused_iam_token_points_at_iam_and_hides_the_token(
        password_server, monkeypatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)

    async def token(host: str, port: int, user: str) -> str:
        return "bad-token-" + SECRET

    service = PgService(password_config(password_server, iam_auth=True), token_provider=token)
    with pytest.raises(DatabaseError, match="IAM auth token was refused") as caught:
        await service.ping()

    assert SECRET not in str(caught.value)


async def test_rds_auth_token_is_signed_for_host_port_and_user(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws = AwsService(Config(), region="eu-west-1")

    token = await aws.rds_auth_token("vw.abc.eu-west-1.rds.amazonaws.com", 5432, "vwtui")

    assert token.startswith("vw.abc.eu-west-1.rds.amazonaws.com:5432/?")
    assert "Action=connect" in token and "DBUser=vwtui" in token
    assert "X-Amz-Signature=" in token and "example-secret" not in token


# ---- DemoPostgres -------------------------------------------------------------------------------

def postgres_processes_under(path: str) -> list[str]:
    """Live (non-zombie) processes whose command line mentions `path`, as ps shows them."""
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,stat=,args="], capture_output=True, text=True,
                         check=True).stdout
    return [line for line in out.splitlines()
            if path in line and not line.split()[1].startswith("Z") and "ps -ww" not in line]


def test_a_postmaster_whose_handle_was_lost_is_stopped_all_the_same() -> None:
    # Start-up failed after pg_ctl had launched the server (a timeout, a closed terminal):
    # pgserver handed nothing over, yet stop() must leave no server behind.
    server = DemoPostgres(seed=False).start()
    root = server.root
    assert root is not None and postgres_processes_under(str(root))
    server._server, server.pid = None, None  # what a failed start leaves
    server.stop()
    assert postgres_processes_under(str(root)) == []
    assert not root.exists()


def test_demo_postgres_serves_serverpod_then_leaves_no_process_and_no_directory() -> None:
    with pytest.raises(RuntimeError, match="boom"), DemoPostgres() as server:
        root, pid = server.root, server.pid
        assert root is not None and server.host.startswith(str(root))
        assert postgres_processes_under(str(root))  # the postmaster and its workers
        assert fetch(server.dsn, "SELECT current_database(), count(*) FROM users") == [
            ("serverpod", 5000)]
        raise RuntimeError("boom")  # leaving the block by an error still cleans up

    assert root is not None  # (mypy forgets the check inside the block that raised)
    assert not root.exists()
    assert postgres_processes_under(str(root)) == []
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not server.running
    with pytest.raises(DatabaseUnavailable, match="not running"):
        _ = server.dsn


# ---- the query file -----------------------------------------------------------------------------

def test_shipped_file_parses_into_the_runbook_queries() -> None:
    text = files("vwtui.sql").joinpath("validation_queries.sql").read_text()
    queries = validation_queries()

    assert [(v.name, v.title) for v in queries] == RUNBOOK_QUERIES
    for query in queries:
        assert query.sql.startswith("SELECT") and not query.sql.endswith(";")
        assert f"-- {query.title}\n{query.sql};" in text  # kept verbatim
    assert "pg_database_size('serverpod')" in queries[-1].sql


def test_parser_names_uncommented_queries_and_refuses_duplicates() -> None:
    parsed = parse_validation_queries("SELECT 1;\n\n-- Row check\nSELECT\n  2;\n-- Tail\nSELECT 3")

    assert [(p.name, p.title, p.sql) for p in parsed] == [
        ("query_1", "Query 1", "SELECT 1"), ("row_check", "Row check", "SELECT\n  2"),
        ("tail", "Tail", "SELECT 3")]
    with pytest.raises(ValueError, match="users"):
        parse_validation_queries("-- User data validation\nSELECT 1;\n-- Users\nSELECT 2;")


def test_figures_of_failed_queries_are_none_not_zero() -> None:
    report = ValidationReport(host="h", database="serverpod", results=tuple(
        QueryResult(name=name, title=title, sql="", columns=(), rows=(), error="boom")
        for name, title in RUNBOOK_QUERIES))

    found = figures(report)

    assert found.row_counts == {} and found.newest == {} and found.indexes == ()
    assert found.orphaned_records is None and found.database_size is None
    assert found.total_amount is None and set(found.errors) == {n for n, _ in RUNBOOK_QUERIES}


async def test_an_invalid_index_fails_verify(pg_config: Config, pg_server: Any) -> None:
    # A failed CREATE INDEX CONCURRENTLY leaves an index pg_indexes still lists.
    dsn = pg_server.dsn
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not row.fetchone()[0]:  # type: ignore[index]
            pytest.skip("marking an index invalid needs a superuser (VWTUI_TEST_PG_DSN)")
        conn.execute("UPDATE pg_index SET indisvalid = false "
                     "WHERE indexrelid = 'videos_user_id_idx'::regclass")
    try:
        report = await PgService(pg_config).validate()
        found = figures(report)
        assert found.invalid_indexes == ("videos.videos_user_id_idx",)
        verdict = judge(report, restore_point=None, reference=None,
                        reference_kind=ReferenceKind.NONE)
        check = next(c for c in verdict.checks if c.key == "indexes")
        assert check.verdict is CheckVerdict.FAIL and "videos.videos_user_id_idx" in check.detail
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("UPDATE pg_index SET indisvalid = true "
                         "WHERE indexrelid = 'videos_user_id_idx'::regclass")


async def test_the_runbook_queries_run_against_the_configured_database_name() -> None:
    queries = {q.name: q.sql for q in queries_for("video_window")}
    assert "pg_database_size('video_window')" in queries["database_size"]
    assert "'serverpod'" not in " ".join(queries.values())
    assert queries_for("serverpod")[:5] == validation_queries()


async def test_a_write_is_refused_even_after_the_read_only_transaction(
        pg_config: Config) -> None:
    # The session itself is read-only: a COMMIT inside the text does not open a way to write.
    report = await PgService(pg_config).run_queries([ValidationQuery(
        "sneaky", "sneaky", "COMMIT; CREATE TABLE vwtui_must_not_exist (x int)")])
    assert report.results[0].error is not None and "read-only" in report.results[0].error
