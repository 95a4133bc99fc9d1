"""Issue 13 parts 1, 2 and 4: restores carry the source's settings, the parity step compares
and fixes the run's own instance, and the cleanup of a deletion-protected `-old-` instance."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from recovery_env import UNPROTECTED_STAGING, Env, env_fixture, past_protection  # noqa: F401  (fixtures)
from test_recovery_run import fresh_recovery_point, fresh_snapshot

from vwtui import instance_settings as catalog
from vwtui.config import UiConfig
from vwtui.errors import GuardrailError
from vwtui.model import utcnow
from vwtui.recovery.plan import RecoveryRequest, Scenario, SwapMethod, target_identifier
from vwtui.recovery.state import StepStatus
from vwtui.services.recovery_ops import RecoveryOps

PRODUCTION = "video-window"
_OPS = {catalog.RestorePath.PITR: "RestoreDBInstanceToPointInTime",
        catalog.RestorePath.SNAPSHOT: "RestoreDBInstanceFromDBSnapshot",
        catalog.RestorePath.BACKUP: "RestoreDBInstanceFromDBSnapshot"}


def test_what_each_restore_accepts_is_botocore_s_model() -> None:
    model = botocore.session.get_session().get_service_model("rds")
    known = {s.key for s in catalog.SETTINGS}
    for path, operation in _OPS.items():
        members = set(model.operation_model(operation).input_shape.members)
        expected = known & members
        if path is catalog.RestorePath.BACKUP:
            expected -= {"Tags"}  # AWS Backup's metadata is a map of strings
        assert catalog.RESTORE_ACCEPTS[path] | (catalog.NEVER_SENT & members) == expected, path
    modify = set(model.operation_model("ModifyDBInstance").input_shape.members)
    assert {s.modify_param for s in catalog.SETTINGS if s.modify_param} <= modify


def _values(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "DBInstanceClass": "db.t3.medium", "MultiAZ": True, "DBParameterGroupName": "pg",
        "OptionGroupName": "og", "DBSubnetGroupName": "subnets", "VpcSecurityGroupIds": ("sg-1",),
        "Port": 5432, "PubliclyAccessible": False, "StorageType": "io1", "AllocatedStorage": 100,
        "Iops": 3000, "StorageThroughput": 125, "MaxAllocatedStorage": 200,
        "EnableIAMDatabaseAuthentication": True, "EnableCloudwatchLogsExports": ("postgresql",),
        "CopyTagsToSnapshot": True, "AutoMinorVersionUpgrade": True,
        "CACertificateIdentifier": "rds-ca-rsa2048-g1", "NetworkType": "IPV4",
        "BackupRetentionPeriod": 7, "PreferredBackupWindow": "03:00-04:00",
        "PreferredMaintenanceWindow": "sun:04:30-sun:05:00", "MonitoringInterval": 60,
        "MonitoringRoleArn": "arn:role", "EnablePerformanceInsights": True,
        "PerformanceInsightsKMSKeyId": "arn:key", "PerformanceInsightsRetentionPeriod": 7,
        "Tags": (("Application", "video-window"),), "StorageEncrypted": True,
        "DeletionProtection": True, "EngineVersion": "16.4", "AvailabilityZone": "eu-west-1a"}
    base.update(changes)
    return base


_OTHER = {bool: lambda v: not v, int: lambda v: v + 1, str: lambda v: v + "-other",
          tuple: lambda v: ()}


@pytest.mark.parametrize("setting", catalog.SETTINGS, ids=lambda s: s.key)
def test_the_parity_check_catches_each_kind_of_difference(setting: catalog.Setting) -> None:
    source = _values()
    new = _values(**{setting.key: _OTHER[type(source[setting.key])](source[setting.key])})
    found = catalog.compare("src", source, "new", new, {})
    assert [d.key for d in found.differences] == [setting.key]
    diff = found.differences[0]
    assert diff.verdict is setting.verdict
    assert found.compared == len(catalog.SETTINGS)
    # Set by config: on purpose, never a fix.
    on_purpose = catalog.compare("src", source, "new", new, {setting.key: new[setting.key]})
    assert on_purpose.differences[0].verdict is catalog.Verdict.ON_PURPOSE
    assert not on_purpose.must_match_left
    if setting.verdict is catalog.Verdict.MUST_MATCH and setting.modify_param:
        params, tags = catalog.modify_fixes(found, new)
        assert params or tags
    # The new instance's own marks are never a difference.
    marked = dict(source, Tags=(*source["Tags"], ("vwtui-run", "x")))  # type: ignore[misc]
    assert not catalog.compare("src", source, "new", marked, {}).differences


@pytest.mark.parametrize("scenario", [Scenario.PITR, Scenario.SNAPSHOT, Scenario.AWS_BACKUP])
async def test_each_restore_path_matches_production_after_the_fixes(
        env: Env, scenario: Scenario) -> None:
    target = target_identifier(utcnow())
    if scenario is Scenario.PITR:
        request = await env.pitr_request()
    elif scenario is Scenario.SNAPSHOT:
        request = RecoveryRequest(scenario, PRODUCTION, target,
                                  snapshot_id=await fresh_snapshot(env, PRODUCTION))
    else:
        request = RecoveryRequest(scenario, PRODUCTION, target,
                                  recovery_point_arn=await fresh_recovery_point(env, PRODUCTION))
    target = request.target
    since = len(env.sandbox.requests())
    run = await env.start(request)
    # The plan says where each setting comes from.
    restore_plan = run.plan[0]
    assert any(f"from {PRODUCTION}: " in n and "Multi-AZ" in n for n in restore_plan.notes)
    assert "--multi-az" in (restore_plan.command or "") or '"MultiAZ":"true"' in (
        restore_plan.command or "")
    await run.run_until_blocked()
    parity = run.step("parity")
    assert parity is not None and run.state.parity is not None, run.steps
    if parity.status is StepStatus.WAITING:
        await run.apply_parity_fixes()
    comparison = run.state.parity
    assert parity.status is StepStatus.DONE, parity.detail
    assert comparison.must_match_left == (), comparison.differences
    new = (await env.aws.instance(target)).setting_values
    assert new["MultiAZ"] is True
    assert new["DBParameterGroupName"] == "video-window-postgres16"
    assert new["EnableCloudwatchLogsExports"] == ("postgresql", "upgrade")
    assert new["PreferredMaintenanceWindow"] == "sun:04:30-sun:05:00"  # applied after
    assert new["DeletionProtection"] is False  # deletable by an abort until the swap
    # Nothing the run did touched production.
    assert env.sandbox.mutations_on([PRODUCTION], since) == []
    print(f"\nFIGURES {scenario.value}: compared={comparison.compared} "
          f"left={len(comparison.differences)} must_match_left="
          f"{len(comparison.must_match_left)} "
          f"({', '.join(d.key for d in comparison.differences)})")


async def test_the_parity_step_finds_drift_and_fixes_only_the_run_s_own_instance(
        env: Env) -> None:
    run = await env.start(await env.pitr_request())
    target = run.request.target
    # Something changes the new instance behind the run's back before the parity step.
    while run.current is not None and run.current.key != "parity":
        await run.run_step()
    await env.aws.call("rds", "ModifyDBInstance", DBInstanceIdentifier=target, MultiAZ=False,
                       EnableIAMDatabaseAuthentication=True, CopyTagsToSnapshot=False,
                       ApplyImmediately=True)
    since = len(env.sandbox.requests())
    step = await run.run_step()
    assert step is not None and step.status is StepStatus.WAITING
    comparison = run.state.parity
    assert comparison is not None
    assert {d.key for d in comparison.must_match_left} == {
        "MultiAZ", "EnableIAMDatabaseAuthentication", "CopyTagsToSnapshot"}
    # The swap would ask for a reason now.
    assert run.state.parity_refusal() is not None
    assert "m applies" in run.state.hint(False).text
    await run.apply_parity_fixes()
    assert step.status is StepStatus.DONE
    assert run.state.parity_refusal() is None
    fixes = [r for r in env.sandbox.requests()[since:] if r.mutating]
    assert fixes and all(target in r.resources for r in fixes)
    assert env.sandbox.mutations_on([PRODUCTION], since) == []


async def _past_parity_with_multi_az_off(env: Env) -> Any:
    """A PITR run whose restored instance lost Multi-AZ before parity, gone on past the
    parity step without the fix."""
    run = await env.start(await env.pitr_request())
    while run.current is not None and run.current.key != "parity":
        await run.run_step()
    await env.aws.call("rds", "ModifyDBInstance", DBInstanceIdentifier=run.request.target,
                       MultiAZ=False, ApplyImmediately=True)
    await run.run_step()  # parity: waiting, the fix offered
    await run.run_step()  # g: goes on without the fix
    return run


async def test_the_swap_asks_a_reason_while_a_must_match_setting_differs(env: Env) -> None:
    run = await _past_parity_with_multi_az_off(env)
    assert run.step("parity").status is StepStatus.DONE  # type: ignore[union-attr]
    run.tick("maintenance")
    run.tick("stop-connections")
    swap = await run.run_step()
    assert swap is not None and swap.status is StepStatus.WAITING
    assert "must match" in swap.detail and run.swap_result is None
    assert env.calls("route53:ChangeResourceRecordSets") == []
    run.accept_parity_gap("Multi-AZ comes back tonight; the outage costs more")
    await run.run_step()
    assert run.swap_result is not None
    journal = run.journal_path.read_text()
    assert "Multi-AZ comes back tonight" in journal and "parity_override" in journal


async def test_a_resumed_run_still_asks_the_reason_and_keeps_one_already_given(
        env: Env) -> None:
    run = await _past_parity_with_multi_az_off(env)
    run.tick("maintenance")
    run.tick("stop-connections")

    # vwtui restarts after the parity step: the comparison is no longer in memory.
    resumed = await env.resume(run.journal_path)
    assert resumed.state.parity is None and resumed.current is not None
    assert resumed.current.key == "swap"
    swap = await resumed.run_step()
    assert swap is not None and swap.status is StepStatus.WAITING
    assert "must match" in swap.detail and resumed.swap_result is None
    assert env.calls("route53:ChangeResourceRecordSets") == []

    # The reason given, then another restart: it holds, and the swap goes on.
    resumed.accept_parity_gap("Multi-AZ comes back tonight")
    again = await env.resume(resumed.journal_path)
    assert again.state.parity_reason == "Multi-AZ comes back tonight"
    await again.run_step()
    assert again.swap_result is not None
    assert len(env.calls("route53:ChangeResourceRecordSets")) == 1


async def test_read_only_refuses_every_fix_and_no_fix_touches_a_protected_instance(
        env: Env) -> None:
    read_only = env.with_config(ui=UiConfig(read_only=True))
    ops = RecoveryOps(read_only.aws)
    since = len(env.sandbox.requests())
    owned = {"video-window-recovery-x"}
    arn = "arn:aws:rds:eu-west-1:123456789012:db:video-window-recovery-x"
    for attempt in (ops.modify_instance("video-window-recovery-x", {"MultiAZ": True},
                                        owned=owned),
                    ops.add_tags(arn, [("a", "b")], owned=owned),
                    ops.disable_deletion_protection("video-window-recovery-x", owned=owned,
                                                    typed_confirmation="video-window-recovery-x")):
        with pytest.raises(GuardrailError, match="read-only"):
            await attempt
    writable = RecoveryOps(env.aws)
    prod_arn = (await env.aws.instance(PRODUCTION)).arn
    for attempt in (writable.modify_instance(PRODUCTION, {"MultiAZ": False}, owned={PRODUCTION}),
                    writable.modify_instance("VIDEO-WINDOW", {"MultiAZ": False},
                                             owned={"video-window"}),
                    writable.add_tags(prod_arn, [("a", "b")], owned={PRODUCTION}),
                    writable.disable_deletion_protection(PRODUCTION, owned={PRODUCTION},
                                                         typed_confirmation=PRODUCTION)):
        with pytest.raises(GuardrailError, match="protected"):
            await attempt
    assert [r for r in env.sandbox.requests()[since:] if r.mutating] == []
    assert env.sandbox.mutations_on([PRODUCTION], since) == []


async def test_cleanup_turns_off_the_deletion_protection_of_the_run_s_old_instance(
        env: Env) -> None:
    env = env.with_config(instances=UNPROTECTED_STAGING)
    source = "video-window-staging"
    await env.aws.call("rds", "ModifyDBInstance", DBInstanceIdentifier=source,
                       DeletionProtection=True, ApplyImmediately=True)
    run = await env.start(RecoveryRequest(Scenario.SNAPSHOT, source, target_identifier(utcnow()),
                                          snapshot_id=await fresh_snapshot(env, source),
                                          swap=SwapMethod.RENAME))
    await run.run_until_blocked()
    run.tick("maintenance")
    run.tick("stop-connections")
    await run.run_step()
    run.tick("resume")
    await run.run_step()
    retired = run.replaced
    await past_protection(run)
    cleanup = await run.run_step()
    assert cleanup is not None and cleanup.status is StepStatus.WAITING
    assert "has deletion protection on" in cleanup.detail and retired in cleanup.detail
    assert "--no-deletion-protection" in (cleanup.command or "")
    with pytest.raises(GuardrailError, match="exactly"):
        await run.confirm_cleanup(source)
    assert env.calls("rds:ModifyDBInstance")[-1:] != [] and not [
        r for r in env.sandbox.requests(mutating=True) if r.operation == "DeleteDBInstance"]
    await run.confirm_cleanup(retired)
    assert run.finished and run.step("cleanup").status is StepStatus.DONE  # type: ignore
    assert not await env.aws.instance_exists(retired)
    # The instance now serving (renamed in) kept its own protection off: only the old one
    # was modified by the cleanup.
    assert (await env.aws.instance(source)).identifier == source
