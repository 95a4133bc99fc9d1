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
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static
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
        super()._update_dimensions(new_rows)
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
        self._details: dict[str, Text] = {}

    def compose_body(self) -> ComposeResult:
        yield self.TABLE(cursor_type="row", cell_padding=0, zebra_stripes=False,
                        show_cursor=True)
        yield Static("", classes="pane-detail", markup=False)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(DataTable)

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
        """Show these rows in this order, changing only what changed."""
        table = self.table
        keys = [c[0] for c in self.COLUMNS]
        self._details = {row.key: row.detail for row in rows}
        wanted = [row.key for row in rows]
        current = [r.key.value for r in table.ordered_rows]
        with self.app.batch_update():
            if current == wanted:
                for row in rows:
                    for index, (column, cell) in enumerate(zip(keys, row.cells, strict=True)):
                        padded = self._pad(cell, index)
                        if table.get_cell(row.key, column) != padded:
                            table.update_cell(row.key, column, padded, update_width=True)
            else:
                highlighted = self.highlighted_key
                table.clear()
                for row in rows:
                    table.add_row(*(self._pad(c, i) for i, c in enumerate(row.cells)),
                                  key=row.key)
                if highlighted in wanted:
                    table.move_cursor(row=wanted.index(highlighted), animate=False)
            self._show_detail()

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
        self._show_detail()

    def column_values(self, column: str) -> list[str]:
        """The plain text of one column, top to bottom (what the engineer reads)."""
        table = self.table
        return [table.get_cell(row.key, column).plain.strip() for row in table.ordered_rows]

