"""Named states of the Video Window account that the sandbox can be seeded in.

Each scenario is the healthy fleet with one thing wrong, as an on-call engineer would meet it.
"""

from __future__ import annotations

from dataclasses import dataclass

from vwtui.errors import VwtuiError


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    # The newest automated snapshot and recovery point are this many hours old (None: fresh).
    stale_hours: float | None = None
    # The latest scheduled AWS Backup run failed for both instances.
    failed_latest_run: bool = False
    # Production has one manual snapshot that is not encrypted.
    unencrypted_manual: bool = False
    # The newest production recovery point is far smaller than the ones before it.
    size_drop: bool = False
    # Alarms (by config key: "backup_age", "backup_failure") that were never created.
    missing_alarms: tuple[str, ...] = ()
    # API operations that answer AccessDenied (Sandbox.deny patterns).
    deny: tuple[str, ...] = ()


_ALL = (
    Scenario("healthy", "Everything in order: fresh backups, alarms OK, PITR window of 7 days."),
    Scenario("stale-backups", "Newest automated snapshot and recovery point are 30 h old; the "
             "backup-age alarm is in ALARM.", stale_hours=30.0),
    Scenario("failed-backup", "Last night's AWS Backup jobs FAILED (IAM permissions); the "
             "backup-failure alarm is in ALARM.", failed_latest_run=True),
    Scenario("unencrypted-snapshot", "One manual snapshot of production is not encrypted.",
             unencrypted_manual=True),
    Scenario("no-backup-access", "Every AWS Backup call answers AccessDenied (the role lacks "
             "backup:* permissions).", deny=("backup:*",)),
    Scenario("backup-size-drop", "The newest production recovery point is less than half the "
             "size of the ones before it.", size_drop=True),
    Scenario("missing-alarm", "The backup-failure alarm was never created.",
             missing_alarms=("backup_failure",)),
)

SCENARIOS: dict[str, str] = {s.name: s.description for s in _ALL}


class UnknownScenario(VwtuiError, ValueError):
    title = "Unknown scenario"


def scenario(name: str) -> Scenario:
    """The scenario called `name`, or UnknownScenario listing the ones there are."""
    for item in _ALL:
        if item.name == name:
            return item
    raise UnknownScenario(f"No sandbox scenario named {name!r}; choose one of: "
                          f"{', '.join(SCENARIOS)}.")
