"""The source instance and its PITR window: what can be restored, and how much data is at risk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from vwtui import fmt
from vwtui.fmt import Level
from vwtui.model import Instance, PitrWindow
from vwtui.widgets.pane import Pane


class InstancePane(Pane):
    """Status, engine, class, storage, encryption, retention, the PITR window and RPO exposure."""

    TITLE = "Source instance · PITR"
    can_focus = True

    def __init__(self, *, id: str | None = "instance", classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.instance: Instance | None = None
        self.window: PitrWindow | None = None
        self.rpo_level = Level.UNKNOWN

    def compose_body(self) -> ComposeResult:
        yield Static("", classes="instance-body", markup=False)

    def show(self, instance: Instance | None, window: PitrWindow | None,
             errors: Sequence[BaseException], *, now: datetime, rpo_target_hours: float) -> None:
        """Draw what was fetched; a part that failed keeps what it showed before."""
        if instance is not None:
            self.instance = instance
        if window is not None:
            self.window = window
        self.set_errors(errors)
        exposure = self.window.rpo_exposure(now) if self.window else None
        self.rpo_level = fmt.rpo_level(exposure, rpo_target_hours)
        self.query_one(".instance-body", Static).update(self._grid(now, rpo_target_hours))
        levels = [self.rpo_level]
        if self.instance is not None:
            levels.append(fmt.status_level(self.instance.status))
            levels.append(Level.OK if self.instance.storage_encrypted else Level.BAD)
        if errors:
            levels.append(Level.BAD)
        self.badge = fmt.worst(levels)
        self.set_status(f"{self.vwtui_source()} and its PITR window", now)

    def vwtui_source(self) -> str:
        return self.instance.identifier if self.instance else "Source instance"

    def _grid(self, now: datetime, target_hours: float) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style=self.style_for(None), no_wrap=True)
        grid.add_column()
        grid.add_row("Instance", self._instance_line())
        grid.add_row("Storage", self._storage_line())
        grid.add_row("Restorable", self._window_line(now))
        grid.add_row("RPO now", self._rpo_line(now, target_hours))
        return grid

    def _instance_line(self) -> Text:
        inst = self.instance
        if inst is None:
            return Text(fmt.NONE)
        text = Text(inst.identifier, style="bold")
        status = fmt.status_level(inst.status)
        text.append("  ")
        text.append_text(self.leveled(f"{status.symbol} {inst.status}", status))
        text.append(f"  {inst.engine} {inst.engine_version}  {inst.instance_class}")
        if inst.multi_az:
            text.append("  Multi-AZ")
        return text

    def _storage_line(self) -> Text:
        inst = self.instance
        if inst is None:
            return Text(fmt.NONE)
        text = Text(f"{fmt.storage(inst.allocated_storage_gb)}  ")
        if inst.storage_encrypted:
            text.append_text(self.leveled(f"{Level.OK.symbol} encrypted", Level.OK))
        else:
            text.append_text(self.leveled(f"{Level.BAD.symbol} NOT encrypted", Level.BAD))
        retention = inst.backup_retention_days
        text.append("  backup retention ")
        if retention:
            text.append_text(self.leveled(f"{retention} days", Level.OK))
        else:
            text.append_text(self.leveled(f"{Level.BAD.symbol} 0 (PITR off)", Level.BAD))
        return text

    def _window_line(self, now: datetime) -> Text:
        window = self.window
        if window is None:
            return Text(fmt.NONE)
        if window.earliest is None or window.latest is None:
            return self.leveled(f"{Level.BAD.symbol} no restore window reported", Level.BAD)
        text = Text(f"{fmt.utc(window.earliest, seconds=True)} → "
                    f"{fmt.utc(window.latest, seconds=True)} UTC")
        text.append(f"  ({fmt.age(window.span)})", style=self.style_for(None))
        return text

    def _rpo_line(self, now: datetime, target_hours: float) -> Text:
        window = self.window
        level = self.rpo_level
        if window is None or window.latest is None:
            return self.leveled(f"{level.symbol} unknown: no latest restorable time", level)
        exposure = fmt.age(window.rpo_exposure(now))
        text = self.leveled(f"{level.symbol} {exposure} since latest restorable time", level)
        target = fmt.age(timedelta(hours=target_hours))
        text.append(f"  (target < {target})", style=self.style_for(None))
        return text

