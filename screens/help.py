"""`?`: the keys of the view underneath, grouped, with what each one does."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

# Textual's own housekeeping bindings, not actions of vwtui.
_HOUSEKEEPING = {"screen.copy_text", "app.focus_next", "app.focus_previous", "help_quit"}
_RENAMED = {"command_palette": "Command palette: every action by name"}


def declared_by_vwtui(node: object, binding: Binding) -> bool:
    """Whether vwtui (not Textual) declared this binding: on an App or Screen, or in the
    BINDINGS of a vwtui class of the widget (a vwtui subclass of DataTable still has
    Textual's cursor keys)."""
    if isinstance(node, (App, Screen)):
        return True
    for cls in type(node).__mro__:
        for declared in cls.__dict__.get("BINDINGS", ()):
            key, action = ((declared.key, declared.action) if isinstance(declared, Binding)
                           else (declared[0], declared[1]))
            if action == binding.action and binding.key in key.split(","):
                return cls.__module__.startswith("vwtui")
    return False


def binding_rows(screen: Screen[object]) -> dict[str, list[tuple[str, str]]]:
    """The active bindings of `screen` as {group: [(keys, description)]}, in declared order.

    Groups: "This view" (the screen and vwtui's own widgets), "Focused list" (Textual's own
    widget keys, such as moving the cursor) and "Everywhere" (the app).
    """
    groups: dict[str, list[tuple[str, str]]] = {"This view": [], "Focused list": [],
                                                "Everywhere": []}
    seen: set[tuple[str, str]] = set()
    for active in screen.active_bindings.values():
        binding, node = active.binding, active.node
        if not binding.description or binding.system or binding.action in _HOUSEKEEPING:
            continue
        if isinstance(node, App):
            group = "Everywhere"
        elif declared_by_vwtui(node, binding):
            group = "This view"
        else:
            group = "Focused list"
        keys = screen.app.get_key_display(binding)
        description = _RENAMED.get(binding.action, binding.description)
        if (keys, description) in seen:
            continue
        seen.add((keys, description))
        groups[group].append((keys, description))
    return {name: rows for name, rows in groups.items() if rows}


class HelpScreen(ModalScreen[None]):
    """A modal list of the keys of the screen it was opened from."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("question_mark", "dismiss", "Close", show=False, id="help.close2"),
        Binding("q", "dismiss", "Close", show=False, id="help.close3"),
    ]

    def __init__(self, view: Screen[object], view_name: str) -> None:
        super().__init__()
        self.view = view
        self.view_name = view_name
        self.groups = binding_rows(view)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = f"Keys · {self.view_name}"
            box.border_subtitle = "Esc closes · ctrl+p lists every action by name"
            # A screen may say something about itself in a sentence (`help_note()`).
            note = getattr(self.view, "help_note", None)
            if callable(note):
                yield Static(Text(note()), id="help-note")
            yield Static(self._table(), id="help-table")

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column()
        for index, (group, rows) in enumerate(self.groups.items()):
            if index:
                table.add_row("", "")
            table.add_row(Text(group, style="underline"), "")
            for keys, description in rows:
                table.add_row(Text(keys), Text(description))
        return table

