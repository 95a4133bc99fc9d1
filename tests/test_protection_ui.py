"""The protection step on screen at 80x24: what is not in place, each fix's aws line marked
"$", the hint's keys; and the question p asks lists every command before anything runs.
Fixed states only (no AWS): an SVG snapshot and a Pilot run of the question."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from recovery_ui_env import NOW
from textual.app import App, ComposeResult
from vwtui.screens.recovery_confirm import YesNo
from vwtui.screens.recovery_detail import render_step
from vwtui.screens.recovery_style import CSS_PATH, RecoveryText

from vwtui.checks.protection import assess
from vwtui.config import Config
from vwtui.model import (
    AlarmDefinition,
    BackupSelection,
    EventRule,
    Instance,
    PitrWindow,
    ProtectionReadings,
)
from vwtui.recovery.plan import RecoveryRequest, Scenario, build_plan
from vwtui.recovery.state import Action, RunState, StepKey, StepStatus, SwapResult

TARGET = "video-window-recovery-202511111110"
ARN = f"arn:aws:rds:eu-west-1:123456789012:db:{TARGET}"


def readings() -> ProtectionReadings:
    instance = Instance(
        identifier=TARGET, arn=ARN, status="available", engine="postgres",
        engine_version="16.4", instance_class="db.t3.medium", allocated_storage_gb=100,
        storage_encrypted=True, kms_key_id=None, backup_retention_days=7,
        latest_restorable_time=NOW, subnet_group="video-window-db-subnets",
        security_groups=(), endpoint_address=f"{TARGET}.example", endpoint_port=5432,
        multi_az=True, created=NOW - timedelta(hours=1))
    age = AlarmDefinition(
        "video-window-backup-age", "VideoWindow/Backup", "TimeSinceLastBackup",
        (("DBInstanceIdentifier", "video-window"),),
        {"AlarmName": "video-window-backup-age", "MetricName": "TimeSinceLastBackup",
         "Namespace": "VideoWindow/Backup", "Statistic": "Maximum",
         "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "video-window"}],
         "Period": 3600, "EvaluationPeriods": 1, "Threshold": 90000.0,
         "ComparisonOperator": "GreaterThanThreshold"})
    failure = AlarmDefinition("video-window-backup-failure", "AWS/Backup",
                              "NumberOfBackupJobsFailed", ())
    rule = EventRule("video-window-backup-job-failed", "arn:rule", "ENABLED",
                     '{"source":["aws.backup"],"detail-type":["Backup Job State Change"],'
                     '"detail":{"state":["FAILED"]}}', ("arn:topic",))
    selection = BackupSelection("sel-1", "plan-1", "video-window-databases", "arn:role",
                                ("arn:aws:rds:eu-west-1:123456789012:db:video-window",))
    return ProtectionReadings(
        identifier=TARGET, instance=instance, deletion_protection=False,
        pitr_window=PitrWindow(TARGET, NOW - timedelta(minutes=50), NOW, 7),
        plan_id="plan-1", selections=(selection,), alarms=(age, failure),
        event_rules=(rule,))


class FakeRun:
    """What render_step reads of a run: its state and a few of its facts."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.request = state.request
        self.swap_result = state.swap_result
        self.swap_record = state.swap_record
        self.verification = None
        self.cross_region = None
        self.config = state.config


def waiting_state() -> RunState:
    config = Config()
    request = RecoveryRequest(Scenario.PITR, "video-window", TARGET,
                              restore_time=NOW - timedelta(hours=1), requested_at=NOW)
    state = RunState.new("run-1", request, config, build_plan(request, config, now=NOW), NOW)
    state.created.append(TARGET)
    state.swap_result = SwapResult("route53", f"{TARGET}.example", record="db",
                                   replaced="video-window")
    for step in state.steps:
        if step.key in (StepKey.RESTORE, StepKey.WAIT, StepKey.VERIFY, StepKey.PARITY,
                        StepKey.SWAP):
            step.status = StepStatus.DONE
    state.protection = assess(readings(), config, owned=state.owned, replaced="video-window",
                              request_id="run-1-protection")
    return state


class ProtectionStepApp(App[None]):
    CSS_PATH = CSS_PATH

    def __init__(self) -> None:
        super().__init__()
        self.run_state = waiting_state()

    def compose(self) -> ComposeResult:
        yield RecoveryText(id="detail")
        yield RecoveryText(id="hint")

    def on_mount(self) -> None:
        from vwtui.recovery.steps.protection import describe

        state = self.run_state
        step = state.step(StepKey.PROTECTION)
        assert step is not None
        findings = state.protection or []
        step.status = StepStatus.WAITING
        step.started_at = NOW - timedelta(minutes=2)
        step.detail = describe(findings, state.protection_fixes(), state.protection_fixed)
        step.command = "\n".join(f.command for f in findings if f.ok is False and f.command)
        step.mutating = True
        detail = self.query_one("#detail", RecoveryText)
        detail.update(render_step(FakeRun(state), step, NOW,  # type: ignore[arg-type]
                                  style_of=detail.style_of))
        hint = self.query_one("#hint", RecoveryText)
        hint.update(state.hint(busy=False).text)


def test_protection_step_80x24(snap_compare: Any) -> None:
    assert snap_compare(ProtectionStepApp(), terminal_size=(80, 24))


async def test_the_step_offers_p_and_the_question_lists_every_command() -> None:
    app = ProtectionStepApp()
    async with app.run_test(size=(80, 24)) as pilot:
        state = app.run_state
        assert Action.PROTECT in state.allowed_actions(busy=False)
        fixes = state.protection_fixes()
        assert [f.key for f in fixes] == ["selection", "alarm:video-window-backup-age",
                                          "deletion-protection"]
        assert "p apply 3 fix(es)" in state.hint(busy=False).text
        commands = "\n".join(f"$ {f.call().cli(state.config)}" for f in fixes)
        answers: list[bool | None] = []
        app.push_screen(YesNo("Apply 3 protection fix(es)?", commands), answers.append)
        await pilot.pause()
        assert isinstance(app.screen, YesNo)
        assert app.screen.detail == commands
        await pilot.press("n")
        await pilot.pause()
        assert answers == [False]
        # Nothing was sent: the fixes are still to apply.
        assert len(state.protection_fixes()) == 3


def test_a_fix_of_a_protected_instance_is_never_offered() -> None:
    config = Config()
    r = readings()
    protected = ProtectionReadings(
        identifier="video-window", instance=r.instance, deletion_protection=False,
        pitr_window=r.pitr_window, plan_id=r.plan_id, selections=(), alarms=r.alarms,
        event_rules=r.event_rules)
    found = assess(protected, config, owned={"video-window"})
    on_instance = [f for f in found if f.area in ("backup plan", "deletion protection")]
    assert len(on_instance) == 2
    assert all(f.ok is False and f.fix is None and f.command for f in on_instance)
