"""The weekly review screen: daily checks, the weekly checklist and compliance, with sign-off.

One worker reads AWS once (all calls at once, `vwtui.checklist.run_checks`) and the table shows
a verdict per item; the evidence of the highlighted item shows below it. `t` (or Enter) on an
item that is not passing opens its troubleshooting; `s` signs the review off (name and notes,
kept in the sign-off log); the last sign-off is always shown and flagged past 7 days. When the
session cannot reach AWS at all, the banner says why once and the items point at it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, cast

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static
from vwtui.screens.troubleshoot import CSS_PATH, TroubleshootScreen

from vwtui import checks
from vwtui.checklist import check_for_screen, signoff_line
from vwtui.checks import GROUP_TITLES, Readings
from vwtui.diagnosis import diagnose
from vwtui.errors import VwtuiError
from vwtui.model import CheckResult, Verdict, utcnow
from vwtui.signoff import SignOff, SignOffLog, is_overdue
from vwtui.widgets.context_bar import ContextBar
from vwtui.widgets.session_banner import SessionBanner

if TYPE_CHECKING:
    from vwtui.app import VwtuiApp
    from vwtui.config import Config
    from vwtui.services.aws import AwsService

_CELL = {
    Verdict.PASS: Text("✔ pass", style="green"),
    Verdict.FAIL: Text("✖ FAIL", style="bold red"),
    Verdict.UNKNOWN: Text("? unknown", style="bold yellow"),
}
_GROUP_SHORT = {"daily": "daily", "weekly": "weekly", "compliance": "compliance"}


class SignOffDialog(ModalScreen[tuple[str, str] | None]):
    """Name and notes for a sign-off; None when cancelled."""

    CSS_PATH = CSS_PATH

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("escape", "cancel", "Cancel", id="signoff.cancel"),
    ]

    def __init__(self, summary: str) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        with Vertical(id="signoff-dialog"):
            yield Label("Sign off the weekly review", classes="dialog-title")
            yield Static(Text(self.summary), id="signoff-summary")
            yield Input(placeholder="Your name", id="signoff-name")
            yield Input(placeholder="Notes (optional): tickets, follow-ups", id="signoff-notes")
            yield Static("", id="signoff-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Sign off", variant="primary", id="signoff-ok")
                yield Button("Cancel", id="signoff-cancel")

    def on_mount(self) -> None:
        self.query_one("#signoff-name", Input).focus()

    @on(Input.Submitted, "#signoff-name")
    def _name_entered(self) -> None:
        if self._name_missing():
            return
        self.query_one("#signoff-error", Static).update("")
        self.query_one("#signoff-notes", Input).focus()

    def _name_missing(self) -> bool:
        if self.query_one("#signoff-name", Input).value.strip():
            return False
        self.query_one("#signoff-error", Static).update("Type your name to sign off.")
        self.query_one("#signoff-name", Input).focus()
        return True

    @on(Input.Submitted, "#signoff-notes")
    @on(Button.Pressed, "#signoff-ok")
    def _submit(self) -> None:
        if self._name_missing():
            return
        self.dismiss((self.query_one("#signoff-name", Input).value.strip(),
                      self.query_one("#signoff-notes", Input).value))

    @on(Button.Pressed, "#signoff-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ChecklistScreen(Screen[None]):
    """Every check with its verdict; troubleshoot a failing one; sign the review off."""

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("t", "troubleshoot", "Troubleshoot", id="checklist.troubleshoot"),
        Binding("s", "sign_off", "Sign off", id="checklist.sign_off"),
        Binding("r", "refresh", "Refresh", id="checklist.refresh"),
        # Not in the footer (80 columns: it pushed "? Help" off); help and the palette list it.
        Binding("p", "report", "Report", show=False, id="checklist.report"),
        Binding("escape", "back", "Back", id="checklist.back"),
    ]

    CSS_PATH = CSS_PATH
    VIEW_NAME = "Checklist"

    def __init__(self, config: Config | None = None, service: AwsService | None = None, *,
                 log: SignOffLog | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        """Config, AWS service and clock default to the app's (`app.config`, `app.aws`,
        `app.clock`); the sign-off log to the one under the state directory."""
        super().__init__()
        self._config = config
        self._service = service
        self._clock = clock
        self.signoff_log = log or SignOffLog()
        # Where reports are saved: beside the sign-off log (the state directory).
        self.report_base = self.signoff_log.path.parent
        self.readings: Readings | None = None
        self.results: list[CheckResult] = []
        self.last_signoff: SignOff | None = None
        self.loads_completed = 0

    @property
    def vwtui(self) -> VwtuiApp:
        return cast("VwtuiApp", self.app)

    @property
    def config(self) -> Config:
        return self._config or self.vwtui.config

    @property
    def service(self) -> AwsService:
        return self._service or self.vwtui.aws

    def clock(self) -> datetime:
        if self._clock is not None:
            return self._clock()
        clock: Callable[[], datetime] = getattr(self.app, "clock", utcnow)
        return clock()

    def compose(self) -> ComposeResult:
        yield ContextBar()
        yield SessionBanner()
        yield Static("Checklist · ⟳ reading AWS…", id="checklist-status", markup=False)
        yield Static("", id="checklist-signoff", markup=False)
        table: DataTable[Text | str] = DataTable(id="checklist-table", cursor_type="row",
                                                 zebra_stripes=False)
        yield table
        with VerticalScroll(id="checklist-evidence-box"):
            yield Static("", id="checklist-evidence", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#checklist-table", DataTable)
        table.add_column("Verdict", key="verdict", width=9)
        table.add_column("Group", key="group", width=10)
        table.add_column("Check", key="check")
        table.focus()
        self._draw_signoff()
        self.action_refresh()

    # ---- loading -------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Read AWS again (every call at once) and redraw the verdicts."""
        self._status("Checklist · ⟳ reading AWS…", "")
        self.load()

    @work(exclusive=True, group="checklist")
    async def load(self) -> None:
        banner = self.query_one(SessionBanner)
        self._draw_signoff()  # the last sign-off starts the weekly review period
        since = self.last_signoff.signed_at if self.last_signoff is not None else None
        try:
            readings, results, problem = await check_for_screen(self.service, self.config,
                                                                self.clock(), since)
        except VwtuiError as exc:
            self._status(f"Checklist · ✖ {exc.title}: {exc}", "-error")
            return
        self.readings, self.results = readings, results
        self._draw_results()
        counts = checks.summary(results)
        status = (f"Checklist · read {readings.now:%H:%M} UTC: {counts['pass']} pass, "
                  f"{counts['fail']} fail, {counts['unknown']} unknown")
        if problem is not None:
            banner.show_problem(problem)
            self._status(f"{status} (AWS not reached)", "-error")
        else:
            banner.clear()
            self._status(status, "")
        self._draw_signoff()
        self.loads_completed += 1

    def _status(self, message: str, cls: str) -> None:
        status = self.query_one("#checklist-status", Static)
        status.update(message)
        status.set_class(cls == "-error", "-error")

    # ---- drawing -------------------------------------------------------------------------

    def _draw_results(self) -> None:
        table = self.query_one("#checklist-table", DataTable)
        keys = [r.id for r in self.results]
        current = [row.value for row in table.rows]
        if current != keys:
            table.clear()
            for r in self.results:
                table.add_row(_CELL[r.verdict], _GROUP_SHORT[r.group], Text(r.title), key=r.id)
        else:
            for r in self.results:
                table.update_cell(r.id, "verdict", _CELL[r.verdict])
                table.update_cell(r.id, "check", Text(r.title))
        self._draw_evidence()

    def _draw_evidence(self) -> None:
        result = self.current()
        box = self.query_one("#checklist-evidence", Static)
        if result is None:
            box.update("")
            return
        # Evidence as a grid: a wrapped line stays indented under its bullet.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=1)
        grid.add_column(ratio=1)
        for line in result.evidence:
            grid.add_row("•", Text(line))
        heading = Text.assemble((f"{GROUP_TITLES[result.group]}: {result.title}", "bold"),
                                f"  {result.verdict.value.upper()}")
        if result.verdict is not Verdict.PASS:
            heading.append("  (t: troubleshoot)", style="dim")
        box.update(Group(heading, grid))

    def _draw_signoff(self) -> None:
        try:
            self.last_signoff = self.signoff_log.last()
        except VwtuiError as exc:
            self.query_one("#checklist-signoff", Static).update(f"✖ {exc}")
            return
        now = self.clock()
        line = signoff_line(self.last_signoff, now)
        overdue = is_overdue(self.last_signoff, now)
        widget = self.query_one("#checklist-signoff", Static)
        widget.update(("⚠ " if overdue else "✔ ") + line)
        widget.set_class(overdue, "-overdue")

    @on(DataTable.RowHighlighted, "#checklist-table")
    def _highlighted(self) -> None:
        self._draw_evidence()

    def current(self) -> CheckResult | None:
        """The check under the cursor."""
        table = self.query_one("#checklist-table", DataTable)
        if not self.results or table.row_count == 0:
            return None
        row = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.results if r.id == row), None)

    # ---- actions -------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#checklist-table")
    def _selected(self) -> None:
        self.action_troubleshoot()

    def action_troubleshoot(self) -> None:
        """Open the runbook's diagnosis of the highlighted item."""
        result = self.current()
        if result is None or self.readings is None:
            self.notify("The checklist is still loading.", severity="warning")
            return
        if result.verdict is Verdict.PASS:
            self.notify(f"{result.title} passes: nothing to troubleshoot.")
            return
        self.app.push_screen(TroubleshootScreen(diagnose(result, self.readings, self.config)))

    def action_sign_off(self) -> None:
        """Ask for name and notes, then append the sign-off to the log."""
        if not self.results:
            self.notify("Wait for the checklist to load before signing off.",
                        severity="warning")
            return
        counts = checks.summary(self.results)
        summary = (f"{counts['pass']} pass, {counts['fail']} fail, {counts['unknown']} unknown. "
                   f"The sign-off records these verdicts.")
        self.app.push_screen(SignOffDialog(summary), self._signed)

    def _signed(self, answer: tuple[str, str] | None) -> None:
        if answer is None:
            return
        name, notes = answer
        try:
            signoff = self.signoff_log.sign(name, notes, self.results, now=self.clock())
        except VwtuiError as exc:
            self.notify(str(exc), title=exc.title, severity="error", markup=False)
            return
        self._draw_signoff()
        self.notify(f"Signed off by {signoff.name}.", markup=False)

    def action_report(self) -> None:
        """Save the checklist's report (Markdown: verdicts with evidence, the sign-off, the
        runbook's causes once per entry) under the state directory, and copy it to the
        clipboard where the terminal allows."""
        from vwtui.report import checklist_markdown, save_report

        if not self.results or self.readings is None:
            self.notify("Wait for the checklist to load before making its report.",
                        severity="warning")
            return
        text = checklist_markdown(self.results, self.readings, self.config, self.last_signoff)
        try:
            path = save_report(f"checklist-{self.readings.now:%Y%m%dT%H%M%SZ}", text,
                               base=self.report_base)
        except VwtuiError as exc:
            self.notify(str(exc), title=exc.title, severity="error", markup=False)
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Report saved to {path} (and copied to the clipboard).", markup=False)

    def action_back(self) -> None:
        """Back to where the checklist was opened from (the dashboard, in the console)."""
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        elif "dashboard" in getattr(self.app, "MODES", {}):
            self.app.switch_mode("dashboard")
