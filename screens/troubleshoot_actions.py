"""Troubleshooting that acts: the runbook's causes checked live, and a manual backup.

Opened with `a` from a failing item's troubleshooting. One row per action, each read in its own
worker (a failed read shows in its own row): storage (allocated vs FreeStorageSpace), long-running
and blocking queries on the source (read-only session) with the backup window, VPC connectivity
(a timed TCP connect from this host, the security groups named), the restore's sizing. `b` asks
AWS Backup for an on-demand job, `n` RDS for a manual snapshot: the exact `aws` line first, y/n,
refused in a read-only session or when one is on its way or done today (the service decides,
vwtui.services.backup_ops), then followed until it ends.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from vwtui.screens.recovery_confirm import YesNo
from vwtui.screens.troubleshoot import CSS_PATH

from vwtui import fmt
from vwtui.actions_journal import Action, ActionsJournal
from vwtui.errors import VwtuiError
from vwtui.model import Verdict, utcnow
from vwtui.remedies import Finding
from vwtui.services import diagnostics
from vwtui.services.backup_ops import BACKUP_JOB, RDS_SNAPSHOT, BackupProgress, ManualBackupOps
from vwtui.widgets.context_bar import ContextBar

if TYPE_CHECKING:
    from vwtui.app import VwtuiApp
    from vwtui.config import Config
    from vwtui.services.aws import AwsService
    from vwtui.services.pg import PgService

_CELL = {
    Verdict.PASS: Text("✔ pass", style="green"),
    Verdict.FAIL: Text("✖ FAIL", style="bold red"),
    Verdict.UNKNOWN: Text("? unknown", style="bold yellow"),
}
_READING = Text("⟳ …", style="dim")
_KIND = {BACKUP_JOB: "AWS Backup job", RDS_SNAPSHOT: "RDS snapshot"}

ROWS = (
    ("backup", "Manual backup (b job, n snap)"),
    ("storage", "Storage full?"),
    ("activity", "Long-running / blocking queries"),
    ("connectivity", "VPC connectivity"),
    ("restore", "Slow restore"),
)


class ActionsScreen(Screen[None]):
    """Act on a failing item: checks that read live, and a manual backup followed to its end."""

    CSS_PATH = CSS_PATH
    VIEW_NAME = "Troubleshoot · act"

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("b", "backup('backup-job')", "Backup job", id="actions.backup_job"),
        Binding("n", "backup('rds-snapshot')", "Snapshot", id="actions.snapshot"),
        Binding("r", "refresh", "Re-check", id="actions.refresh"),
        Binding("escape", "app.pop_screen", "Back", id="actions.back"),
    ]

    def __init__(self, heading: str, *, instance: str | None = None,
                 config: Config | None = None, aws: AwsService | None = None,
                 pg: PgService | None = None, journal: ActionsJournal | None = None,
                 clock: datetime | None = None, poll_seconds: float | None = None) -> None:
        super().__init__()
        self.heading = heading
        self._instance = instance
        self._config = config
        self._aws = aws
        self._pg = pg
        self._journal = journal
        self._now = clock
        self._poll = poll_seconds
        self.findings: dict[str, Finding] = {}
        self.backup_lines: tuple[str, ...] = ("Reading the actions journal…",)
        self.progress: BackupProgress | None = None
        self.following: Action | None = None
        self.reads_done = 0

    # ---- what it acts with ------------------------------------------------------------------

    @property
    def vwtui(self) -> VwtuiApp:
        return cast("VwtuiApp", self.app)

    @property
    def config(self) -> Config:
        return self._config or self.vwtui.config

    @property
    def aws(self) -> AwsService:
        return self._aws or self.vwtui.aws

    @property
    def pg(self) -> PgService:
        if self._pg is None:
            self._pg = getattr(self.app, "pg", None)
        if self._pg is None:
            from vwtui.services.pg import PgService

            self._pg = PgService(self.config, token_provider=self.aws.rds_auth_token)
        return self._pg

    @property
    def instance(self) -> str:
        if self._instance:
            return self._instance
        return str(getattr(self.app, "source_instance", self.config.instances.production))

    def now(self) -> datetime:
        if self._now is not None:
            return self._now
        clock = getattr(self.app, "clock", utcnow)
        return cast("datetime", clock())

    def ops(self) -> ManualBackupOps:
        return ManualBackupOps(self.aws, self._journal, now=self.now)

    # ---- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ContextBar()
        yield Static(Text(f"Act: {self.heading} · {self.instance}", style="bold"),
                     id="actions-title", classes="checklist-heading")
        table: DataTable[Text | str] = DataTable(id="actions-table", cursor_type="row",
                                                 zebra_stripes=False)
        yield table
        with VerticalScroll(id="actions-detail-box"):
            yield Static("", id="actions-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#actions-table", DataTable)
        table.add_column("Verdict", key="verdict", width=9)
        # Fixed widths: at 80 columns the result fits beside the action, cropped; the whole
        # of it is in the detail below.
        table.add_column("Action", key="action", width=31)
        table.add_column("Result", key="result", width=32)
        for key, title in ROWS:
            table.add_row(_READING, title, "", key=key)
        table.focus()
        self.action_refresh()
        self.show_backups()

    # ---- the checks -------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Read every check again, each in its own worker."""
        for key, _ in ROWS[1:]:
            self._set_row(key, _READING, "reading…")
            self.read(key)

    @work(group="actions-read")
    async def read(self, key: str) -> None:
        aws, instance = self.aws, self.instance
        if key == "storage":
            finding = await diagnostics.storage(aws, instance, now=self.now())
        elif key == "activity":
            finding = await diagnostics.activity(aws, self.pg, instance, now=self.now())
        elif key == "connectivity":
            db = self.config.database
            finding = await diagnostics.connectivity(
                aws, instance, tunnel=(db.host, db.port) if db.host else None)
        else:
            finding = await diagnostics.restore_sizing(aws, self.pg, instance)
        self.findings[key] = finding
        self.reads_done += 1
        self._set_row(key, _CELL[finding.verdict], finding.summary)
        self._draw_detail()

    # ---- the manual backup ------------------------------------------------------------------

    @work(exclusive=True, group="actions-journal")
    async def show_backups(self) -> None:
        """Today's manual backups from the journal; an open one is looked up and followed."""
        ops = self.ops()
        try:
            for kind in (BACKUP_JOB, RDS_SNAPSHOT):
                await ops.resolve_lost(kind, self.instance)
            actions = ops.actions(instance=self.instance)
        except VwtuiError as exc:
            self._backup_state(Text("? unknown", style="bold yellow"), exc.message,
                               (exc.message,))
            return
        today = [a for a in actions if a.asked_at.date() == self.now().date()]
        running = next((a for a in reversed(actions) if a.state == "running"), None)
        if running is not None:
            self.follow(running)
            return
        if today:
            last = today[-1]
            self._backup_state(_state_cell(last.state), _action_summary(last),
                               _action_lines(last))
        else:
            self._backup_state(Text("—"), "none today: b or n to start one",
                               ("No manual backup of this instance today.",
                                "b: AWS Backup on-demand job (the plan's vault and role)",
                                "n: manual RDS snapshot (<instance>-manual-YYYYMMDDHHMM)"))

    def action_backup(self, kind: str) -> None:
        """Ask for a manual backup: the aws line, y/n, then follow it."""
        self.ask_backup(kind)

    @work(group="actions-backup")
    async def ask_backup(self, kind: str) -> None:
        ops = self.ops()
        try:
            prepared = await ops.prepare(kind, self.instance)
        except VwtuiError as exc:
            self.notify(exc.message, title=exc.title, severity="error", markup=False)
            return
        if prepared.refusal is not None:
            self._backup_state(Text("✖ refused", style="bold red"), prepared.refusal,
                               (prepared.refusal, "", "$ " + prepared.command))
            self.notify(prepared.refusal, title="Refused", severity="warning", markup=False)
            return
        detail = "\n".join(("$ " + prepared.command, *prepared.notes))
        yes = await self.app.push_screen_wait(
            YesNo(f"Start a manual {_KIND[kind]} of {self.instance}?", detail))
        if not yes:
            self.notify("Not started.", markup=False)
            return
        try:
            action = await ops.start(prepared)
        except VwtuiError as exc:
            self._backup_state(Text("✖ FAIL", style="bold red"), exc.message,
                               (exc.message, "", "$ " + prepared.command))
            self.notify(exc.message, title=exc.title, severity="error", markup=False)
            return
        # No toast: the row says it started, and follows it.
        self.follow(action)

    @work(exclusive=True, group="actions-follow")
    async def follow(self, action: Action) -> None:
        """Poll the backup until it ends ("monitor next backup")."""
        ops = self.ops()
        self.following = action
        poll = self._poll if self._poll is not None else self.config.ui.poll_seconds
        while True:
            try:
                progress = await ops.progress(action)
            except VwtuiError as exc:
                self._backup_state(Text("? unknown", style="bold yellow"),
                                   f"following {action.resource_id}: {exc.message}",
                                   (*_action_lines(action), exc.message))
                await asyncio.sleep(poll)
                continue
            self.progress = progress
            done = f" {progress.percent:.0f}%" if progress.percent is not None else ""
            summary = f"{_KIND[action.kind]} {progress.aws_state}{done}"
            lines = (*_action_lines(replace(action, state=progress.state)),
                     f"AWS says: {progress.aws_state}{done}"
                     + (f": {progress.message}" if progress.message else ""))
            if progress.done:
                self._backup_state(_state_cell(progress.state), summary, lines)
                self.following = None
                return
            self._backup_state(Text("⟳ running", style="bold"), summary, lines)
            await asyncio.sleep(poll)

    # ---- drawing ----------------------------------------------------------------------------

    def _backup_state(self, cell: Text, summary: str, lines: tuple[str, ...]) -> None:
        self.backup_lines = lines
        self._set_row("backup", cell, summary)
        self._draw_detail()

    def _set_row(self, key: str, cell: Text, summary: str) -> None:
        table = self.query_one("#actions-table", DataTable)
        table.update_cell(key, "verdict", cell)
        table.update_cell(key, "result", Text(summary))

    @on(DataTable.RowHighlighted, "#actions-table")
    def _highlighted(self) -> None:
        self._draw_detail()

    def _draw_detail(self) -> None:
        table = self.query_one("#actions-table", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key == "backup":
            lines = self.backup_lines
        else:
            finding = self.findings.get(str(key))
            lines = finding.lines if finding is not None else ("reading…",)
        self.query_one("#actions-detail", Static).update(Text("\n".join(lines)))


def _state_cell(state: str) -> Text:
    return {"completed": Text("✔ done", style="green"),
            "running": Text("⟳ running", style="bold"),
            "asked": Text("? asked", style="bold yellow")}.get(
        state, Text("✖ FAIL", style="bold red"))


def _action_summary(action: Action) -> str:
    return (f"{_KIND.get(action.kind, action.kind)} {action.state} "
            f"({fmt.clock(action.asked_at, seconds=False)} UTC)")


def _action_lines(action: Action) -> tuple[str, ...]:
    lines = [f"{_KIND.get(action.kind, action.kind)} asked at "
             f"{fmt.utc(action.asked_at, zone=True)}: {action.state}"]
    if action.resource_id:
        lines.append(f"id: {action.resource_id}")
    if action.detail:
        lines.append(f"ended: {action.detail}")
    lines.append("$ " + action.command)
    return tuple(lines)
