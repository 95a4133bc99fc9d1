"""Async PostgreSQL service (psycopg 3): the runbook's validation queries and a connection test.

Every statement is fixed text from `sql/` (see `vwtui.validation`); nothing is ever formatted
into SQL. Each query runs in its own READ ONLY transaction with `statement_timeout` set locally,
so one failing query gives its own result an error and the others still run. The session stays
read-only whatever the SQL says: only read statements are sent, one per execute, through the
extended query protocol (one statement per message), on a session whose default is read-only.

Credentials: the password comes from PGPASSWORD or ~/.pgpass, which libpq reads by itself, or,
with `database.iam_auth`, from an RDS IAM auth token made by `token_provider` (for instance
`AwsService.rds_auth_token`). It is passed to libpq and never stored, logged or shown.

psycopg is imported on first use so that the first frame does not wait for it. An
`AsyncConnection` belongs to the event loop that made it: call these from async workers.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vwtui.errors import DatabaseError, DatabaseUnavailable
from vwtui.model import QueryResult, ValidationReport
from vwtui.validation import (
    ValidationQuery,
    foreign_key_queries,
    queries_for,
    read_only_refusal,
    troubleshoot_queries,
)

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from vwtui.config import Config

# (host, port, user) -> password. Called for every connection when database.iam_auth is on.
TokenProvider = Callable[[str, int, str], Awaitable[str]]

_APPLICATION_NAME = "vwtui"
# Extra seconds, beyond statement_timeout, to wait for a query's answer before giving the
# connection up for lost (a dead tunnel answers nothing, not even the timeout error).
_NETWORK_GRACE_SECONDS = 10

_SET_LOCALS = ("SELECT set_config('statement_timeout', %s, true), "
               "set_config('TimeZone', 'UTC', true)")


class PgService:
    """The only place vwtui talks to PostgreSQL."""

    def __init__(self, config: Config, *, token_provider: TokenProvider | None = None) -> None:
        self.config = config
        self.token_provider = token_provider

    # ---- public --------------------------------------------------------------------------

    def endpoint(self, host: str | None = None, port: int | None = None) -> tuple[str, int]:
        """Where to connect: database.host/port when set (a tunnel, a proxy, the demo), else
        the instance endpoint passed in (port defaulting to database.port)."""
        db = self.config.database
        if db.host:
            return db.host, db.port
        if host:
            return host, port or db.port
        raise DatabaseError(
            "No database host to connect to: the instance has no endpoint yet (is it still "
            "being created?). Wait until it is available, or set database.host in the config "
            "to reach it through a tunnel.")

    async def ping(self, host: str | None = None, port: int | None = None) -> str:
        """Connect and run `SHOW server_version` in a read-only transaction; the version."""
        async with await self._connect(host, port) as conn:
            result = await self._run_one(conn, ValidationQuery(
                name="server_version", title="Server version", sql="SHOW server_version"))
        if result.error is not None:
            raise DatabaseError(result.error)
        return str(result.rows[0][0]) if result.rows else ""

    async def validate(self, host: str | None = None,
                       port: int | None = None) -> ValidationReport:
        """Run sql/validation_queries.sql (the runbook's Appendix): one named table per query.

        Raises DatabaseUnavailable / DatabaseError when no connection can be made; a query that
        fails only marks its own result.
        """
        return await self.run_queries(queries_for(self.config.database.name), host, port)

    async def run_queries(self, queries: Sequence[ValidationQuery], host: str | None = None,
                          port: int | None = None) -> ValidationReport:
        """Run fixed queries one by one, each in its own READ ONLY transaction with
        `SET LOCAL statement_timeout`; results in order, a failure recorded on its result."""
        connect_host, _ = self.endpoint(host, port)
        results: list[QueryResult] = []
        async with await self._connect(host, port) as conn:
            lost: str | None = None
            for query in queries:
                if lost is None and (conn.closed or conn.broken):
                    lost = f"not run: the connection was lost before it ({_where(connect_host)})"
                if lost is not None:
                    results.append(_failed(query, lost))
                    continue
                results.append(await self._run_one(conn, query))
        return ValidationReport(host=connect_host, database=self.config.database.name,
                                results=tuple(results))

    async def drill_checks(self, extra: Sequence[ValidationQuery] = (), host: str | None = None,
                           port: int | None = None) -> ValidationReport:
        """A drill's checks beyond the runbook's queries, through the same read-only session:
        sql/foreign_key_orphans.sql (every foreign key of the schema, from pg_constraint) and
        the team's own read-only checks (`extra`, drill.extra_sql)."""
        listed = await self.run_queries(foreign_key_queries(), host, port)
        counts: list[ValidationQuery] = []
        found = listed.results[0] if listed.results else None
        if found is not None and found.error is None:
            # Each count is the SELECT PostgreSQL wrote from its catalog; it still goes through
            # the read-only refusal and a read-only transaction like any fixed query.
            counts = [ValidationQuery(f"fk:{row[1]}", f"{row[0]}.{row[1]} → {row[2]}",
                                      str(row[3])) for row in found.rows]
        rest = await self.run_queries((*counts, *extra), host, port)
        return ValidationReport(host=rest.host, database=rest.database,
                                results=(*listed.results, *rest.results))

    async def smoke_test(self, instance: str, host: str | None = None,
                         port: int | None = None) -> str:
        """The built-in application test of a drill's test instance: connect as database.user,
        read, write (a temporary table and a row in it) and roll back, in one transaction.
        The one write vwtui ever makes, only to a drill's own test instance (`instance`): a
        protected name, production or staging is refused before any connection. Returns
        what it saw; raises DatabaseError on any failure."""
        import psycopg

        from vwtui import names

        config = self.config
        if config.is_protected(instance) or names.rds_id(instance) in (
                config.instances.production, config.instances.staging):
            raise DatabaseError(f"Refused to write to {instance}: the built-in application "
                                f"test writes only to a drill's own test instance.")
        conn = await self._connect(host, port, read_only=False)
        steps: list[str] = []
        try:
            async with asyncio.timeout(config.database.statement_timeout_seconds
                                       + _NETWORK_GRACE_SECONDS):
                async with conn.cursor() as cur:
                    await cur.execute(b"BEGIN READ WRITE")
                    seconds = config.database.statement_timeout_seconds
                    await cur.execute(_SET_LOCALS, (f"{seconds}s",))
                    await cur.execute(b"SELECT current_user, count(*) FROM pg_class")
                    row = await cur.fetchone()
                    steps.append(f"connected as {row[0] if row else '?'}, read "
                                 f"{row[1] if row else 0} catalog rows")
                    await cur.execute(b"CREATE TEMPORARY TABLE vwtui_smoke (n integer) "
                                      b"ON COMMIT DROP")
                    await cur.execute(b"INSERT INTO vwtui_smoke VALUES (1), (2)")
                    await cur.execute(b"SELECT sum(n) FROM vwtui_smoke")
                    total = await cur.fetchone()
                    if not total or total[0] != 3:
                        raise DatabaseError("The built-in test wrote two rows but read back "
                                            f"{total[0] if total else 'nothing'}.")
                    steps.append("wrote and read back 2 rows")
                    await cur.execute(b"ROLLBACK")
                    steps.append("rolled back")
        except TimeoutError:
            raise DatabaseError("The built-in application test got no answer in time.") from None
        except psycopg.Error as exc:
            raise DatabaseError(f"The built-in application test failed: "
                                f"{_libpq_reason(exc)}") from None
        finally:
            await conn.close()
        return "; ".join(steps)

    async def activity(self, host: str | None = None,
                       port: int | None = None) -> ValidationReport:
        """Troubleshooting's read of the source: sql/troubleshoot_activity.sql (its active
        sessions from pg_stat_activity, the blocked/blocking pairs from pg_blocking_pids, the
        database size), on the same read-only session as the validation queries."""
        return await self.run_queries(troubleshoot_queries(), host, port)

    # ---- plumbing ------------------------------------------------------------------------

    async def _connect(self, host: str | None, port: int | None, *,
                       read_only: bool = True) -> AsyncConnection[Any]:
        import psycopg

        db = self.config.database
        connect_host, connect_port = self.endpoint(host, port)
        params: dict[str, Any] = {
            "host": connect_host, "port": connect_port, "dbname": db.name, "user": db.user,
            "sslmode": db.sslmode, "connect_timeout": db.connect_timeout_seconds,
            "application_name": _APPLICATION_NAME,
            # Read-only for the whole session, not only inside each BEGIN READ ONLY: vwtui
            # never writes to a database it checks.
            "options": "-c default_transaction_read_only=on",
        }
        if not read_only:  # the drill's built-in application test only (smoke_test)
            del params["options"]
        secret: str | None = None
        if db.iam_auth:
            if self.token_provider is None:
                raise DatabaseError(
                    "database.iam_auth is on but no AWS session is available to sign an RDS "
                    "IAM auth token. Turn iam_auth off and use PGPASSWORD or ~/.pgpass, or "
                    "configure AWS credentials.")
            # The token is signed for the RDS endpoint, even when the connection goes through
            # a tunnel (database.host).
            secret = await self.token_provider(host or connect_host, port or connect_port,
                                               db.user)
            params["password"] = secret
        try:
            conn = await psycopg.AsyncConnection.connect(autocommit=True, **params)
        except psycopg.OperationalError as exc:
            raise connection_error(exc, connect_host, connect_port, db.name, db.user,
                                   iam_auth=db.iam_auth, secret=secret,
                                   connect_timeout=db.connect_timeout_seconds) from None
        # Every transaction psycopg opens on this connection starts with BEGIN READ ONLY.
        if read_only:
            await conn.set_read_only(True)
        return conn

    async def _run_one(self, conn: AsyncConnection[Any], query: ValidationQuery) -> QueryResult:
        import psycopg

        seconds = self.config.database.statement_timeout_seconds
        refusal = read_only_refusal(query)
        if refusal is not None:
            # COMMIT, BEGIN READ WRITE, SET, CREATE ...: never sent.
            return _failed(query, refusal)
        try:
            async with asyncio.timeout(seconds + _NETWORK_GRACE_SECONDS):
                async with conn.transaction(), conn.cursor() as cur:
                    await cur.execute(_SET_LOCALS, (f"{seconds}s",))
                    # Fixed text from sql/ (or the service's own constants): no parameters,
                    # nothing formatted in. prepare=True sends it through the extended query
                    # protocol (Parse/Bind/Execute), where PostgreSQL accepts one statement
                    # only: without parameters psycopg would use the simple protocol, which
                    # runs "COMMIT; BEGIN READ WRITE; ..." in one go. (psycopg 3.3 ignores
                    # prepare=True when the connection's prepare_threshold is None; ours
                    # keeps the default.)
                    await cur.execute(query.sql.encode(), prepare=True)
                    columns = tuple(d.name for d in cur.description or ())
                    rows = await cur.fetchall() if cur.description else []
        except TimeoutError:
            await conn.close()
            return _failed(query, f"no answer within {seconds + _NETWORK_GRACE_SECONDS} s; "
                                  f"the connection was given up. Check the network path "
                                  f"(tunnel, security group) and retry.")
        except psycopg.Error as exc:
            return _failed(query, query_error(exc, query.name, seconds))
        return QueryResult(name=query.name, title=query.title, sql=query.sql, columns=columns,
                           rows=tuple(tuple(_utc(v) for v in row) for row in rows))


# ---- errors -----------------------------------------------------------------------------------

_AUTH_MARKERS = ("password authentication failed", "no password supplied",
                 "pam authentication failed", "authentication failed")


def connection_error(exc: Exception, host: str, port: int, database: str, user: str, *,
                     iam_auth: bool = False, secret: str | None = None,
                     connect_timeout: int | None = None) -> DatabaseError:
    """Turn a psycopg connection failure into a project exception with what to check.

    The message names host, port, database and user, never the password or token.
    """
    reason = _scrub(_libpq_reason(exc), secret)
    low = reason.lower()
    where = _where(host, port)
    target = f"database {database} as user {user} at {where}"
    if "role" in low and "does not exist" in low:
        return DatabaseError(
            f"PostgreSQL at {where} has no user {user} ({reason}). Check database.user in "
            f"the config.")
    if any(marker in low for marker in _AUTH_MARKERS):
        how = ("the IAM auth token was refused: check that the user has the rds_iam role and "
               "that the caller may rds-db:connect" if iam_auth else
               "check PGPASSWORD or the matching line of ~/.pgpass (host:port:database:user)")
        return DatabaseError(f"PostgreSQL refused the login to {target} ({reason}); {how}.")
    if "database" in low and "does not exist" in low:
        return DatabaseError(
            f"PostgreSQL at {where} has no database {database} ({reason}). Check "
            f"database.name in the config.")
    if "pg_hba.conf" in low or "ssl" in low:
        return DatabaseError(
            f"PostgreSQL at {where} refused the connection to {target} ({reason}). Check "
            f"database.sslmode (RDS wants require) and the server's pg_hba rules.")
    if "timeout" in low or "timed out" in low:
        return DatabaseUnavailable(
            f"No answer from PostgreSQL at {where} within the connect timeout"
            f"{f' of {connect_timeout} s' if connect_timeout else ''} ({reason}). "
            f"Check that the instance is available, that its security group "
            f"admits this host, and that the tunnel (database.host) is up.")
    return DatabaseUnavailable(
        f"Cannot connect to {target} ({reason}). Check that the instance is available and "
        f"that database.host/port point at it (or at a running tunnel).")


def query_error(exc: Exception, name: str, timeout_seconds: int) -> str:
    """One sentence for a failed validation query."""
    import psycopg.errors as pe

    reason = _libpq_reason(exc)
    if isinstance(exc, pe.QueryCanceled):
        return (f"{name}: canceled by the {timeout_seconds} s statement timeout ({reason}); "
                f"raise database.statement_timeout_seconds or check for locks.")
    if "cannot insert multiple commands" in reason:
        return (f"{name}: refused, the validation session runs one statement at a time "
                f"({reason}); end each statement with a semicolon.")
    if isinstance(exc, pe.ReadOnlySqlTransaction):
        return f"{name}: refused, the validation transaction is read-only ({reason})."
    if isinstance(exc, pe.UndefinedTable):
        return (f"{name}: {reason}; is this the right database (database.name), fully "
                f"restored?")
    if isinstance(exc, pe.InsufficientPrivilege):
        return f"{name}: {reason}; grant SELECT to the database user or use another user."
    return f"{name}: {reason}"


def _libpq_reason(exc: Exception) -> str:
    """The useful part of a libpq message: its last 'failed:' clause, first line."""
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0].strip()
    if "failed:" in first:
        first = first.rsplit("failed:", 1)[1].strip()
    return first.removeprefix("FATAL:").strip()


def _scrub(text: str, secret: str | None) -> str:
    for value in (secret, os.environ.get("PGPASSWORD")):
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def _where(host: str, port: int | None = None) -> str:
    if host.startswith("/"):
        return f"socket {host}/.s.PGSQL.{port or 5432}" if port else f"socket {host}"
    return f"{host}:{port}" if port else host


def _failed(query: ValidationQuery, error: str) -> QueryResult:
    return QueryResult(name=query.name, title=query.title, sql=query.sql, columns=(), rows=(),
                       error=error)


def _utc(value: object) -> object:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value
