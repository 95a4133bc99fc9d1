"""The monthly recovery drill, step 1: the method the rotation gives, what it restores, and the
drill history; nothing to type unless the engineer overrides the method (with a reason).

Staging (config instances.staging) is the source, never production. The drill restores "1 hour
ago" (PITR) or staging's newest snapshot / recovery point; no incident time is asked, the
implied RPO (from now) is still shown. Enter opens the plan (the recovery's PlanScreen, with the
drill's steps); from there the run is the recovery's, with the drill's steps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer
from vwtui.screens.recovery_confirm import ReasonPrompt
from vwtui.screens.recovery_style import CSS_PATH, RecoveryText

from vwtui import fmt
from vwtui.errors import VwtuiError
from vwtui.model import RecoveryPoint, Snapshot, utcnow
from vwtui.recovery import drill as dr
from vwtui.recovery.history import HistoryRead, HistoryUnreadable, read_history
from vwtui.recovery.plan import RecoveryInputError, RecoveryRequest, Scenario, implied_rpo
from vwtui.widgets.context_bar import ContextBar

if TYPE_CHECKING:
    from vwtui.config import Config

METHOD_KEYS = {1: Scenario.PITR, 2: Scenario.SNAPSHOT, 3: Scenario.AWS_BACKUP}
HISTORY_SHOWN = 4


class DrillScreen(Screen[None]):
    """Set up the monthly drill: rotation, restore point, history; enter for the plan."""

    VIEW_NAME = "Recovery drill"
    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("enter", "plan", "Plan", id="drill.plan"),
        Binding("p", "plan", "Plan", show=False, id="drill.plan_p"),
        Binding("1", "method(1)", "PITR", show=False, id="drill.method_pitr"),
        Binding("2", "method(2)", "Snapshot", show=False, id="drill.method_snapshot"),
        Binding("3", "method(3)", "AWS Backup", show=False, id="drill.method_backup"),
        Binding("m", "next_method", "Method…", id="drill.method"),
        Binding("escape", "back", "Back", id="drill.back"),
    ]

    @property
    def context_source(self) -> str:
        """The context bar names staging: a drill never touches production."""
        return self.config.instances.staging

    def __init__(self, config: Config, aws: Any, *, state_base: Path | None = None,
                 now: Callable[[], datetime] = utcnow,
                 on_plan: Callable[[RecoveryRequest], object] | None = None) -> None:
        super().__init__()
        self.config = config
        self.aws = aws
        self.state_base = state_base
        self.now = now
        self.on_plan = on_plan
        self.history: HistoryRead | None = None
        self.history_error: str | None = None
        self.rotation: dr.RotationChoice | None = None
        self.method: Scenario | None = None
        self.override_reason: str | None = None
        self.snapshots: list[Snapshot] = []
        self.points: list[RecoveryPoint] = []
        self.read_errors: list[str] = []
        self.loaded = False
        self.request: RecoveryRequest | None = None
        self.refusal: str | None = None

    def compose(self) -> ComposeResult:
        yield ContextBar()
        with Vertical(id="drill"):
            yield RecoveryText(id="drill-title")
            yield RecoveryText("⟳ reading the drill history and staging's backups…",
                               id="drill-facts")
            yield RecoveryText(id="drill-history")
        yield Footer()

    def on_mount(self) -> None:
        heading = self.query_one("#drill-title", RecoveryText)
        heading.update(Text.assemble(("Monthly recovery drill", heading.style_of(
            "recovery--strong")), f" · staging {self.config.instances.staging} (never "
                                   f"production)"))
        self.load()

    @work(exclusive=True, group="drill-setup")
    async def load(self) -> None:
        """The history (local file) and staging's snapshots and recovery points (read-only)."""
        try:
            self.history = read_history(self.state_base)
        except HistoryUnreadable as exc:
            self.history, self.history_error = None, str(exc)
        staging = self.config.instances.staging
        try:
            self.snapshots = await self.aws.snapshots(staging)
        except VwtuiError as exc:
            self.read_errors.append(f"snapshots of {staging}: {exc}")
        try:
            self.points = await self.aws.recovery_points(self.config.backup.vault)
        except VwtuiError as exc:
            self.read_errors.append(f"recovery points in {self.config.backup.vault}: {exc}")
        self.rotation = dr.rotation_method(self.history, self.now())
        self.method = self.method or self.rotation.method
        self.loaded = True
        self.redraw()

    def build_request(self) -> RecoveryRequest:
        if not self.loaded or self.rotation is None or self.method is None:
            raise RecoveryInputError("Still reading the history and staging's backups; a "
                                     "moment.")
        return dr.drill_request(self.config, self.method, self.now(),
                                snapshots=self.snapshots, points=self.points,
                                rotation=self.rotation.method,
                                override_reason=self.override_reason)

    def redraw(self) -> None:
        facts = self.query_one("#drill-facts", RecoveryText)
        strong, bad = facts.style_of("recovery--strong"), facts.style_of("recovery--bad")
        text = Text(overflow="fold")
        assert self.rotation is not None and self.method is not None
        text.append("Method ")
        text.append(dr.method_label(self.method), style=strong)
        if self.method is self.rotation.method:
            text.append(f" (rotation: {self.rotation.why})")
        else:
            text.append(f" instead of the rotation's {dr.method_label(self.rotation.method)}: "
                        f"{self.override_reason}", style=facts.style_of("recovery--caution"))
        text.append("\n")
        try:
            self.request = request = self.build_request()
            self.refusal = None
        except RecoveryInputError as exc:
            self.request, self.refusal = None, str(exc)
            text.append(f"✗ {exc}", style=bad)
        else:
            if request.snapshot_id:
                text.append(f"From snapshot {request.snapshot_id}\n")
            elif request.recovery_point_arn:
                text.append(f"From recovery point {request.recovery_point_arn}\n")
            restore_point = request.restore_point
            assert restore_point is not None and request.incident_time is not None
            rpo = implied_rpo(request.incident_time, restore_point)
            over = rpo.total_seconds() > self.config.objectives.rpo_hours * 3600
            text.append(f"Restores to {fmt.utc(restore_point, seconds=True, zone=True)}"
                        + (" (1 hour ago)" if request.scenario is Scenario.PITR
                           and self.config.drill.restore_minutes_ago == 60 else ""))
            text.append(f" · implied RPO {fmt.stopwatch(rpo)} ")
            text.append(f"{'✗ over' if over else '≤'} "
                        f"{fmt.in_hours(self.config.objectives.rpo_hours)} target",
                        style=bad if over else "")
            text.append("\nTest instance ")
            text.append(request.target, style=strong)
            text.append(" · deleted at the end, no final snapshot")
        for error in self.read_errors:
            text.append(f"\n✗ Could not read {error}", style=bad)
        text.append("\nenter: plan · m / 1-3: another method (with a reason)",
                    style=facts.style_of("recovery--turn"))
        facts.update(text)
        self.query_one("#drill-history", RecoveryText).update(self._history_text())

    def _history_text(self) -> Text:
        box = self.query_one("#drill-history", RecoveryText)
        text = Text(overflow="fold")
        if self.history_error:
            text.append(f"✗ Drill history unreadable: {self.history_error}",
                        style=box.style_of("recovery--bad"))
            return text
        history = self.history
        if history is None:
            return text
        text.append(dr.due_line(history, self.now()), style=box.style_of("recovery--strong"))
        drills = history.of_kind("drill")
        if not drills:
            text.append("\nNo drill recorded yet.")
        for record in reversed(drills[-HISTORY_SHOWN:]):
            met = record.rto_met
            text.append(f"\n{'✓' if met else '✗'} {record.finished_at:%Y-%m-%d} "
                        f"{dr.method_label(record.method):<10} RTO "
                        f"{record.rto_seconds / 3600:.2f} h {'met' if met else 'MISSED'} "
                        f"· {record.outcome}",
                        style="" if met else box.style_of("recovery--bad"))
        for problem in history.problems[:2]:
            text.append(f"\n! {problem}", style=box.style_of("recovery--caution"))
        return text

    # ---- actions -----------------------------------------------------------------------------

    def action_method(self, number: int) -> None:
        chosen = METHOD_KEYS.get(number)
        if chosen is None or not self.loaded or self.rotation is None:
            return
        if chosen is self.rotation.method:
            self.method, self.override_reason = chosen, None
            self.redraw()
            return
        self.ask_reason(chosen)

    def action_next_method(self) -> None:
        if self.method is None:
            return
        order = list(METHOD_KEYS.values())
        following = order[(order.index(self.method) + 1) % len(order)]
        self.action_method(order.index(following) + 1)

    @work(group="drill-question")
    async def ask_reason(self, chosen: Scenario) -> None:
        assert self.rotation is not None
        reason = await self.app.push_screen_wait(ReasonPrompt(
            f"Use {dr.method_label(chosen)} instead of the rotation's "
            f"{dr.method_label(self.rotation.method)}?",
            "Say why; the reason goes into the journal and the recovery test log."))
        if reason and reason.strip():
            self.method, self.override_reason = chosen, reason.strip()
        self.redraw()

    def action_plan(self) -> None:
        try:
            request = self.build_request()
        except RecoveryInputError as exc:
            self.notify(str(exc), title=exc.title, severity="error", markup=False)
            return
        if self.on_plan is not None:
            self.on_plan(request)

    def action_back(self) -> None:
        self.dismiss(None)
