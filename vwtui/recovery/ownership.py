"""Which session may drive a run: one per run (its lock), in the account and region it started
in, and one run per target name. File locks and journals only; no AWS call."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from vwtui import names
from vwtui.errors import GuardrailError
from vwtui.recovery import journal as jr
from vwtui.recovery.lock import holder_of
from vwtui.recovery.state import RecoveryStateError

if TYPE_CHECKING:
    from vwtui.model import CallerIdentity
    from vwtui.recovery.plan import RecoveryRequest


def load_run_plainly(path: Path) -> jr.RunRecord:
    """A run's journal, or a JournalError naming the file and what is wrong with it (never a
    raw KeyError or ValueError from a damaged record)."""
    try:
        return jr.load_run(path)
    except jr.JournalError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError):
        damage = jr.diagnose_journal(path).sentence()
        raise jr.JournalError(f"The journal is damaged: {damage} It can be opened read-only; "
                              f"it is never resumed.") from None


def check_same_place(record: jr.RunRecord, identity: CallerIdentity | None,
                      region: str) -> None:
    """A run belongs to the account and region it started in."""
    first = record.records[0] if record.records else {}
    account, started_region = first.get("account"), first.get("region")
    here = identity.account if identity else None
    if started_region and started_region != region:
        raise GuardrailError(
            f"Run {record.run_id} was started in region {started_region}; this session is in "
            f"{region}. Resume it with --region {started_region}; nothing was changed.")
    if account and account != here:
        raise GuardrailError(
            f"Run {record.run_id} was started in AWS account {account}; this session is "
            f"{'in account ' + here if here else 'unable to tell its account (STS)'}. Resume "
            f"it with that account's credentials; nothing was changed.")


@contextmanager
def starting(folder: Path) -> Iterator[None]:
    """One session at a time between "is anyone restoring this?" and its journal on disk."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(folder / ".start.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
                 | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def check_no_other_run(folder: Path, request: RecoveryRequest) -> None:
    """Two runs never restore under one name: another unfinished run of the same target (a
    colleague's in the same minute, or one that died and is to be resumed) stops this one."""
    wanted = names.rds_id(request.target)
    for other in jr.unfinished_runs(folder.parent):
        if names.rds_id(other.request.target) != wanted or other.dry_run:
            continue
        holder = holder_of(other.path)
        who = holder.sentence(other.run_id) if holder is not None else (
            f"Run {other.run_id} (started {other.started_at:%Y-%m-%d %H:%M} UTC by "
            f"{other.os_user or '?'}) restores {request.target} and is not finished: resume "
            f"it instead, or abort it.")
        raise RecoveryStateError(f"Another recovery already restores as {request.target}. "
                                 f"{who}")
