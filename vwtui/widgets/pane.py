"""Dashboard panes: a title, a status line, an error row, and a body that draws a data object.

A pane never fetches: the screen's workers fetch and hand over model objects (or errors).
Each pane keeps its own loading and error state, so one failing pane never blanks another.
Data from AWS goes in as `rich.text.Text`, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual._time import get_time
from textual._two_way_dict import TwoWayDict
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.widgets.data_table import Row as DataRow
from textual.widgets.data_table import RowKey

from vwtui import fmt
from vwtui.errors import SessionError, VwtuiError
from vwtui.fmt import Level

# A pane's row for a session error: the sentence itself is in the screen's banner, once.
SEE_BANNER = "see the banner above"


def describe_error(exc: BaseException) -> str:
    """A project exception as "Title: message"; anything else named by its type. A session
    error (AWS cannot be reached at all) only points at the banner that says it."""
    if isinstance(exc, SessionError):
        return f"{exc.title}: {SEE_BANNER}"
    if isinstance(exc, VwtuiError):
        return f"{exc.title}: {exc}"
    return f"Unexpected error ({type(exc).__name__}): {exc}"


class Pane(Vertical):
    """Base of the dashboard panes: status line, error row, then the body."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "level--ok", "level--warn", "level--bad", "level--unknown", "pane--muted",
    }
    TITLE: ClassVar[str] = ""

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=f"pane {classes}".strip())
        self.border_title = self.TITLE
        self.loaded = False
        # When the data on show was fetched (None: never); a failed refresh leaves it alone.
        self.fetched_at: datetime | None = None
        self.errors: tuple[str, ...] = ()
        self.badge: Level | None = None

    def compose(self) -> ComposeResult:
        yield Static("⟳ loading…", classes="pane-status", markup=False)
        yield Static("", classes="pane-error", markup=False)
        yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        yield from ()

    # ---- state ---------------------------------------------------------------------------

    def show_loading(self) -> None:
        """Show that a fetch is running; the data already shown stays until it is replaced."""
        status = self.query_one(".pane-status", Static)
        if self.loaded:
            status.update(Text("⟳ refreshing…", style=self.style_for(None)))
        else:
            status.update(Text("⟳ loading…", style=self.style_for(None)))

    def set_errors(self, errors: Sequence[BaseException]) -> None:
        """Show the pane's error row (empty: hide it)."""
        # dict.fromkeys: two calls that met the same session error point at the banner once.
        self.errors = tuple(dict.fromkeys(describe_error(e) for e in errors))
        row = self.query_one(".pane-error", Static)
        text = Text()
        for i, line in enumerate(self.errors):
            if i:
                text.append("\n")
            text.append(f"{Level.BAD.symbol} {line}")
        row.update(text)
        self.set_class(bool(self.errors), "-error")

    def set_status(self, summary: Text | str, now: datetime) -> None:
        """The status line after a load: what is shown, then when it was fetched.

        A fetch that failed (errors set) keeps the time of the data still on show. One line:
        when the pane is narrow the summary wins and the time is cut off.
        """
        self.loaded = True
        if not self.errors:
            self.fetched_at = now
        text = summary.copy() if isinstance(summary, Text) else Text(summary)
        text.no_wrap = True
        text.overflow = "ellipsis"
        if self.fetched_at is None:
            when = ""  # the error row says why
        elif self.errors:
            when = f"shown: {fmt.clock(self.fetched_at)}"
        else:
            when = f"updated {fmt.clock(self.fetched_at)}"
        if text.plain and when:
            text.append(" · ", style=self.style_for(None))
        text.append(when, style=self.style_for(None))
        self.query_one(".pane-status", Static).update(text)

    def unreadable(self, what: str) -> Text:
        """The summary of data that could not be read at all (see the error row)."""
        return self.leveled(f"{Level.UNKNOWN.symbol} {what} could not be read", Level.BAD)

    def style_for(self, level: Level | None) -> Style:
        """The rich style of a level (from vwtui.tcss); None is the muted style."""
        name = "pane--muted" if level is None else f"level--{level.value}"
        return self.get_component_rich_style(name, partial=True)

    def leveled(self, text: str, level: Level) -> Text:
        """`text` in the style of `level`."""
        return Text(text, style=self.style_for(level))


