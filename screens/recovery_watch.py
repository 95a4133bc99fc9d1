"""Watching a run another process drives (`vwtui watch`, `w` at the resume offer): the run
screen's layout and widgets (context bar, RTO clock, steps, the step's detail), following the
run's journal, read-only.

Nothing on this screen acts: its only keys leave it or quit, and it holds no `RecoveryRun`,
no AWS or PostgreSQL service, no lock. It reads the journal the driver appends to (only the new
bytes, when inotify says the runs directory changed, or on a 1 s poll of its size) and asks the
kernel once a second who holds the run's lock: "driven by alice/4242" or "no one drives this
run". Idle, it sends little to its terminal: the RTO clock's line each second, the steps'
elapsed times every ELAPSED_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option
from vwtui.screens.recovery_confirm import Notice
from vwtui.screens.recovery_detail import render_outcome, render_step
from vwtui.screens.recovery_style import CSS_PATH, SCENARIO_TAG, RecoveryText

from vwtui.errors import VwtuiError
from vwtui.recovery.follow import JournalWatch, ObservedRun, WatchableRun, driver_line
from vwtui.recovery.lock import LockHolder, holder_of
from vwtui.recovery.plan import Scenario
from vwtui.recovery.state import StepState, StepStatus
from vwtui.widgets.context_bar import ContextBar
from vwtui.widgets.detail_view import DetailView
from vwtui.widgets.palette import StyleOf, unstyled
from vwtui.widgets.rto_clock import RtoClockWidget
from vwtui.widgets.steps import StepList

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.orchestrator import RecoveryRun

# The poll when inotify cannot tell (and, with it, the lock holder's refresh).
POLL_SECONDS = 1.0
# How often an idle observer redraws the steps' elapsed times (and the detail): the step table
# and the detail are redrawn whole on any change (~4 KB to a 256-colour terminal), too much each
# second for an observer that only watches (bench/watch.py: under 400 B/s idle). The RTO clock
# (one line) still ticks every second; any change in the journal redraws everything at once.
ELAPSED_SECONDS = 60.0


class WatchScreen(Screen[None]):
    """One run, live and read-only, from its journal."""

    VIEW_NAME = "Watch run"
    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("escape", "leave", "Back", id="watch.leave"),
        Binding("q", "quit_watch", "Quit", id="watch.quit"),
    ]

    def __init__(self, path: Path, config: Config) -> None:
        super().__init__()
        self.path = path
        self.run = ObservedRun(path, config)
        self.holder: LockHolder | None = None
        self.problem: str | None = None
        self.redraws = 0
        self._follow = True
        self._watch: JournalWatch | None = None
        self._reader_fd: int | None = None
        self._shown: dict[str, Text] = {}
        self.style_of: StyleOf = unstyled

    @property
    def context_source(self) -> str:
        return self.run.request.source if self.run.loaded else ""

    # ---- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ContextBar()
        yield RtoClockWidget(None, id="rto-clock")
        with Vertical(id="run"):
            yield RecoveryText(id="run-title")
            yield StepList(id="run-steps", on_cursor=self._cursor_moved)
            yield DetailView(id="run-detail")
            yield RecoveryText(id="run-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.style_of = self.query_one("#run-title", RecoveryText).style_of
        self._read()
        self._start_watching()
        # The poll (without inotify, the journal; always, who holds the lock).
        self.set_interval(POLL_SECONDS, self._poll)
        self.set_interval(ELAPSED_SECONDS, self._tick)
        self.query_one(StepList).focus()

    def on_unmount(self) -> None:
        if self._reader_fd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._reader_fd)
            self._reader_fd = None
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def _start_watching(self) -> None:
        watch = JournalWatch(self.path.parent)
        fd = watch.fileno()
        if fd is None:
            return
        try:
            asyncio.get_running_loop().add_reader(fd, self._woken)
        except (NotImplementedError, RuntimeError):
            watch.close()
            return
        self._watch, self._reader_fd = watch, fd

    # ---- following ---------------------------------------------------------------------------

    @property
    def inotify(self) -> bool:
        return self._reader_fd is not None

    def _woken(self) -> None:
        """inotify: something changed in the runs directory; read the journal's new bytes."""
        if self._watch is not None:
            self._watch.drain()
        if self.run.tail.changed():
            self._read()

    def _poll(self) -> None:
        if not self.inotify and self.run.tail.changed():
            self._read()
        holder = holder_of(self.path)
        if holder != self.holder:
            self.holder = holder
            self._show_hint()

    def _read(self) -> None:
        try:
            changed = self.run.refresh()
        except (VwtuiError, OSError, KeyError, ValueError, TypeError) as exc:
            reason = exc.message if isinstance(exc, VwtuiError) else (
                getattr(exc, "strerror", None) or "it cannot be read as a run")
            self.problem = f"Cannot follow {self.path}: {reason}"
            self._show_hint()
            return
        if self.problem is not None:
            self.problem = None
            changed = True
        if self.holder is None and not self.redraws:
            self.holder = holder_of(self.path)
        if changed or not self.redraws:
            self.redraw()

    def _tick(self) -> None:
        if not self.run.loaded or not self.is_current:
            return
        now = self._now()
        self.query_one(StepList).tick(self.run.steps, now)
        current = self.run.current
        if current is not None and current.status in (StepStatus.RUNNING, StepStatus.WAITING):
            self._show_detail()

    def _now(self) -> Any:
        return self.app.clock()  # type: ignore[attr-defined]

    # ---- drawing (the run screen's, without its keys) ----------------------------------------

    def redraw(self) -> None:
        self.redraws += 1
        run = self.run
        if not run.loaded:
            self._show_hint()
            return
        now = self._now()
        self._show_title()
        steps = self.query_one(StepList)
        steps.show(run.steps, now)
        current = run.current
        if self._follow and current is not None:
            index = run.steps.index(current)
            if steps.cursor_row != index:
                steps.move_cursor(row=index)
        clock = self.query_one("#rto-clock", RtoClockWidget)
        if clock.source is None:
            clock.attach(cast("RecoveryRun", run))
            self.query_one(ContextBar).refresh_source()
        else:
            clock.refresh_clock()
        self._show_detail()
        self._show_hint()

    def _set(self, selector: str, text: Text) -> None:
        """Set a text widget only when its text changed (an idle observer draws nothing)."""
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text)

    def _show_title(self) -> None:
        run = self.run
        heading = self.query_one("#run-title", RecoveryText)
        where = run.request.source if run.request.scenario is Scenario.CROSS_REGION \
            else f"{run.request.source} → {run.request.target}"
        title = Text.assemble((SCENARIO_TAG[run.request.scenario],
                               heading.style_of("recovery--strong")), f" · {where}")
        if run.dry_run:
            title.append(" · DRY RUN", style=heading.style_of("recovery--flag"))
        title.append(" · WATCHING", style=heading.style_of("recovery--flag"))
        self._set("#run-title", title)

    def _cursor_moved(self, row: int) -> None:
        if not self.run.loaded:
            return
        current = self.run.current
        if current is not None:
            self._follow = row == self.run.steps.index(current)
        if self.is_mounted:
            self._show_detail()

    def shown_step(self) -> StepState | None:
        steps = self.query_one(StepList)
        if not self.run.steps:
            return None
        row = steps.cursor_row if steps.cursor_row >= 0 else 0
        return self.run.steps[min(row, len(self.run.steps) - 1)]

    def _show_detail(self) -> None:
        run = cast("RecoveryRun", self.run)
        now = self._now()
        self.query_one("#run-detail").set_class(
            any(s.status is StepStatus.FAILED for s in run.steps), "-failed")
        step = self.shown_step()
        if run.finished:
            text = render_outcome(run, now, self.style_of)
            if step is not None:
                text.append("\n\n")
                text.append_text(render_step(run, step, now, style_of=self.style_of))
        else:
            text = render_step(run, step, now, style_of=self.style_of) \
                if step is not None else Text()
        self.query_one(DetailView).show(text, step.key if step is not None else None)

    def _show_hint(self) -> None:
        """The observer's line: who drives the run; nothing here can change it."""
        if self.problem is not None:
            self._set("#run-hint", Text(self.problem, style=self.style_of("recovery--bad")))
            return
        finished = self.run.loaded and self.run.finished
        who = driver_line(self.holder, finished=finished)
        text = Text()
        text.append(f"read-only · {who}", style=self.style_of(
            "recovery--turn" if self.holder is None and not finished else "recovery--strong"))
        text.append(" · keys in the detail are the driver's", style=self.style_of(
            "recovery--muted"))
        self._set("#run-hint", text)

    # ---- the only keys: leave, quit ----------------------------------------------------------

    def action_leave(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit()

    def action_quit_watch(self) -> None:
        self.app.exit()


class PickRun(ModalScreen[Path | None]):
    """Several unfinished runs: which one to watch (enter), or none (escape)."""

    CSS_PATH = CSS_PATH
    DEFAULT_CSS = """
    PickRun { align: center middle; }
    PickRun OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("escape", "close", "Cancel", id="watch.pick.close")]

    def __init__(self, runs: list[WatchableRun]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(Text(f"{len(self.runs)} unfinished runs: which one to watch?"),
                        classes="modal-title")
            yield OptionList(*[Option(Text(r.label()), id=str(r.path)) for r in self.runs])
            yield Static(Text("enter watch · esc cancel"), classes="modal-keys")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(Path(str(event.option.id)))

    def action_close(self) -> None:
        self.dismiss(None)


class WatchOffer(Notice):
    """The resume offer's notice when other sessions drive every unfinished run: who drives
    them, and `w` to watch one, read-only (`watch_wanted` is set; the answer is still None)."""

    BINDINGS = [Binding("w", "watch", "Watch", id="question.notice.watch")]

    watch_wanted = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(Text(self.title_text), classes="modal-title")
            with VerticalScroll(classes="modal-scroll"):
                yield Static(Text(self.detail), classes="modal-detail")
            yield Static(Text("enter OK · w watch it live, read-only"), classes="modal-keys")

    def action_watch(self) -> None:
        self.watch_wanted = True
        self.dismiss(None)
