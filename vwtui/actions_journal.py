"""The actions journal: every mutating act of troubleshooting, appended before and after it.

One JSON object per line in `actions.jsonl` in the state directory, fsync'd, 0600, never
through a symbolic link (`vwtui.safefile`). A manual backup writes three kinds of line, all
with the same action id:

- `asked`: the intent and the exact `aws ...` line, written BEFORE the request is sent;
- `started`: AWS's answer (the backup job id or the snapshot identifier);
- `ended`: how it ended (COMPLETED, FAILED, ...), or `not-made` when AWS was asked whether the
  request took effect and it had not.

An `asked` line with nothing after it is a request whose answer was lost (a crash, a dropped
connection): AWS is asked about it before the same backup may be asked for again. A damaged or
torn line is skipped; the others still count.

Pure standard library (plus safefile); no AWS, no UI.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vwtui import safefile
from vwtui.errors import VwtuiError

JOURNAL_NAME = "actions.jsonl"
SCHEMA = 1

# The states an action can be in, from its lines.
ASKED = "asked"  # sent (or about to be), no answer recorded
RUNNING = "running"  # AWS answered with a job or snapshot, not ended yet
COMPLETED = "completed"
FAILED = "failed"  # ended FAILED, ABORTED, EXPIRED, or refused by AWS
NOT_MADE = "not-made"  # the answer was lost and AWS had not acted


class ActionsJournalError(VwtuiError):
    title = "Actions journal"


@dataclass(frozen=True, slots=True)
class Action:
    """One manual act as the journal tells it (the fold of its lines)."""

    action_id: str
    kind: str  # "backup-job" | "rds-snapshot"
    instance: str
    asked_at: datetime
    command: str
    state: str
    resource_id: str | None = None  # the backup job id / the snapshot identifier
    detail: str | None = None  # AWS's end state or message
    ended_at: datetime | None = None
    # Where to look for it when its answer was lost (a backup job's vault and resource).
    vault: str | None = None
    resource_arn: str | None = None

    @property
    def open(self) -> bool:
        """Not ended: asked (answer lost or on its way) or running."""
        return self.state in (ASKED, RUNNING)


def default_path() -> Path:
    return safefile.state_dir() / JOURNAL_NAME


class ActionsJournal:
    """The append-only actions journal file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    # ---- writing -------------------------------------------------------------------------

    def asked(self, action_id: str, kind: str, instance: str, command: str, at: datetime, *,
              resource: str | None = None, vault: str | None = None,
              resource_arn: str | None = None) -> None:
        """The intent, before the request: `resource` when its name is known in advance (a
        snapshot), `vault` and `resource_arn` to find a job whose answer was lost."""
        self._append({"event": "asked", "id": action_id, "kind": kind, "instance": instance,
                      "command": command, "at": _iso(at), "resource": resource,
                      "vault": vault, "resource_arn": resource_arn})

    def started(self, action_id: str, resource_id: str, at: datetime) -> None:
        self._append({"event": "started", "id": action_id, "resource": resource_id,
                      "at": _iso(at)})

    def ended(self, action_id: str, state: str, detail: str | None, at: datetime) -> None:
        self._append({"event": "ended", "id": action_id, "state": state, "detail": detail,
                      "at": _iso(at)})

    def _append(self, record: dict[str, Any]) -> None:
        """One line in one write, fsync'd (and the directory when the file is new)."""
        data = (json.dumps({"schema": SCHEMA, **record}, separators=(",", ":")) + "\n").encode()
        try:
            safefile.private_dir(self.path.parent)
            safefile.append_line(self.path, data)
        except VwtuiError as exc:
            raise ActionsJournalError(str(exc)) from None
        except OSError as exc:
            raise ActionsJournalError(
                f"Cannot write the actions journal {self.path}: {exc.strerror}. Nothing was "
                f"sent to AWS. Set XDG_STATE_HOME to a writable directory.") from None

    # ---- reading -------------------------------------------------------------------------

    def actions(self) -> list[Action]:
        """Every action, oldest first, folded from its lines (damaged lines skipped)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ActionsJournalError(f"Cannot read the actions journal {self.path}: "
                                      f"{exc.strerror}.") from None
        return fold(_records(text.splitlines()))


def fold(records: Iterable[dict[str, Any]]) -> list[Action]:
    """The actions the lines tell, in the order they were asked."""
    found: dict[str, Action] = {}
    for r in records:
        key = str(r.get("id", ""))
        event = r.get("event")
        at = _parse(r.get("at"))
        if event == "asked" and at is not None:
            found[key] = Action(action_id=key, kind=str(r.get("kind", "")),
                                instance=str(r.get("instance", "")), asked_at=at,
                                command=str(r.get("command", "")), state=ASKED,
                                resource_id=_text(r.get("resource")),
                                vault=_text(r.get("vault")),
                                resource_arn=_text(r.get("resource_arn")))
            continue
        action = found.get(key)
        if action is None:
            continue
        if event == "started":
            found[key] = _replace(action, state=RUNNING, resource_id=str(r.get("resource")))
        elif event == "ended":
            state = str(r.get("state", FAILED))
            found[key] = _replace(action, state=state if state in (COMPLETED, FAILED, NOT_MADE)
                                  else FAILED, detail=r.get("detail"), ended_at=at)
    return list(found.values())


def _replace(action: Action, **changes: Any) -> Action:
    from dataclasses import replace

    return replace(action, **changes)


def _records(lines: Iterable[str]) -> Iterable[dict[str, Any]]:
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
