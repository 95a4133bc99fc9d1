"""AWS reads started before the UI exists, so that the network overlaps the imports.

`vwtui` spends its first few hundred milliseconds importing Textual and building the first
screen; an AWS call spends most of its time waiting for the network. `run_console` therefore
starts the dashboard's first reads (`dashboard_reads`) in a thread of their own, with its own
event loop, before it imports the app; the dashboard's workers then take each answer
(`EarlyReads.take`, `EarlyReads.take_pages`) instead of asking AWS again. Each answer is taken
once: a refresh, or a dashboard made without them (tests, another screen), reads afresh.

The reads are the facade's own methods (`AwsService`), so an early answer is the same model
objects, or the same project exception, as a late one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from vwtui.model import utcnow

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.services.aws import AwsService

T = TypeVar("T")

Read = Callable[[], Awaitable[Any]]
PagedRead = Callable[[], AsyncIterator[Any]]

# The dashboard's "events and failed jobs" pane looks this far back.
FAILED_JOBS_DAYS = 7


@dataclass(slots=True)
class _Stream:
    """One paged read under way: its pages as they arrive, then _DONE (or the exception)."""

    pages: queue.Queue[Any] = field(default_factory=queue.Queue)
    stop: threading.Event = field(default_factory=threading.Event)


_DONE = object()


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


class EarlyReads:
    """Answers of reads started early, each waiting for the one caller that takes it."""

    def __init__(self) -> None:
        self._answers: dict[str, concurrent.futures.Future[Any]] = {}
        self._streams: dict[str, _Stream] = {}
        self._thread: threading.Thread | None = None

    def start(self, reads: dict[str, Read], paged: dict[str, PagedRead] | None = None) -> None:
        """Start every read now, at once, in a daemon thread with its own event loop (the
        caller's loop does not exist yet); return at once."""
        paged = paged or {}
        answers = {key: concurrent.futures.Future[Any]() for key in reads}
        streams = {key: _Stream() for key in paged}
        self._answers.update(answers)
        self._streams.update(streams)

        async def one(key: str) -> None:
            # Running: a taker cancelled while it waits (a refresh) cannot cancel the answer.
            answers[key].set_running_or_notify_cancel()
            try:
                answers[key].set_result(await reads[key]())
            except Exception as exc:  # the taker raises it, as the read itself would have
                answers[key].set_exception(exc)

        async def stream(key: str) -> None:
            target = streams[key]
            try:
                async for page in paged[key]():
                    target.pages.put(page)
                    if target.stop.is_set():  # the taker went away (a refresh): read no more
                        break
            except Exception as exc:
                target.pages.put(_Failed(exc))
            finally:
                target.pages.put(_DONE)

        async def everything() -> None:
            await asyncio.gather(*(one(k) for k in answers), *(stream(k) for k in streams))

        self._thread = threading.Thread(target=asyncio.run, args=(everything(),),
                                        name="vwtui-early-reads", daemon=True)
        self._thread.start()

    def pending(self) -> list[str]:
        """The keys not taken yet."""
        return [*self._answers, *self._streams]

    async def take(self, key: str, read: Callable[[], Awaitable[T]]) -> T:
        """The early answer for `key` if one was started and not taken yet, else `read()`."""
        future = self._answers.pop(key, None)
        if future is None:
            return await read()
        answer: T = await asyncio.wrap_future(future)
        return answer

    async def take_pages(self, key: str,
                         read: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
        """The early pages for `key` (those already read at once, the rest as they come) if
        started and not taken yet, else `read()`'s. Leaving the loop early (or a cancelled
        task) stops the early read after its current page."""
        target = self._streams.pop(key, None)
        if target is None:
            async for page in read():
                yield page
            return
        try:
            while True:
                try:
                    item = target.pages.get_nowait()
                    await asyncio.sleep(0)  # pages already read: let a frame in between
                except queue.Empty:
                    item = await asyncio.to_thread(target.pages.get)
                if item is _DONE:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            target.stop.set()


def dashboard_reads(aws: AwsService, config: Config, source: str, *,
                    now: datetime | None = None) -> tuple[dict[str, Read], dict[str, PagedRead]]:
    """What the dashboard reads first, by key: the keys its workers take (screens/dashboard.py)
    and the calls behind them, defined once here for both."""
    when = now or utcnow()
    vault = config.backup.vault
    reads: dict[str, Read] = {
        "identity": aws.caller_identity,
        "instance": lambda: aws.instance(source),
        "pitr-window": lambda: aws.pitr_window(source),
        "recovery-points": lambda: aws.recovery_points_of(vault, [source]),
        "alarms": lambda: aws.alarms([config.alarms.backup_age, config.alarms.backup_failure]),
        "events": lambda: aws.rds_events(source, hours=24 * FAILED_JOBS_DAYS),
        "failed-jobs": lambda: aws.backup_jobs_of(
            [source], state="FAILED", created_after=when - timedelta(days=FAILED_JOBS_DAYS)),
    }
    paged: dict[str, PagedRead] = {
        f"snapshots-{kind}": _snapshot_pages(aws, source, kind) for kind in ("automated", "manual")
    }
    return reads, paged


def _snapshot_pages(aws: AwsService, source: str, kind: str) -> PagedRead:
    return lambda: aws.snapshot_pages(source, kind)


def start_dashboard_reads(aws: AwsService, config: Config, source: str) -> None:
    """Start the dashboard's first reads now (`vwtui` before it imports the UI)."""
    aws.early.start(*dashboard_reads(aws, config, source))
