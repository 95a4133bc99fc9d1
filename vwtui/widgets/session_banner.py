"""The banner above a screen's panes: why this session cannot reach AWS at all, said once.

No credentials, an unknown profile, an endpoint or region that cannot be reached, a web page
where AWS should answer: every call fails the same way, so the sentence is shown here once and
each pane that met it only points here. Hidden while AWS answers (vwtui.tcss).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class SessionBanner(Static):
    """One sentence (wrapped to as many lines as it needs) and the key that retries."""

    DEFAULT_CLASSES = "session-banner"

    def __init__(self) -> None:
        super().__init__("", markup=False)
        # The sentence on show; None while hidden.
        self.problem: str | None = None

    def show_problem(self, sentence: str) -> None:
        """Show the sentence (it comes from AWS's or botocore's words: never markup)."""
        if sentence == self.problem:
            return
        self.problem = sentence
        self.update(Text.assemble(("✖ ", "bold"), sentence, ("  r: retry", "italic")))
        self.add_class("-shown")

    def clear(self) -> None:
        """AWS answered: hide the banner."""
        if self.problem is None:
            return
        self.problem = None
        self.update("")
        self.remove_class("-shown")
