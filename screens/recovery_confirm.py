"""Small modal questions that guard something: typed confirmation, a reason, yes / no; and
what the engineer must read before going on: a notice (OK only), the damaged journals, one
journal's raw lines (read-only).

Each is one `ModalScreen[T]` returning its answer through `dismiss` (bool for y / n, the typed
text for a confirmation or a reason); the flows that ask them await it with
`push_screen_wait` inside a worker. Escape always means "no" (None / False), never "yes".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from vwtui.screens.recovery_style import CSS_PATH, RecoveryText

from vwtui.recovery.journal import DamagedJournal

AnswerT = TypeVar("AnswerT")


class _Question(ModalScreen[AnswerT]):
    """A modal with a bold title and an optional detail paragraph above its own widgets."""

    CSS_PATH = CSS_PATH

    def __init__(self, title: str, detail: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail

    def heading(self) -> ComposeResult:
        # Bold from .modal-title in recovery.tcss.
        yield Label(Text(self.title_text), classes="modal-title")
        if self.detail:
            yield Static(Text(self.detail), classes="modal-detail")


class TypedConfirm(_Question[str | None]):
    """Ask the engineer to type `expected` (an instance identifier) to confirm a destructive act.

    Dismisses with the typed text when it matches exactly, None on escape. A wrong text is
    refused on screen and the modal stays open: nothing is returned that does not match.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="question.typed.cancel")]

    def __init__(self, title: str, detail: str, expected: str) -> None:
        super().__init__(title, detail)
        self.expected = expected

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield from self.heading()
            yield RecoveryText(id="expected")
            yield Input(placeholder=self.expected, id="typed")
            yield Static("", id="refusal", classes="modal-error")
            yield Static(Text("enter confirm · esc cancel"), classes="modal-keys")

    def on_mount(self) -> None:
        prompt = self.query_one("#expected", RecoveryText)
        prompt.update(Text.assemble(
            "Type ", (self.expected, prompt.style_of("recovery--strong")), " to confirm:"))

    @on(Input.Submitted, "#typed")
    def submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        if typed == self.expected:
            self.dismiss(typed)
            return
        self.query_one("#refusal", Static).update(
            Text(f"'{typed}' does not match; type {self.expected} exactly, or esc to cancel."))
        event.input.value = ""

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReasonPrompt(_Question[str | None]):
    """Ask for a short reason (e.g. why a step is skipped). Empty text is refused."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="question.reason.cancel")]

    def __init__(self, title: str, detail: str = "", *, allow_empty: bool = False) -> None:
        super().__init__(title, detail)
        # A free-text answer that may be empty (a drill's notes): enter with nothing is "".
        self.allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield from self.heading()
            yield Input(placeholder="empty: none" if self.allow_empty else "reason",
                        id="reason")
            yield Static("", id="refusal", classes="modal-error")
            yield Static(Text("enter accept · esc cancel"), classes="modal-keys")

    @on(Input.Submitted, "#reason")
    def submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if reason or self.allow_empty:
            self.dismiss(reason)
        else:
            self.query_one("#refusal", Static).update(
                "A reason is required; it goes in the journal.")

    def action_cancel(self) -> None:
        self.dismiss(None)


class YesNo(_Question[bool]):
    """A plain question: y / n (escape is no)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="question.yes"),
        Binding("n", "answer(False)", "No", id="question.no"),
        Binding("escape", "answer(False)", "No", show=False, id="question.escape"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield from self.heading()
            yield Static(Text("y yes · n no"), classes="modal-keys")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class Notice(_Question[None]):
    """Something the engineer must read before going on, with nothing to decide: only OK.
    The detail scrolls when it is longer than the box."""

    DEFAULT_CSS = """
    Notice { align: center middle; }
    Notice .modal-scroll { height: auto; max-height: 14; }
    """
    BINDINGS = [
        Binding("enter", "ok", "OK", id="question.notice.ok"),
        Binding("o", "ok", "OK", show=False, id="question.notice.o"),
        Binding("escape", "ok", "OK", show=False, id="question.notice.escape"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(Text(self.title_text), classes="modal-title")
            with VerticalScroll(classes="modal-scroll"):
                yield Static(Text(self.detail), classes="modal-detail")
            yield Static(Text("enter OK"), classes="modal-keys")

    def action_ok(self) -> None:
        self.dismiss(None)


class DamagedJournals(_Question[Path | None]):
    """The journals vwtui cannot read back, each with its file and line and why; enter opens
    the highlighted one read-only (dismissed with its path), escape goes on (None)."""

    DEFAULT_CSS = """
    DamagedJournals { align: center middle; }
    DamagedJournals OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("escape", "close", "Go on", id="question.damaged.close")]

    def __init__(self, damaged: Sequence[DamagedJournal]) -> None:
        count = len(damaged)
        super().__init__(
            f"{count} damaged recovery journal{'s' if count > 1 else ''}",
            "vwtui cannot read these back: their runs cannot be resumed. Nothing was changed; "
            "open one to read it as it is on disk.")
        self.damaged = tuple(damaged)

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield from self.heading()
            yield OptionList(*(Option(Text(d.sentence()), id=str(i))
                               for i, d in enumerate(self.damaged)), id="damaged",
                             compact=True)
            yield Static(Text("enter open read-only · esc go on"), classes="modal-keys")

    @on(OptionList.OptionSelected, "#damaged")
    def opened(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.damaged[int(str(event.option.id))].path)

    def action_close(self) -> None:
        self.dismiss(None)


# A journal is a few hundred lines; anything much larger is not one, and is shown cut.
VIEW_LIMIT = 1 << 20


def journal_lines(path: Path, limit: int = VIEW_LIMIT) -> tuple[list[str], str | None]:
    """A journal's lines as they are on disk, made safe to draw (control characters shown as
    escapes, undecodable bytes as �), and a note when the file could not be read whole."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        return [], f"{path} cannot be read ({exc.strerror or 'I/O error'})."
    note = None
    if len(data) > limit:
        data = data[:limit]
        note = f"Only the first {limit // 1024} KiB of {path} are shown."
    text = data.decode("utf-8", errors="replace")
    return [_printable(line) for line in text.splitlines()], note


def _printable(line: str) -> str:
    # An escape sequence in a damaged line must reach the screen as text, not as a command
    # to the terminal.
    return "".join(ch if ch == "\t" or ch.isprintable() else f"\\x{ord(ch):02x}"
                   if ord(ch) < 0x100 else f"\\u{ord(ch):04x}" for ch in line)


class JournalView(ModalScreen[None]):
    """A journal's raw lines, numbered, read-only and scrollable; the damaged line marked.
    Nothing here writes anything."""

    CSS_PATH = CSS_PATH
    DEFAULT_CSS = """
    JournalView { align: center middle; }
    JournalView .journal-box { width: 100%; height: 100%; border: thick $primary;
                               background: $surface; padding: 0 1; }
    JournalView #journal-lines { height: 1fr; overflow: auto auto; }
    JournalView #journal-text { width: auto; text-wrap: nowrap; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="question.journal.close"),
        Binding("q", "close", "Close", show=False, id="question.journal.q"),
    ]

    def __init__(self, path: Path, line: int | None = None) -> None:
        super().__init__()
        self.path = path
        self.line = line
        self.lines, self.note = journal_lines(path)

    def compose(self) -> ComposeResult:
        width = len(str(len(self.lines) or 1))
        numbered = "\n".join(
            f"{'»' if n == self.line else ' '}{n:>{width}} {text}"
            for n, text in enumerate(self.lines, start=1))
        with Vertical(classes="journal-box"):
            yield Static(Text(f"{self.path} (read-only)"), classes="modal-title")
            with ScrollableContainer(id="journal-lines"):
                yield Static(numbered or "(empty file)", markup=False, id="journal-text")
            if self.note:
                yield Static(Text(self.note), classes="modal-error")
            yield Static(Text("↑↓←→ scroll · esc close"), classes="modal-keys")

    def on_mount(self) -> None:
        scroll = self.query_one("#journal-lines", ScrollableContainer)
        scroll.focus()
        if self.line:
            scroll.scroll_to(y=max(0, self.line - 3), animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
