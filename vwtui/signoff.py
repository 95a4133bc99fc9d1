"""The weekly reviewer's sign-off log: append-only JSON lines under the state directory.

Each sign-off (name, time, notes, and the verdicts it signed) is one line, written with a single
append and fsync'd before `sign` returns, so a sign-off survives a crash or a restart. A torn
last line (power cut mid-write) is skipped when reading; nothing is ever rewritten.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vwtui import safefile
from vwtui.errors import UnsafePathError, VwtuiError
from vwtui.model import CheckResult, utcnow

# A review older than this is flagged.
REVIEW_INTERVAL = timedelta(days=7)
LOG_NAME = "signoffs.jsonl"


class SignOffError(VwtuiError):
    title = "Sign-off"


@dataclass(frozen=True, slots=True)
class SignOff:
    """One weekly review, signed."""

    name: str
    signed_at: datetime
    notes: str = ""
    # (check id, verdict) of every item as the reviewer saw it.
    verdicts: tuple[tuple[str, str], ...] = ()

    def failing(self) -> list[str]:
        """The ids of the items that were not passing when this was signed."""
        return [check for check, verdict in self.verdicts if verdict != "pass"]

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "signed_at": self.signed_at.isoformat(),
                           "notes": self.notes, "verdicts": dict(self.verdicts)},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> SignOff:
        data = json.loads(line)
        signed_at = datetime.fromisoformat(data["signed_at"])
        if signed_at.tzinfo is None:
            signed_at = signed_at.replace(tzinfo=UTC)
        return cls(name=str(data["name"]), signed_at=signed_at.astimezone(UTC),
                   notes=str(data.get("notes", "")),
                   verdicts=tuple((str(k), str(v)) for k, v in data.get("verdicts", {}).items()))


def state_dir() -> Path:
    """$XDG_STATE_HOME/vwtui, or ~/.local/state/vwtui."""
    return safefile.state_dir()


def default_log_path() -> Path:
    return state_dir() / LOG_NAME


def is_overdue(last: SignOff | None, now: datetime,
               interval: timedelta = REVIEW_INTERVAL) -> bool:
    """A review is due when there is none, or the last one is older than `interval`."""
    return last is None or now - last.signed_at > interval


class SignOffLog:
    """The append-only sign-off log file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_log_path()

    def sign(self, name: str, notes: str = "", results: Iterable[CheckResult] = (),
             now: datetime | None = None) -> SignOff:
        """Record a sign-off by `name` and return it once it is on disk."""
        name = " ".join(name.split())
        if not name:
            raise SignOffError("A sign-off needs the reviewer's name.")
        signoff = SignOff(name=name, signed_at=(now or utcnow()).astimezone(UTC),
                          notes=notes.strip(),
                          verdicts=tuple((r.id, r.verdict.value) for r in results))
        self.append(signoff)
        return signoff

    def append(self, signoff: SignOff) -> None:
        """Append one line in one write and fsync it (and the directory, when the file is
        new): 0600, in a private directory, never through a symbolic link."""
        data = (signoff.to_json() + "\n").encode("utf-8")
        try:
            safefile.private_dir(self.path.parent)
            safefile.append_line(self.path, data)
        except UnsafePathError as exc:
            raise SignOffError(exc.message) from None
        except OSError as exc:
            raise SignOffError(
                f"Cannot write the sign-off log {self.path}: {exc.strerror}. Set "
                f"XDG_STATE_HOME to a writable directory.") from None

    def entries(self) -> list[SignOff]:
        """Every readable sign-off, oldest first; unreadable lines are skipped."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise SignOffError(f"Cannot read the sign-off log {self.path}: "
                               f"{exc.strerror}.") from None
        found = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                found.append(SignOff.from_json(line))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
        return found

    def last(self) -> SignOff | None:
        """The most recent sign-off, or None."""
        entries = self.entries()
        return max(entries, key=lambda s: s.signed_at) if entries else None
