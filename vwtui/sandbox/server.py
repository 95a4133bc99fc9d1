"""`Sandbox`: an AWS account that behaves like Video Window's, on 127.0.0.1.

moto's server (its `DomainDispatcherApplication`) runs in a thread behind werkzeug, with the
shim (`vwtui.sandbox.shim`) in front of it; boto3 and the aws CLI reach it through
`AWS_ENDPOINT_URL`, so the product's code is the same code that talks to real AWS.

    with Sandbox(scenario="stale-backups") as sandbox:
        os.environ.update(sandbox.env())
        ...

moto keeps its state in process-wide backends: only one Sandbox runs per process at a time,
and `start()` resets them before seeding, so successive sandboxes share nothing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from vwtui.sandbox.scale import Scale
from vwtui.sandbox.scenarios import SCENARIOS
from vwtui.sandbox.scenarios import scenario as find_scenario
from vwtui.sandbox.seed import Fleet, Seeder
from vwtui.sandbox.state import ACCOUNT, Clock, SandboxRequest, SandboxState

__all__ = ["SCENARIOS", "Sandbox", "SandboxBusy", "SandboxRequest"]

# moto's mock_random is seeded with this before every seed: ids moto draws (KMS keys, VPCs,
# subnets, plans) come out the same on every run.
RANDOM_SEED = 20251111

# Variables that would steer boto3 away from the sandbox's keys or endpoint.
ENV_UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
             "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI")

_running_lock = threading.Lock()
_running: Sandbox | None = None
_moto_app: Any = None


def _moto_dispatcher() -> Any:
    """moto's WSGI dispatcher, made once per process: it builds a Flask app per service on
    first use, and those hold no state of their own (the backends do), so later sandboxes
    reuse them."""
    global _moto_app
    if _moto_app is None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        _moto_app = DomainDispatcherApplication(create_backend_app)
    return _moto_app


class SandboxBusy(RuntimeError):
    """Another Sandbox is running in this process (moto's backends are process-wide)."""


class Sandbox:
    """The Video Window AWS account in a thread: moto + shim, seeded for `scenario`.

    `now` is the seed's reference time (default: the current time, to the second); all seeded
    history is dated relative to it, and the sandbox clock runs on from it. Restores take
    `restore_seconds` of real time.
    """

    def __init__(self, scenario: str = "healthy", now: datetime | None = None,
                 restore_seconds: float = 20.0, region: str = "eu-west-1", *,
                 latency_ms: float = 0.0, scale: bool | Scale = False) -> None:
        self.scenario = find_scenario(scenario)
        if now is not None and now.tzinfo is None:
            raise ValueError("Sandbox(now=...) must be timezone-aware (UTC).")
        if restore_seconds < 0:
            raise ValueError("restore_seconds must be 0 or more.")
        if latency_ms < 0:
            raise ValueError("latency_ms must be 0 or more.")
        # `scale`: a big, shared account on top of the scenario (vwtui.sandbox.scale); a
        # `Scale` for one of another size (tests: a few pages, not a hundred).
        self.scale = scale
        self.now = (now.astimezone(UTC) if now is not None
                    else datetime.now(UTC).replace(microsecond=0))
        self.region = region
        self.account = ACCOUNT
        self.restore_seconds = float(restore_seconds)
        self.latency_ms = float(latency_ms)
        self.endpoint_url = ""
        self.fleet: Fleet | None = None
        # Seconds spent in start(): server up, moto reset, seeded (imports excluded).
        self.startup_seconds: float | None = None
        self._state = SandboxState(clock=Clock(self.now), region=region,
                                   restore_seconds=self.restore_seconds)
        self._saved_snapshot_limit: str | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._shim: Any = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Reset moto, serve on a free port of 127.0.0.1, seed; returns self."""
        global _running
        if self._server is not None:
            return self
        with _running_lock:
            if _running is not None:
                raise SandboxBusy("Another Sandbox is already running in this process; stop it "
                                  "first (moto's backends are shared by the whole process).")
            _running = self
        try:
            self._start()
        except BaseException:
            self._teardown()
            raise
        return self

    def _start(self) -> None:
        from moto.moto_api._internal import mock_random
        from moto.moto_api._internal.models import moto_api_backend
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        from vwtui.sandbox.backup import BackupShim
        from vwtui.sandbox.rds import RdsShim
        from vwtui.sandbox.shim import Shim

        began = time.perf_counter()
        # Every request would be a line on stderr, drawn over the TUI.
        logging.getLogger("werkzeug").disabled = True
        moto_api_backend.reset()
        mock_random.seed(RANDOM_SEED)
        rds = RdsShim(self._state)
        backup = BackupShim(self._state, rds)
        self._shim = Shim(_moto_dispatcher(), self._state, rds, backup)
        self._server = make_server("127.0.0.1", 0, self._shim, threaded=True,
                                   request_handler=MotoRequestHandler)
        port = self._server.server_address[1]
        self.endpoint_url = f"http://127.0.0.1:{port}"
        # A short poll interval: shutdown() waits for the next poll.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"vwtui-sandbox-{port}", daemon=True)
        self._thread.start()
        rds.activate()
        if self.scale:
            self._raise_snapshot_limit()
        self.fleet = Seeder(self.endpoint_url, self.now, self.scenario, rds, backup).run()
        if self.scale:
            from vwtui.config import Config
            from vwtui.sandbox.scale import seed_scale

            if isinstance(self.scale, Scale):
                seed_scale(rds, backup, Config(), self.now, self.scale)
            else:
                seed_scale(rds, backup, Config(), self.now)
        for pattern in self.scenario.deny:
            self.deny(pattern)
        # The latency starts after the seed (which goes through the API): the seed is not a
        # session's work.
        self._state.latency = self.latency_ms / 1000
        self._state.clock.restart()
        self.startup_seconds = time.perf_counter() - began

    def stop(self) -> None:
        """Stop serving and clear moto's backends. Safe to call twice."""
        self._teardown()

    def _teardown(self) -> None:
        global _running
        if self._shim is not None:
            self._shim.rds.deactivate()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._server is not None:
            from moto.moto_api._internal.models import moto_api_backend

            moto_api_backend.reset()
        self._restore_snapshot_limit()
        self._server = None
        self._thread = None
        with _running_lock:
            if _running is self:
                _running = None

    def _raise_snapshot_limit(self) -> None:
        """moto caps snapshots per region at MOTO_RDS_SNAPSHOT_LIMIT (default 1000), read on
        every CreateDBSnapshot: room for the scaled account's, put back at stop."""
        from vwtui.sandbox.scale import SNAPSHOT_LIMIT

        self._saved_snapshot_limit = os.environ.get("MOTO_RDS_SNAPSHOT_LIMIT", "")
        os.environ["MOTO_RDS_SNAPSHOT_LIMIT"] = str(SNAPSHOT_LIMIT)

    def _restore_snapshot_limit(self) -> None:
        if self._saved_snapshot_limit is None:
            return
        if self._saved_snapshot_limit:
            os.environ["MOTO_RDS_SNAPSHOT_LIMIT"] = self._saved_snapshot_limit
        else:
            os.environ.pop("MOTO_RDS_SNAPSHOT_LIMIT", None)
        self._saved_snapshot_limit = None

    def set_latency(self, milliseconds: float) -> None:
        """Add `milliseconds` to every request from now on (0: none)."""
        if milliseconds < 0:
            raise ValueError("latency must be 0 or more milliseconds.")
        self.latency_ms = float(milliseconds)
        if self._server is not None:
            self._state.latency = milliseconds / 1000

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # ---- for clients ---------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Environment for boto3 and the aws CLI to reach the sandbox with its fake keys.

        Enough to `os.environ.update()` with: these keys come before any profile in boto3's
        credential chain, and AWS_ENDPOINT_URL before any endpoint in ~/.aws/config.
        `environ()` also drops `ENV_UNSET` and hides ~/.aws, for a fully isolated child.
        """
        if not self.endpoint_url:
            raise RuntimeError("Sandbox.env() needs a started sandbox: call start() first.")
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "AWS_MAX_ATTEMPTS": "2",
        }

    def environ(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """A copy of `base` (default os.environ) pointed at the sandbox and nowhere else:
        `env()`, without `ENV_UNSET`, and with the user's ~/.aws files hidden (they could name
        a profile, an SSO session or another endpoint)."""
        merged = dict(os.environ if base is None else base)
        for name in ENV_UNSET:
            merged.pop(name, None)
        merged.update(self.env())
        merged.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        return merged

    def deny(self, operation: str) -> None:
        """Make an API operation answer AccessDenied in its service's protocol.

        `operation` is an operation name ("DescribeAlarms"), or "service:Operation" with
        IAM prefixes and wildcards ("backup:*", "rds:Describe*").
        """
        with self._state.lock:
            self._state.denied.add(operation)

    def allow(self, operation: str) -> None:
        """Undo `deny(operation)` (the same string)."""
        with self._state.lock:
            self._state.denied.discard(operation)

    def allow_all(self) -> None:
        """Undo every `deny()`, the scenario's included."""
        with self._state.lock:
            self._state.denied.clear()

    def current_time(self) -> datetime:
        """The sandbox clock: `now` plus the real time elapsed since the seed finished."""
        return self._state.clock.now()

    @property
    def errors(self) -> list[str]:
        """Internal errors of the shim or moto since start (empty when all went well)."""
        return list(self._shim.errors) if self._shim is not None else []

    def on_restore(self, listener: Callable[[str, datetime], None]) -> None:
        """Call `listener(identifier, moment)` whenever a restore creates an instance whose data
        stands at `moment` (PITR time, snapshot time, recovery point time)."""
        with self._state.lock:
            self._state.restore_listeners.append(listener)

    # ---- test hooks: the request log and failures on demand (recovery engine tests) ------------

    def calls(self, operation: str | None = None) -> list[str]:
        """Requests received so far, as "service:Operation", oldest first; with `operation`
        ("RestoreDBInstanceToPointInTime" or "rds:Restore*") only the matching ones."""
        import fnmatch

        with self._state.lock:
            log = list(self._state.calls)
        if operation is None:
            return log
        return [c for c in log if fnmatch.fnmatchcase(c, operation)
                or c.split(":", 1)[-1] == operation]

    def requests(self, *, mutating: bool | None = None) -> list[SandboxRequest]:
        """The request log: every request received so far, oldest first, with the resources
        each mutating one would change; `mutating=True` keeps only those that change
        something (not Describe*, List*, Get*)."""
        with self._state.lock:
            log = list(self._state.requests)
        return [r for r in log if mutating is None or r.mutating == mutating]

    def mutations_on(self, names: Iterable[str], since: int = 0) -> list[SandboxRequest]:
        """The mutating requests received (from the `since`-th request of the log on: pass
        `len(sandbox.requests())` taken before, to leave the seed out) that would change one
        of `names`: RDS identifiers or Route53 names, in any spelling AWS reads as them."""
        from vwtui.names import dns_name

        wanted = {dns_name(n) for n in names}
        return [r for r in self.requests()[since:] if r.mutating and wanted & set(r.resources)]

    def set_instance_status(self, identifier: str, status: str,
                            message: str | None = None) -> None:
        """Force an instance's status (e.g. "failed" for a restore that goes wrong), with an
        RDS event saying so; a pending "creating" -> "available" change is cancelled."""
        with self._state.lock:
            rds = self._shim.rds
            db = rds.backend.databases.get(identifier)
            if db is None:
                raise ValueError(f"No DB instance {identifier!r} in the sandbox.")
            db.status = status
            rds.pending.pop(db.db_instance_identifier, None)
            rds.add_event(identifier, message or f"DB instance is {status}", "failure"
                          if status == "failed" else "notification")

    def end_restore_job(self, job_id: str, status: str = "FAILED",
                        message: str | None = None) -> None:
        """End an AWS Backup restore job now, FAILED or ABORTED, with a status message."""
        if status not in ("FAILED", "ABORTED"):
            raise ValueError("end_restore_job ends a job FAILED or ABORTED.")
        with self._state.lock:
            job = self._shim.backup.restore_jobs.get(job_id)
            if job is None:
                raise ValueError(f"No restore job {job_id!r} in the sandbox.")
            job.status = status
            job.completed = self._state.clock.now()
            job.status_message = message

    def __repr__(self) -> str:
        extra = (f", latency_ms={self.latency_ms:g}" if self.latency_ms else "") + (
            ", scale=True" if self.scale else "")
        return (f"Sandbox(scenario={self.scenario.name!r}, now={self.now.isoformat()}, "
                f"endpoint_url={self.endpoint_url!r}{extra})")
