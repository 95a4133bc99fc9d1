"""Recovery, step 2: the plan, before anything runs.

Every step with the runbook's estimate; the new instance's identifier, checked not to exist; the
subnet group and security groups discovered from the source instance (config overrides); for
each step that changes anything, the exact `aws ...` command line. Nothing runs until the
engineer confirms; `d` walks the whole plan as a dry run that changes nothing. Either posts
`PlanScreen.StartRequested`, which the App hands to its `RecoveryManager`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer
from vwtui.screens.recovery_confirm import YesNo
from vwtui.screens.recovery_style import CSS_PATH, SCENARIO_TAG, RecoveryText

from vwtui.errors import VwtuiError
from vwtui.model import utcnow
from vwtui.recovery.clock import format_duration
from vwtui.recovery.plan import (
    READ_ONLY_PLAN,
    RENAME_WARNING,
    PlannedStep,
    RecoveryInputError,
    RecoveryRequest,
    Scenario,
    SwapMethod,
    build_plan,
    check_request,
    plan_warnings,
    total_estimate,
)
from vwtui.recovery.steps.restore import restore_settings
from vwtui.widgets.context_bar import ContextBar

if TYPE_CHECKING:
    from vwtui.config import Config


@dataclasses.dataclass(frozen=True, slots=True)
class Discovery:
    """What the plan learnt from AWS before showing itself. `problems` stop the run;
    `warnings` are shown and let it go on."""

    request: RecoveryRequest
    network_from: str  # "source instance", "config", "config + source instance", "unknown"
    target_free: bool
    problems: tuple[str, ...] = ()
    class_from: str = "n/a"  # "config", "source instance", "unknown"
    warnings: tuple[str, ...] = ()


async def discover(aws: Any, config: Config, request: RecoveryRequest) -> Discovery:
    """Fill in the network and the instance class (config's where set, else the source
    instance's) and check that the new identifier is free. Read-only calls only."""
    if request.scenario is Scenario.CROSS_REGION:
        return Discovery(request, "n/a", True)
    async def target_taken() -> bool | VwtuiError:
        try:
            return bool(await aws.instance_exists(request.target))
        except VwtuiError as exc:
            return exc

    settings, taken = await asyncio.gather(restore_settings(aws, config, request),
                                           target_taken())
    problems = [settings.problem] if settings.problem else []
    if isinstance(taken, VwtuiError):
        problems.append(f"Cannot check whether {request.target} exists: {taken}")
        taken = False
    if taken:
        problems.append(f"{request.target} already exists: choose again in a minute for a new "
                        f"name, or delete it first.")
    warning = settings.class_warning()
    return Discovery(settings.request, settings.network_from, not taken, tuple(problems),
                     settings.class_from, (warning,) if warning else ())


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} min"