class PaneTable(DataTable[Text]):
    """A DataTable that redraws every line once it has measured its new rows.

    Textual 8.2.8 caches rendered lines by its update count, which measuring (on the next idle)
    does not change: lines drawn between `add_row` and that idle kept their unsized columns
    on a busy machine. Forgetting the caches after measuring fixes it.

    Enter selects nothing in a list that only shows: its binding has no description, so help
    and the command palette leave it out (`RestorableTable` gives it a meaning).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "", show=False),
    ]

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # One line of Text measures as its cell length: Textual's generic measure (a rich
        # render per cell) took most of a second over 10,000 rows of 7 columns.
        slow: list[RowKey] = []
        columns = self.ordered_columns
        for row_key in new_rows:
            row, cells = self.rows.get(row_key), self._data.get(row_key)
            if row is None or cells is None or row_key not in self._row_locations:
                continue
            if row.label is not None or row.auto_height:
                slow.append(row_key)
                continue
            for column in columns:
                cell = cells.get(column.key)
                if not isinstance(cell, Text) or "\n" in cell.plain:
                    slow.append(row_key)
                    break
                column.content_width = max(column.content_width, cell.cell_len)
        super()._update_dimensions(slow)
        self._clear_caches()
        self.refresh()

    def replace_rows(self, rows: Sequence[tuple[str, tuple[Text, ...]]]) -> None:
        """Show exactly these rows in this order, by key: rows that stay keep their object
        (their cells replaced where they changed), rows that go are dropped in one pass, new
        rows are added; then the order is set once. Textual's own remove_row renumbers every
        row for each removal (10,000 removals: minutes), and clear() + add_row measures every
        row again."""
        keys = [column.key for column in self.ordered_columns]
        wanted = {key for key, _ in rows}
        for row_key in [k for k in self._data if k.value not in wanted]:
            del self._data[row_key]
            del self.rows[row_key]
            self._new_rows.discard(row_key)
        self._updated_cells = {c for c in self._updated_cells if c.row_key in self._data}
        changed: set[RowKey] = set()
        # The cells tuple each row was last given: the same tuple again (a list filling page
        # by page, or filtered again, hands over the same padded cells) is unchanged, known
        # without comparing its cells (that comparison was most of a 10,000-row redraw).
        given = self._given = {k: v for k, v in getattr(self, "_given", {}).items()
                               if k in wanted}
        for key, cells in rows:
            if given.get(key) is cells and RowKey(key) in self._data:
                continue
            given[key] = cells
            row_key = RowKey(key)
            current = self._data.get(row_key)
            if current is None:
                self._data[row_key] = dict(zip(keys, cells, strict=True))
                self.rows[row_key] = DataRow(row_key, height=1)
                changed.add(row_key)
            elif any(current.get(column) is not cell and current.get(column) != cell
                     for column, cell in zip(keys, cells, strict=True)):
                current.update(zip(keys, cells, strict=True))
                changed.add(row_key)
        self._row_locations = TwoWayDict({RowKey(key): i for i, (key, _) in enumerate(rows)})
        self._update_count += 1
        # Measure now, not on the next idle: the caller restores the scroll position, which
        # needs the new height.
        self._update_dimensions(changed | self._new_rows)
        self._new_rows.clear()
        if self.cursor_row >= len(rows):
            self.move_cursor(row=max(0, len(rows) - 1), animate=False, scroll=False)


class RestorableTable(PaneTable):
    """A list the engineer restores from (snapshots, recovery points): enter on a row starts a
    new recovery with that row preselected, as `n` does (the screen handles RowSelected)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "New recovery from this row", show=False),
    ]


@dataclass(frozen=True, slots=True)
class Row:
    """One table row: its key (for in-place updates), its cells, and the detail line."""

    key: str
    cells: tuple[Text, ...]
    detail: Text


