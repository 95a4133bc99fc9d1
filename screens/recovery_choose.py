"""Recovery, step 1: choose the scenario, the source and what to restore.

Picked, not typed, where picking is possible: the snapshot from a list of the source's snapshots,
the recovery point from the vault's. The PITR target is typed in UTC (ISO 8601) with the incident
time; it is checked against the instance's restore window as it is typed, refused with the
reason, and the RPO it implies is shown beside it. `p` (or enter) posts
`ChooseScreen.PlanRequested`, which the App hands to its `RecoveryManager`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from vwtui.screens.recovery_style import CSS_PATH, RecoveryText

from vwtui import fmt
from vwtui.errors import VwtuiError
from vwtui.model import PitrWindow, RecoveryPoint, Snapshot, utcnow
from vwtui.recovery.plan import (
    RecoveryInputError,
    RecoveryRequest,
    Scenario,
    check_incident_time,
    check_recovery_point,
    check_restore_time,
    check_snapshot,
    implied_rpo,
    parse_utc,
)
from vwtui.widgets.backup_panes import short_type
from vwtui.widgets.context_bar import ContextBar

if TYPE_CHECKING:
    from vwtui.config import Config

SCENARIO_ORDER = (Scenario.PITR, Scenario.SNAPSHOT, Scenario.AWS_BACKUP, Scenario.CROSS_REGION)
SCENARIO_SHORT = {
    Scenario.PITR: "1 Point-in-time restore (PITR), last 7 days",
    Scenario.SNAPSHOT: "2 Snapshot restore, daily snapshots up to 30 days",
    Scenario.AWS_BACKUP: "3 AWS Backup restore, from the backup vault",
    Scenario.CROSS_REGION: "4 Cross-region disaster recovery",
}


@dataclass(frozen=True, slots=True)
class Preselection:
    """What the dashboard had selected when the engineer pressed "new recovery"."""

    scenario: Scenario | None = None
    source: str | None = None
    snapshot_id: str | None = None
    recovery_point_arn: str | None = None


UNREADABLE = "✗ could not be read: why is said below"


def recovery_points_of(points: list[RecoveryPoint], source_arn: str,
                       source: str) -> list[RecoveryPoint]:
    """The recovery points of the source instance (by its ARN, or by name when the ARN is
    unknown)."""
    def mine(point: RecoveryPoint) -> bool:
        if source_arn and point.resource_arn == source_arn:
            return True
        return point.resource_arn.endswith(f":db:{source}")
    return [p for p in points if mine(p)]


class ChooseScreen(Screen[None]):
    """Choose scenario 1-4, source, and the PITR time / snapshot / recovery point."""

    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("1", "scenario(1)", "PITR", show=False, id="recovery.choose.pitr"),
        Binding("2", "scenario(2)", "Snapshot", show=False, id="recovery.choose.snapshot"),
        Binding("3", "scenario(3)", "AWS Backup", show=False, id="recovery.choose.aws_backup"),
        Binding("4", "scenario(4)", "Cross-region", show=False,
                id="recovery.choose.cross_region"),
        Binding("e", "switch_source", "Prod/staging", id="recovery.choose.switch_source"),
        Binding("p", "plan", "Plan", id="recovery.choose.plan"),
        Binding("escape", "back", "Back", id="recovery.choose.back"),
    ]

    class PlanRequested(Message):
        """The inputs amount to a request the chooser accepts: show its plan."""

        def __init__(self, request: RecoveryRequest, context: dict[str, object]) -> None:
            super().__init__()
            self.request = request
            self.context = context

    @property
    def context_source(self) -> str:
        """What the context bar names: the source being chosen for, not the console's."""
        return self.source

    def __init__(self, config: Config, aws: Any, *, source: str | None = None,
                 preselect: Preselection | None = None,
                 now: Callable[[], datetime] = utcnow) -> None:
        super().__init__()
        self.config = config
        self.aws = aws
        self.preselect = preselect or Preselection()
        self.source = self.preselect.source or source or config.instances.production
        # PITR unless told otherwise: the runbook's first scenario and the smallest RPO. What the
        # dashboard had highlighted waits under the cursor of its list (2 / 3 shows it).
        self.scenario = self.preselect.scenario or Scenario.PITR
        self.now = now
        self.window: PitrWindow | None = None
        self.window_error: str | None = None
        self.snapshots: list[Snapshot] = []
        self.points: list[RecoveryPoint] = []
        # Why a list could not be read (AWS's message), said whole where the pick is refused.
        self.snapshots_error: str | None = None
        self.points_error: str | None = None
        self.source_arn = ""
        # True once the PITR window, snapshots and recovery points have been read.
        self.loaded = False

    # ---- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ContextBar()
        with Vertical(id="choose"):
            yield RecoveryText(id="choose-title")
            yield OptionList(*(Option(SCENARIO_SHORT[s], id=s.value) for s in SCENARIO_ORDER),
                             id="scenarios", compact=True)
            with Horizontal(classes="field-row", id="incident-row"):
                yield Label("Incident time (UTC) ", classes="field-label")
                yield Input(placeholder="YYYY-MM-DDTHH:MM:SSZ, when the damage began",
                            id="incident", compact=True)
            with ContentSwitcher(initial=Scenario.PITR.value, id="bodies"):
                with Vertical(id=Scenario.PITR.value):
                    yield Static("⟳ reading the PITR window…", id="window", markup=False)
                    with Horizontal(classes="field-row"):
                        yield Label("Restore to    (UTC) ", classes="field-label")
                        yield Input(placeholder="YYYY-MM-DDTHH:MM:SSZ, before the incident",
                                    id="restore-time", compact=True)
                with Vertical(id=Scenario.SNAPSHOT.value):
                    yield DataTable(id="snapshots", cursor_type="row")
                with Vertical(id=Scenario.AWS_BACKUP.value):
                    yield DataTable(id="points", cursor_type="row")
                with Vertical(id=Scenario.CROSS_REGION.value):
                    yield Static("⟳ checking cross-region prerequisites…", id="dr",
                                 markup=False)
            yield RecoveryText(id="verdict")
        yield Footer()

    def on_mount(self) -> None:
        snapshots = self.query_one("#snapshots", DataTable)
        # Identifiers last: they are long, and what decides (age, status) must stay in view.
        # Compact like the dashboard's panes, so a full snapshot identifier fits at 80 columns.
        snapshots.add_columns("created UTC", "age", "type", "status", "snapshot")
        points = self.query_one("#points", DataTable)
        points.add_columns("created UTC", "age", "status", "recovery point")
        self._show_scenario()
        self.load_source()
        if self.preselect.scenario in (Scenario.SNAPSHOT, Scenario.AWS_BACKUP):
            # Opened from a dashboard row (enter): the cursor goes to that row in its list.
            self.query_one("#snapshots" if self.scenario is Scenario.SNAPSHOT else "#points",
                           DataTable).focus()
        else:
            self.query_one("#scenarios", OptionList).focus()

    # ---- loading -----------------------------------------------------------------------------

    def _title(self) -> Text:
        env = ("PRODUCTION" if self.source == self.config.instances.production else
               "staging" if self.source == self.config.instances.staging else "other")
        strong = self.query_one("#choose-title", RecoveryText).style_of("recovery--strong")
        return Text.assemble(("New recovery", strong), " · source ", (self.source, strong),
                             f" ({env})")

    @work(exclusive=True, group="recovery-choose")
    async def load_source(self) -> None:
        """Read what can be restored from: PITR window, snapshots, recovery points (AWS)."""
        self.query_one("#choose-title", RecoveryText).update(self._title())
        self.loaded = False
        source = self.source
        # Four independent reads at once: the chooser is ready after the slowest, not the sum.
        outcomes: tuple[Any, ...] = await asyncio.gather(
            self.aws.instance(source), self.aws.pitr_window(source),
            self.aws.snapshots(source),
            self.aws.recovery_points_of(self.config.backup.vault, [source]),
            return_exceptions=True)
        instance, window, snapshots, points = outcomes
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, VwtuiError):
                raise outcome  # a cancellation (the screen closed), or a bug: not a read error
        self.source_arn = "" if isinstance(instance, VwtuiError) else instance.arn
        if isinstance(window, VwtuiError):
            self.window, self.window_error = None, f"{window.title}: {window}"
        else:
            self.window, self.window_error = window, None
        self._show_window()
        if isinstance(snapshots, VwtuiError):
            self.snapshots, self.snapshots_error = [], f"{snapshots.title}: {snapshots}"
        else:
            self.snapshots, self.snapshots_error = snapshots, None
        self._fill_snapshots(self.snapshots_error)
        if isinstance(points, VwtuiError):
            self.points, self.points_error = [], f"{points.title}: {points}"
        else:
            self.points = recovery_points_of(points, self.source_arn, source)
            self.points_error = None
        self._fill_points(self.points_error)
        self._check()
        self.loaded = True
        await self._load_dr()

    async def _load_dr(self) -> None:
        """Scenario 4: its prerequisites checked against AWS, said plainly when missing."""
        from vwtui.services.recovery_ops import RecoveryOps

        dr = self.query_one("#dr", Static)
        try:
            status = await RecoveryOps(self.aws).cross_region_prerequisites(self.source)
        except VwtuiError as exc:
            dr.update(Text(f"✗ Cannot check the prerequisites: {exc.title}: {exc}"))
            return
        dr.update(Text("\n".join(status.lines())))

    def _show_window(self) -> None:
        box = self.query_one("#window", Static)
        if self.window_error:
            box.update(Text(f"✗ PITR window unknown: {self.window_error}"))
        elif self.window is None or self.window.earliest is None or self.window.latest is None:
            box.update(Text(f"✗ {self.source} has no PITR window (automated backups off or "
                            f"none yet): use a snapshot restore (2)."))
        else:
            box.update(Text(
                f"PITR window of {self.source}: "
                f"{fmt.utc(self.window.earliest, seconds=True, zone=True)}"
                f" → {fmt.utc(self.window.latest, seconds=True, zone=True)}"))

    def _fill_snapshots(self, error: str | None) -> None:
        table = self.query_one("#snapshots", DataTable)
        table.clear()
        now = self.now()
        if error:
            # A cell would cut AWS's message: it is said whole in the verdict line below.
            table.add_row("", "", "", "", Text(UNREADABLE))
            return
        for snap in self.snapshots:
            table.add_row(Text(fmt.utc(snap.created, year=False)),
                          fmt.age(snap.age(now)), Text(short_type(snap.snapshot_type)),
                          Text(snap.status),
                          Text(snap.identifier), key=snap.identifier)
        if not self.snapshots:
            table.add_row("", "", "", "", Text(f"No snapshots of {self.source}."))
        wanted = self.preselect.snapshot_id
        if wanted and any(s.identifier == wanted for s in self.snapshots):
            table.move_cursor(row=table.get_row_index(wanted))

    def _fill_points(self, error: str | None) -> None:
        table = self.query_one("#points", DataTable)
        table.clear()
        now = self.now()
        if error:
            table.add_row("", "", "", Text(UNREADABLE))
            return
        for point in self.points:
            table.add_row(Text(fmt.utc(point.created, year=False)),
                          fmt.age(point.age(now)), Text(point.status),
                          Text(fmt.short_arn(point.arn)), key=point.arn)
        if not self.points:
            table.add_row("", "", "", Text(f"No recovery points of {self.source} in "
                                           f"{self.config.backup.vault}."))
        wanted = self.preselect.recovery_point_arn
        if wanted and any(p.arn == wanted for p in self.points):
            table.move_cursor(row=table.get_row_index(wanted))

    # ---- choosing ----------------------------------------------------------------------------

    def _show_scenario(self) -> None:
        self.query_one("#bodies", ContentSwitcher).current = self.scenario.value
        options = self.query_one("#scenarios", OptionList)
        options.highlighted = SCENARIO_ORDER.index(self.scenario)
        self.query_one("#incident-row").display = self.scenario is not Scenario.CROSS_REGION
        self._check()

    def action_scenario(self, number: int) -> None:
        self.scenario = SCENARIO_ORDER[number - 1]
        self._show_scenario()
        focus = {Scenario.PITR: "#incident", Scenario.SNAPSHOT: "#snapshots",
                 Scenario.AWS_BACKUP: "#points", Scenario.CROSS_REGION: "#scenarios"}
        if self.scenario is not Scenario.CROSS_REGION and self._incident_missing():
            focus[self.scenario] = "#incident"  # first when the damage began; then the pick
        self.query_one(focus[self.scenario]).focus()

    @on(OptionList.OptionHighlighted, "#scenarios")
    def scenario_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        # A stale event (the list's own first highlight, posted at mount) must not undo a
        # scenario preselected from the dashboard: only the list's current highlight counts.
        if event.option_index != event.option_list.highlighted:
            return
        chosen = Scenario(str(event.option.id))
        if chosen is not self.scenario:
            self.scenario = chosen
            self._show_scenario()

    @on(OptionList.OptionSelected, "#scenarios")
    def scenario_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_scenario(SCENARIO_ORDER.index(Scenario(str(event.option.id))) + 1)

    def action_switch_source(self) -> None:
        instances = self.config.instances
        self.source = instances.staging if self.source == instances.production \
            else instances.production
        # Nothing of the other source may stay pickable while this one is read.
        self.loaded = False
        self.window = None
        self.snapshots, self.points, self.source_arn = [], [], ""
        self.snapshots_error = self.points_error = None
        self.preselect = Preselection()
        self.query_one("#window", Static).update("⟳ reading the PITR window…")
        self.query_one(ContextBar).refresh_source()
        for table_id in ("#snapshots", "#points"):
            table = self.query_one(table_id, DataTable)
            table.clear()
            table.add_row(*[""] * (len(table.columns) - 1), Text(f"⟳ reading {self.source}…"))
        self.load_source()

    @on(events.DescendantFocus)
    def _focus_moved(self) -> None:
        self._check()

    @on(Input.Changed)
    def _typed(self) -> None:
        self._check()

    @on(DataTable.RowHighlighted)
    def _picked(self) -> None:
        self._check()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "incident" and self.scenario is Scenario.PITR:
            self.query_one("#restore-time", Input).focus()
            return
        if event.input.id == "incident":
            target = "#snapshots" if self.scenario is Scenario.SNAPSHOT else "#points"
            self.query_one(target).focus()
            return
        self.action_plan()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_plan()

    # ---- checking ----------------------------------------------------------------------------

    def selected_snapshot(self) -> Snapshot | None:
        table = self.query_one("#snapshots", DataTable)
        if not self.snapshots or table.cursor_row < 0:
            return None
        return self.snapshots[min(table.cursor_row, len(self.snapshots) - 1)]

    def selected_point(self) -> RecoveryPoint | None:
        table = self.query_one("#points", DataTable)
        if not self.points or table.cursor_row < 0:
            return None
        return self.points[min(table.cursor_row, len(self.points) - 1)]

    def _incident(self) -> datetime | None:
        text = self.query_one("#incident", Input).value.strip()
        return parse_utc(text) if text else None

    def _incident_missing(self) -> bool:
        return not self.query_one("#incident", Input).value.strip()

    def build_request(self) -> tuple[RecoveryRequest, dict[str, object]]:
        """The request the inputs amount to; RecoveryInputError with the reason if refused."""
        if not self.loaded:
            raise RecoveryInputError(f"Still reading what can restore {self.source} from AWS; "
                                     f"a moment.")
        now = self.now()
        incident = self._incident()
        common: dict[str, Any] = {
            # One moment for every name the request derives (target, the rename's -old- name).
            "source": self.source, "target": self.config.target_name(self.source, now),
            "requested_at": now, "incident_time": incident,
        }
        context: dict[str, object] = {}
        if incident is None and self.scenario is not Scenario.CROSS_REGION:
            # Every restore: what is restored must be from before the damage, and the RPO
            # is measured from it. A snapshot picked without it could hold the damage.
            raise RecoveryInputError(
                "Type the incident time (UTC, ISO 8601), e.g. 2025-11-11T10:45:00Z: what is "
                "restored must be from before it.")
        if self.scenario is Scenario.PITR:
            assert incident is not None
            text = self.query_one("#restore-time", Input).value
            restore_time = parse_utc(text)
            if self.window is None:
                raise RecoveryInputError(self.window_error or
                                         "The PITR window is still being read; wait a moment.")
            restore_time = check_restore_time(self.window, restore_time, now)
            check_incident_time(incident, restore_time, now)
            request = RecoveryRequest(Scenario.PITR, restore_time=restore_time,
                                      restore_point=restore_time, **common)
        elif self.scenario is Scenario.SNAPSHOT:
            snap = self.selected_snapshot()
            if snap is None:
                raise RecoveryInputError(
                    f"Cannot list the snapshots of {self.source}: {self.snapshots_error}"
                    if self.snapshots_error else
                    f"Pick a snapshot of {self.source} from the list.")
            check_snapshot(snap, self.source)
            if incident is not None and snap.created is not None:
                check_incident_time(incident, snap.created, now)  # before the damage
            request = RecoveryRequest(Scenario.SNAPSHOT, snapshot_id=snap.identifier,
                                      restore_point=snap.created, **common)
            context["snapshot"] = snap
        elif self.scenario is Scenario.AWS_BACKUP:
            point = self.selected_point()
            if point is None:
                raise RecoveryInputError(
                    f"Cannot list the recovery points of {self.source}: {self.points_error}"
                    if self.points_error else
                    f"Pick a recovery point of {self.source} from the list.")
            check_recovery_point(point, self.source)
            if incident is not None and point.created is not None:
                check_incident_time(incident, point.created, now)
            request = RecoveryRequest(Scenario.AWS_BACKUP, recovery_point_arn=point.arn,
                                      restore_point=point.created, **common)
            context["recovery_point"] = point
        else:
            request = RecoveryRequest(Scenario.CROSS_REGION, **common)
        return request, context

    def _check(self) -> None:
        """Re-check the inputs as they change; show the refusal or the implied RPO."""
        try:
            verdict = self.query_one("#verdict", RecoveryText)
        except Exception:  # not composed yet
            return
        if isinstance(self.focused, OptionList):
            # Typed digits pick scenarios here: say so, so a time is not typed into the list.
            verdict.update(Text(f"Scenario {SCENARIO_ORDER.index(self.scenario) + 1}: pick with "
                                f"1–4 or ↑↓, then enter to fill in its fields."))
            verdict.set_class(False, "-refused")
            return
        if self.scenario is Scenario.CROSS_REGION:
            verdict.update(Text("enter/p: the plan (checks the prerequisites, changes nothing)"))
            verdict.set_class(False, "-refused")
            return
        try:
            request, _ = self.build_request()
        except RecoveryInputError as exc:
            verdict.update(Text(f"✗ {exc}"))
            verdict.set_class(True, "-refused")
            return
        verdict.set_class(False, "-refused")
        rpo_target = self.config.objectives.rpo_hours
        line = Text("✓ ", overflow="fold")
        # What is restored, named whole (an ARN is longer than a line: it folds, never cut).
        if request.snapshot_id:
            line.append("from snapshot ")
            line.append(request.snapshot_id, style=verdict.style_of("recovery--strong"))
            line.append("\n  ")
        elif request.recovery_point_arn:
            line.append("from recovery point ")
            line.append(request.recovery_point_arn, style=verdict.style_of("recovery--strong"))
            line.append("\n  ")
        if request.restore_point is not None:
            line.append(f"restores to {fmt.utc(request.restore_point, seconds=True, zone=True)}")
        if request.incident_time is not None and request.restore_point is not None:
            rpo = implied_rpo(request.incident_time, request.restore_point)
            over = rpo.total_seconds() > rpo_target * 3600
            line.append(f" · implied RPO {fmt.stopwatch(rpo)} ")
            line.append(f"{'✗ over' if over else '≤'} {fmt.in_hours(rpo_target)} target",
                        style=verdict.style_of("recovery--bad") if over else "")
        else:
            line.append(" · implied RPO unknown (type the incident time)")
        line.append(f" · new instance {request.target} · enter/p: plan")
        verdict.update(line)

    # ---- leaving -----------------------------------------------------------------------------

    def action_plan(self) -> None:
        try:
            request, context = self.build_request()
        except RecoveryInputError as exc:
            verdict = self.query_one("#verdict", RecoveryText)
            verdict.update(Text(f"✗ {exc}"))
            verdict.set_class(True, "-refused")
            self.notify(str(exc), title=exc.title, severity="error", markup=False)
            if self.scenario is not Scenario.CROSS_REGION and self._incident_missing():
                self.query_one("#incident", Input).focus()  # where the answer goes
            return
        self.post_message(self.PlanRequested(request, context))

    def action_back(self) -> None:
        self.dismiss(None)

