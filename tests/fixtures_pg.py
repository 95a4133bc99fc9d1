"""Fixtures for a real PostgreSQL server.

`pg_server` is one server per test session: the one `VWTUI_TEST_PG_DSN` names (its `serverpod`
database is created and seeded there when missing), or else a throwaway `DemoPostgres`.
`pg_config` is a Config whose [database] section points at it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from vwtui.config import Config, DatabaseConfig
from vwtui.sandbox.postgres import DEMO_DATABASE, DemoPostgres, ensure_demo_database


@dataclass(frozen=True)
class PgServer:
    """Where the test server is: host (a socket directory or a name), port, user, and the
    DSN of its seeded `serverpod` database."""

    host: str
    port: int
    user: str
    dbname: str
    dsn: str
    # Only for a server from VWTUI_TEST_PG_DSN; the demo server uses trust auth.
    admin_dsn: str


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server with the demo `serverpod` database, for the whole session."""
    dsn = os.environ.get("VWTUI_TEST_PG_DSN")
    if dsn:
        serverpod_dsn = ensure_demo_database(dsn)
        with psycopg.connect(serverpod_dsn) as conn:
            # What libpq actually used (the DSN may leave host/port/user to defaults).
            host, port, user = conn.info.host, conn.info.port, conn.info.user
        password = conninfo_to_dict(dsn).get("password")
        with pytest.MonkeyPatch.context() as patch:
            if password:
                # The service reads it from the environment, as in production.
                patch.setenv("PGPASSWORD", str(password))
            yield PgServer(host=host, port=port, user=user, dbname=DEMO_DATABASE,
                           dsn=serverpod_dsn, admin_dsn=dsn)
        return
    with DemoPostgres() as server:
        yield PgServer(host=server.host, port=server.port, user=server.user,
                       dbname=server.dbname, dsn=server.dsn, admin_dsn=server.admin_dsn)


def database_of(pg_server: PgServer) -> DatabaseConfig:
    """The database section for the test server, as a recovery's verify reaches it."""
    return DatabaseConfig(host=pg_server.host, port=pg_server.port, user=pg_server.user,
                          name=pg_server.dbname, sslmode="disable", connect_timeout_seconds=5)


@pytest.fixture
def pg_config(pg_server: PgServer) -> Config:
    """A Config whose database section points at the test server (sslmode disable)."""
    return Config(database=DatabaseConfig(
        host=pg_server.host, port=pg_server.port, user=pg_server.user,
        name=pg_server.dbname, sslmode="disable", statement_timeout_seconds=30,
        connect_timeout_seconds=5))


def record_baselines(config: Config, base: Path) -> None:
    """The test database's figures as the recorded baseline of both instances, as the demo
    records them: with database.host set, verify compares a restore with these."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from vwtui.recovery.verify import save_baselines
    from vwtui.services.pg import PgService

    # Its own thread and loop: a test may ask for an environment from inside its own loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        report = pool.submit(asyncio.run, PgService(config).validate()).result()
    save_baselines(base, report, (config.instances.production, config.instances.staging))
