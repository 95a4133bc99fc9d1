"""Dashboard panes: a title, a status line, an error row, and a body that draws a data object.

A pane never fetches: the screen's workers fetch and hand over model objects (or errors).
Each pane keeps its own loading and error state, so one failing pane never blanks another.
Data from AWS goes in as `rich.text.Text`, never as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self, cast

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual._time import get_time
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.geometry import Region, Spacing
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey, RowKey
from textual.widgets.data_table import Row as DataRow

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

    __slots__ = ("_index", "keys")

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self._index: dict[str, int] | None = None

    def _positions(self) -> dict[str, int]:
        if self._index is None:
            self._index = dict(zip(self.keys, range(len(self.keys)), strict=True))
        return self._index

    def get(self, key: RowKey | str) -> int | None:
        return self._positions().get(_plain(key))

    def get_key(self, index: int) -> RowKey | None:
        if 0 <= index < len(self.keys):
            return RowKey(self.keys[index])
        return None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, (str, RowKey)) and _plain(key) in self._positions()

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[RowKey]:
        return (RowKey(key) for key in self.keys)


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


# The rows' cells built at a time (about a screenful of rows, many times over).
_CELLS_KEPT = 512


class _OverOrder:
    """What `_Cells` and `_Rows` share: their keys are the table's rows on show, in order."""

    _table: PaneTable

    def __contains__(self, key: object) -> bool:
        return key in self._table._order

    def __iter__(self) -> Iterator[RowKey]:
        return iter(self._table._order)

    def __len__(self) -> int:
        return len(self._table._order)


class _Cells(_OverOrder, Mapping[RowKey, dict[ColumnKey, Text]]):
    """DataTable's `_data` (a row's cells by column, for each row) over the rows on show,
    each row's cells asked of the table's source when drawn: a list of 10,000 rows holds no
    Text objects for the rows off screen (half a million objects, which Python's garbage
    collector went through in pauses of a quarter of a second)."""

    def __init__(self, table: PaneTable) -> None:
        self._table = table
        self._built: dict[str, dict[ColumnKey, Text]] = {}

    def __getitem__(self, key: RowKey | str) -> dict[ColumnKey, Text]:
        plain = _plain(key)
        found = self._built.get(plain)
        if found is None:
            if plain not in self._table._order:
                raise KeyError(key)
            cells = self._table._cells_of(plain)
            columns = [column.key for column in self._table.ordered_columns]
            found = dict(zip(columns, cells, strict=True))
            if len(self._built) >= _CELLS_KEPT:
                self._built.clear()
            self._built[plain] = found
        return found

    def clear(self) -> None:
        """Forget the cells built (the rows may have changed)."""
        self._built.clear()


class _Rows(_OverOrder, Mapping[RowKey, DataRow]):
    """DataTable's `rows` (each row's metadata) over the rows on show: all one line high."""

    def __init__(self, table: PaneTable) -> None:
        self._table = table

    def __getitem__(self, key: RowKey | str) -> DataRow:
        if key not in self._table._order:
            raise KeyError(key)
        return DataRow(RowKey(_plain(key)), height=1)

    def clear(self) -> None:
        """Nothing kept (see PaneTable.clear)."""


def _plain(key: RowKey | str) -> str:
    return key if isinstance(key, str) else cast(str, key.value)


def _no_cells(key: str) -> tuple[Text, ...]:
    raise KeyError(key)


