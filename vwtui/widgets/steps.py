"""The step list of a recovery run: state, title, elapsed, estimate; one row per step.

Rows are keyed by step and updated in place (`update_cell` inside `batch_update`), so the cursor
stays put and little is redrawn when the run reports progress every poll.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from vwtui import fmt
from vwtui.recovery.state import StepState, StepStatus

STATUS_SYMBOL = {
    StepStatus.PENDING: "·",
    StepStatus.RUNNING: "▶",
    StepStatus.WAITING: "?",
    StepStatus.DONE: "✓",
    StepStatus.FAILED: "✗",
    StepStatus.SKIPPED: "↷",
}
STATUS_STYLE = {
    StepStatus.PENDING: "dim",
    StepStatus.RUNNING: "bold cyan",
    StepStatus.WAITING: "bold yellow",
    StepStatus.DONE: "green",
    StepStatus.FAILED: "bold red",
    StepStatus.SKIPPED: "magenta",
}
STATUS_WORD = {
    StepStatus.PENDING: "pending",
    StepStatus.RUNNING: "running",
    StepStatus.WAITING: "your turn",
    StepStatus.DONE: "done",
    StepStatus.FAILED: "FAILED",
    StepStatus.SKIPPED: "skipped",
}

# (key, width): the title takes what is left and may be cut; the full title is in the detail.
COLUMNS = (("state", 11), ("elapsed", 7), ("est.", 6), ("step", None))


def status_cell(status: StepStatus) -> Text:
    """Symbol and word: readable without colour."""
    return Text(f"{STATUS_SYMBOL[status]} {STATUS_WORD[status]}", style=STATUS_STYLE[status])


def step_title(step: StepState) -> Text:
    """The title, with the skip reason or the live progress after it (AWS text: no markup)."""
    title = Text(step.title)
    if step.status is StepStatus.SKIPPED and step.skip_reason:
        title.append(f" — {step.skip_reason}", style="magenta")
    elif step.progress and step.status in (StepStatus.RUNNING, StepStatus.WAITING):
        title.append(f" — {step.progress}", style="cyan")
    return title


class StepList(DataTable[Text | str]):
    """The run's steps, one row each, keyed by step key."""

    def __init__(self, *, id: str | None = None,
                 on_cursor: Callable[[int], None] | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._keys: list[str] = []
        # Told the new row at once, in the same handler as the move (so the detail that
        # follows the cursor is drawn in the same frame, not one message later).
        self.on_cursor = on_cursor

    def watch_cursor_coordinate(self, old: Any, new: Any) -> None:
        super().watch_cursor_coordinate(old, new)
        if old != new and self.on_cursor is not None:
            self.on_cursor(new.row)

    def on_mount(self) -> None:
        for label, width in COLUMNS:
            self.add_column(label, key=label, width=width)

    def show(self, steps: Sequence[StepState], now: datetime) -> None:
        """Draw the steps: rows added the first time, updated by key after that."""
        keys = [s.key for s in steps]
        with self.app.batch_update():
            if keys != self._keys:
                cursor = self.cursor_row
                self.clear()
                for step in steps:
                    self.add_row(*self._cells(step, now), key=step.key)
                self._keys = keys
                if steps:
                    self.move_cursor(row=min(max(cursor, 0), len(steps) - 1))
                return
            for step in steps:
                for (column, _), value in zip(COLUMNS, self._cells(step, now), strict=True):
                    if self.get_cell(step.key, column) != value:
                        self.update_cell(step.key, column, value)

    def tick(self, steps: Sequence[StepState], now: datetime) -> None:
        """Only the elapsed column of the active steps (the 1 s refresh)."""
        if [s.key for s in steps] != self._keys:
            self.show(steps, now)
            return
        for step in steps:
            if step.status in (StepStatus.RUNNING, StepStatus.WAITING):
                elapsed = fmt.stopwatch(step.elapsed(now))
                if self.get_cell(step.key, "elapsed") != elapsed:
                    self.update_cell(step.key, "elapsed", elapsed)

    @staticmethod
    def _cells(step: StepState, now: datetime) -> tuple[Text | str, ...]:
        elapsed = fmt.stopwatch(step.elapsed(now)) if step.started_at else "–"
        return (status_cell(step.status), elapsed, fmt.estimate(step.estimate), step_title(step))
