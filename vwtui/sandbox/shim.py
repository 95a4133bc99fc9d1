"""The shim: one WSGI layer in front of moto that supplies what moto lacks.

Every request to the sandbox passes here. In order:

1. AccessDenied for operations switched off with `Sandbox.deny` (in the request's protocol).
2. The sandbox clock moves jobs and restores along (`advance`), so no timer thread is needed.
3. AWS Backup jobs, recovery points, restore jobs and selections: answered by `backup.py`.
4. RDS: `rds.py` answers the calls moto gets wrong or lacks and wraps the rest; DB instance
   identifiers are lower-cased first, as RDS stores them.
5. Anything else (CloudWatch, STS, SNS, Route53, KMS, EC2, EventBridge, Backup vaults and
   plans): moto, untouched.

Every request is logged first (`SandboxState.calls`, and `requests` with the resources a
mutating call would change), so tests count what reached the account, refused or not.

Requests are handled one at a time (moto's backends are not built for concurrent writers and
the shim's bookkeeping compares before and after a call); each takes milliseconds.
"""

from __future__ import annotations

import io
import json
import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import Any

from vwtui.names import dns_name, rds_key
from vwtui.sandbox.backup import BackupShim
from vwtui.sandbox.rds import RdsShim, changed_instances, lower_identifiers
from vwtui.sandbox.state import PRINCIPAL_ARN, SandboxRequest, SandboxState
from vwtui.sandbox.wire import Response, WireRequest, access_denied, error_response, read_request

log = logging.getLogger(__name__)

_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request",
            403: "Forbidden", 404: "Not Found", 409: "Conflict", 500: "Internal Server Error"}


class Shim:
    """WSGI middleware: `Shim(moto_app, state, rds, backup)`."""

    def __init__(self, app: Callable[..., Iterable[bytes]], state: SandboxState,
                 rds: RdsShim, backup: BackupShim) -> None:
        self.app = app
        self.state = state
        self.rds = rds
        self.backup = backup
        # Internal errors of the shim or of moto, kept for tests instead of going to stderr.
        self.errors: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        # moto (Flask) logs unexpected exceptions to wsgi.errors, which is stderr: under a
        # TUI that would draw over the screen. Keep them.
        sink = io.StringIO()
        environ["wsgi.errors"] = sink
        request = read_request(environ)
        if self.state.latency > 0:
            time.sleep(self.state.latency)
        with self.state.lock:
            try:
                status, headers, body = self._respond(request, environ)
            except Exception as exc:  # a bug must not kill the server thread
                log.debug("sandbox shim failed on %s", request.operation, exc_info=True)
                self.errors.append(f"{request.service}:{request.operation}: {exc!r}")
                status, headers, body = error_response(
                    request, 500, "InternalFailure",
                    f"The sandbox failed on {request.iam_action}: {exc!r}")
        if sink.getvalue():
            self.errors.append(sink.getvalue())
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
        return [body]

    def _respond(self, request: WireRequest, environ: dict[str, Any]) -> Response:
        if request.service == "rds":
            request = lower_identifiers(request, environ)
        if request.operation:
            self.state.calls.append(f"{request.service}:{request.operation}")
            logged = SandboxRequest(request.service or "", request.operation)
            if logged.mutating:
                logged = SandboxRequest(logged.service, logged.operation, resources_of(request))
            self.state.requests.append(logged)
        if self.state.is_denied(request.service, request.operation):
            return access_denied(request, PRINCIPAL_ARN)
        self.backup.advance()
        self.rds.advance()
        if request.service == "backup" and self.backup.handles(request.operation):
            return self.backup.handle(request)
        if request.service == "rds":
            return self.rds.handle(request, lambda: call_app(self.app, environ))
        return call_app(self.app, environ)


def resources_of(request: WireRequest) -> tuple[str, ...]:
    """What a mutating request would create or change, named as AWS reads names (see
    `SandboxRequest`). Never raises: a body it cannot read names nothing."""
    try:
        if request.service == "rds" and request.protocol == "query":
            return changed_instances(request.operation or "", request.form())
        if request.service == "route53" and request.body:
            root = ET.fromstring(request.body)
            return tuple(dns_name(child.text or "") for element in root.iter()
                         if element.tag.rsplit("}", 1)[-1] == "ResourceRecordSet"
                         for child in element if child.tag.rsplit("}", 1)[-1] == "Name")
        if request.service == "backup" and request.body:
            metadata = json.loads(request.body).get("Metadata") or {}
            target = metadata.get("DBInstanceIdentifier")
            return (rds_key(target),) if isinstance(target, str) else ()
    except (ValueError, ET.ParseError, AttributeError):
        return ()
    return ()


def call_app(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> Response:
    """Run the wrapped WSGI app to completion and return (status, headers, body)."""
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"] = status
        captured["headers"] = headers
        return chunks.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status = int(str(captured.get("status", "500")).split(" ", 1)[0])
    return status, list(captured.get("headers", [])), b"".join(chunks)