class PaneTable(DataTable[Text]):
    """A DataTable of one-line rows on show by key, drawn from a source as they are drawn.

    DataTable keeps every row's cells, metadata and position in dicts keyed by RowKey, and
    redoes its bookkeeping for every row on every change: with 10,000 rows, `f` took 0.4-1.5
    s. Here the order is a list of keys (`_Order`), a row's cells are asked of a source when
    the row is drawn (`_Cells`), and column widths only grow, by what the caller measured.
    Showing other rows (a filter, a page more of a long list) is a list of keys. Rows are one
    line high (cells are single-line Text), which makes a row's region and a line's row
    arithmetic instead of a sum over the rows above.

    Enter selects nothing in a list that only shows: its binding has no description, so help
    and the command palette leave it out (`RestorableTable` gives it a meaning).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "", show=False),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cells_of: Callable[[str], tuple[Text, ...]] = _no_cells
        # The cells tuple each row on show was last given by replace_rows: the same tuple
        # again is unchanged, known without comparing its cells.
        self._given: dict[str, tuple[Text, ...]] = {}
        self._row_locations = _Order([])  # type: ignore[assignment]
        self._data = _Cells(self)  # type: ignore[assignment]
        self.rows = _Rows(self)  # type: ignore[assignment]
        self._ordered: tuple[_Order, list[DataRow]] | None = None

    @property
    def _order(self) -> _Order:
        return cast(_Order, self._row_locations)

    def key_at(self, index: int) -> str | None:
        """The key of the row shown at `index` (None: no such row)."""
        keys = self._order.keys
        return keys[index] if 0 <= index < len(keys) else None

    @property
    def shown_keys(self) -> list[str]:
        """The keys of the rows on show, top to bottom (a copy)."""
        return list(self._order.keys)

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
            self._ordered = (order, [DataRow(RowKey(key), height=1) for key in order.keys])
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
        self.replace_rows([*((k, self._cells_of(k)) for k in self._order.keys),
                           (key, tuple(cells))])
        return RowKey(key)

    def remove_row(self, row_key: RowKey | str) -> None:
        """As replace_rows without that row."""
        plain = _plain(row_key)
        self.replace_rows([(k, self._cells_of(k)) for k in self._order.keys if k != plain])

    def clear(self, columns: bool = False) -> Self:
        self.show_keys([], _no_cells, [])
        self._given = {}
        if columns:
            super().clear(columns=True)
            self._row_locations = _Order([])  # type: ignore[assignment]
            self._data = _Cells(self)  # type: ignore[assignment]
            self.rows = _Rows(self)  # type: ignore[assignment]
        return self

    # ---- showing rows -------------------------------------------------------------------

    def replace_rows(self, rows: Sequence[tuple[str, tuple[Text, ...]]]) -> None:
        """Show exactly these rows in this order, by key; the rows whose cells are not the
        tuple given last time are measured. (Textual's own remove_row renumbered every row
        for each removal, and clear() + add_row measured every row again.)"""
        given = self._given
        fresh = [cells for key, cells in rows if given.get(key) is not cells]
        self._given = dict(rows)
        widths = [0] * len(self.columns)
        for cells in fresh:
            for index, cell in enumerate(cells):
                # One line of Text measures as its cell length (Textual's generic measure,
                # a rich render per cell, took most of a second over 10,000 rows).
                width = (cell.cell_len if "\n" not in cell.plain
                         else max(cell_len(line) for line in cell.plain.splitlines()))
                if width > widths[index]:
                    widths[index] = width
        self.show_keys([key for key, _ in rows], self._given.__getitem__, widths)

    def show_keys(self, keys: list[str], cells_of: Callable[[str], tuple[Text, ...]],
                  widths: Sequence[int]) -> None:
        """Show the rows of these keys in this order; `cells_of(key)` gives a row's cells
        when it is drawn, and `widths` are the widest cells of the rows new or changed since
        the last call (a column never narrows, as in DataTable)."""
        self._cells_of = cells_of
        self._row_locations = _Order(keys)  # type: ignore[assignment]
        cast(_Cells, self._data).clear()
        for column, width in zip(self.ordered_columns, widths, strict=False):
            column.content_width = max(column.content_width, width)
        self._update_count += 1
        # Size now, not on the next idle: the caller restores the scroll position, which
        # needs the new height.
        self._update_dimensions([])
        if self.cursor_row >= len(keys):
            self.move_cursor(row=max(0, len(keys) - 1), animate=False, scroll=False)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Every row is measured when it is given (replace_rows, show_keys): here the virtual
        # size only. Textual 8.2.8 caches rendered lines by its update count, which measuring
        # (on the next idle) does not change: lines drawn before it kept unsized columns on a
        # busy machine. Forgetting the caches after sizing fixes it.
        super()._update_dimensions([])
        self._clear_caches()
        self.refresh()


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
        # The row of a key on show (its cells and detail line), None for a key not shown.
        self._row_of: Callable[[str], Row | None] = lambda key: None
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
        by_key = {row.key: row for row in rows}
        self._row_of = by_key.get
        pad = self._padded_cells
        self._place(lambda: self.table.replace_rows([(row.key, pad(row)) for row in rows]))

    def show_keys(self, keys: list[str], row_of: Callable[[str], Row],
                  widths: Sequence[int]) -> None:
        """As set_rows, for a long list: the rows of these keys in this order, each row built
        by `row_of(key)` when it is drawn (about a screenful), and `widths` the widest cells
        of the rows new since the last call, unpadded (see _pad): a filter or a page more of
        10,000 rows costs a list of keys, not 10,000 rows of Text.
        """
        self._row_of = lambda key: row_of(key) if self.table.index_of(key) is not None else None
        padded = [width + (1 if index and width else 0) for index, width in enumerate(widths)]
        pad = self._pad

        def cells_of(key: str) -> tuple[Text, ...]:
            # Padded as drawn (a screenful): the table keeps the cells it drew.
            return tuple(pad(cell, index) for index, cell in enumerate(row_of(key).cells))

        self._padded.clear()
        self._place(lambda: self.table.show_keys(keys, cells_of, padded))

    def _place(self, show: Callable[[], None]) -> None:
        """Show other rows (`show`) with the cursor kept on its row (see set_rows)."""
        table = self.table
        anchor = self._anchor
        old_index = table.cursor_row
        at_top = anchor is None or (old_index == 0 and table.scroll_y == 0
                                    and anchor == self.highlighted_key)
        self._placing = True
        try:
            with self.app.batch_update():
                show()
                if at_top:
                    if table.row_count:
                        table.move_cursor(row=0, animate=False, scroll=False)
                elif (anchor is not None and (new_index := table.index_of(anchor)) is not None
                      and new_index != table.cursor_row):
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
        row = self._row_of(key) if key is not None else None
        self.query_one(".pane-detail", Static).update(row.detail if row is not None else Text())

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

