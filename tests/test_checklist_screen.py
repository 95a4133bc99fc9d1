"""The checklist screen at 80x24 in the real app against the sandbox, driven by keys (Pilot).

The app's AwsService talks HTTP to the sandbox; expectations come from the scenario (what it
seeds) and from the sign-off log on disk, never from the screen's own objects.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.widgets import DataTable, Static
from vwtui.screens.checklist import ChecklistScreen, SignOffDialog
from vwtui.screens.troubleshoot import TroubleshootScreen

from vwtui.app import VwtuiApp
from vwtui.config import AwsConfig, Config, UiConfig
from vwtui.services.aws import AwsService
from vwtui.signoff import SignOff, SignOffLog

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sign-off log of each test lives in its own state directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "vwtui" / "signoffs.jsonl"


def make_app(sandbox: Any) -> VwtuiApp:
    config = Config(aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                                  max_attempts=1), ui=UiConfig(refresh_seconds=0))
    return VwtuiApp(config, AwsService(config), clock=sandbox.current_time)


async def open_checklist(pilot: Any, loads: int = 1) -> ChecklistScreen:
    """Press c on the dashboard and wait until the checklist has read AWS `loads` times."""
    await pilot.press("c")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ChecklistScreen)
    for _ in range(400):
        if screen.loads_completed >= loads:
            await pilot.pause()
            return screen
        await pilot.pause(0.05)
    raise AssertionError("the checklist did not finish reading AWS")


def text_of(screen: Any, selector: str) -> str:
    """What a Static shows, as plain text (a renderable is drawn 200 columns wide)."""
    content = screen.query_one(selector, Static).content
    if isinstance(content, (str, Text)):
        return str(content)
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    console.print(content)
    return console.export_text()


def verdicts(screen: ChecklistScreen) -> dict[str, str]:
    """Check id -> the verdict cell as shown."""
    table = screen.query_one("#checklist-table", DataTable)
    return {str(key.value): str(table.get_cell(key, "verdict")) for key in table.rows}


async def test_c_opens_the_checklist_and_a_healthy_account_asks_about_the_weeks_failure(
        make_sandbox: Callable[..., Any], state_home: Path) -> None:
    """Never signed off: the FAILED staging job of three days ago (retried) fails the weekly
    logs item, and only it; every other item passes."""
    sandbox = make_sandbox("healthy")
    async with make_app(sandbox).run_test(size=SIZE) as pilot:
        screen = await open_checklist(pilot)
        shown = verdicts(screen)
        assert len(shown) == 20
        assert {k for k, v in shown.items() if v != "✔ pass"} == {"weekly.backup_logs"}
        assert shown["weekly.backup_logs"] == "✖ FAIL"
        assert "19 pass, 1 fail, 0 unknown" in text_of(screen, "#checklist-status")
        signoff = screen.query_one("#checklist-signoff", Static)
        assert "none yet (weekly review due)" in str(signoff.content)
        assert signoff.has_class("-overdue")
        # The evidence of the highlighted item is shown below the table.
        assert "Backup job completion" in text_of(screen, "#checklist-evidence")
        # A passing item has nothing to troubleshoot.
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.screen is screen
        assert any("nothing to troubleshoot" in str(n.message)
                   for n in pilot.app._notifications)
        # A sign-off that is cancelled writes nothing.
        await pilot.press("s")
        await pilot.pause()
        await pilot.press(*"Dana", "escape")
        await pilot.pause()
        assert pilot.app.screen is screen
        # p saves the checklist's report under the state directory.
        await pilot.press("p")
        await pilot.pause()
        saved = list((state_home.parent / "reports").glob("checklist-*.md"))
        assert len(saved) == 1
        report = saved[0].read_text(encoding="utf-8")
        assert "| ✖ FAIL | Backup logs show no errors |" in report
        assert "(resolved: job" in report
        assert "Last sign-off: none yet (weekly review due)" in report
        assert any(f"Report saved to {saved[0]}" in str(n.message)
                   for n in pilot.app._notifications)
    assert not state_home.exists()


async def test_a_failing_item_opens_its_diagnosis_with_one_key(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("failed-backup")
    async with make_app(sandbox).run_test(size=SIZE) as pilot:
        screen = await open_checklist(pilot)
        assert verdicts(screen)["daily.backup_jobs"] == "✖ FAIL"
        # The cursor starts on the first item: backup job completion.
        await pilot.press("t")
        await pilot.pause()
        trouble = pilot.app.screen
        assert isinstance(trouble, TroubleshootScreen)
        body = text_of(trouble, "#troubleshoot-text")
        assert "Backup Job Fails" in body
        assert "does not have sufficient permissions" in body  # the failed job's message
        assert "yes: BackupRetentionPeriod = 7 d" in body
        assert "1. Insufficient IAM permissions" in body
        assert "RDS events of video-window" in body
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is screen


async def test_an_unreadable_call_shows_unknown_not_pass(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    sandbox.deny("ListBackupJobs")
    async with make_app(sandbox).run_test(size=SIZE) as pilot:
        screen = await open_checklist(pilot)
        shown = verdicts(screen)
        assert shown["daily.backup_jobs"] == "? unknown"
        assert shown["weekly.backup_logs"] == "? unknown"
        assert "18 pass, 0 fail, 2 unknown" in text_of(screen, "#checklist-status")
        await pilot.press("t")  # unknown items open their diagnosis too
        await pilot.pause()
        body = text_of(pilot.app.screen, "#troubleshoot-text")
        assert "backup:ListBackupJobs was denied" in body


async def test_sign_off_is_logged_and_shown_after_a_restart(
        make_sandbox: Callable[..., Any], state_home: Path) -> None:
    sandbox = make_sandbox("healthy")
    async with make_app(sandbox).run_test(size=SIZE) as pilot:
        await open_checklist(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(pilot.app.screen, SignOffDialog)
        await pilot.press("enter")  # no name yet: refused, the dialog stays
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, SignOffDialog)
        assert "Type your name" in text_of(dialog, "#signoff-error")
        await pilot.press(*"Dana", "enter")
        await pilot.press(*"OPS-12 [b]filed[/b]", "enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ChecklistScreen)
    lines = state_home.read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["name"] == "Dana"
    assert record["notes"] == "OPS-12 [b]filed[/b]"
    assert {k for k, v in record["verdicts"].items() if v != "pass"} == {"weekly.backup_logs"}
    assert len(record["verdicts"]) == 20
    # A new app, as after a restart, shows the sign-off from the log.
    async with make_app(sandbox).run_test(size=SIZE) as pilot:
        screen = await open_checklist(pilot)
        signoff = screen.query_one("#checklist-signoff", Static)
        assert "Last sign-off: Dana" in str(signoff.content)
        assert "OPS-12 [b]filed[/b]" in str(signoff.content)  # shown as typed, not as markup
        assert not signoff.has_class("-overdue")
        # The review period now starts at the sign-off: the failure it saw is behind it.
        assert verdicts(screen)["weekly.backup_logs"] == "✔ pass"


async def test_a_review_older_than_seven_days_is_flagged(
        make_sandbox: Callable[..., Any], state_home: Path) -> None:
    sandbox = make_sandbox("healthy")
    SignOffLog(state_home).append(SignOff("Erin", sandbox.current_time() - timedelta(days=8)))
    async with make_app(sandbox).run_test(size=SIZE) as pilot:
        screen = await open_checklist(pilot)
        signoff = screen.query_one("#checklist-signoff", Static)
        assert signoff.has_class("-overdue")
        assert "Erin" in str(signoff.content)
        assert "OVERDUE" in str(signoff.content)


async def test_refresh_reads_aws_again_and_escape_goes_back_to_the_dashboard(
        make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    async with make_app(sandbox).run_test(size=SIZE) as pilot:
        screen = await open_checklist(pilot)
        sandbox.deny("DescribeAlarms")
        await pilot.press("r")
        for _ in range(400):
            if screen.loads_completed >= 2:
                break
            await pilot.pause(0.05)
        await pilot.pause()
        assert verdicts(screen)["weekly.no_alarms"] == "? unknown"
        await pilot.press("escape")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ == "DashboardScreen"


async def test_the_palette_lists_the_checklist(make_sandbox: Callable[..., Any]) -> None:
    sandbox = make_sandbox("healthy")
    async with make_app(sandbox).run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Checklist")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ChecklistScreen)
