"""Following a run from its journal, read-only (`vwtui watch`): the observer's side.

An observer never drives: it reads the journal another process appends to, only the bytes added
since its last read (`JournalTail`), and rebuilds the run as the driver sees it
(`ObservedRun`: the same `RunState` the driver holds, with the steps the journal says are
running or waiting, their last progress, and the end). Who drives it is the run lock's holder
(`vwtui.recovery.lock.holder_of`), asked of the kernel. `JournalWatch` says when the journal
may have grown: inotify (Linux, through ctypes) when it can, else the caller polls size and
mtime once a second.

Pure standard library; no Textual. Nothing here opens a file for writing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vwtui.recovery import journal as jr
from vwtui.recovery.lock import LockHolder, holder_of
from vwtui.recovery.plan import PlannedStep, StepKey
from vwtui.recovery.state import RunState, StepState, StepStatus, SwapResult

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.model import Instance
    from vwtui.recovery.clock import RtoClock
    from vwtui.recovery.plan import RecoveryRequest
    from vwtui.recovery.verify import Verification

__all__ = ["JournalTail", "JournalWatch", "ObservedRun", "driver_line", "find_run",
           "watchable_runs"]


class JournalTail:
    """The records appended to one journal since the last `read()`: only the new bytes are
    read (pread from the last offset); a line still being written waits for its newline. A
    journal cut shorter (a torn tail cut off by a resuming driver) or replaced is read again
    from its start (`read()` then says so)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self._partial = b""
        self._identity: tuple[int, int] | None = None
        self.bytes_read = 0

    def changed(self) -> bool:
        """Has the file grown or been replaced since the last read (size, inode)?"""
        try:
            info = os.stat(self.path)
        except OSError:
            return False
        return (info.st_dev, info.st_ino) != self._identity or info.st_size != self.offset

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        """(new records, whether the journal was read again from its start)."""
        fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            info = os.fstat(fd)
            identity = (info.st_dev, info.st_ino)
            restarted = False
            if identity != self._identity or info.st_size < self.offset:
                restarted = self._identity is not None
                self._identity = identity
                self.offset = 0
                self._partial = b""
            data = b""
            while self.offset < info.st_size:
                chunk = os.pread(fd, info.st_size - self.offset, self.offset)
                if not chunk:
                    break
                data += chunk
                self.offset += len(chunk)
            self.bytes_read += len(data)
        finally:
            os.close(fd)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()  # "" after a final newline; else a line being written
        records: list[dict[str, Any]] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # a damaged line: the driver's own reader names it, not the observer
            if isinstance(record, dict):
                records.append(record)
        return records, restarted


def _plan_step(entry: dict[str, Any]) -> PlannedStep:
    """A planned step as the run-start record wrote it (the driver's plan, titles and
    estimates included, whatever this observer's own config would plan)."""
    key = str(entry["key"])
    try:
        step_key: Any = StepKey(key)
    except ValueError:
        step_key = key  # a step kind this version does not know: shown by its name
    return PlannedStep(key=step_key, title=str(entry.get("title") or key),
                       estimate=timedelta(seconds=float(entry.get("estimate_seconds") or 0)),
                       mutating=bool(entry.get("mutating")), command=entry.get("command"))


def _progress(record: dict[str, Any]) -> str:
    """What a step-progress record says, in the words the driver's screen uses."""
    if record.get("intent"):
        return f"about to {record['intent']}"
    status = record.get("status")
    if record.get("instance") and status:
        return f"{record['instance']}: {status}"
    if record.get("restore_job_id") and status:
        return f"restore job {status}"
    return str(status or "")


