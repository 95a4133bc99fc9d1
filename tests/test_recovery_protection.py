"""Back under protection (issue 13, part 3): after a Route53 swap the new instance is outside
the backup plan's selection and the backup-age alarm still watches the old one; the step finds
both, fixes them (each shown, confirmed, journaled), and the checklist's item then passes.
The sandbox over HTTP, a real PostgreSQL."""

from __future__ import annotations

import pytest
from recovery_env import Env, env_fixture  # noqa: F401  (fixtures)

from vwtui import checklist
from vwtui.checks import protection as pr
from vwtui.config import UiConfig
from vwtui.errors import GuardrailError
from vwtui.model import Verdict
from vwtui.orchestrator import RecoveryRun
from vwtui.recovery import journal as jr
from vwtui.recovery.state import Action, StepStatus
from vwtui.services.protection import read_protection

PROTECTED = ("video-window", "video-window-staging")


async def swapped(env: Env) -> RecoveryRun:
    """A PITR recovery of production driven through its Route53 swap."""
    run = await env.start(await env.pitr_request())
    await run.run_until_blocked()
    run.tick("maintenance")
    run.tick("stop-connections")
    await run.run_step()
    run.tick("resume")
    await run.run_step()
    assert run.step("swap").status is StepStatus.DONE  # type: ignore[union-attr]
    return run


def mutating_since(env: Env, since: int) -> list:  # type: ignore[type-arg]
    """The mutating requests of the log from the `since`-th request on."""
    return [r for r in env.sandbox.requests()[since:] if r.mutating]


def item(results: list, check_id: str):  # type: ignore[no-untyped-def]
    return next(r for r in results if r.id == check_id)


async def test_after_a_route53_swap_the_step_fixes_selection_and_alarm_then_checklist_passes(
        env: Env) -> None:
    run = await swapped(env)
    target = run.request.target
    before = len(env.sandbox.requests())

    # The checklist the next morning would fail: the record points at the new instance.
    readings = await checklist.read_all(env.aws, env.config)
    result = item(pr_results(readings, env), "compliance.back_under_protection")
    assert result.verdict is Verdict.FAIL
    assert any(f"points at {target}" in e for e in result.evidence)

    step = await run.run_step()
    assert step is not None and step.key == "protection"
    assert step.status is StepStatus.WAITING
    # Outside the selection (it lists instances by ARN), and the alarm on the old instance.
    assert "selection video-window-databases lists instances by ARN" in step.detail
    assert (f"alarm {env.config.alarms.backup_age} watches video-window (the replaced "
            f"instance, dimension DBInstanceIdentifier)") in step.detail
    assert "deletion protection of" in step.detail
    keys = [f.key for f in run.state.protection_fixes()]
    assert keys[0] == "selection" and f"alarm:{env.config.alarms.backup_age}" in keys
    assert "deletion-protection" in keys
    # Each fix shown first as its exact aws line.
    assert step.command is not None
    assert "aws backup create-backup-selection --backup-plan-id" in step.command
    assert "aws cloudwatch put-metric-alarm --alarm-name video-window-backup-age" in step.command
    assert f"Name=DBInstanceIdentifier,Value={target}" in step.command
    assert f"aws rds modify-db-instance --db-instance-identifier {target} " \
           f"--deletion-protection" in step.command
    assert Action.PROTECT in run.state.allowed_actions(busy=False)
    assert mutating_since(env, before) == []  # the check itself reads only

    await run.confirm_protection()
    protection = run.step("protection")
    assert protection is not None and protection.status is StepStatus.DONE, protection
    assert "back under protection" in protection.detail
    sent = [f"{r.service}:{r.operation}" for r in mutating_since(env, before)]
    assert sent.count("backup:CreateBackupSelection") == 1
    assert sent.count("cloudwatch:PutMetricAlarm") == 1
    assert sent.count("rds:ModifyDBInstance") == 1
    # No fix touched a protected instance.
    assert env.sandbox.mutations_on(PROTECTED, since=before) == []
    assert [r.resources for r in mutating_since(env, before)
            if r.operation == "ModifyDBInstance"] == [(target,)]

    # Journaled: each fix once, with its command.
    record = jr.load_run(run.journal_path)
    fixes = [r for r in record.records if r.get("event") == "protection-fix"]
    assert sorted(r["key"] for r in fixes) == sorted(keys)
    intents = [r for r in record.records if str(r.get("intent", "")).startswith(
        "apply the protection fix")]
    assert len(intents) == len(keys)

    # The checklist item now passes for the instance the record points at.
    readings = await checklist.read_all(env.aws, env.config)
    result = item(pr_results(readings, env), "compliance.back_under_protection")
    assert result.verdict is Verdict.PASS, result.evidence
    assert any(f"selection vwtui-{target} lists it by ARN" in e for e in result.evidence)

    # A resumed run reads AWS again and sends nothing twice.
    run.close()
    resumed = await env.resume(run.journal_path)
    assert set(resumed.state.protection_fixed) == set(keys)
    count = len(env.sandbox.requests())
    await resumed.run_step()  # the cleanup (production is protected: waits)
    assert mutating_since(env, count) == []


def pr_results(readings: checklist.Readings, env: Env) -> list:  # type: ignore[type-arg]
    from vwtui import checks

    return checks.evaluate(readings, env.config)


async def test_read_only_refuses_every_fix_and_none_reaches_aws(env: Env) -> None:
    run = await swapped(env)
    await run.run_step()
    fixes = run.state.protection_fixes()
    assert len(fixes) >= 3
    before = len(env.sandbox.requests())
    ro = env.with_config(ui=UiConfig(read_only=True))
    for fix in fixes:
        kwargs = dict(fix.kwargs)
        if fix.operation != "put_metric_alarm":
            kwargs["owned"] = run.owned
        with pytest.raises(GuardrailError, match="read-only"):
            await getattr(ro.ops, fix.operation)(*fix.args, **kwargs)
    assert mutating_since(env, before) == []


async def test_a_fix_on_a_protected_instance_is_refused_and_only_shown(env: Env) -> None:
    before = len(env.sandbox.requests())
    readings = await read_protection(env.aws, "video-window-staging",
                                     plan_name=env.config.backup.plan,
                                     alarm_names=(env.config.alarms.backup_age,))
    found = pr.assess(readings, env.config, owned={"video-window-staging"})
    protection = next(f for f in found if f.area == "deletion protection")
    assert protection.ok is False and protection.fix is None
    assert "protected: vwtui never modifies it" in protection.text
    assert protection.command is not None and "--deletion-protection" in protection.command
    with pytest.raises(GuardrailError, match="protected"):
        await env.ops.enable_deletion_protection("Video-Window", owned={"video-window"})
    with pytest.raises(GuardrailError, match="protected"):
        await env.ops.tag_instance(readings.instance.arn,  # type: ignore[union-attr]
                                   (("backup", "yes"),), owned={"video-window"})
    with pytest.raises(GuardrailError, match="configured backup alarms"):
        await env.ops.put_metric_alarm({"AlarmName": "someone-elses-alarm"})
    assert env.sandbox.mutations_on(PROTECTED, since=before) == []
    assert mutating_since(env, before) == []
