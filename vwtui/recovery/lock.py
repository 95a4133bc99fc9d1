"""One driver per recovery run: an exclusive `flock` on a lock file beside the run's journal.

The process that drives a run holds the lock for as long as it lives (the kernel releases it
when the process dies, SIGKILL included, so a dead holder never blocks a resume). The lock file
also says who holds it (pid, user, host, since when, doing what), as Terraform's state lock
names its holder: a second session is told who drives the run instead of being offered it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vwtui import safefile
from vwtui.errors import VwtuiError
from vwtui.model import utcnow


@dataclass(frozen=True, slots=True)
class LockHolder:
    pid: int | None
    user: str
    host: str
    since: datetime | None
    operation: str

    def sentence(self, run_id: str) -> str:
        since = f" since {self.since:%Y-%m-%d %H:%M} UTC" if self.since else ""
        who = f"{self.user}@{self.host}" + (f" (pid {self.pid})" if self.pid else "")
        return (f"Run {run_id} is driven by {who}{since} ({self.operation}). Only that session "
                f"may change it; follow it read-only, or wait until it ends.")


class RunLocked(VwtuiError):
    """Another live process drives this run."""

    title = "Driven elsewhere"

    def __init__(self, run_id: str, holder: LockHolder) -> None:
        super().__init__(holder.sentence(run_id))
        self.holder = holder


def lock_path(journal_path: Path) -> Path:
    return journal_path.with_suffix(".lock")


class RunLock:
    """The held lock of one run (release() or process exit frees it)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, journal_path: Path, run_id: str, operation: str, user: str) -> RunLock:
        """Take the run's lock, or raise RunLocked naming its live holder."""
        path = lock_path(journal_path)
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
        # 0640 in a shared state dir: an observer of the team's group asks it who drives.
        mode = safefile.file_mode(path)
        fd = os.open(path, flags, mode)
        try:
            if os.fstat(fd).st_uid == os.geteuid():
                os.fchmod(fd, mode)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLocked(run_id, read_holder(path)) from None
        except BaseException:
            os.close(fd)
            raise
        info = {"pid": os.getpid(), "user": user, "host": socket.gethostname(),
                "since": utcnow().isoformat(), "operation": operation}
        data = (json.dumps(info) + "\n").encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def read_holder(path: Path) -> LockHolder:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    since = None
    if info.get("since"):
        try:
            since = datetime.fromisoformat(str(info["since"]))
        except ValueError:
            since = None
    pid = info.get("pid")
    return LockHolder(pid=pid if isinstance(pid, int) else None,
                      user=str(info.get("user") or "another user"),
                      host=str(info.get("host") or "another host"), since=since,
                      operation=str(info.get("operation") or "driving the run"))


def holder_of(journal_path: Path) -> LockHolder | None:
    """Who drives the run now (None: nobody, the run is free to resume). Asks the kernel, so a
    holder that died is never taken for a live one."""
    path = lock_path(journal_path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError:
        return LockHolder(None, "another user", "another host", None, "driving the run")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_holder(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
