"""The parity step at 80x24: the step list with the parity row, and its detail (differences
with their verdicts, then what is the same), as the recovery screen draws them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from recovery_ui_env import NOW
from textual.app import App, ComposeResult
from vwtui.screens.recovery_detail import _parity
from vwtui.screens.recovery_style import CSS_PATH, RecoveryText

from vwtui import instance_settings as catalog
from vwtui.recovery.state import StepState, StepStatus
from vwtui.widgets.steps import StepList

SOURCE = {
    "DBInstanceClass": "db.t3.medium", "MultiAZ": True,
    "DBParameterGroupName": "video-window-postgres16", "DBSubnetGroupName": "video-window-db",
    "VpcSecurityGroupIds": ("sg-0a1b2c3d",), "Port": 5432, "StorageType": "gp3",
    "AllocatedStorage": 100, "EnableCloudwatchLogsExports": ("postgresql", "upgrade"),
    "PreferredMaintenanceWindow": "sun:04:30-sun:05:00", "DeletionProtection": True,
    "Tags": (("Application", "video-window"),), "EngineVersion": "16.4",
}
NEW = dict(SOURCE, MultiAZ=False, DBParameterGroupName="default.postgres16",
           EnableCloudwatchLogsExports=(), DeletionProtection=False,
           DBInstanceClass="db.r6g.large")


def _steps() -> list[StepState]:
    start = NOW - timedelta(minutes=40)
    done = StepStatus.DONE
    return [
        StepState("restore", "Restore video-window as video-window-recovery-202511111110", done,
                  start, start + timedelta(minutes=2), estimate=timedelta(minutes=5)),
        StepState("wait", "Wait until video-window-recovery-202511111110 is available", done,
                  start + timedelta(minutes=2), start + timedelta(minutes=20),
                  estimate=timedelta(minutes=20)),
        StepState("verify", "Verify the data (validation queries)", done,
                  start + timedelta(minutes=20), start + timedelta(minutes=35),
                  estimate=timedelta(minutes=30)),
        StepState("parity", "Parity: video-window-recovery-202511111110's settings against "
                  "video-window's", StepStatus.WAITING, NOW - timedelta(minutes=5),
                  estimate=timedelta(minutes=5)),
        StepState("swap", "Swap: point db.videowindow.internal. at the recovery instance",
                  StepStatus.PENDING, estimate=timedelta(minutes=15)),
    ]


class ParityGallery(App[None]):
    CSS_PATH = CSS_PATH

    def compose(self) -> ComposeResult:
        yield StepList(id="run-steps")
        yield RecoveryText(id="parity-detail")

    def on_mount(self) -> None:
        self.query_one(StepList).show(_steps(), NOW)
        detail = self.query_one("#parity-detail", RecoveryText)
        comparison = catalog.compare("video-window", SOURCE, "video-window-recovery-2025111",
                                     NEW, {"DBInstanceClass": "db.r6g.large"})
        from rich.text import Text

        text = Text(comparison.summary())
        _parity(comparison, text, detail.style_of)
        detail.update(text)


def test_parity_step_80x24(snap_compare: Any) -> None:
    assert snap_compare(ParityGallery(), terminal_size=(80, 24))
