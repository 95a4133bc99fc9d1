"""Dashboard panes: a title, a status line, an error row, and a body that draws a data object.

A pane never fetches: the screen's workers fetch and hand over model objects (or errors).
Each pane keeps its own loading and error state, so one failing pane never blanks another.
Data from AWS goes in as `rich.text.Text`, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self, cast

from rich.style import Style
from rich.text import Text
from textual._time import get_time
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.geometry import Region, Spacing
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


class _Order:
    """The rows on show, top to bottom, read the way DataTable reads its `_row_locations` (a
    two-way dict RowKey <-> index): `get(key)`, `get_key(index)`, `in`, `len`, iteration.

    Backed by a list of plain keys: a new order (a filter, a page more) is one list, and the
    index of a key is a dict built (in C, by `dict(zip(...))`) only when one is asked for.
    A TwoWayDict of RowKeys hashed each key in Python, twice, for every row on every change.
    """

    __slots__ = ("keys", "_row_keys", "_index")

    def __init__(self, keys: list[str], row_keys: dict[str, RowKey]) -> None:
        self.keys = keys
        self._row_keys = row_keys
        self._index: dict[str, int] | None = None

    def _positions(self) -> dict[str, int]:
        if self._index is None:
            self._index = dict(zip(self.keys, range(len(self.keys))))
        return self._index

    def get(self, key: RowKey | str) -> int | None:
        return self._positions().get(_plain(key))

    def get_key(self, index: int) -> RowKey | None:
        if 0 <= index < len(self.keys):
            return self._row_keys[self.keys[index]]
        return None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, (str, RowKey)) and _plain(key) in self._positions()

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[RowKey]:
        row_keys = self._row_keys
        return (row_keys[key] for key in self.keys)


class _Lines:
    """DataTable's `_y_offsets` (row key and line within the row, for each line) when every
    row is one line high: worked out per line asked for, not listed for every row."""

    __slots__ = ("_order",)

    def __init__(self, order: _Order) -> None:
        self._order = order

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, y: int) -> tuple[RowKey, int]:
        key = self._order.get_key(y)
        if key is None:
            raise IndexError(y)
        return key, 0

    def clear(self) -> None:
        """DataTable.clear() clears its list of lines; this one is worked out, not kept."""


def _plain(key: RowKey | str) -> str:
    return key if isinstance(key, str) else cast(str, key.value)


class PaneTable(DataTable[Text]):
    """A DataTable of one-line rows kept by key, whose order is a plain list.

    Showing another set of rows (a filter, a page more of a long list) costs a list of keys
    and the new rows' cells, not a pass of Textual's per-row bookkeeping: every row ever
    given stays in `_data`/`rows` (measured once), and `_row_locations` is an `_Order` over
    the keys on show. With 10,000 rows, `f` redrew in 0.4-1.5 s before; see replace_rows.
    Rows are one line high (cells are single-line Text), which makes a row's region and a
    line's row arithmetic instead of a sum over the rows above.

    Textual 8.2.8 caches rendered lines by its update count, which measuring (on the next idle)
    does not change: lines drawn between `add_row` and that idle kept their unsized columns
    on a busy machine. Forgetting the caches after measuring fixes it.

    Enter selects nothing in a list that only shows: its binding has no description, so help
    and the command palette leave it out (`RestorableTable` gives it a meaning).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "", show=False),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every row known (shown or not): its RowKey, its Row, and the cells tuple it was
        # last given (the same tuple again is unchanged, known without comparing cells).
        self._row_keys: dict[str, RowKey] = {}
        self._row_of: dict[str, DataRow] = {}
        self._given: dict[str, tuple[Text, ...]] = {}
        # The most rows shown at once since rows were last forgotten (see replace_rows).
        self._peak = 0
        self._row_locations = _Order([], self._row_keys)  # type: ignore[assignment]
        self._ordered: tuple[_Order, list[DataRow]] | None = None

    @property
    def _order(self) -> _Order:
        return cast(_Order, self._row_locations)

    def key_at(self, index: int) -> str | None:
        """The key of the row shown at `index` (None: no such row)."""
        keys = self._order.keys
        return keys[index] if 0 <= index < len(keys) else None

    def index_of(self, key: str) -> int | None:
        """Where the row of `key` is shown (None: not shown)."""
        return self._order.get(key)

    # ---- DataTable's per-row bookkeeping, over the list ---------------------------------

    @property
    def row_count(self) -> int:
        return len(self._row_locations)

    def is_valid_row_index(self, row_index: int) -> bool:
        return 0 <= row_index < self.row_count

    @property
    def ordered_rows(self) -> list[DataRow]:
        order = self._order
        if self._ordered is None or self._ordered[0] is not order:
            row_of = self._row_of
            self._ordered = (order, [row_of[key] for key in order.keys])
        return self._ordered[1]

    @property
    def _y_offsets(self) -> _Lines:  # type: ignore[override]
        return _Lines(self._order)

    @property
    def _total_row_height(self) -> int:
        return self.row_count

    def _get_row_region(self, row_index: int) -> Region:
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        row_width = (sum(column.get_render_width(self) for column in self.columns.values())
                     + self._row_label_column_width)
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(0, y, max(self.size.width, row_width), 1)

    def _get_cell_region(self, coordinate: Coordinate) -> Region:
        if not self.is_valid_coordinate(coordinate):
            return Region(0, 0, 0, 0)
        row_index, column_index = coordinate
        columns = self.ordered_columns
        x = (sum(column.get_render_width(self) for column in columns[:column_index])
             + self._row_label_column_width)
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(x, y, columns[column_index].get_render_width(self), 1)

    def _get_fixed_offset(self) -> Spacing:
        top = (self.header_height if self.show_header else 0) + min(self.fixed_rows,
                                                                    self.row_count)
        left = (sum(column.get_render_width(self)
                    for column in self.ordered_columns[: self.fixed_columns])
                + self._row_label_column_width)
        return Spacing(top, 0, 0, left)

    def _highlight_row(self, row_index: int) -> None:
        self.refresh_row(row_index)
        row_key = self._order.get_key(row_index)
        if row_key is not None:
            self.post_message(DataTable.RowHighlighted(self, row_index, row_key))

    def add_row(self, *cells: Text, height: int | None = 1, key: str | None = None,
                label: Text | str | None = None) -> RowKey:
        """Rows go in by `replace_rows`; one more row at the end, for completeness."""
        if key is None or height != 1 or label is not None:
            raise ValueError("a PaneTable row has a key, one line and no label")
        self.replace_rows([*((k, self._given[k]) for k in self._order.keys),
                           (key, tuple(cells))])
        return self._row_keys[key]

    def clear(self, columns: bool = False) -> Self:
        super().clear(columns)
        self._row_keys.clear()
        self._row_of.clear()
        self._given.clear()
        self._peak = 0
        self._row_locations = _Order([], self._row_keys)  # type: ignore[assignment]
        return self

    # ---- measuring and replacing --------------------------------------------------------

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
        """Show exactly these rows in this order, by key.

        Work in Python only for the rows whose cells are not the tuple given last time (new
        or changed rows: stored and measured); the rest is a list of keys. Rows no longer
        shown are kept (a filter hides them, the next one shows them again at no cost) until
        more than twice as many rows are known as were ever shown at once since the last
        time they were forgotten: a list whose rows change keys (a refresh) does not grow.
        Textual's own remove_row renumbers every row for each removal (10,000 removals:
        minutes), and clear() + add_row measures every row again.
        """
        given = self._given
        keys = [key for key, _ in rows]
        fresh = [(key, cells) for key, cells in rows if given.get(key) is not cells]
        self._peak = max(self._peak, len(keys))
        if len(given) + len(fresh) > 2 * self._peak + 64:
            self._forget(set(keys))
        changed: set[RowKey] = set()
        if fresh:
            columns = [column.key for column in self.ordered_columns]
            row_keys, data = self._row_keys, self._data
            for key, cells in fresh:
                given[key] = cells
                row_key = row_keys.get(key)
                if row_key is None:
                    row_key = row_keys[key] = RowKey(key)
                    data[row_key] = dict(zip(columns, cells, strict=True))
                    self.rows[row_key] = self._row_of[key] = DataRow(row_key, height=1)
                    changed.add(row_key)
                    continue
                current = data[row_key]
                if any(current.get(column) is not cell and current.get(column) != cell
                       for column, cell in zip(columns, cells, strict=True)):
                    current.update(zip(columns, cells, strict=True))
                    changed.add(row_key)
        self._row_locations = _Order(keys, self._row_keys)  # type: ignore[assignment]
        self._update_count += 1
        # Measure now, not on the next idle: the caller restores the scroll position, which
        # needs the new height.
        self._update_dimensions(changed | self._new_rows)
        self._new_rows.clear()
        if self.cursor_row >= len(keys):
            self.move_cursor(row=max(0, len(keys) - 1), animate=False, scroll=False)

    def _forget(self, keep: set[str]) -> None:
        """Drop the rows not in `keep` (not shown now)."""
        for key in [k for k in self._given if k not in keep]:
            row_key = self._row_keys.pop(key)
            del self._given[key], self._row_of[key], self._data[row_key], self.rows[row_key]
            self._new_rows.discard(row_key)
        if self._updated_cells:
            self._updated_cells = {c for c in self._updated_cells if c.row_key in self._data}
        self._peak = len(keep)


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
        padded, pad = self._padded, self._padded_cells
        # The padded cells of rows padded before, by the Row they came from (no call per row).
        cells = [(row.key, entry[1] if (entry := padded.get(row.key)) is not None
                  and entry[0] is row else pad(row)) for row in rows]
        self._placing = True
        try:
            with self.app.batch_update():
                table.replace_rows(cells)
                if at_top:
                    if rows:
                        table.move_cursor(row=0, animate=False, scroll=False)
                elif anchor in self._details:
                    new_index = table.index_of(anchor)
                    if new_index is not None and new_index != table.cursor_row:
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
        return table.key_at(table.cursor_row) if table.row_count else None

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