class PlanScreen(Screen[None]):
    """Show the plan; confirm to run it, `d` to dry-run it, esc to go back and change it."""

    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("c", "confirm", "Confirm & run", id="recovery.plan.confirm"),
        Binding("d", "dry_run", "Dry run", id="recovery.plan.dry_run"),
        Binding("w", "toggle_swap", "Route53/rename", id="recovery.plan.toggle_swap"),
        Binding("escape", "back", "Back", id="recovery.plan.back"),
    ]

    class StartRequested(Message):
        """The engineer confirmed the plan (y), or asked for its dry run (d): start it."""

        def __init__(self, request: RecoveryRequest) -> None:
            super().__init__()
            self.request = request

    @property
    def context_source(self) -> str:
        """What the context bar names: this plan's source, not the console's."""
        return self.request.source

    def __init__(self, config: Config, aws: Any, request: RecoveryRequest, *,
                 now: Callable[[], datetime] = utcnow) -> None:
        super().__init__()
        self.config = config
        self.aws = aws
        self.request = request
        self.now = now
        self.discovery: Discovery | None = None
        self.steps: tuple[PlannedStep, ...] = ()

    def compose(self) -> ComposeResult:
        yield ContextBar()
        with Vertical(id="plan"):
            yield RecoveryText(id="plan-title")
            yield RecoveryText("⟳ reading the source instance and checking the new identifier…",
                               id="plan-facts")
            yield DataTable(id="plan-steps", cursor_type="row")
            with VerticalScroll(id="plan-detail"):
                yield RecoveryText(id="plan-command")
            yield RecoveryText(id="plan-warnings")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#plan-steps", DataTable)
        table.add_column("✎", key="mutating", width=1)
        table.add_column("est.", key="estimate", width=6)
        table.add_column("step", key="step")
        where = self.request.source if self.request.scenario is Scenario.CROSS_REGION \
            else f"{self.request.source} → {self.request.target}"
        heading = self.query_one("#plan-title", RecoveryText)
        strong = heading.style_of("recovery--strong")
        tag = SCENARIO_TAG[self.request.scenario]
        heading.update(Text.assemble(
            ("Drill plan · " if self.request.drill else "Plan · ", strong), (tag, strong),
            f" · {where}"))
        self.prepare()
        table.focus()

    @work(exclusive=True, group="recovery-plan")
    async def prepare(self) -> None:
        """Discover the network and check the identifier (read-only AWS calls), then draw."""
        try:
            check_request(self.request)
            self.discovery = await discover(self.aws, self.config, self.request)
        except RecoveryInputError as exc:
            self.discovery = Discovery(self.request, "unknown", False, (str(exc),))
        self.request = self.discovery.request
        self.redraw()

    def redraw(self) -> None:
        """Rebuild the plan from the request (after discovery, or a swap-method change)."""
        request = self.request
        self.steps = build_plan(request, self.config, now=self.now())
        table = self.query_one("#plan-steps", DataTable)
        row = table.cursor_row
        table.clear()
        for step in self.steps:
            table.add_row("✎" if step.mutating else " ", _minutes(step.estimate),
                          Text(step.title), key=step.key)
        if self.steps:
            table.move_cursor(row=min(max(row, 0), len(self.steps) - 1))
        facts = Text()
        shown = self.query_one("#plan-facts", RecoveryText)
        if request.scenario is not Scenario.CROSS_REGION:
            found = self.discovery
            free = found is not None and found.target_free
            facts.append(f"New {request.target} ")
            facts.append("✓ free" if free else "✗ taken or unchecked",
                         style=shown.style_of("recovery--good" if free else "recovery--bad"))
            facts.append(f" · est. {format_duration(total_estimate(self.steps))}"
                         f" of the {self.config.objectives.rto_hours:g} h RTO\n")
            facts.append(f"Network ({found.network_from if found else '?'}): "
                         f"{request.subnet_group or 'default subnet group'} · "
                         f"{', '.join(request.security_groups) or 'default security group'}\n")
            facts.append(f"Class ({found.class_from if found else '?'}): "
                         f"{request.instance_class or 'as the original (AWS default)'}")
        shown.update(facts)
        warnings = list(plan_warnings(request, self.config))
        if self.discovery is not None:
            warnings = [*self.discovery.problems, *self.discovery.warnings, *warnings]
        self.query_one("#plan-warnings", RecoveryText).update(
            Text("\n".join(f"! {w}" for w in warnings)))
        self.show_step()

    @on(DataTable.RowHighlighted, "#plan-steps")
    def show_step(self) -> None:
        """The highlighted step's command line (the dry-run twin) and notes."""
        table = self.query_one("#plan-steps", DataTable)
        if not self.steps or table.cursor_row < 0:
            return
        step = self.steps[min(table.cursor_row, len(self.steps) - 1)]
        shown = self.query_one("#plan-command", RecoveryText)
        text = Text()
        if step.command:
            mark = "$ " if step.mutating else "(read-only) "
            for index, line in enumerate(step.command.splitlines()):
                text.append(f"{chr(10) if index else ''}{mark}",
                            style=shown.style_of("recovery--strong"))
                text.append(line)
        else:
            text.append("No AWS call.", style=shown.style_of("recovery--muted"))
        for note in step.notes:
            text.append(f"\n{note}", style=shown.style_of("recovery--note"))
        shown.update(text)

    # ---- actions -----------------------------------------------------------------------------

    def _ready(self) -> bool:
        found = self.discovery
        if found is None:
            self.notify("Still reading AWS; the plan is not complete yet.", severity="warning")
            return False
        if self.request.scenario is not Scenario.CROSS_REGION and found.problems:
            self.notify(found.problems[0], title="Cannot run this plan", severity="error",
                        markup=False)
            return False
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_swap" and self.request.drill:
            return False  # a drill has no swap: staging's traffic never moves
        if action in ("toggle_swap", "dry_run"):
            return self.request.scenario is not Scenario.CROSS_REGION
        return True

    def action_toggle_swap(self) -> None:
        if self.request.scenario is Scenario.CROSS_REGION or self.request.drill:
            return
        swap = SwapMethod.RENAME if self.request.swap is SwapMethod.ROUTE53 \
            else SwapMethod.ROUTE53
        if swap is SwapMethod.RENAME and self.config.is_protected(self.request.source):
            # The guardrail would refuse the rename at the swap, after the restore and the
            # wait: say so now, while the plan can still change.
            self.notify(f"{self.request.source} is protected: vwtui never renames it, so its "
                        f"swap is the Route53 UPSERT (rename it by hand if it must be).",
                        title="Rename swap refused", severity="error", timeout=10,
                        markup=False)
            return
        self.request = dataclasses.replace(self.request, swap=swap)
        if self.discovery is not None:
            self.discovery = dataclasses.replace(self.discovery, request=self.request)
        if swap is SwapMethod.RENAME:
            self.notify(RENAME_WARNING, title="Rename swap", severity="warning", timeout=8,
                        markup=False)
        self.redraw()

    def action_confirm(self) -> None:
        if not self._ready():
            return
        if self.config.ui.read_only and self.request.scenario is not Scenario.CROSS_REGION:
            # The service layer would refuse the restore; say so before a run (and its RTO
            # clock) is started for nothing.
            self.notify(READ_ONLY_PLAN, title="Read-only session", severity="error",
                        markup=False)
            return
        request = dataclasses.replace(self.request, dry_run=False)
        env = "PRODUCTION" if request.source == self.config.instances.production else "staging"
        question = f"Run {request.scenario.label} on {env} for real?"  # one line at 80 columns
        if request.drill:
            question = f"Start the monthly drill ({request.scenario.value}) on staging?"
        detail = (f"This creates {request.target} from {request.source} ({env}) in AWS and "
                  f"starts the RTO clock. Every mutating step is shown before it runs."
                  if request.scenario is not Scenario.CROSS_REGION
                  else "This checks the cross-region prerequisites and changes nothing.")
        self.start_after_yes(request, question, detail)

    @work(group="recovery-question")
    async def start_after_yes(self, request: RecoveryRequest, question: str,
                              detail: str) -> None:
        """y starts the run; n (or esc) leaves the plan on screen."""
        if await self.app.push_screen_wait(YesNo(question, detail)):
            self.post_message(self.StartRequested(request))

    def action_dry_run(self) -> None:
        if not self._ready():
            return
        self.post_message(self.StartRequested(dataclasses.replace(self.request, dry_run=True)))

    def action_back(self) -> None:
        self.dismiss(None)
