"""Where the recovery screens' styles live: one .tcss file shipped inside the vwtui package."""

from __future__ import annotations

from pathlib import Path

import vwtui
from vwtui.recovery.plan import Scenario

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
