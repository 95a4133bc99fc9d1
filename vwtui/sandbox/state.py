"""What the sandbox shim remembers between requests: its clock, its counters, its denials.

The sandbox keeps its own clock: the seed's reference time (`now`) plus the real time elapsed
since start. Everything the shim dates (restores, events, jobs) uses it, so a sandbox seeded
at a fixed `now` stays consistent however long it runs, and a restore takes `restore_seconds`
of real time.
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ACCOUNT = "123456789012"
# What moto's STS answers for the "testing" keys; used to word AccessDenied messages.
PRINCIPAL_ARN = f"arn:aws:iam::{ACCOUNT}:user/moto"


class Clock:
    """The sandbox's time: `start` plus the monotonic time elapsed since `restart()`."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._t0 = time.monotonic()

    def restart(self) -> None:
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)

    def elapsed(self) -> timedelta:
        return timedelta(seconds=time.monotonic() - self._t0)


def naive(moment: datetime) -> datetime:
    """moto keeps naive UTC datetimes."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stable_uuid(*parts: object) -> str:
    """A UUID-shaped id that depends only on `parts` (so seeds are the same every run)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


# Operations that only read: every other operation received counts as a mutating call.
_READ_PREFIXES = ("Describe", "List", "Get")


@dataclass(frozen=True, slots=True)
class SandboxRequest:
    """One request the sandbox received, for the request log (`Sandbox.requests`).

    `resources` are what the call would create or change, as AWS reads the names: RDS
    instance identifiers lower-cased, Route53 record names lower-cased without the trailing
    dot (the restore's or rename's target, the instance deleted or modified, the records of
    a change batch, an AWS Backup restore's DBInstanceIdentifier).
    """

    service: str
    operation: str
    resources: tuple[str, ...] = ()

    @property
    def mutating(self) -> bool:
        return not self.operation.startswith(_READ_PREFIXES)


@dataclass
class SandboxState:
    """Shared by the shim's handlers; every request runs under `lock`."""

    clock: Clock
    region: str
    restore_seconds: float
    account: str = ACCOUNT
    lock: threading.RLock = field(default_factory=threading.RLock)
    denied: set[str] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)
    # Every request the shim received, as "service:Operation", in order (Sandbox.calls).
    calls: list[str] = field(default_factory=list)
    # The same requests with the resources each would change (Sandbox.requests).
    requests: list[SandboxRequest] = field(default_factory=list)
    # Called with (new instance identifier, the moment its data stands at) on every restore:
    # the demo rewinds its database there, so a restored instance holds what it should.
    restore_listeners: list[Callable[[str, datetime], None]] = field(default_factory=list)
    # Seconds added to every request before it is handled (`--latency-ms`): a bastion's round
    # trip to AWS. Slept outside `lock`, so concurrent requests overlap their waits as they
    # would on the network.
    latency: float = 0.0

    def restored(self, identifier: str, moment: datetime) -> None:
        for listener in self.restore_listeners:
            listener(identifier, moment)

    def next_id(self, kind: str) -> str:
        """A deterministic UUID-shaped id: the n-th of its kind."""
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return stable_uuid(kind, n)

    def is_denied(self, service: str | None, operation: str | None) -> bool:
        """Does a `deny()` pattern match this call? Patterns: "Op", "service:Op", "service:*"."""
        if not operation:
            return False
        full = f"{service}:{operation}"
        return any(fnmatch.fnmatchcase(full, p) if ":" in p else p == operation
                   for p in self.denied)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"
