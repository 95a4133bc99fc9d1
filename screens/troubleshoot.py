"""Troubleshooting for one failing check, as the runbook describes it.

`a` opens troubleshooting that acts (screens/troubleshoot_actions.py): the causes checked live
and a manual backup.

Shows what the checklist already read (no new AWS call): the check's evidence, the RDS events of
the instance, the failed backup jobs with their status messages, whether PITR is enabled
(BackupRetentionPeriod), then the runbook's common causes, resolution and diagnosis commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

import vwtui
from vwtui.diagnosis import Diagnosis
from vwtui.widgets.context_bar import ContextBar

# The checklist's and troubleshooting's styles, shipped beside vwtui.tcss.
CSS_PATH = str(Path(vwtui.__file__).with_name("checklist.tcss"))


def diagnosis_text(diagnosis: Diagnosis) -> Text:
    """The diagnosis as plain rich Text (AWS data is never parsed as markup)."""
    text = Text()
    entry = diagnosis.entry
    text.append(f"{entry.title}", style="bold")
    text.append(f"  ({entry.source})\n", style="dim")
    for heading, lines in diagnosis.sections:
        text.append(f"\n{heading}\n", style="bold underline")
        for line in lines:
            text.append(f"  {line}\n", style="bold" if line.startswith("!") else "")
    return text


def diagnosis_renderable(diagnosis: Diagnosis) -> Group:
    """The diagnosis for the screen: each line indented as a block, so wrapped lines align."""
    entry = diagnosis.entry
    parts: list[RenderableType] = [
        Text.assemble((entry.title, "bold"), (f"  ({entry.source})", "dim"))]
    for heading, lines in diagnosis.sections:
        parts.append(Text(f"\n{heading}", style="bold underline"))
        for line in lines:
            parts.append(Padding(Text(line, style="bold" if line.startswith("!") else ""),
                                 (0, 0, 0, 2)))
    return Group(*parts)


class TroubleshootScreen(Screen[None]):
    """The runbook's diagnosis of one check; Esc goes back to the checklist."""

    CSS_PATH = CSS_PATH
    VIEW_NAME = "Troubleshoot"

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        # Not in the footer (its snapshot stays as it is); the palette and help list it.
        Binding("a", "act", "Act", show=False, id="troubleshoot.act"),
        Binding("escape", "app.pop_screen", "Back", id="troubleshoot.back"),
        Binding("q", "app.pop_screen", "Back", show=False, id="troubleshoot.back_q"),
    ]

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.diagnosis = diagnosis

    def compose(self) -> ComposeResult:
        check = self.diagnosis.check
        yield ContextBar()
        yield Static(Text(f"Troubleshoot: {check.title} [{check.verdict.value.upper()}]",
                          style="bold"),
                     id="troubleshoot-title", classes="checklist-heading")
        with VerticalScroll(id="troubleshoot-body"):
            yield Static(diagnosis_renderable(self.diagnosis), id="troubleshoot-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#troubleshoot-body").focus()

    def action_act(self) -> None:
        """Troubleshooting that acts: the runbook's causes checked live, a manual backup."""
        from vwtui.screens.troubleshoot_actions import ActionsScreen

        check = self.diagnosis.check
        self.app.push_screen(ActionsScreen(f"{check.title} [{check.verdict.value.upper()}]"))
