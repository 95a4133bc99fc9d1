"""Small modal questions that guard something: typed confirmation, a reason, yes / no.

Each is one `ModalScreen[T]` returning its answer through `dismiss` (bool for y / n, the typed
text for a confirmation or a reason); the flows that ask them await it with
`push_screen_wait` inside a worker. Escape always means "no" (None / False), never "yes".
"""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from vwtui.screens.recovery_style import CSS_PATH, RecoveryText

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

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield from self.heading()
            yield Input(placeholder="reason", id="reason")
            yield Static("", id="refusal", classes="modal-error")
            yield Static(Text("enter accept · esc cancel"), classes="modal-keys")

    @on(Input.Submitted, "#reason")
    def submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if reason:
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
