"""The run journal: append-only JSON lines on disk, fsync'd, one file per run.

`$XDG_STATE_HOME/vwtui/runs/<run-id>.jsonl` (default `~/.local/state/vwtui/runs/`). A record is
written before a step starts and when it ends, and whenever the run creates, renames or deletes
something in AWS, so that a restarted vwtui knows what is under way and never issues it twice.
Each record carries the time, the OS user and the caller identity's ARN; never a secret.
"""

from __future__ import annotations

import errno
import getpass
import json
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vwtui import fmt, safefile
from vwtui.errors import UnsafePathError, VwtuiError
from vwtui.model import utcnow
from vwtui.recovery.plan import RecoveryRequest, Scenario, parse_utc

# Record kinds: the run's state produces the records; re-exported here for the readers.
from vwtui.recovery.step_state import (
    DELETE_ISSUED,
    RENAMED,
    RESTORE_ISSUED,
    RUN_END,
    RUN_RESUME,
    RUN_START,
    STEP_END,
    STEP_PROGRESS,
    STEP_START,
    SWAP_DONE,
    SWAP_INTENT,
    TICK,
)

__all__ = ["DELETE_ISSUED", "RENAMED", "RESTORE_ISSUED", "RUN_END", "RUN_RESUME", "RUN_START",
           "STEP_END", "STEP_PROGRESS", "STEP_START", "SWAP_DONE", "SWAP_INTENT", "TICK",
           "Journal", "JournalError", "RunRecord", "StepRecord", "load_run", "new_run_id",
           "os_user", "runs_dir", "start_record_fields", "state_dir", "unfinished_runs"]


class JournalError(VwtuiError):
    title = "Recovery journal"


# Field names that must never reach the journal.
_SECRET = re.compile(r"pass(word)?|secret|token|credential|private", re.IGNORECASE)



def state_dir() -> Path:
    """`$XDG_STATE_HOME/vwtui`, default `~/.local/state/vwtui` (the path; `Journal.create`
    makes it, 0700, and refuses one that is a link, another user's or world-writable)."""
    return safefile.state_dir()


def runs_dir(base: Path | None = None) -> Path:
    return (base or state_dir()) / "runs"


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def new_run_id(now: datetime, target: str) -> str:
    """A sortable, unique-enough run id: 20251111T103000Z-<target>-<pid>."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{target}-{os.getpid()}"


class Journal:
    """One run's journal file. Every append is flushed and fsync'd before it returns."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path = path
        self.run_id = run_id
        self.caller_arn: str | None = None
        self.user = os_user()

    @classmethod
    def create(cls, run_id: str, directory: Path | None = None) -> Journal:
        """A new, empty journal under `directory` (default the runs dir), 0600 in a private
        (0700) directory, never through a symbolic link; the directory entry is fsync'd so the
        file survives a crash right after."""
        folder = directory or runs_dir()
        path = folder / f"{run_id}.jsonl"
        try:
            # The runs dir and the state dir above it: both vwtui's own.
            safefile.private_dir(folder, base=folder.parent)
            # 0600; 0640 in a shared state dir (state.dir), for the team's observers.
            mode = safefile.file_mode(path)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
                         | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
            try:
                os.fchmod(fd, mode)  # whatever the umask
                os.fsync(fd)
            finally:
                os.close(fd)
            _fsync_dir(folder)
        except FileExistsError:
            if path.is_symlink():  # O_EXCL fails on a link too: never written through
                raise JournalError(
                    f"{path} is a symbolic link; vwtui never writes through a link: remove "
                    f"it, check who made it, and run vwtui again.") from None
            raise JournalError(f"A journal for run {run_id} already exists in {folder}.") from None
        except UnsafePathError as exc:
            raise JournalError(exc.message) from None
        except OSError as exc:
            raise JournalError(
                f"Cannot write the recovery journal in {folder} ({exc.strerror}); set "
                f"XDG_STATE_HOME to a writable directory.") from None
        return cls(path, run_id)

    @classmethod
    def open(cls, path: Path) -> Journal:
        """An existing journal, to append to (resume). A torn last line (a kill mid-write) is
        cut off first: appended to, it would make the file unreadable, and the run lost."""
        try:
            safefile.private_dir(path.parent, base=path.parent.parent)
        except UnsafePathError as exc:
            raise JournalError(exc.message) from None
        except OSError as exc:
            raise JournalError(f"Cannot open the journal {path} ({exc.strerror}).") from None
        _drop_torn_tail(path)
        record = load_run(path)
        journal = cls(path, record.run_id)
        journal.caller_arn = record.caller_arn
        return journal

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        """Write one record (time, run id, event, OS user, caller ARN, fields) durably.

        The whole line goes in one write with O_APPEND, then fsync. If that fails (disk full,
        file too large, I/O error) or writes only part of the line, the file is cut back to
        its size before, so it stays parseable, with every earlier record and no torn tail,
        and JournalError says so: the run must do nothing more in AWS until a retry succeeds.
        The same Journal works again once the cause is gone.
        """
        for key in fields:
            if _SECRET.search(key):
                raise JournalError(f"Refusing to write {key!r} to the journal: never a secret.")
        record: dict[str, Any] = {
            "time": _iso(utcnow()),
            "run_id": self.run_id,
            "event": event,
            "os_user": self.user,
            "caller_arn": self.caller_arn,
        }
        record.update({k: _jsonable(v) for k, v in fields.items()})
        line = json.dumps(record, separators=(",", ":"), sort_keys=False) + "\n"
        try:
            fd = safefile.open_append(self.path)
        except UnsafePathError as exc:
            raise JournalError(exc.message) from None
        except OSError as exc:
            raise self._cannot_write(exc.strerror or str(exc)) from None
        try:
            self._append_line(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
        return record

    def _append_line(self, fd: int, data: bytes) -> None:
        try:
            size = _cut_to_last_line(fd)
        except OSError as exc:
            raise self._cannot_write(exc.strerror or str(exc)) from None
        try:
            # One write of the whole line: with O_APPEND it lands at the end, in one piece.
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.EFBIG, f"only {written} of its {len(data)} bytes could be "
                                           f"written (disk full or file size limit)")
            os.fsync(fd)
        except OSError as exc:
            try:
                # Back to the size before: no torn tail for the next record to glue onto.
                os.ftruncate(fd, size)
                os.fsync(fd)
            except OSError:
                pass  # the next append (or Journal.open) cuts the torn tail before writing
            raise self._cannot_write(exc.strerror or str(exc)) from None

    def _cannot_write(self, reason: str) -> JournalError:
        reason = reason.rstrip(".")
        return JournalError(
            f"Cannot write the run's journal {self.path}: {reason[:1].lower()}{reason[1:]}; "
            f"nothing more is done in AWS until it can be written, so free space (or fix the "
            f"disk) and press r to retry.")


