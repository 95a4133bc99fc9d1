"""`h`: backup health at a glance, the runbook's "Database Backup Health" dashboard.

Backup success rate over 30 days (AWS Backup jobs and RDS automated snapshots per day), time
since the last successful backup per source against the age limit, the backup size trend with
the size-consistency verdict, and the restore test results from the history file.

Once per refresh (`r`) every reading starts at once (three AWS list calls and the history file,
concurrently); each pane draws as soon as the readings it needs are in, so the slowest read
holds up only its own panes. A read that fails shows in the panes that needed it (unknown, with
the reason in the error row) while the rest still shows; a session that cannot reach AWS at all
is said once, on the banner. The figures themselves are computed in `vwtui.health`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from textual import work
from textual._context import NoActiveAppError
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from vwtui import health
from vwtui.checks import Unreadable
from vwtui.errors import SessionError, VwtuiError
from vwtui.model import BackupJob, RecoveryPoint, Snapshot
from vwtui.recovery.history import HistoryRead, HistoryUnreadable, read_history
from vwtui.services.early import health_reads
from vwtui.widgets.context_bar import ContextBar
from vwtui.widgets.health_panes import (
    LastBackupPane,
    RestoreTestsPane,
    SizeTrendPane,
    SuccessPane,
)
from vwtui.widgets.pane import Pane
from vwtui.widgets.session_banner import SessionBanner

if TYPE_CHECKING:
    from vwtui.app import VwtuiApp

T = TypeVar("T")

PANES = ("success", "last-backup", "size-trend", "restore-tests")


@dataclass(slots=True)
class Reading(Generic[T]):
    """One read: its value, or an Unreadable with the error that stopped it."""

    value: T | Unreadable
    error: BaseException | None = None


async def _read(source: str, call: Awaitable[T]) -> Reading[T]:
    try:
        return Reading(await call)
    except VwtuiError as exc:
        return Reading(Unreadable(source, str(exc), credentials=isinstance(exc, SessionError)),
                       exc)


def _start(source: str, call: Coroutine[Any, Any, T]) -> asyncio.Task[Reading[T]]:
    return asyncio.ensure_future(_read(source, call))


def _errors(*readings: Reading[Any]) -> list[BaseException]:
    return [r.error for r in readings if r.error is not None]


class HealthScreen(Screen[None]):
    """Is the backup healthy, over the last 30 days?"""

    VIEW_NAME = "Backup health"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("r", "refresh", "Refresh", id="health.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0
        self.loads_completed = 0
        self.loading = False
        # The first reads start as the app makes this screen, before its compose and mount:
        # making the boto3 clients and waiting for AWS overlap building the first frame
        # instead of following it. The first load takes them; a refresh reads afresh.
        self._first: _Reads | None = None
        try:
            app = self.app
        except NoActiveAppError:  # made outside a running app: the first load reads
            return
        if hasattr(app, "aws"):
            self._first = _Reads.start(cast("VwtuiApp", app))

    @property
    def vwtui(self) -> VwtuiApp:
        return cast("VwtuiApp", self.app)

    def compose(self) -> ComposeResult:
        yield ContextBar()
        yield SessionBanner()
        with VerticalScroll(id="health"):
            yield SuccessPane()
            yield LastBackupPane()
            yield SizeTrendPane()
            yield RestoreTestsPane()
        yield Footer()

    def on_mount(self) -> None:
        # The first frame must not wait for AWS: the worker starts and this returns.
        self.action_refresh()

    def help_note(self) -> str:
        """One sentence for the help screen."""
        limit = self.vwtui.config.backup.max_age_hours
        return (f"Backups of {self.vwtui.source_instance} over the last {health.WINDOW_DAYS} "
                f"days, one cell per UTC day (oldest left, today right): ✔ all succeeded, "
                f"✖ failed or missed, ▲ both, · none. Age limit {limit:g} h (backup."
                f"max_age_hours). Read once per refresh: r.")

    def pane(self, name: str) -> Pane:
        return self.query_one(f"#{name}", Pane)

    def action_refresh(self) -> None:
        """Read everything again, concurrently."""
        # The app reads the identity as it starts (on_mount); retry only one that failed,
        # rather than read it twice while the first read is still under way.
        if self.vwtui.identity is None and self.vwtui.identity_error is not None:
            self.vwtui.load_identity()
        self._generation += 1
        for name in PANES:
            self.pane(name).show_loading()
        self.loading = True
        self.load(self._generation)

    @work(exclusive=True, group="health", exit_on_error=False)
    async def load(self, generation: int) -> None:
        app = self.vwtui
        config = app.config
        reads, self._first = self._first or _Reads.start(app), None
        instance, now = reads.instance, reads.now
        jobs, snapshots, points, history = (reads.jobs, reads.snapshots, reads.points,
                                            reads.history)
        banner = self.query_one(SessionBanner)
        session_errors: list[SessionError] = []

        def note(errors: list[BaseException]) -> list[BaseException]:
            found = [e for e in errors if isinstance(e, SessionError)]
            if found and not session_errors:
                session_errors.append(found[0])
                banner.show_problem(str(found[0]))
            return errors

        async def success() -> None:
            j, s = await jobs, await snapshots
            cast(SuccessPane, self.pane("success")).show(
                [health.job_success(j.value, instance, now),
                 health.snapshot_success(s.value, now, config.backup.pitr_window_days)],
                note(_errors(j, s)), now=now)

        async def last_backup() -> None:
            j, s = await jobs, await snapshots
            limit = config.backup.max_age_hours
            cast(LastBackupPane, self.pane("last-backup")).show(
                [health.last_snapshot(s.value, now, limit),
                 health.last_job(j.value, instance, now, limit)],
                note(_errors(s, j)), now=now, limit_hours=limit)

        async def size() -> None:
            s, p = await snapshots, await points
            cast(SizeTrendPane, self.pane("size-trend")).show(
                health.size_trend(s.value, p.value, instance, now, config.backup.size_tolerance),
                note(_errors(s, p)), now=now)

        async def restore_tests() -> None:
            cast(RestoreTestsPane, self.pane("restore-tests")).show(
                health.restore_tests(await history), now=now)

        try:
            await asyncio.gather(success(), last_backup(), size(), restore_tests())
        finally:
            for task in (jobs, snapshots, points, history):
                task.cancel()
        if generation != self._generation:
            return
        if not session_errors:
            banner.clear()
        self.loading = False
        self.loads_completed += 1
        if self.loads_completed == 1:
            app.record_timing("health_loaded")
            # The clients the early reads' child made, made here too once this frame is drawn.
            self.call_after_refresh(app.aws.early.warm)


@dataclass(slots=True)
class _Reads:
    """One refresh's reads, every one started at once; each pane awaits only the ones it
    draws from."""

    instance: str
    now: datetime
    jobs: asyncio.Task[Reading[list[BackupJob]]]
    snapshots: asyncio.Task[Reading[list[Snapshot]]]
    points: asyncio.Task[Reading[list[RecoveryPoint]]]
    history: asyncio.Future[HistoryRead | str]

    @classmethod
    def start(cls, app: VwtuiApp) -> _Reads:
        """Start them now, on the app's loop."""
        aws, instance, vault = app.aws, app.source_instance, app.config.backup.vault
        now = app.clock()
        # The ones `vwtui health` started before the UI, when there (services/early.py).
        early = health_reads(aws, app.config, instance, now=now)
        return cls(
            instance, now,
            _start(f"the backup jobs of {vault}",
                   aws.early.take("health-jobs", early["health-jobs"])),
            _start(f"the automated snapshots of {instance}",
                   aws.early.take("health-snapshots", early["health-snapshots"])),
            _start(f"the recovery points in {vault}",
                   aws.early.take("health-points", early["health-points"])),
            asyncio.ensure_future(asyncio.to_thread(_history)))


def _history() -> HistoryRead | str:
    """The history file of this state dir, or why it could not be read at all."""
    try:
        return read_history()
    except HistoryUnreadable as exc:
        return str(exc)
