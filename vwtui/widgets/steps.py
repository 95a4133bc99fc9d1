"""The step list of a recovery run: state, title, elapsed, estimate; one row per step.

Rows are keyed by step and updated in place (`update_cell` inside `batch_update`), so the cursor
stays put and little is redrawn when the run reports progress every poll.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable

from vwtui import fmt
from vwtui.recovery.state import StepState, StepStatus
from vwtui.widgets.palette import StyleOf, component_style, unstyled

STATUS_SYMBOL = {
    StepStatus.PENDING: "·",
    StepStatus.RUNNING: "▶",
    StepStatus.WAITING: "?",
    StepStatus.DONE: "✓",
    StepStatus.FAILED: "✗",
    StepStatus.SKIPPED: "↷",
}
# The component class of each state (its colour is in recovery.tcss: `StepList > .step--done`).
STATUS_CLASS = {
    StepStatus.PENDING: "step--pending",
    StepStatus.RUNNING: "step--running",
    StepStatus.WAITING: "step--waiting",
    StepStatus.DONE: "step--done",
    StepStatus.FAILED: "step--failed",
    StepStatus.SKIPPED: "step--skipped",
}
# Component classes a widget that draws steps declares (the step list, the run's detail).
STEP_COMPONENT_CLASSES = frozenset({*STATUS_CLASS.values(), "step--skip-reason", "step--progress"})
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
# DataTable's render caches, sized for a few steps. Every update_cell starts a new generation
# of their keys, so with DataTable's sizes (10,000 cells, 1,000 rows and lines) a run polling
# for an hour fills them with stale renders, which every full garbage collection then walks
# (one of 60,000+ objects stalled a key press by over 100 ms). A step list shows every row.
CELL_CACHE = 256
ROW_CACHE = 64


def status_cell(status: StepStatus, style_of: StyleOf = unstyled) -> Text:
    """Symbol and word: readable without colour."""
    return Text(f"{STATUS_SYMBOL[status]} {STATUS_WORD[status]}",
                style=style_of(STATUS_CLASS[status]))


# A wait's progress ends with its poll count ("creating (poll 12)"), which changes on every
# poll. The list says what the step waits for; the count is in the detail under it. A new count
# in the list redrew every cell of the table (DataTable renders all again after any update_cell)
# on every poll, and a key press that came during that frame waited for it.
POLL_COUNT = re.compile(r" \(poll \d+\)$")


def step_title(step: StepState, style_of: StyleOf = unstyled) -> Text:
    """The title, with the skip reason or the live progress after it (AWS text: no markup)."""
    title = Text(step.title)
    if step.status is StepStatus.SKIPPED and step.skip_reason:
        title.append(f" — {step.skip_reason}", style=style_of("step--skip-reason"))
    elif step.progress and step.status in (StepStatus.RUNNING, StepStatus.WAITING):
        title.append(f" — {POLL_COUNT.sub('', step.progress)}",
                     style=style_of("step--progress"))
    return title


class StepList(DataTable[Text | str]):
    """The run's steps, one row each, keyed by step key."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(STEP_COMPONENT_CLASSES)

    def __init__(self, *, id: str | None = None,
                 on_cursor: Callable[[int], None] | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._keys: list[str] = []
        # Told the new row at once, in the same handler as the move (so the detail that
        # follows the cursor is drawn in the same frame, not one message later).
        self.on_cursor = on_cursor
        self.style_of = component_style(self)
        # Textual is pinned exactly (pyproject.toml): these caches are DataTable's own.
        self._cell_render_cache.maxsize = CELL_CACHE
        self._row_render_cache.maxsize = ROW_CACHE
        self._row_renderable_cache.maxsize = ROW_CACHE
        self._line_cache.maxsize = ROW_CACHE
        self._lines_by_row: LRUCache[tuple[object, ...], Strip] = LRUCache(ROW_CACHE)
        self._base_style = Style()

    def render_lines(self, crop: Region) -> list[Strip]:
        # The table's own style, worked out from every ancestor's styles: once per render,
        # not once per line (DataTable.render_line asks for it each time).
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        if y >= self.header_height:  # no fixed rows: only the header stays put
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + self.size.width, self._base_style)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """DataTable's line, cached by whether the cursor (and the mouse) is on its row rather
        than by where they are: moving the cursor draws again the two rows it leaves and
        reaches, not every row (a key press while restores poll drew the whole list)."""
        try:
            row_key, _ = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        row = self._row_locations.get(row_key)
        key = (y, x1, x2, self.size.width, row is not None and row == self.cursor_row,
               self._show_hover_cursor and row == self.hover_row, base_style,
               self._update_count, self._pseudo_class_state)
        line = self._lines_by_row.get(key)
        if line is None:
            line = super()._render_line(y, x1, x2, base_style)
            self._lines_by_row[key] = line
        return line

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._lines_by_row.clear()

    def notify_style_update(self) -> None:
        self._lines_by_row.clear()
        super().notify_style_update()

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

    def _cells(self, step: StepState, now: datetime) -> tuple[Text | str, ...]:
        elapsed = fmt.stopwatch(step.elapsed(now)) if step.started_at else "–"
        return (status_cell(step.status, self.style_of), elapsed, fmt.estimate(step.estimate),
                step_title(step, self.style_of))