@dataclass(slots=True)
class StepRecord:
    """What the journal says of one step."""

    key: str
    outcome: str = "pending"  # pending | running | waiting | done | failed | skipped
    started_at: datetime | None = None
    ended_at: datetime | None = None
    detail: str = ""
    error: str | None = None
    skip_reason: str | None = None
    command: str | None = None


@dataclass(slots=True)
class RunRecord:
    """A run as read back from its journal."""

    path: Path
    run_id: str
    request: RecoveryRequest
    started_at: datetime
    dry_run: bool
    caller_arn: str | None
    os_user: str | None
    host: str | None
    steps: dict[str, StepRecord] = field(default_factory=dict)
    step_order: tuple[str, ...] = ()
    created: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # old identifier -> new identifier
    restore_job_id: str | None = None
    restore_issued: bool = False
    restore_point: datetime | None = None
    ticks: dict[str, datetime] = field(default_factory=dict)
    swap: dict[str, Any] | None = None
    swap_intent: dict[str, Any] | None = None
    deleted: list[str] = field(default_factory=list)
    finished: bool = False
    outcome: str | None = None
    finished_at: datetime | None = None
    resumed: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def owned(self) -> frozenset[str]:
        """Identifiers the run may delete: the ones it created or renamed (their new names)."""
        return frozenset(self.created) | frozenset(self.renamed.values())

    @property
    def current_step(self) -> str | None:
        for key in self.step_order:
            if self.steps[key].outcome not in ("done", "skipped"):
                return key
        return None


def _drop_torn_tail(path: Path) -> None:
    """Cut a journal back to its last complete line (one ending in a newline)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise JournalError(
                f"{path} is a symbolic link; vwtui never writes through a link: remove it, "
                f"check who made it, and run vwtui again.") from None
        raise JournalError(f"Cannot repair the journal {path} ({exc.strerror}).") from None
    try:
        _cut_to_last_line(fd)
    except OSError as exc:
        raise JournalError(f"Cannot repair the journal {path} ({exc.strerror}).") from None
    finally:
        os.close(fd)


def _cut_to_last_line(fd: int) -> int:
    """Truncate an open journal after its last newline (a torn record, from a kill mid-write
    or a failed append that could not be cut back then); its size afterwards."""
    size = os.fstat(fd).st_size
    if not size or os.pread(fd, 1, size - 1) == b"\n":
        return size
    data = os.pread(fd, size, 0)
    keep = data.rfind(b"\n") + 1
    os.ftruncate(fd, keep)
    os.fsync(fd)
    return keep


def load_run(path: Path) -> RunRecord:
    """Read a journal back. A torn last line (a kill mid-write) is ignored; anything else
    malformed is a JournalError naming the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise JournalError(f"Cannot read the journal {path} ({exc.strerror}).") from None
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise JournalError(f"{path}, line {number}: not a journal record.") from None
    if not records or records[0].get("event") != RUN_START:
        raise JournalError(f"{path} does not start with a run-start record; not a vwtui run.")
    run = _run_from_start(path, records[0])
    for record in records:
        _apply(run, record)
    run.records = records
    return run


