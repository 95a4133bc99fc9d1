"""Fixtures for the AWS sandbox (moto server + shim).

- `make_sandbox(scenario=..., restore_seconds=..., now=...)`: start a sandbox and point boto3
  at it (environment set with monkeypatch). `now` defaults to the current time, so the
  product's "last 24 hours" see the seeded history; pass `SANDBOX_NOW` (or any aware time)
  where dates must be the same on every run (UI snapshots). moto's backends are
  process-wide, so only one sandbox runs at a time: asking for another stops the previous.
- `sandbox`: the healthy account, restores taking 1 s.
- `aws`: a `vwtui.services.aws.AwsService` whose config points at `sandbox`.
- `aws_for(sandbox)`: the same for a sandbox made with `make_sandbox`.
- `shared_sandbox` / `shared_aws`: one healthy sandbox for a whole test class, for tests
  that only read: starting a sandbox per test is most of a test's time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from vwtui.config import AwsConfig, Config
from vwtui.services.aws import AwsService

# A fixed reference time for tests whose output shows dates (the runbook's date).
SANDBOX_NOW = datetime(2025, 11, 11, 10, 30, tzinfo=UTC)


def sandbox_client(sandbox: Any, service: str, region: str | None = None) -> Any:
    """A boto3 client on the sandbox account: what AWS says, asked (or changed) apart from
    the app."""
    import boto3

    return boto3.client(service, region_name=region or sandbox.region,
                        endpoint_url=sandbox.endpoint_url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def sandbox_config(sandbox: Any) -> Config:
    """The default config, pointed at the sandbox."""
    return Config(aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                                max_attempts=2))


def start_sandbox(monkeypatch: pytest.MonkeyPatch, scenario: str = "healthy",
                  restore_seconds: float = 1.0, now: datetime | None = None,
                  **options: Any) -> Any:
    """Start a sandbox and point this process's boto3 at it (through `monkeypatch`);
    `options` as Sandbox's own (scale, latency_ms)."""
    from vwtui.sandbox.server import ENV_UNSET, Sandbox

    sandbox = Sandbox(scenario=scenario, now=now, restore_seconds=restore_seconds, **options)
    sandbox.start()
    for name in ENV_UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in sandbox.environ({}).items():
        monkeypatch.setenv(name, value)
    return sandbox


@pytest.fixture
def make_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    running: list[Any] = []

    def factory(scenario: str = "healthy", restore_seconds: float = 1.0,
                now: datetime | None = None) -> Any:
        while running:
            running.pop().stop()
        running.append(start_sandbox(monkeypatch, scenario, restore_seconds, now))
        return running[-1]

    yield factory
    while running:
        running.pop().stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Any]) -> Any:
    return make_sandbox()


@pytest.fixture(scope="class")
def shared_sandbox() -> Iterator[Any]:
    """One healthy sandbox for all the tests of a class that only read (or undo what they
    change). Not to be mixed with `sandbox`/`make_sandbox` in the same class."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        sandbox = start_sandbox(monkeypatch)
        try:
            yield sandbox
        finally:
            sandbox.stop()


@pytest.fixture(scope="class")
def shared_aws(shared_sandbox: Any) -> AwsService:
    return AwsService(sandbox_config(shared_sandbox))


@pytest.fixture
def aws_for() -> Callable[[Any], AwsService]:
    return lambda sandbox: AwsService(sandbox_config(sandbox))


@pytest.fixture
def aws(sandbox: Any) -> AwsService:
    return AwsService(sandbox_config(sandbox))
