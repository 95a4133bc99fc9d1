"""Recovery: the App's side of it. `RecoveryManager` is owned by the App, so the runs and the
tasks that drive them outlive any screen; it opens the screens (choose → plan → run; the App
hands it the chooser's `PlanRequested` and the plan's `StartRequested`), asks the guarding
questions (typed identifier, reason, yes / no) and offers to resume an unfinished run found in
the journal at start-up. A chain of questions is one coroutine in an App worker that awaits
each answer (`push_screen_wait`), not callbacks nested in callbacks.

Every task of a run is an App worker (async: psycopg's connections belong to the loop that made
them) in the run's own group; a refusal or an AWS error is told in a notification, never a
traceback.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.screen import Screen
from vwtui.screens.drill import DrillScreen
from vwtui.screens.recovery_choose import ChooseScreen, Preselection
from vwtui.screens.recovery_confirm import (
    DamagedJournals,
    JournalView,
    Notice,
    ReasonPrompt,
    TypedConfirm,
    YesNo,
)
from vwtui.screens.recovery_plan import PlanScreen
from vwtui.screens.recovery_run import RunScreen

from vwtui.errors import VwtuiError
from vwtui.orchestrator import DEFAULT_POLL_SECONDS, RecoveryRun
from vwtui.recovery import journal as jr
from vwtui.recovery.lock import holder_of
from vwtui.recovery.plan import RecoveryRequest, Scenario
from vwtui.recovery.state import ChecklistItem, StepKey, StepStatus

if TYPE_CHECKING:
    from vwtui.services.pg import PgService

__all__ = ["Preselection", "RecoveryManager", "RunScreen"]


class RecoveryManager:
    """The App's recoveries: start, drive, resume; one `RunScreen` per run."""

    def __init__(self, app: App[Any], *, poll_interval: float = DEFAULT_POLL_SECONDS,
                 state_base: Path | None = None) -> None:
        self.app = app
        self.poll_interval = poll_interval
        self.state_base = state_base
        self.runs: list[RecoveryRun] = []
        self._driving: dict[str, int] = {}
        self._pg: PgService | None = None

    # ---- what the App has --------------------------------------------------------------------

    @property
    def config(self) -> Any:
        return self.app.config  # type: ignore[attr-defined]

    @property
    def aws(self) -> Any:
        return self.app.aws  # type: ignore[attr-defined]

    @property
    def pg(self) -> PgService:
        pg = getattr(self.app, "pg", None)
        if pg is not None:
            return pg  # type: ignore[no-any-return]
        if self._pg is None:
            from vwtui.services.pg import PgService

            aws = getattr(self.app, "aws", None)
            self._pg = PgService(self.config, token_provider=aws.rds_auth_token
                                 if aws is not None else None)
        return self._pg

    @property
    def demo(self) -> bool:
        """`vwtui demo`: the sandbox and the state dir go when it quits, and its runs too."""
        return bool(getattr(self.app, "demo", False))

    def now(self) -> datetime:
        clock = getattr(self.app, "clock", None)
        return clock() if callable(clock) else datetime.now(UTC)

    @property
    def active(self) -> RecoveryRun | None:
        """The newest run that has not ended."""
        return next((r for r in reversed(self.runs) if not r.finished), None)

    def is_busy(self, run: RecoveryRun) -> bool:
        """A task of this run is under way (a step running, a wait polling)."""
        return run.busy or self._driving.get(run.run_id, 0) > 0

    # ---- choose → plan → run -----------------------------------------------------------------

    def new_recovery(self, preselect: Preselection | None = None) -> ChooseScreen:
        """Open the chooser (the dashboard's selected snapshot / recovery point preselected)."""
        source = getattr(self.app, "source_instance", None)
        screen = ChooseScreen(self.config, self.aws, source=source, preselect=preselect,
                              now=self.now)
        self.app.push_screen(screen)
        return screen

    def new_drill(self) -> DrillScreen:
        """Open the monthly drill's set-up (staging, the rotation's method, the history)."""
        screen = DrillScreen(self.config, self.aws, state_base=self.state_base, now=self.now,
                             on_plan=lambda request: self.show_plan(request, {}))
        self.app.push_screen(screen)
        return screen

    def show_plan(self, request: RecoveryRequest, context: dict[str, object]) -> PlanScreen:
        """The chooser's request, planned (on top of the chooser: esc goes back to it)."""
        screen = PlanScreen(self.config, self.aws, request, now=self.now)
        self.app.push_screen(screen)
        return screen

    def start(self, request: RecoveryRequest) -> None:
        """Start a run (journal opened, RTO clock started) and drive it until it needs the
        engineer. The worker belongs to the App."""
        self.app.run_worker(self._start(request), group="recovery-start", exit_on_error=False,
                            name=f"start {request.target}")

    async def _start(self, request: RecoveryRequest) -> RecoveryRun | None:
        run = await self._adopt(RecoveryRun.start(
            request, self.config, self.aws, self.pg, state_base=self.state_base,
            poll_interval=self.poll_interval, now=self.now))
        if run is not None:
            self.drive(run, run.run_until_blocked)
        return run

    async def _adopt(self, making: Awaitable[RecoveryRun]) -> RecoveryRun | None:
        """Await a started or resumed run, keep it (it outlives screens) and show it; a refusal
        is told to the engineer instead."""
        try:
            run = await making
        except VwtuiError as exc:
            self._tell(exc)
            return None
        self._keep(run)
        return run

    def _keep(self, run: RecoveryRun) -> None:
        self.runs.append(run)
        self.open(run)
        # After the run screen is up, so that its widgets are frozen too (before, the three
        # screens of three runs left ~50,000 objects for every full collection to walk).
        self.app.call_after_refresh(_freeze_heap)

    def open(self, run: RecoveryRun) -> RunScreen:
        """Show the run: the chooser and plan are done with, the run screen replaces them."""
        while isinstance(self.app.screen, (ChooseScreen, DrillScreen, PlanScreen, YesNo)) and \
                len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        screen = RunScreen(run, self)
        self.app.push_screen(screen)
        return screen

    def open_active(self) -> None:
        """Back to the newest unfinished run (from the dashboard)."""
        run = self.active or (self.runs[-1] if self.runs else None)
        if run is None:
            self.app.notify("No recovery has been started in this session (n starts one).",
                            severity="warning")
            return
        self.open(run)

    def quit(self) -> None:
        """Quit vwtui at once: every run's task is cancelled now (a poll asleep between two
        AWS calls is not waited for) and journals its step as interrupted by the quit; the
        next start offers to resume it (not in the demo, whose state goes with it)."""
        reason = ("vwtui demo was quit while the step ran; the demo's run ended with it"
                  if self.demo else
                  "vwtui was quit while the step ran; start vwtui again to resume it")
        for run in self.runs:
            if not run.finished:
                run.interrupt_reason = reason
            self.app.workers.cancel_group(self.app, f"recovery-{run.run_id}")
            run.close()  # another session may now resume it
        self.app.exit()

    def leave(self, screen: Screen[Any]) -> None:
        """Leave a run screen; the run goes on."""
        if len(self.app.screen_stack) > 1 and self.app.screen is screen:
            self.app.pop_screen()

    # ---- driving the run ---------------------------------------------------------------------

    def drive(self, run: RecoveryRun, action: Callable[[], Awaitable[Any]]) -> None:
        """Run one of the run's coroutines as an App worker in the run's group."""
        if self.is_busy(run):
            self.app.notify("The run is already busy; wait for the current step.",
                            severity="warning")
            return
        self._driving[run.run_id] = self._driving.get(run.run_id, 0) + 1
        self.app.run_worker(self._guarded(run, action), group=f"recovery-{run.run_id}",
                            exit_on_error=False, name=f"recovery {run.run_id}")

    async def _guarded(self, run: RecoveryRun, action: Callable[[], Awaitable[Any]]) -> None:
        try:
            await action()
        except VwtuiError as exc:
            self._tell(exc)
        finally:
            self._driving[run.run_id] -= 1
            self._redraw(run)

    def _redraw(self, run: RecoveryRun) -> None:
        for screen in self.app.screen_stack:
            if isinstance(screen, RunScreen) and screen.run is run and screen.is_mounted:
                screen.redraw()

    def _tell(self, exc: VwtuiError) -> None:
        self.app.notify(str(exc), title=exc.title, severity="error", timeout=12, markup=False)

    def tick(self, run: RecoveryRun, item_key: str) -> ChecklistItem | None:
        """Tick a manual item of the swap (timestamped in the journal)."""
        try:
            return run.tick(item_key)
        except VwtuiError as exc:
            self._tell(exc)
            return None

    # ---- guarded questions -------------------------------------------------------------------

    def _ask(self, questions: Coroutine[Any, Any, None], name: str) -> None:
        """Run a chain of questions as an App worker: each answer is awaited in turn."""
        self.app.run_worker(questions, group="recovery-question", name=name)

    def ask_skip(self, run: RecoveryRun) -> None:
        """Skip the current step, with a reason (required, journaled)."""
        self._ask(self._ask_skip(run), f"skip {run.run_id}")

    async def _ask_skip(self, run: RecoveryRun) -> None:
        step = run.current
        if step is None:
            return
        reason = await self.app.push_screen_wait(ReasonPrompt(
            f"Skip “{step.title}”?", "Say why; the journal keeps the reason."))
        if not reason:
            return
        if run.request.drill and step is run.steps[-1] and not run.dry_run:
            await self._ask_drill_notes(run)
        try:
            run.skip(reason)
        except VwtuiError as exc:
            self._tell(exc)
        self._redraw(run)

    def ask_cleanup(self, run: RecoveryRun, *, skip_final_snapshot: bool) -> None:
        """Delete the replaced instance, once its identifier is typed. Never offered for a
        protected instance or one this run did not create or rename."""
        self._ask(self._ask_cleanup(run, skip_final_snapshot), f"cleanup {run.run_id}")

    async def _ask_cleanup(self, run: RecoveryRun, skip_final_snapshot: bool) -> None:
        step = run.step(StepKey.CLEANUP)
        if step is None or run.current is not step or step.status is not StepStatus.WAITING:
            return
        identifier = run.replaced
        if run.request.drill:
            await self._ask_drill_cleanup(run, identifier)
            return
        if not run.state.can_delete_replaced():
            self.app.notify(f"{identifier} may not be deleted from here (protected, or not "
                            f"created by this run). Skip the step with a reason.",
                            severity="error", markup=False)
            return
        final = ("NO final snapshot (declined)." if skip_final_snapshot
                 else "A final snapshot is taken first.")
        typed = await self.app.push_screen_wait(TypedConfirm(
            f"Delete {identifier}?",
            f"rds:DeleteDBInstance on {identifier}, the instance the swap replaced. {final}",
            identifier))
        if typed:
            self.drive(run, lambda: run.confirm_cleanup(
                typed, skip_final_snapshot=skip_final_snapshot))

    async def _ask_drill_cleanup(self, run: RecoveryRun, identifier: str) -> None:
        """The drill's end: its own test instance deleted with no final snapshot (typed
        identifier), after the procedure issues and notes for the recovery test log."""
        if not run.state.can_delete_replaced():
            self.app.notify(f"{identifier} may not be deleted from here (not created by this "
                            f"drill). Skip the step with a reason.", severity="error",
                            markup=False)
            return
        typed = await self.app.push_screen_wait(TypedConfirm(
            f"Delete the test instance {identifier}?",
            f"rds:DeleteDBInstance on {identifier}, created and tagged by this drill, with "
            f"--skip-final-snapshot (the runbook's cleanup). Staging is not touched.",
            identifier))
        if not typed:
            return
        await self._ask_drill_notes(run)
        self.drive(run, lambda: run.confirm_cleanup(typed, skip_final_snapshot=True))

    async def _ask_drill_notes(self, run: RecoveryRun) -> None:
        """At the end of a drill: procedure issues found and notes (both may be empty), kept
        in the recovery test log with the run."""
        issues = await self.app.push_screen_wait(ReasonPrompt(
            "Procedure issues found?",
            "Anything in the runbook or the tool that was wrong or missing (empty: none). "
            "It goes into the recovery test log.", allow_empty=True))
        notes = await self.app.push_screen_wait(ReasonPrompt(
            "Notes for the recovery test log?", "Free text (empty: none).", allow_empty=True))
        run.history_fields["procedure_issues"] = (issues or "").strip()
        run.history_fields["notes"] = (notes or "").strip()

    def ask_protection(self, run: RecoveryRun) -> None:
        """Apply the protection step's fixes once the engineer has read each command (y/n)."""
        self._ask(self._ask_protection(run), f"protection {run.run_id}")

    async def _ask_protection(self, run: RecoveryRun) -> None:
        fixes = run.state.protection_fixes()
        if not fixes:
            return
        commands = "\n".join(f"$ {fix.call().cli(run.config)}" for fix in fixes)
        if await self.app.push_screen_wait(YesNo(
                f"Apply {len(fixes)} protection fix(es)?",
                f"Each runs once, journaled first:\n{commands}")):
            self.drive(run, run.confirm_protection)

    def ask_abort(self, run: RecoveryRun) -> None:
        """Abort: confirm, then offer to clean up what the run created (typed identifier)."""
        self._ask(self._ask_abort(run), f"abort {run.run_id}")

    async def _ask_abort(self, run: RecoveryRun) -> None:
        candidates = [] if run.dry_run else run.cleanup_candidates()
        if not await self.app.push_screen_wait(YesNo(
                "Abort this drill?" if run.request.drill else "Abort this recovery?",
                "The run ends here; the RTO clock stops. Nothing else runs.")):
            return
        if run.request.drill and not run.dry_run:
            await self._ask_drill_notes(run)
        if len(candidates) != 1:
            if candidates:
                self.app.notify(f"Left running: {', '.join(candidates)}; delete them by hand.",
                                severity="warning", markup=False)
            self.drive(run, lambda: run.abort(False))
            return
        created = candidates[0]
        if not await self.app.push_screen_wait(YesNo(
                f"Clean up {created}?",
                f"The run created {created}. y deletes it (you type its name next); "
                f"n leaves it running.")):
            self.drive(run, lambda: run.abort(False))
            return
        typed = await self.app.push_screen_wait(TypedConfirm(
            f"Delete {created}?",
            f"rds:DeleteDBInstance on {created}, created by this run. A final "
            f"snapshot is taken first (none of a failed or incompatible instance: "
            f"AWS allows none).", created))
        # Escape here leaves the run as it was: neither aborted nor cleaned up.
        if typed:
            self.drive(run, lambda: run.abort(True, typed_confirmation=typed))

    # ---- resume ------------------------------------------------------------------------------

    def survey(self) -> jr.RunsSurvey:
        """The runs dir: runs that never ended (not this session's own) and damaged journals
        (never dropped in silence)."""
        found = jr.survey_runs(self.state_base)
        known = {r.run_id for r in self.runs}
        return jr.RunsSurvey(tuple(r for r in found.unfinished if r.run_id not in known),
                             found.damaged)

    def unfinished(self) -> list[jr.RunRecord]:
        """Runs in the journal directory that never ended (newest first)."""
        try:
            return list(self.survey().unfinished)
        except OSError:
            return []

    def offer_resume(self) -> None:
        """At start-up: if the journal holds an unfinished run, ask to resume it."""
        self._ask(self._offer_resume(), "offer resume")

    async def _offer_resume(self) -> None:
        """Damaged journals first (listed, each can be opened read-only), then the newest run
        no live process drives is offered; a run another session drives is never offered: who
        drives it is said instead."""
        try:
            survey = self.survey()
        except OSError as exc:
            self.app.notify(f"Cannot read the recovery journals in "
                            f"{jr.runs_dir(self.state_base)} ({exc.strerror}); no unfinished "
                            f"run can be offered.", title="Recovery journal",
                            severity="error", timeout=12, markup=False)
            return
        # The kernel says who holds each run's lock: a dead holder's lock is free.
        held = [(r, h) for r in survey.unfinished if (h := holder_of(r.path)) is not None]
        driven = {r.run_id for r, _ in held}
        free = [r for r in survey.unfinished if r.run_id not in driven]
        # An empty journal whose lock is held: another session is starting that run now.
        damaged = [d for d in survey.damaged if not (d.empty and holder_of(d.path))]
        if damaged:
            await self._show_damaged(damaged)
        elsewhere = " ".join(h.sentence(r.run_id) for r, h in held[:3])
        if len(held) > 3:
            elsewhere += f" {len(held) - 3} more are driven by other sessions."
        if not free:
            if held:
                from vwtui.screens.recovery_watch import WatchOffer

                offer = WatchOffer(
                    "Recovery driven by another session" if len(held) == 1 else
                    f"{len(held)} recoveries driven by other sessions", elsewhere)
                await self.app.push_screen_wait(offer)
                if offer.watch_wanted:
                    await self.watch([r.path for r, _ in held])
            return
        record = free[0]
        current = record.current_step or "the end"
        detail = (f"{record.request.scenario.label}, {record.request.source} → "
                  f"{record.request.target}; started {record.started_at:%Y-%m-%d %H:%M:%S} UTC "
                  f"by {record.os_user or '?'}; next step: {current}. The RTO clock continues "
                  f"from the original start; nothing already issued is issued again.")
        older = len(free) - 1
        if older:
            detail += f" ({older} older unfinished run(s) also in the journal.)"
        if held:
            detail += (f" {len(held)} other unfinished run{'s are' if len(held) > 1 else ' is'} "
                       f"driven by another session, not offered here: {elsewhere}")
        if await self.app.push_screen_wait(YesNo("Resume the unfinished recovery?", detail)):
            self.resume(record.path)

    async def watch(self, paths: list[Path]) -> None:
        """Follow a run another session drives, read-only (a list to pick from when several)."""
        from vwtui.screens.recovery_watch import PickRun, WatchScreen

        from vwtui.recovery.follow import WatchableRun

        if not paths:
            return
        path: Path | None = paths[0]
        if len(paths) > 1:
            runs = [WatchableRun(jr.load_run(p), holder_of(p)) for p in paths]
            path = await self.app.push_screen_wait(PickRun(runs))
        if path is not None:
            self.app.push_screen(WatchScreen(path, self.config))

    async def _show_damaged(self, damaged: list[jr.DamagedJournal]) -> None:
        """List the damaged journals; open one read-only, as often as asked, then go on."""
        lines = {d.path: d.line for d in damaged}
        while True:
            path = await self.app.push_screen_wait(DamagedJournals(damaged))
            if path is None:
                return
            await self.app.push_screen_wait(JournalView(path, lines.get(path)))

    def resume(self, path: Path) -> None:
        self.app.run_worker(self._resume(path), group="recovery-start", exit_on_error=False,
                            name=f"resume {path.name}")

    async def _resume(self, path: Path) -> RecoveryRun | None:
        """Resume a run; a refusal (another account or region, another live session drives it,
        a damaged journal) is said in a notice and changes nothing."""
        try:
            run = await RecoveryRun.resume(
                path, self.config, self.aws, self.pg, state_base=self.state_base,
                poll_interval=self.poll_interval, now=self.now)
        except VwtuiError as exc:
            await self.app.push_screen_wait(Notice(f"Not resumed: {exc.title}", str(exc)))
            return None
        self._keep(run)
        if run.state.goes_on_by_itself():
            self.drive(run, run.run_until_blocked)
        return run


def _freeze_heap() -> None:
    """Move what is alive now (botocore's service models, the screens) out of the garbage
    collector's sight: a full collection over them takes a quarter of a second, a frozen key
    press during a recovery. Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()


def preselection_from_dashboard(screen: Screen[Any], *, from_row: bool = False) -> Preselection:
    """The snapshot or recovery point highlighted in the dashboard's active pane, if any: the
    chooser puts it under the cursor of its list. With `n` the scenario stays the engineer's
    choice (PITR first); `from_row` (Enter on the row) also picks the scenario that restores
    that row (2 for a snapshot, 3 for a recovery point)."""
    active = getattr(screen, "active_pane", None)
    pane_of = getattr(screen, "pane", None)
    if active is None or pane_of is None:
        return Preselection()
    try:
        key = pane_of(active).highlighted_key
    except Exception:  # the dashboard is not fully composed
        return Preselection()
    if not key:
        return Preselection()
    if active == "snapshots":
        return Preselection(scenario=Scenario.SNAPSHOT if from_row else None, snapshot_id=key)
    if active == "recovery-points":
        return Preselection(scenario=Scenario.AWS_BACKUP if from_row else None,
                            recovery_point_arn=key)
    return Preselection()