def _run_from_start(path: Path, first: Mapping[str, Any]) -> RunRecord:
    """The run as its run-start record describes it (no step has a result yet)."""
    run = RunRecord(
        path=path, run_id=str(first["run_id"]),
        request=RecoveryRequest.from_json(first["request"]),
        started_at=parse_utc(first["started_at"]),
        dry_run=bool(first.get("dry_run")),
        caller_arn=first.get("caller_arn"), os_user=first.get("os_user"),
        host=first.get("host"),
        step_order=tuple(step["key"] for step in first.get("plan", [])),
    )
    run.steps = {key: StepRecord(key) for key in run.step_order}
    return run


def _apply(run: RunRecord, record: Mapping[str, Any]) -> None:
    event = record.get("event")
    # "at": the moment the run itself recorded (step start/end); "time": when it was written.
    when = _time(record.get("at")) or _time(record.get("time"))
    step = run.steps.get(str(record.get("step"))) if record.get("step") else None
    if event == RUN_RESUME:
        run.resumed += 1
    elif event == STEP_START and step is not None:
        step.outcome = "running"
        step.started_at = step.started_at or when
        step.ended_at = None
        step.error = None
        step.command = record.get("command") or step.command
    elif event == STEP_END and step is not None:
        step.outcome = str(record.get("outcome", "done"))
        step.detail = str(record.get("detail") or "")
        step.error = record.get("error")
        step.skip_reason = record.get("skip_reason")
        if step.outcome in ("done", "skipped", "failed"):
            step.ended_at = when
        if step.outcome == "skipped" and step.started_at is None:
            step.started_at = when
    elif event == RESTORE_ISSUED:
        run.restore_issued = True
        for identifier in record.get("created") or []:
            if identifier not in run.created:
                run.created.append(identifier)
        run.restore_job_id = record.get("restore_job_id") or run.restore_job_id
        if record.get("restore_point"):
            run.restore_point = parse_utc(record["restore_point"])
    elif event == RENAMED:
        run.renamed[str(record["old"])] = str(record["new"])
    elif event == TICK:
        ticked = _time(record.get("ticked_at")) or when
        if ticked is not None:
            run.ticks[str(record["item"])] = ticked
    elif event == SWAP_INTENT:
        run.swap_intent = dict(record)
    elif event == SWAP_DONE:
        run.swap = dict(record)
    elif event == DELETE_ISSUED:
        run.deleted.append(str(record["identifier"]))
    elif event == RUN_END:
        run.finished = True
        run.outcome = record.get("outcome")
        run.finished_at = when


def unfinished_runs(base: Path | None = None) -> list[RunRecord]:
    """Runs whose journal has no run-end record, newest first (the ones to offer to resume).
    Unreadable files are skipped: one bad file must not hide the others."""
    folder = runs_dir(base)
    if not folder.is_dir():
        return []
    found: list[RunRecord] = []
    for path in folder.glob("*.jsonl"):
        try:
            run = load_run(path)
        except (JournalError, KeyError, ValueError, TypeError):
            continue
        if not run.finished:
            found.append(run)
    return sorted(found, key=lambda r: r.started_at, reverse=True)


@dataclass(frozen=True, slots=True)
class DamagedJournal:
    """A journal vwtui cannot read back: where (the file, the line when known) and why, in
    words a person can act on (never an exception's text)."""

    path: Path
    line: int | None
    reason: str
    # Nothing in it yet: a session may be creating it this very moment (start writes the
    # run-start record just after it takes the run's lock).
    empty: bool = False

    def sentence(self) -> str:
        where = f"{self.path}, line {self.line}" if self.line else str(self.path)
        return f"{where}: {self.reason}."


@dataclass(frozen=True, slots=True)
class RunsSurvey:
    """What the runs directory holds: runs that never ended (newest first) and journals that
    cannot be read (by file name). Nothing is left out: a damaged journal may be the run that
    matters."""

    unfinished: tuple[RunRecord, ...] = ()
    damaged: tuple[DamagedJournal, ...] = ()


