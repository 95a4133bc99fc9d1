"""Recovery, step 3: the run. Steps with their own elapsed time and state, the live RTO clock,
the wait polled live, verify verdicts, the swap's checklist, cleanup, and on failure the error,
the runbook's troubleshooting and retry / skip / abort.

The run and the tasks that drive it belong to the App (`RecoveryManager`), not to this screen:
leaving the screen (esc) leaves the run going, and coming back shows it where it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static
from vwtui.screens.recovery_confirm import ReasonPrompt, YesNo
from vwtui.screens.recovery_detail import render_outcome, render_step
from vwtui.screens.recovery_style import CSS_PATH, SCENARIO_TAG, RecoveryText

from vwtui.errors import VwtuiError
from vwtui.recovery.drill import escalation_lines
from vwtui.recovery.plan import Scenario
from vwtui.recovery.state import CHECKLIST_KEYS, Action, StepState, StepStatus, Tone
from vwtui.widgets.context_bar import ContextBar
from vwtui.widgets.detail_view import DetailView
from vwtui.widgets.in_place import update_in_place
from vwtui.widgets.palette import StyleOf, unstyled
from vwtui.widgets.rto_clock import RtoClockWidget
from vwtui.widgets.steps import StepList

if TYPE_CHECKING:
    from vwtui.screens.recovery import RecoveryManager

    from vwtui.orchestrator import RecoveryRun, RunUpdate


# The run screen's actions, as the run's state names them (leave and quit always apply).
ACTION_OF = {"go": Action.GO, "tick": Action.TICK, "tick_next": Action.TICK,
             "cleanup": Action.CLEANUP, "toggle_final_snapshot": Action.CLEANUP,
             "retry": Action.RETRY, "skip": Action.SKIP, "abort": Action.ABORT,
             "protect": Action.PROTECT,
             "fix": Action.FIX}
# How loud a hint is, as a component class of recovery.tcss.
TONE_CLASS = {Tone.DONE: "recovery--strong", Tone.ERROR: "recovery--bad",
              Tone.WARN: "recovery--turn"}


class RunScreen(Screen[None]):
    """One recovery run, live."""

    VIEW_NAME = "Recovery run"
    CSS_PATH = CSS_PATH
    # Each binding has an id, so a keymap (`App.set_keymap`) can move it to another key.
    BINDINGS = [
        Binding("g", "go", "Run next step", id="recovery.go"),
        Binding("t", "tick_next", "Tick item", id="recovery.tick_next"),
        Binding("1", "tick(1)", "Tick item 1", show=False, id="recovery.tick_1"),
        Binding("2", "tick(2)", "Tick item 2", show=False, id="recovery.tick_2"),
        Binding("3", "tick(3)", "Tick item 3", show=False, id="recovery.tick_3"),
        Binding("x", "cleanup", "Delete replaced", id="recovery.cleanup"),
        Binding("p", "protect", "Apply fixes", id="recovery.protect"),
        Binding("m", "fix", "Match source", id="recovery.fix"),
        Binding("f", "toggle_final_snapshot", "Final snapshot", show=False,
                id="recovery.final_snapshot"),
        Binding("r", "retry", "Retry", id="recovery.retry"),
        Binding("s", "skip", "Skip…", id="recovery.skip"),
        Binding("a", "abort", "Abort…", id="recovery.abort"),
        Binding("escape", "leave", "Dashboard", id="recovery.leave"),
        Binding("q", "quit_run", "Quit", id="recovery.quit"),
        Binding("p", "report", "Report", id="recovery.report"),
    ]

    _ACTIONS = ("go", "tick", "cleanup", "retry", "skip", "abort", "protect", "report", "fix")

    @property
    def context_source(self) -> str:
        """What the context bar names: this run's source, not the console's."""
        return self.run.request.source

    def __init__(self, run: RecoveryRun, manager: RecoveryManager) -> None:
        super().__init__()
        self.run = run
        self.manager = manager
        self.skip_final_snapshot = False
        self._unsubscribe: Callable[[], None] | None = None
        self._redraw_pending = False
        self._stale = False
        self._follow = True
        self.redraws = 0
        self._keys: tuple[bool | None, ...] = ()
        self._hint_shown: Text | None = None
        self._escalation_shown: Text | None = None
        # The styles of the screen's text (recovery.tcss), once its widgets are mounted.
        self.style_of: StyleOf = unstyled

    # ---- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ContextBar()
        yield RtoClockWidget(self.run, id="rto-clock")
        with Vertical(id="run"):
            yield RecoveryText(id="run-title")
            yield StepList(id="run-steps", on_cursor=self._cursor_moved)
            yield RecoveryText(id="run-escalation")
            yield DetailView(id="run-detail")
            yield RecoveryText(id="run-hint")
        yield Footer()

    def on_mount(self) -> None:
        run = self.run
        where = run.request.source if run.request.scenario is Scenario.CROSS_REGION \
            else f"{run.request.source} → {run.request.target}"
        heading = self.query_one("#run-title", RecoveryText)
        # Every RecoveryText has the same component classes: the title's serve the detail and
        # the hint too.
        self.style_of = heading.style_of
        tag = SCENARIO_TAG[run.request.scenario]
        if run.request.drill:
            tag = f"Drill {tag}"
        title = Text.assemble((tag, heading.style_of("recovery--strong")), f" · {where}")
        if run.dry_run:
            title.append(" · DRY RUN", style=heading.style_of("recovery--flag"))
        heading.update(title)
        self._unsubscribe = run.subscribe(self._run_changed)
        self.set_interval(1.0, self._tick)
        self.redraw()
        self.query_one(StepList).focus()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # ---- following the run -------------------------------------------------------------------

    def _run_changed(self, update: RunUpdate) -> None:
        """Called by the run (in the App's loop) on every change: redraw once, soon; a run
        screen out of sight redraws when it is shown again."""
        if not self.is_current:
            self._stale = True
            return
        if not self._redraw_pending:
            self._redraw_pending = True
            self.call_later(self.redraw)

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.redraw()

    def _tick(self) -> None:
        if not self.is_current:
            return
        self.query_one(StepList).tick(self.run.steps, self.manager.now())
        self._show_escalation()
        if self.run.current is not None and self.run.current.status in (
                StepStatus.RUNNING, StepStatus.WAITING):
            self._show_detail()

    def redraw(self) -> None:
        """Steps, detail, hint and the enabled keys, from the run's state."""
        self._redraw_pending = False
        self.redraws += 1
        run = self.run
        now = self.manager.now()
        steps = self.query_one(StepList)
        steps.show(run.steps, now)
        current = run.current
        # The cursor (and the detail under it) follows the step that needs the engineer, unless
        # the engineer moved it to another step meanwhile: then it stays where they read.
        if self._follow and current is not None:
            index = run.steps.index(current)
            if steps.cursor_row != index:
                steps.move_cursor(row=index)
        self._show_detail()
        hint = self.hint()
        if hint != self._hint_shown:
            self._hint_shown = hint
            update_in_place(self.query_one("#run-hint", Static), hint)
        self.query_one("#rto-clock", RtoClockWidget).refresh_clock()
        self._show_escalation()
        # The footer recomposes on refresh_bindings: only when the keys that apply change.
        keys = tuple(self.check_action(action, ()) for action in self._ACTIONS)
        if keys != self._keys:
            self._keys = keys
            self.refresh_bindings()

    def _show_escalation(self) -> None:
        """The escalation path from [contacts] once the RTO clock passes 75 %, breaches, or a
        drill fails (the run journals each level once)."""
        level = self.run.escalation()
        box = self.query_one("#run-escalation", RecoveryText)
        box.set_class(level is not None, "-shown")
        if level is None:
            return
        lines = escalation_lines(self.run.config, level)
        text = Text(lines[0], style=self.style_of("recovery--bad"))
        for line in lines[1:]:
            text.append(f"\n{line}")
        if text != self._escalation_shown:
            self._escalation_shown = text
            update_in_place(box, text)

    def _cursor_moved(self, row: int) -> None:
        """The engineer (or the run) moved the cursor: the detail follows it. Off the active
        step, the cursor stays put when the run moves on; back on it, it follows again."""
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
        run = self.run
        now = self.manager.now()
        box = self.query_one("#run-detail")
        box.set_class(any(s.status is StepStatus.FAILED for s in run.steps), "-failed")
        style_of = self.style_of
        if run.finished:
            text = render_outcome(run, now, style_of)
            step = self.shown_step()
            if step is not None:
                text.append("\n\n")
                text.append_text(render_step(run, step, now, style_of=style_of))
        else:
            step = self.shown_step()
            text = render_step(run, step, now, skip_final_snapshot=self.skip_final_snapshot,
                               style_of=style_of) if step is not None else Text()
        # The box repaints alone, whatever the text's length (DetailView); another step's
        # detail is shown from its first line, the same step's next poll where the reader is.
        self.query_one(DetailView).show(text, step.key if step is not None else None)

    @property
    def detail_key(self) -> str | None:
        """The step whose detail is on screen."""
        return self.query_one(DetailView).key

    def hint(self) -> Text:
        """One line: what the engineer can do now (the run's state decides)."""
        hint = self.run.state.hint(self.manager.is_busy(self.run))
        return Text(hint.text, style=self.style_of(TONE_CLASS[hint.tone])
                    if hint.tone in TONE_CLASS else "")

    # ---- which keys apply now ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("leave", "quit_run"):
            return True
        if action == "report":
            # The report is of an ended run: hidden from the footer until then.
            return self.run.finished
        allowed = self.run.state.allowed_actions(self.manager.is_busy(self.run))
        wanted = ACTION_OF.get(action)
        return True if wanted is None else wanted in allowed

    # ---- actions -----------------------------------------------------------------------------

    def action_go(self) -> None:
        """Run the current step and the ones after it until one needs the engineer."""
        self._follow = True
        state = self.run.state
        not_ready = state.go_refusal()
        if not_ready is not None:
            self.notify(not_ready, severity="warning", markup=False)
            self.redraw()
            return
        if state.swap_needs_confirmation() and state.parity_refusal() is not None:
            # A setting that must match the source's still differs: a typed reason first.
            self.swap_after_reason(state.parity_refusal() or "")
            return
        if state.swap_needs_confirmation():
            # The one step that moves the application's traffic: a y, not a stray g.
            current = state.current
            assert current is not None
            self.swap_after_yes(current.title)
            return
        self.manager.drive(self.run, self.run.run_until_blocked)
        self.redraw()

    @work(group="recovery-question")
    async def swap_after_reason(self, warning: str) -> None:
        """The swap despite a must-match difference: the engineer's reason (journaled), then
        the usual y / n."""
        reason = await self.app.push_screen_wait(ReasonPrompt(
            "Swap with settings that differ from the source?",
            f"{warning} Say why the swap goes ahead anyway; the journal keeps the reason."))
        if not reason:
            return
        try:
            self.run.accept_parity_gap(reason)
        except VwtuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        current = self.run.current
        if current is not None:
            self.swap_after_yes(current.title)

    def action_fix(self) -> None:
        """The parity step's fixes, on the run's own instance (the guardrails decide)."""
        self._follow = True
        self.manager.drive(self.run, self.run.apply_parity_fixes)
        self.redraw()

    @work(group="recovery-question")
    async def swap_after_yes(self, title: str) -> None:
        """Ask y / n before the swap; y runs it."""
        if await self.app.push_screen_wait(YesNo(
                "Swap now? The application moves to the new instance.",
                f"{title}. The old value is kept in the journal for rollback.")):
            self.manager.drive(self.run, self.run.run_until_blocked)
            self.redraw()

    def action_tick(self, number: int) -> None:
        if not 1 <= number <= len(CHECKLIST_KEYS):
            return
        self._tick_item(CHECKLIST_KEYS[number - 1])

    def action_tick_next(self) -> None:
        key, refusal = self.run.state.next_tick()
        if refusal is not None:
            self.notify(refusal, severity="warning")
        elif key is not None:
            self._tick_item(key)

    def _tick_item(self, key: str) -> None:
        self._follow = True
        if self.manager.tick(self.run, key) is None:
            return
        if self.run.state.resumes_after_tick(key):
            self.manager.drive(self.run, self.run.run_until_blocked)
        self.redraw()

    def action_toggle_final_snapshot(self) -> None:
        self.skip_final_snapshot = not self.skip_final_snapshot
        if self.skip_final_snapshot:
            self.notify("The final snapshot is DECLINED for this delete (f to take it again).",
                        severity="warning")
        self._show_detail()

    def action_cleanup(self) -> None:
        self.manager.ask_cleanup(self.run, skip_final_snapshot=self.skip_final_snapshot)

    def action_protect(self) -> None:
        self.manager.ask_protection(self.run)

    def action_retry(self) -> None:
        run = self.run

        async def retry_then_go() -> None:
            step = await run.retry()
            if step is not None and step.status is StepStatus.DONE and not run.finished:
                await run.run_until_blocked()

        self._follow = True
        self.manager.drive(run, retry_then_go)
        self.redraw()

    def action_skip(self) -> None:
        self._follow = True
        self.manager.ask_skip(self.run)

    def action_abort(self) -> None:
        self.manager.ask_abort(self.run)

    def action_leave(self) -> None:
        self.manager.leave(self)

    def action_report(self) -> None:
        """Save the ended run's report (Markdown, for a ticket or the runbook log) beside its
        journal, and copy it to the clipboard where the terminal allows."""
        from datetime import timedelta

        from vwtui.errors import VwtuiError
        from vwtui.report import load_report, run_markdown, save_report

        run = self.run
        if not run.finished:
            self.notify("The report is made once the run has ended.", severity="warning")
            return
        objectives = run.config.objectives
        try:
            report = load_report(run.run_id, base=run.state_base,
                                 rto_target=timedelta(hours=objectives.rto_hours),
                                 rpo_target=timedelta(hours=objectives.rpo_hours))
            text = run_markdown(report)
            path = save_report(run.run_id, text, base=run.state_base)
        except VwtuiError as exc:
            self.notify(str(exc), title=exc.title, severity="error", markup=False)
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Report saved to {path} (and copied to the clipboard).", markup=False)

    def action_quit_run(self) -> None:
        """Quit vwtui; while the run is open, ask first (it can be resumed later)."""
        if self.run.finished:
            self.app.exit()
            return
        self.quit_after_yes()

    @work(group="recovery-question")
    async def quit_after_yes(self) -> None:
        # The demo's sandbox account and state dir are temporary: nothing is left to resume.
        detail = ("This is vwtui demo: its sandbox account and its journal are removed when "
                  "it quits, so this run ends with it and cannot be resumed."
                  if self.manager.demo else
                  "The run is in the journal: start vwtui again to resume it, with its RTO "
                  "clock. What AWS is already doing goes on without vwtui.")
        if await self.app.push_screen_wait(YesNo(
                "Quit vwtui while this recovery is open?", detail)):
            self.manager.quit()
