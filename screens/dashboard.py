"""The backup dashboard: source instance and PITR window, snapshots, recovery points, alarms,
recent events and failed backup jobs.

Each pane loads in its own worker; the first frame paints before any AWS call returns, each pane
shows its own loading state and error row, and one failing pane never blanks another. At 80x24
the instance pane stays on top and the four lists share the rest as tabs; a large terminal shows
every pane at once in a grid.

Polling: fetch every pane, draw, and only then schedule the next poll (`set_timer`), so a slow
poll never overlaps the next one.

When the session cannot reach AWS at all (a `SessionError`: credentials, profile, endpoint,
region), the banner above the panes says so once and each pane that met it points there; the
banner goes when a poll completes with no such error (`r` retries at once).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static, Tab, Tabs

from vwtui.errors import SessionError
from vwtui.fmt import Level
from vwtui.services.early import FAILED_JOBS_DAYS, dashboard_reads
from vwtui.widgets.activity_panes import AlarmsPane, EventsPane
from vwtui.widgets.backup_panes import RecoveryPointsPane, SnapshotsPane
from vwtui.widgets.context_bar import ContextBar
from vwtui.widgets.instance_pane import InstancePane
from vwtui.widgets.pane import Pane, RestorableTable
from vwtui.widgets.session_banner import SessionBanner

if TYPE_CHECKING:
    from vwtui.app import VwtuiApp

# The panes that share the tabs at 80x24, in tab order, with their tab labels.
TABBED: dict[str, str] = {
    "snapshots": "Snapshots",
    "recovery-points": "Recovery points",
    "alarms": "Alarms",
    "events": "Events",
}
PANES = ("instance", *TABBED)
# A list loading page by page is drawn again at most this often (see load_snapshots).
PROGRESS_SECONDS = 0.2


async def settle(*calls: Awaitable[Any]) -> tuple[list[Any], list[BaseException]]:
    """Await calls concurrently: their results (None where one failed) and the failures."""
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    for error in errors:
        if isinstance(error, asyncio.CancelledError):
            raise error
    return [None if isinstance(o, BaseException) else o for o in outcomes], errors


class DashboardScreen(Screen[None]):
    """What can be restored, and is the backup healthy, at a glance."""

    # Textual's breakpoints: at least 120 columns and 36 lines show every pane at once.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("r", "refresh", "Refresh", id="dashboard.refresh"),
        Binding("n", "app.new_recovery", "New recovery", id="dashboard.new_recovery"),
        # Not in the footer (80 columns); the palette lists it, the drill line says "(D)".
        Binding("D", "app.new_drill", "Recovery drill (monthly test, staging)", show=False,
                id="dashboard.new_drill"),
        Binding("o", "app.open_recovery", "Recovery run", show=False,
                id="dashboard.open_recovery"),
        # Not in the footer (80 columns): the snapshots pane's status line says "(f)".
        Binding("f", "cycle_filter", "Filter type", show=False, id="dashboard.filter"),
        Binding("slash", "text_filter", "Filter by text", show=False,
                id="dashboard.text_filter"),
        Binding("tab", "next_pane", "Next pane", show=False, id="dashboard.next_pane"),
        Binding("shift+tab", "previous_pane", "Previous pane", show=False,
                id="dashboard.previous_pane"),
        Binding("1", "show_pane('snapshots')", "Snapshots", show=False, id="dashboard.snapshots"),
        Binding("2", "show_pane('recovery-points')", "Recovery points", show=False,
                id="dashboard.recovery_points"),
        Binding("3", "show_pane('alarms')", "Alarms", show=False, id="dashboard.alarms"),
        Binding("4", "show_pane('events')", "Events and failed jobs", show=False,
                id="dashboard.events"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0
        self._pending: set[str] = set()
        self._poll_timer: Timer | None = None
        self.polls_completed = 0
        self._rows_timed = False  # bench/scale.py: the first snapshot rows on screen
        # The first session error of the current poll (None: none yet).
        self._session_error: SessionError | None = None

    @property
    def vwtui(self) -> VwtuiApp:
        return cast("VwtuiApp", self.app)

    def compose(self) -> ComposeResult:
        yield ContextBar()
        yield SessionBanner()
        with Container(id="dashboard"):
            yield InstancePane()
            yield Tabs(*(Tab(f"{i} {label}", id=f"tab-{name}")
                         for i, (name, label) in enumerate(TABBED.items(), start=1)),
                       active="tab-snapshots", id="pane-tabs")
            # Grid order when wide: instance | alarms, snapshots | recovery points, events.
            yield AlarmsPane(classes="tabbed")
            yield SnapshotsPane(classes="tabbed -active")
            yield RecoveryPointsPane(classes="tabbed")
            yield EventsPane(classes="tabbed")
        # `/`: a k9s-style filter line over the snapshots, shown while it is used.
        text_filter = Input(placeholder="filter snapshots by text (enter: keep, esc: clear)",
                            id="text-filter")
        text_filter.display = False
        yield text_filter
        # When the next monthly drill is due, and by which method (shown once a recovery test
        # log exists in the state dir).
        yield Static("", id="drill-due", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        # Tabs are switched by key bindings; focus stays in the lists.
        self.query_one(Tabs).can_focus = False
        self.pane("snapshots").table.focus()
        # The workers start once the first frame is drawn: the frame must not wait for AWS,
        # nor for the answers the early reads already have (drawing them is the next frame).
        self.call_after_refresh(self.action_refresh)
        # After the first frame: the line needs the drill code and a file read.
        self.call_after_refresh(self.show_drill_due)

    def show_drill_due(self) -> None:
        """Next drill due (first Monday of the month) and its method, from the recovery test
        log; a damaged or unreadable log is said on the same line."""
        from vwtui.recovery.drill import due_line
        from vwtui.recovery.history import HistoryUnreadable, read_history

        line = self.query_one("#drill-due", Static)
        # The recoveries' state dir if they exist already; never made here (that imports the
        # recovery screens before the first frame).
        state_base = getattr(getattr(self.vwtui, "_recovery", None), "state_base", None)
        try:
            history = read_history(state_base)
        except HistoryUnreadable as exc:
            line.update(f"✗ Recovery test log unreadable: {exc}")
            line.display = True
            return
        line.display = not history.missing
        if not history.missing:
            line.update(due_line(history, self.vwtui.clock()))

    def help_note(self) -> str:
        """One sentence for the help screen: how fresh the panes are kept."""
        seconds = self.vwtui.config.ui.refresh_seconds
        every = (f"Panes refresh every {seconds} s (ui.refresh_seconds)" if seconds
                 else "Auto-refresh is off (ui.refresh_seconds = 0)")
        return (f"{every}; r refreshes now. Times are UTC. Tab labels show ✖ where a pane "
                "needs attention.")

    # ---- panes ---------------------------------------------------------------------------

    def pane(self, name: str) -> Any:
        return self.query_one(f"#{name}", Pane)

    @property
    def wide(self) -> bool:
        return self.has_class("-wide") and self.has_class("-tall")

    @property
    def active_pane(self) -> str:
        """The pane being looked at: its tab at 80x24, the one with the cursor when wide."""
        if self.wide:
            focused = self.focused
            for name in TABBED:
                if focused is not None and focused.parent is self.pane(name):
                    return name
        active = self.query_one(Tabs).active or "tab-snapshots"
        return active.removeprefix("tab-")

    def action_show_pane(self, name: str) -> None:
        """Bring a pane forward (its tab at 80x24) and put the cursor in its list."""
        if name not in TABBED:
            return
        self.query_one(Tabs).active = f"tab-{name}"
        self._activate(name)

    @on(Tabs.TabActivated)
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id:
            self._activate(event.tab.id.removeprefix("tab-"))

    def _activate(self, name: str) -> None:
        for other in TABBED:
            self.pane(other).set_class(other == name, "-active")
        self.call_after_refresh(self.pane(name).table.focus)

    def _step_pane(self, step: int) -> None:
        names = list(TABBED)
        current = self.active_pane
        self.action_show_pane(names[(names.index(current) + step) % len(names)])

    def action_next_pane(self) -> None:
        self._step_pane(+1)

    def action_previous_pane(self) -> None:
        self._step_pane(-1)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a snapshot or recovery point: a new recovery from it (as `n`)."""
        event.stop()
        if isinstance(event.data_table, RestorableTable):
            from vwtui.screens.recovery import preselection_from_dashboard

            self.vwtui.recovery.new_recovery(preselection_from_dashboard(self, from_row=True))

    def action_text_filter(self) -> None:
        """`/`: filter the snapshots by text as it is typed (no AWS call)."""
        if self.active_pane != "snapshots":
            self.action_show_pane("snapshots")
        line = self.query_one("#text-filter", Input)
        line.display = True
        line.focus()

    @on(Input.Changed, "#text-filter")
    def _text_filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        cast(SnapshotsPane, self.pane("snapshots")).set_text_filter(event.value)

    @on(Input.Submitted, "#text-filter")
    def _text_filter_kept(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_text_filter(clear=False)

    def _close_text_filter(self, *, clear: bool) -> None:
        line = self.query_one("#text-filter", Input)
        if clear:
            line.value = ""
            cast(SnapshotsPane, self.pane("snapshots")).set_text_filter("")
        line.display = bool(line.value)
        self.pane("snapshots").table.focus()

    def key_escape(self) -> None:
        if self.query_one("#text-filter", Input).has_focus:
            self._close_text_filter(clear=True)

    def action_cycle_filter(self) -> None:
        """Snapshots: all -> automated -> manual (drawn from the last fetch, no AWS call)."""
        pane = cast(SnapshotsPane, self.pane("snapshots"))
        pane.cycle_filter()
        if self.active_pane != "snapshots":
            self.action_show_pane("snapshots")

    # ---- polling -------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Fetch every pane again, each in its own worker."""
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self._generation += 1
        self._pending = set(PANES)
        self._session_error = None  # the banner stays up until this poll says otherwise
        generation = self._generation
        if self.vwtui.identity is None:
            # The context bar's account failed with the panes: ask again with them.
            self.vwtui.load_identity()
        for name in PANES:
            self.pane(name).show_loading()
        self.load_instance(generation)
        self.load_snapshots(generation)
        self.load_recovery_points(generation)
        self.load_alarms(generation)
        self.load_events(generation)

    def _note(self, errors: list[BaseException], generation: int) -> None:
        """A pane's errors of this poll: the first session error goes up on the banner."""
        if generation != self._generation or self._session_error is not None:
            return
        found = next((e for e in errors if isinstance(e, SessionError)), None)
        if found is not None:
            self._session_error = found
            self.query_one(SessionBanner).show_problem(str(found))

    def _done(self, name: str, generation: int) -> None:
        if generation != self._generation:
            return  # a newer refresh replaced this one
        self._update_tab(name)
        self._pending.discard(name)
        if self._pending:
            return
        if self._session_error is None:
            self.query_one(SessionBanner).clear()
        self.polls_completed += 1
        if self.polls_completed == 1:
            self.vwtui.record_timing("all_loaded")
            # The clients the early reads' child made, made here too once this frame is drawn.
            self.call_after_refresh(self.vwtui.aws.early.warm)
        seconds = self.vwtui.config.ui.refresh_seconds
        if seconds > 0:
            self._poll_timer = self.set_timer(seconds, self.action_refresh)

    @property
    def fetching(self) -> bool:
        """True while any pane of the current poll is still fetching."""
        return bool(self._pending)

    def _update_tab(self, name: str) -> None:
        if name not in TABBED:
            return
        badge = self.pane(name).badge
        number = list(TABBED).index(name) + 1
        label = Text(f"{number} {TABBED[name]}")
        if badge in (Level.BAD, Level.WARN, Level.UNKNOWN):
            label.append(f" {badge.symbol}", style="bold")
        self.query_one(f"#tab-{name}", Tab).label = label

    # ---- workers: one per pane -----------------------------------------------------------

    def _read(self, key: str) -> Awaitable[Any]:
        """The read behind `key` (services/early.py), answered by the one `vwtui` started
        before the UI when it is there (the first poll), else asked now."""
        app = self.vwtui
        reads, _ = dashboard_reads(app.aws, app.config, app.source_instance, now=app.clock())
        return app.aws.early.take(key, reads[key])

    def _pages(self, kind: str) -> AsyncIterator[list[Any]]:
        """The snapshot pages of `kind`, the early ones when there (as `_read`)."""
        app = self.vwtui
        _, paged = dashboard_reads(app.aws, app.config, app.source_instance, now=app.clock())
        return app.aws.early.take_pages(f"snapshots-{kind}", paged[f"snapshots-{kind}"])

    @work(exclusive=True, group="instance", exit_on_error=False)
    async def load_instance(self, generation: int) -> None:
        app = self.vwtui
        try:
            (instance, window), errors = await settle(self._read("instance"),
                                                      self._read("pitr-window"))
            self._note(errors, generation)
            cast(InstancePane, self.pane("instance")).show(
                instance, window, errors, now=app.clock(),
                rpo_target_hours=app.config.objectives.rpo_hours)
        finally:
            self._done("instance", generation)

    @work(exclusive=True, group="snapshots", exit_on_error=False)
    async def load_snapshots(self, generation: int) -> None:
        """The automated and the manual snapshots read side by side (the few automated ones,
        the restorable dailies, come at once), each page shown as it arrives."""
        app = self.vwtui
        pane = cast(SnapshotsPane, self.pane("snapshots"))
        now = app.clock()
        hours = app.config.backup.max_age_hours
        found: list[Any] = []
        # Each page goes into the pane as it arrives (merged in order: work for that page
        # only); it is drawn at once for the first page, then at most every PROGRESS_SECONDS
        # (or ten times as long as the last draw took, so drawing takes at most a tenth of
        # the load), a timer drawing the pages that came in between. Drawing 10,000 rows
        # after each of a hundred pages spent more time drawing than reading, and held the
        # interpreter the next page's parsing needed.
        state: dict[str, Any] = {"first": True, "at": 0.0, "every": PROGRESS_SECONDS,
                                 "timer": None}

        def draw() -> None:
            state["timer"] = None
            if generation != self._generation or pane.loading_count is None:
                return  # the load is over (drawn whole) or a newer one replaced it
            began = time.monotonic()
            pane.draw_progress()
            drawn(began)

        def drawn(began: float) -> None:
            state["at"] = time.monotonic()
            state["every"] = max(PROGRESS_SECONDS, 10 * (state["at"] - began))
            if self.polls_completed == 0 and not self._rows_timed and pane.snapshots:
                self._rows_timed = True
                app.record_timing("first_rows")  # drawn in this frame

        async def read(kind: str) -> None:
            async for page in self._pages(kind):
                found.extend(page)
                # The first load shows each page; a refresh keeps the list on show until the
                # new one is whole (it would shrink to one page and grow again).
                if generation != self._generation or not (not pane.snapshots_read
                                                          or pane.loading_count is not None):
                    continue
                began = time.monotonic()
                due = state["first"] or began - state["at"] >= state["every"]
                pane.add_progress(page, now=now, max_age_hours=hours, first=state["first"],
                                  draw=due)
                state["first"] = False
                if due:
                    drawn(began)
                elif state["timer"] is None:
                    state["timer"] = self.set_timer(state["at"] + state["every"] - began, draw)

        try:
            _, errors = await settle(read("automated"), read("manual"))
            self._note(errors, generation)
            if generation == self._generation:
                pane.show(None if errors else found, errors, now=app.clock(),
                          max_age_hours=hours)
        finally:
            if state["timer"] is not None:
                state["timer"].stop()
            self._done("snapshots", generation)

    @work(exclusive=True, group="recovery-points", exit_on_error=False)
    async def load_recovery_points(self, generation: int) -> None:
        app = self.vwtui
        vault = app.config.backup.vault
        try:
            # Only the instance's, filtered by AWS (ByResourceArn): a shared vault's other
            # resources are never read.
            (points,), errors = await settle(self._read("recovery-points"))
            self._note(errors, generation)
            cast(RecoveryPointsPane, self.pane("recovery-points")).show(
                points, errors, now=app.clock(), vault=vault, instance=app.source_instance,
                max_age_hours=app.config.backup.max_age_hours)
        finally:
            self._done("recovery-points", generation)

    @work(exclusive=True, group="alarms", exit_on_error=False)
    async def load_alarms(self, generation: int) -> None:
        app = self.vwtui
        try:
            (alarms,), errors = await settle(self._read("alarms"))
            self._note(errors, generation)
            cast(AlarmsPane, self.pane("alarms")).show(alarms, errors, now=app.clock())
        finally:
            self._done("alarms", generation)

    @work(exclusive=True, group="events", exit_on_error=False)
    async def load_events(self, generation: int) -> None:
        app = self.vwtui
        try:
            (events, jobs), errors = await settle(self._read("events"),
                                                  self._read("failed-jobs"))
            self._note(errors, generation)
            cast(EventsPane, self.pane("events")).show(events, jobs, errors, now=app.clock(),
                                                       days=FAILED_JOBS_DAYS)
        finally:
            self._done("events", generation)
