"""Where the recovery screens' styles live: one .tcss file shipped inside the vwtui package,
and `RecoveryText`, the widget whose component classes name every style the screens' text uses
(the colours themselves are in that .tcss, as the dashboard panes' are in vwtui.tcss)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.widgets import Static

import vwtui
from vwtui.recovery.plan import Scenario
from vwtui.widgets.palette import component_style
from vwtui.widgets.steps import STEP_COMPONENT_CLASSES

# An absolute path, so it resolves the same from the repo (screens/) and from the wheel
# (vwtui/screens/).
CSS_PATH = str(Path(vwtui.__file__).with_name("recovery.tcss"))

# Short names for one-line titles at 80 columns.
SCENARIO_TAG = {
    Scenario.PITR: "1 PITR",
    Scenario.SNAPSHOT: "2 Snapshot",
    Scenario.AWS_BACKUP: "3 AWS Backup",
    Scenario.CROSS_REGION: "4 Cross-region DR",
}

# What each style means; recovery.tcss gives it a colour.
RECOVERY_COMPONENT_CLASSES = frozenset({
    "recovery--strong",   # a title, a name, a command's "$"
    "recovery--muted",    # a command line, a phase, the journal's path
    "recovery--note",     # a plan step's note
    "recovery--flag",     # DRY RUN
    "recovery--good",     # a ticked item, a free identifier, a final snapshot taken
    "recovery--caution",  # the rename warning
    "recovery--turn",     # what the engineer does next
    "recovery--bad",      # a failure, a declined snapshot, a target missed
    "verdict--pass", "verdict--warn", "verdict--fail",
    "outcome--finished", "outcome--ended",
})


class RecoveryText(Static):
    """Text of the recovery screens (titles, facts, verdicts, hints, a step's detail), drawn
    as `rich.text.Text` (AWS strings never go through markup) in the styles of its component
    classes: `style_of("recovery--bad")`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {*RECOVERY_COMPONENT_CLASSES,
                                             *STEP_COMPONENT_CLASSES}

    def __init__(self, content: str = "", *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(content, id=id, classes=classes, markup=False)
        self.style_of = component_style(self)