def survey_runs(base: Path | None = None) -> RunsSurvey:
    """Every journal of the runs dir, read back: the unfinished runs, and the damaged journals
    with the line and the reason. OSError when the directory itself cannot be listed."""
    folder = runs_dir(base)
    if not folder.is_dir():
        return RunsSurvey()
    unfinished: list[RunRecord] = []
    damaged: list[DamagedJournal] = []
    for path in sorted(folder.glob("*.jsonl")):
        try:
            run = load_run(path)
        except (VwtuiError, KeyError, ValueError, TypeError, AttributeError):
            damaged.append(diagnose_journal(path))
            continue
        if not run.finished:
            unfinished.append(run)
    unfinished.sort(key=lambda r: r.started_at, reverse=True)
    return RunsSurvey(tuple(unfinished), tuple(damaged))


def diagnose_journal(path: Path) -> DamagedJournal:
    """Why `load_run(path)` fails, and on which line: read as `load_run` reads it, one record
    at a time."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return DamagedJournal(path, None, f"cannot be read ({exc.strerror or 'I/O error'})")
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        number = data.count(b"\n", 0, exc.start) + 1
        return DamagedJournal(path, number, f"line {number} is not UTF-8 text")
    numbered: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break  # a torn last line (a kill mid-write): load_run ignores it too
            return DamagedJournal(path, number,
                                  f"line {number} is not a journal record (not JSON)")
        if not isinstance(record, dict):
            return DamagedJournal(path, number,
                                  f"line {number} is not a journal record (not a JSON object)")
        numbered.append((number, record))
    if not numbered:
        return DamagedJournal(path, None, "the file is empty: its run never recorded its start",
                              empty=True)
    number, first = numbered[0]
    if first.get("event") != RUN_START:
        return DamagedJournal(path, number, f"the first record is {_kind(first)}, not "
                                            f"run-start: this is not a vwtui run's journal")
    unknown = _unknown_scenario(first)
    if unknown is not None:
        return DamagedJournal(path, number,
                              f"the run-start record names an unknown scenario {unknown!r}")
    try:
        run = _run_from_start(path, first)
    except Exception as exc:  # whatever is wrong, it is said in words below
        return DamagedJournal(path, number, _why(first, exc))
    for number, record in numbered:
        try:
            _apply(run, record)
        except Exception as exc:
            return DamagedJournal(path, number, _why(record, exc))
    return DamagedJournal(path, None, "cannot be read back as a vwtui run")


def _kind(record: Mapping[str, Any]) -> str:
    event = record.get("event")
    return f"a {event} record" if isinstance(event, str) and event else "a record without an event"


def _unknown_scenario(first: Mapping[str, Any]) -> str | None:
    request = first.get("request")
    if not isinstance(request, Mapping) or "scenario" not in request:
        return None
    named = str(request["scenario"])
    return None if named in {s.value for s in Scenario} else named


def _why(record: Mapping[str, Any], exc: Exception) -> str:
    """One record's fault, in words: the field it lacks, or the value that cannot be read."""
    kind = _kind(record).removeprefix("a ")
    if isinstance(exc, KeyError) and exc.args:
        return f"the {kind} lacks its {str(exc.args[0])!r} field"
    if isinstance(exc, VwtuiError):
        return f"the {kind} holds a time that cannot be read"
    return f"the {kind} holds a value of the wrong kind"


def start_record_fields(request: RecoveryRequest, plan: list[dict[str, Any]],
                        started_at: datetime) -> dict[str, Any]:
    """The fields of a run-start record."""
    return {
        "request": request.to_json(),
        "plan": plan,
        "started_at": _iso(started_at),
        "dry_run": request.dry_run,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


def _fsync_dir(folder: Path) -> None:
    safefile.fsync_dir(folder)


# The ISO writer is fmt's, one for the whole product; the short name keeps the call sites.
_iso = fmt.iso


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_utc(str(value))
    except VwtuiError:
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, (set, frozenset, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    return value


# ---- following a journal as it grows (vwtui watch) ------------------------------------------

def run_from_start_record(path: Path, first: Mapping[str, Any]) -> RunRecord:
    """A run as its run-start record describes it, for a reader that applies the records that
    follow one at a time (`apply_record`) as they are appended."""
    if first.get("event") != RUN_START:
        raise JournalError(f"{path} does not start with a run-start record; not a vwtui run.")
    run = _run_from_start(path, first)
    run.records = [dict(first)]
    _apply(run, first)
    return run


def apply_record(run: RunRecord, record: Mapping[str, Any]) -> None:
    """One more record of the run's journal, read as `load_run` reads it."""
    _apply(run, record)
    run.records.append(dict(record))