class ObservedRun:
    """A run rebuilt from its journal, read-only: what the run screen's widgets read of a
    `RecoveryRun` (steps, clock, request, outcome...), and nothing that acts."""

    busy = False

    def __init__(self, path: Path, config: Config) -> None:
        self.path = path
        self._config = config
        self.tail = JournalTail(path)
        self.record: jr.RunRecord | None = None
        self.state: RunState | None = None
        self._progress: dict[str, str] = {}
        self.changes = 0  # how many times the journal brought something new

    # ---- reading -----------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Read what was appended since the last call; True when the run changed. Raises
        JournalError when the journal is not (or not yet) a run's."""
        records, restarted = self.tail.read()
        if restarted:
            self.record = None
            self._progress.clear()
        if not records:
            return False
        for record in records:
            if self.record is None:
                self.record = jr.run_from_start_record(self.path, record)
                continue
            jr.apply_record(self.record, record)
            step = record.get("step")
            if record.get("event") == jr.STEP_PROGRESS and step:
                self._progress[str(step)] = _progress(record)
            elif record.get("event") in (jr.STEP_START, jr.STEP_END) and step:
                self._progress.pop(str(step), None)
        self._rebuild()
        self.changes += 1
        return True

    def _rebuild(self) -> None:
        """The driver's RunState, from the journal read so far."""
        record = self.record
        if record is None:
            return
        first = record.records[0]
        plan = tuple(_plan_step(entry) for entry in first.get("plan", []))
        state = RunState.new(record.run_id, record.request, self._config, plan,
                             record.started_at)
        state.apply_journal(record)
        for step in state.steps:
            saved = record.steps.get(step.key)
            if saved is None:
                continue
            # Resume makes a running step pending again; the observer shows it as it is.
            if saved.outcome == "running":
                step.status = StepStatus.RUNNING
            elif saved.outcome == "waiting":
                step.status = StepStatus.WAITING
                step.error = saved.error
            if step.status in (StepStatus.RUNNING, StepStatus.WAITING):
                step.progress = self._progress.get(step.key, "")
        if record.finished:
            # The driver's own transition, so the steps end as its screen shows them (an
            # abort skips what was left: "run aborted"); the records it returns are dropped.
            ended = record.finished_at or record.started_at
            if record.outcome == "aborted":
                state.abort([], ended)
            else:
                state.finish(str(record.outcome or "finished"), ended)
        self.state = state

    @property
    def loaded(self) -> bool:
        return self.state is not None

    def _state(self) -> RunState:
        if self.state is None:
            raise jr.JournalError(f"{self.path} holds no run-start record yet.")
        return self.state

    # ---- what the run screen's widgets read --------------------------------------------------

    @property
    def run_id(self) -> str:
        return self._state().run_id

    @property
    def journal_path(self) -> Path:
        return self.path

    @property
    def request(self) -> RecoveryRequest:
        return self._state().request

    @property
    def steps(self) -> list[StepState]:
        return self._state().steps

    @property
    def clock(self) -> RtoClock:
        return self._state().clock

    @property
    def dry_run(self) -> bool:
        return self._state().dry_run

    @property
    def finished(self) -> bool:
        return self._state().finished

    @property
    def outcome(self) -> str | None:
        return self._state().outcome

    @property
    def current(self) -> StepState | None:
        return self._state().current

    @property
    def created(self) -> list[str]:
        return self._state().created

    @property
    def renamed(self) -> dict[str, str]:
        return self._state().renamed

    @property
    def deleted(self) -> list[str]:
        return self._state().deleted

    @property
    def restore_point(self) -> datetime | None:
        return self._state().restore_point

    @property
    def rpo_achieved(self) -> timedelta | None:
        return self._state().rpo_achieved

    @property
    def swap_result(self) -> SwapResult | None:
        return self._state().swap_result

    @property
    def swap_record(self) -> str | None:
        return self._state().swap_record

    @property
    def replaced(self) -> str:
        return self._state().replaced

    @property
    def restore_job_id(self) -> str | None:
        return self._state().restore_job_id

    # Known to the driver's process only (read from AWS and PostgreSQL, not journaled): the
    # observer shows what the journal says of them (the verify step's verdict line, the
    # wait's last status).
    new_instance: Instance | None = None
    verification: Verification | None = None
    cross_region: Any = None

    def step(self, key: str) -> StepState | None:
        return self._state().step(key)

    def remaining_estimates(self, now: datetime) -> list[timedelta]:
        return self._state().remaining_estimates(now)

    def eta(self, now: datetime) -> datetime:
        return self._state().eta(now)

    def cleanup_candidates(self) -> list[str]:
        return self._state().cleanup_candidates()


def driver_line(holder: LockHolder | None, *, finished: bool = False) -> str:
    """Who drives the run, in the observer's words."""
    if finished:
        return "the run has ended; no one drives it"
    if holder is None:
        return "no one drives this run"
    pid = f"/{holder.pid}" if holder.pid else ""
    return f"driven by {holder.user}{pid} on {holder.host}"


# ---- which run to watch ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class WatchableRun:
    record: jr.RunRecord
    holder: LockHolder | None

    @property
    def path(self) -> Path:
        return self.record.path

    def label(self) -> str:
        request = self.record.request
        who = driver_line(self.holder, finished=self.record.finished)
        return (f"{self.record.run_id} · {request.scenario.label} · {request.source} → "
                f"{request.target} · {who}")


def watchable_runs(base: Path | None = None) -> list[WatchableRun]:
    """The unfinished runs of the state dir (newest first), each with who drives it."""
    return [WatchableRun(r, holder_of(r.path)) for r in jr.survey_runs(base).unfinished]


def find_run(name: str, base: Path | None = None) -> Path:
    """The journal `vwtui watch RUN` means: a journal's path, a run id, or the start of one
    (unique); JournalError naming what exists otherwise."""
    given = Path(name).expanduser()
    if given.suffix == ".jsonl" and given.is_file():
        return given
    folder = jr.runs_dir(base)
    exact = folder / f"{name}.jsonl"
    if exact.is_file():
        return exact
    matches = sorted(folder.glob(f"{_glob_safe(name)}*.jsonl")) if folder.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = ", ".join(p.stem for p in matches[:5])
        raise jr.JournalError(f"{name!r} names {len(matches)} runs in {folder} ({listed}); "
                              f"give more of the run id.")
    raise jr.JournalError(f"No run {name!r} in {folder}; `vwtui watch` without a name lists "
                          f"the unfinished ones.")


def _glob_safe(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


# ---- inotify --------------------------------------------------------------------------------

_IN_MODIFY = 0x002
_IN_ATTRIB = 0x004
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC


class JournalWatch:
    """Wakes the observer when the runs directory changes (a journal appended to, a lock
    taken): an inotify descriptor to wait on (`fileno`, for the event loop's add_reader), or
    None where inotify is not there (then the observer polls once a second)."""

    def __init__(self, folder: Path) -> None:
        self.fd: int | None = None
        libc_name = ctypes.util.find_library("c")
        if libc_name is None:
            return
        try:
            libc = ctypes.CDLL(libc_name, use_errno=True)
            init = libc.inotify_init1
            add = libc.inotify_add_watch
        except (OSError, AttributeError):
            return
        init.argtypes, init.restype = [ctypes.c_int], ctypes.c_int
        add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        add.restype = ctypes.c_int
        fd = init(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return
        mask = _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE
        if add(fd, os.fsencode(folder), mask) < 0:
            os.close(fd)
            return
        self.fd = fd

    def fileno(self) -> int | None:
        return self.fd

    def drain(self) -> int:
        """Read (and drop) the pending events; how many bytes of them there were."""
        if self.fd is None:
            return 0
        total = 0
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return total
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                return total
            if not chunk:
                return total
            total += len(chunk)

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
