"""AWS reads started before the UI exists, so that the network overlaps the imports.

`vwtui` spends its first few hundred milliseconds importing Textual and building the first
screen; an AWS call spends most of its time waiting for the network. `run_console` therefore
starts the dashboard's first reads (`dashboard_reads`) in a thread of their own, with its own
event loop, before it imports the app; the dashboard's workers then take each answer
(`EarlyReads.take`, `EarlyReads.take_pages`) instead of asking AWS again. Each answer is taken
once: a refresh, or a dashboard made without them (tests, another screen), reads afresh.

The reads are the facade's own methods (`AwsService`), so an early answer is the same model
objects, or the same project exception, as a late one.

Where it can (Linux, nothing but the main thread running yet: `vwtui` itself, not `vwtui demo`
whose sandbox already serves from threads), the reads run in a forked child process rather
than a thread. Importing boto3, making its clients and parsing every page's XML is CPU work;
in a thread it takes the interpreter lock from the import of Textual and the first paint
(measured at 10,000 snapshots: a first frame of 1.6 s instead of about 0.5 s). A child
process does it on another core and sends each answer back pickled through a pipe; the
parent only unpickles. A child that dies or sends something unreadable loses nothing: each
answer it did not deliver is read again in the parent when taken.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import pickle
import queue
import struct
import sys
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
# The health view's window (vwtui/health.py takes it from here: services import no view code).
HEALTH_WINDOW_DAYS = 30


@dataclass(slots=True)
class _Stream:
    """One paged read under way: its pages as they arrive, then _DONE (or the exception)."""

    pages: queue.Queue[Any] = field(default_factory=queue.Queue)
    stop: threading.Event = field(default_factory=threading.Event)


_DONE = object()
# An answer the child process could not deliver (it died, or sent something unreadable): the
# taker reads it again itself.
_LOST = object()
# $VWTUI_EARLY_READS: "process", "thread" or "off" (no early reads); unset: process where
# possible, else thread.
MODE_ENV = "VWTUI_EARLY_READS"
_HEADER = struct.Struct("!I")


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


class EarlyReads:
    """Answers of reads started early, each waiting for the one caller that takes it."""

    def __init__(self) -> None:
        self._answers: dict[str, concurrent.futures.Future[Any]] = {}
        self._streams: dict[str, _Stream] = {}
        self._thread: threading.Thread | None = None
        # The forked child's end of "stop reading this stream" (None: no child).
        self._stop_fd: int | None = None
        self.child_pid: int | None = None
        self.mode = "none"
        # The clients the child made (it sends their services at its end): the parent has
        # none of them yet; `warm` makes them here once the first view is drawn.
        self.services_used: list[str] = []
        self._owner: Any = None
        self.warmed = threading.Event()  # set once `warm` has made them (or had none to make)

    def start(self, reads: dict[str, Read], paged: dict[str, PagedRead] | None = None, *,
              process: bool | None = None, owner: Any = None) -> None:
        """Start every read now, at once, and return at once: in a forked child process
        (`process`, by default where that is safe: see the module's docstring), else in a
        daemon thread with its own event loop (the caller's loop does not exist yet).

        `owner`, the AwsService the reads belong to: a child sends back the instance ARNs it
        learnt, so the parent does not ask AWS for them again."""
        paged = paged or {}
        answers = {key: concurrent.futures.Future[Any]() for key in reads}
        streams = {key: _Stream() for key in paged}
        self._answers.update(answers)
        self._streams.update(streams)
        if process is None:
            process = _can_fork()
        if process:
            self.mode = "process"
            self._owner = owner
            self._start_child(reads, paged, answers, streams, owner)
            return
        self.mode = "thread"

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

    # ---- the child process ----------------------------------------------------------------

    def _start_child(self, reads: dict[str, Read], paged: dict[str, PagedRead],
                     answers: dict[str, concurrent.futures.Future[Any]],
                     streams: dict[str, _Stream], owner: Any) -> None:
        results_r, results_w = os.pipe()
        stops_r, stops_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            code = 0
            try:
                os.close(results_r)
                os.close(stops_w)
                _child_main(results_w, stops_r, reads, paged, owner)
            except BaseException:  # nothing may escape into a second console
                code = 1
            finally:
                os._exit(code)
        os.close(results_w)
        os.close(stops_r)
        self._stop_fd = stops_w
        self.child_pid = pid
        for future in answers.values():
            future.set_running_or_notify_cancel()
        self._thread = threading.Thread(
            target=_receive, args=(results_r, pid, answers, streams, owner, self),
            name="vwtui-early-reads", daemon=True)
        self._thread.start()

    def warm(self) -> None:
        """Make, in a thread, the clients the child made and this process has not: called once
        the first view is drawn, so that the next read (a refresh, a recovery) does not pay
        for them, and the first frame did not either. Once; nothing in thread mode."""
        services, self.services_used = self.services_used, []
        owner = self._owner
        if not services or owner is None:
            self.warmed.set()
            return

        def make() -> None:
            try:
                for service in services:
                    owner.client(service)
            except Exception:  # the read that needs it says why, as ever
                pass
            finally:
                self.warmed.set()

        threading.Thread(target=make, name="vwtui-warm-clients", daemon=True).start()

    def _stop_stream(self, key: str) -> None:
        """Tell the child to read no further page of `key` (the taker went away)."""
        if self._stop_fd is None:
            return
        with contextlib.suppress(OSError):  # the child has ended: nothing left to stop
            os.write(self._stop_fd, key.encode() + b"\n")

    # ---- taking the answers ----------------------------------------------------------------

    def pending(self) -> list[str]:
        """The keys not taken yet."""
        return [*self._answers, *self._streams]

    async def take(self, key: str, read: Callable[[], Awaitable[T]]) -> T:
        """The early answer for `key` if one was started and not taken yet, else `read()`."""
        future = self._answers.pop(key, None)
        if future is None:
            return await read()
        answer = await asyncio.wrap_future(future)
        if answer is _LOST:
            return await read()
        return answer  # type: ignore[no-any-return]

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
        given = 0
        try:
            while True:
                try:
                    item = target.pages.get_nowait()
                    await asyncio.sleep(0)  # pages already read: let a frame in between
                except queue.Empty:
                    item = await asyncio.to_thread(target.pages.get)
                if item is _DONE:
                    return
                if item is _LOST:  # read again here, past the pages already given
                    skipped = 0
                    async for page in read():
                        skipped += 1
                        if skipped > given:
                            yield page
                    return
                if isinstance(item, _Failed):
                    raise item.error
                given += 1
                yield item
        finally:
            target.stop.set()
            self._stop_stream(key)


def _can_fork() -> bool:
    """Whether the reads may go to a forked child: asked for by $VWTUI_EARLY_READS, or by
    default on Linux while this process has no other thread (a fork copies only the calling
    thread: a lock another thread held, a server it ran, would be broken in the child)."""
    mode = os.environ.get(MODE_ENV, "")
    if mode in ("thread", "off"):
        return False
    if mode == "process":
        return hasattr(os, "fork")
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _child_main(out: int, stops: int, reads: dict[str, Read], paged: dict[str, PagedRead],
                owner: Any) -> None:
    """The forked child: run every read, send each answer and page as it comes, then the
    instance ARNs learnt; stop a stream when the parent says so. The terminal is the parent's
    alone: this process reads none of its keys and writes nothing to it."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    stopped: set[str] = set()

    def send(message: tuple[Any, ...]) -> None:
        try:
            payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # an answer that cannot travel is read again there
            payload = pickle.dumps((message[0], message[1], "lost", None))
        data = _HEADER.pack(len(payload)) + payload
        while data:
            data = data[os.write(out, data):]

    async def one(key: str) -> None:
        try:
            send(("answer", key, "ok", await reads[key]()))
        except Exception as exc:
            send(("answer", key, "error", exc))

    async def stream(key: str) -> None:
        try:
            async for page in paged[key]():
                send(("page", key, "ok", page))
                if key in stopped:
                    break
        except Exception as exc:
            send(("page", key, "error", exc))
        send(("page", key, "done", None))

    async def everything() -> None:
        loop = asyncio.get_running_loop()
        buffer = b""

        def on_stop() -> None:
            nonlocal buffer
            data = os.read(stops, 4096)
            if not data:  # the parent has gone: nothing more to read for it
                loop.remove_reader(stops)
                raise SystemExit(0)
            buffer += data
            *keys, buffer = buffer.split(b"\n")
            stopped.update(k.decode() for k in keys)

        loop.add_reader(stops, on_stop)
        await asyncio.gather(*(one(k) for k in reads), *(stream(k) for k in paged))
        if owner is not None:
            send(("state", "", "ok", (dict(owner._arns), owner._arn_prefix,
                                      sorted(owner._clients))))

    with contextlib.suppress(BrokenPipeError):  # the parent has gone: so does this child
        asyncio.run(everything())


def _receive(pipe: int, pid: int, answers: dict[str, concurrent.futures.Future[Any]],
             streams: dict[str, _Stream], owner: Any, early: EarlyReads) -> None:
    """The parent's side: each message from the child into its future or stream; when the
    child ends, whatever it did not deliver is _LOST (read again by its taker)."""
    ended: set[str] = set()
    try:
        with os.fdopen(pipe, "rb") as source:
            while True:
                header = source.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    break
                payload = source.read(_HEADER.unpack(header)[0])
                try:
                    kind, key, status, value = pickle.loads(payload)
                except Exception:  # torn or unreadable: the rest is read here
                    break
                if kind == "state":
                    arns, prefix, early.services_used = value
                    for name, arn in arns.items():
                        owner._arns.setdefault(name, arn)
                    if owner._arn_prefix is None:
                        owner._arn_prefix = prefix
                elif kind == "answer" and key in answers:
                    future = answers[key]
                    if status == "ok":
                        future.set_result(value)
                    elif status == "error":
                        future.set_exception(value)
                    else:
                        future.set_result(_LOST)
                    ended.add(key)
                elif kind == "page" and key in streams:
                    target = streams[key].pages
                    if status == "ok":
                        target.put(value)
                    elif status == "error":
                        target.put(_Failed(value))
                    elif status == "done":
                        target.put(_DONE)
                        ended.add(key)
                    else:
                        target.put(_LOST)
                        ended.add(key)
    finally:
        for key, future in answers.items():
            if key not in ended:
                future.set_result(_LOST)
        for key, stream_ in streams.items():
            if key not in ended:
                stream_.pages.put(_LOST)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


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


def health_reads(aws: AwsService, config: Config, source: str, *,
                 now: datetime | None = None) -> dict[str, Read]:
    """What the health view reads first, by key (screens/health.py takes them)."""
    when = now or utcnow()
    vault, since = config.backup.vault, when - timedelta(days=HEALTH_WINDOW_DAYS)
    return {
        "health-jobs": lambda: aws.backup_jobs(vault=vault, created_after=since),
        "health-snapshots": lambda: aws.snapshots(source, snapshot_type="automated"),
        "health-points": lambda: aws.recovery_points(vault, created_after=since),
    }


def start_view_reads(aws: AwsService, config: Config, source: str, view: str, *,
                     now: datetime | None = None) -> None:
    """Start the first reads of the view `vwtui` opens on ("dashboard" or "health") now,
    before it imports the UI."""
    if os.environ.get(MODE_ENV) == "off":
        return
    if view == "health":
        aws.early.start({"identity": aws.caller_identity,
                         **health_reads(aws, config, source, now=now)}, owner=aws)
    else:
        aws.early.start(*dashboard_reads(aws, config, source, now=now), owner=aws)