class TablePane(Pane):
    """A pane whose body is a DataTable plus a detail line for the highlighted row.

    Rows are updated by key inside `batch_update`, so the cursor stays where it is.
    """

    # (column key, label, right-aligned)
    COLUMNS: ClassVar[tuple[tuple[str, str, bool], ...]] = ()
    TABLE: ClassVar[type[PaneTable]] = PaneTable

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self._details: dict[str, Text] = {}
        # Padded cells by row key, with the Row they came from: a pane that hands over the
        # same Row objects again (a list filling page by page) pads nothing twice.
        self._padded: dict[str, tuple[Row, tuple[Text, ...]]] = {}
        # The row the engineer put the cursor on: kept through lists that lack it for a
        # while (a list filling page by page), found again when it comes back.
        self._anchor: str | None = None
        self._placing = False
        # When set_rows last placed the cursor: a RowHighlighted posted by then is of its own
        # moves (handled after it returns), not the engineer's, and moves no anchor.
        self._placed_at = float("-inf")

    def compose_body(self) -> ComposeResult:
        yield self.TABLE(cursor_type="row", cell_padding=0, zebra_stripes=False,
                        show_cursor=True)
        yield Static("", classes="pane-detail", markup=False)

    @property
    def table(self) -> PaneTable:
        return self.query_one(PaneTable)

    def on_mount(self) -> None:
        for index, (key, label, right) in enumerate(self.COLUMNS):
            self.table.add_column(self._pad(Text(label, justify="right" if right else "left"),
                                            index), key=key)

    @staticmethod
    def _pad(cell: Text, index: int) -> Text:
        """cell_padding=0 and one leading space per column: at 80 columns every column counts."""
        if index == 0:
            return cell
        padded = Text(" ", justify=cell.justify, no_wrap=True)
        padded.append(cell)
        return padded

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show these rows in this order, changing only what changed (by key).

        The cursor stays on its row and that row on its line of the pane, however many rows
        came or went above it; a cursor at the top of an unscrolled list stays at the top
        (it follows the newest rows as they arrive).
        """
        table = self.table
        self._details = {row.key: row.detail for row in rows}
        anchor = self._anchor
        old_index = table.cursor_row
        at_top = anchor is None or (old_index == 0 and table.scroll_y == 0
                                    and anchor == self.highlighted_key)
        self._placing = True
        try:
            with self.app.batch_update():
                table.replace_rows([(row.key, self._padded_cells(row)) for row in rows])
                if at_top:
                    if rows:
                        table.move_cursor(row=0, animate=False, scroll=False)
                elif anchor in self._details:
                    new_index = table.get_row_index(anchor)
                    if new_index != table.cursor_row:
                        table.move_cursor(row=new_index, animate=False, scroll=False)
                        table.scroll_to(y=table.scroll_y + new_index - old_index,
                                        animate=False, immediate=True)
                table.refresh()
                self._show_detail()
        finally:
            self._placing = False
            self._placed_at = get_time()

    def _padded_cells(self, row: Row) -> tuple[Text, ...]:
        cached = self._padded.get(row.key)
        if cached is not None and cached[0] is row:
            return cached[1]
        cells = tuple(self._pad(c, i) for i, c in enumerate(row.cells))
        self._padded[row.key] = (row, cells)
        return cells

    @property
    def highlighted_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            return table.ordered_rows[table.cursor_row].key.value
        except IndexError:
            return None

    def _show_detail(self) -> None:
        key = self.highlighted_key
        detail = self._details.get(key, Text()) if key is not None else Text()
        self.query_one(".pane-detail", Static).update(detail)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if not self._placing and event.time > self._placed_at and self.table.row_count:
            # The engineer moved the cursor (the first row at the top is no anchor: the list
            # follows its newest rows there).
            key = self.highlighted_key
            at_top = self.table.cursor_row == 0 and self.table.scroll_y == 0
            self._anchor = None if at_top else key
        self._show_detail()

    def column_values(self, column: str) -> list[str]:
        """The plain text of one column, top to bottom (what the engineer reads)."""
        table = self.table
        return [table.get_cell(row.key, column).plain.strip() for row in table.ordered_rows]

