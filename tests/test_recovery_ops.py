"""RecoveryOps: every guardrail refuses in the service layer, before the request reaches AWS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from recovery_env import UNPROTECTED_STAGING, Env, env_fixture  # noqa: F401  (fixtures)

from vwtui.config import AwsConfig, DnsConfig, UiConfig
from vwtui.errors import GuardrailError, InvalidParameter
from vwtui.recovery.plan import restore_job_metadata

TARGET = "video-window-recovery-202611251200"


async def available_restore(env: Env, target: str = TARGET) -> str:
    """A restored instance, polled until available (restores take 0.3 s in `env`)."""
    window = await env.aws.pitr_window("video-window")
    assert window.latest is not None
    await env.ops.restore_to_point_in_time("video-window", target, window.latest)
    for _ in range(100):
        if (await env.aws.instance(target)).status == "available":
            return target
        import asyncio
        await asyncio.sleep(0.05)
    raise AssertionError(f"{target} never became available")


async def test_read_only_session_refuses_every_mutation(env: Env) -> None:
    ro = env.with_config(ui=UiConfig(read_only=True))
    window = await ro.aws.pitr_window("video-window")
    assert window.latest is not None
    refusals = [
        ro.ops.restore_to_point_in_time("video-window", TARGET, window.latest),
        ro.ops.restore_from_snapshot("some-snapshot", TARGET),
        ro.ops.start_restore_job("arn:aws:backup:eu-west-1:123456789012:recovery-point:x",
                                 restore_job_metadata(TARGET, "db.t3.micro", None, ())),
        ro.ops.rename_instance("video-window-staging", "video-window-staging-old"),
        ro.ops.upsert_record("Z1", "db.videowindow.internal.", "elsewhere.example",
                             source="video-window"),
        ro.ops.delete_instance(TARGET, owned={TARGET}, typed_confirmation=TARGET),
    ]
    for call in refusals:
        with pytest.raises(GuardrailError, match="read-only"):
            await call
    assert env.calls("rds:Restore*") + env.calls("backup:StartRestoreJob") == []
    assert env.calls("rds:ModifyDBInstance") + env.calls("rds:DeleteDBInstance") == []
    assert env.calls("route53:ChangeResourceRecordSets") == []


@pytest.mark.parametrize("protected", ["video-window", "video-window-staging"])
async def test_protected_instance_is_never_deleted_or_renamed(env: Env, protected: str) -> None:
    with pytest.raises(GuardrailError, match="protected"):
        await env.ops.delete_instance(protected, owned={protected},
                                      typed_confirmation=protected)
    with pytest.raises(GuardrailError, match="protected"):
        await env.ops.delete_instance(protected, owned={protected},
                                      typed_confirmation=protected, skip_final_snapshot=True)
    with pytest.raises(GuardrailError, match="protected"):
        await env.ops.rename_instance(protected, protected + "-old")
    assert env.calls("rds:DeleteDBInstance") + env.calls("rds:ModifyDBInstance") == []
    assert (await env.aws.instance(protected)).status == "available"


async def test_production_stays_protected_even_when_not_listed(env: Env) -> None:
    unlisted = env.with_config(instances=UNPROTECTED_STAGING)
    with pytest.raises(GuardrailError, match="protected"):
        await unlisted.ops.delete_instance("video-window", owned={"video-window"},
                                           typed_confirmation="video-window")
    assert env.calls("rds:DeleteDBInstance") == []


async def test_delete_of_an_instance_the_run_did_not_create_is_refused(env: Env) -> None:
    unlisted = env.with_config(instances=UNPROTECTED_STAGING)
    with pytest.raises(GuardrailError, match="did not create or rename"):
        await unlisted.ops.delete_instance("video-window-staging", owned={TARGET},
                                           typed_confirmation="video-window-staging")
    assert env.calls("rds:DeleteDBInstance") == []
    assert await env.aws.instance_exists("video-window-staging")


async def test_delete_with_a_wrong_confirmation_is_refused(env: Env) -> None:
    await available_restore(env)
    # TARGET.upper() is no longer here: RDS reads it as TARGET, so it confirms (test_names).
    for typed in ("", "video-window-recovery", TARGET[:-1], "video-window"):
        with pytest.raises(GuardrailError, match=f"Type {TARGET} exactly"):
            await env.ops.delete_instance(TARGET, owned={TARGET}, typed_confirmation=typed)
    assert env.calls("rds:DeleteDBInstance") == []
    assert await env.aws.instance_exists(TARGET)


async def test_delete_takes_a_final_snapshot_unless_declined(env: Env) -> None:
    await available_restore(env)
    final = await env.ops.delete_instance(TARGET, owned={TARGET}, typed_confirmation=TARGET)
    assert final is not None and final.startswith(f"{TARGET}-final-")
    assert (await env.aws.snapshot(final)).instance_identifier == TARGET
    other = await available_restore(env, TARGET + "b")
    assert await env.ops.delete_instance(other, owned={other}, typed_confirmation=other,
                                         skip_final_snapshot=True) is None
    assert env.calls("rds:DeleteDBInstance") == ["rds:DeleteDBInstance"] * 2


async def test_restore_under_a_protected_name_is_refused(env: Env) -> None:
    window = await env.aws.pitr_window("video-window")
    assert window.latest is not None
    with pytest.raises(GuardrailError, match="protected"):
        await env.ops.restore_to_point_in_time("video-window", "video-window-staging",
                                               window.latest)
    assert env.calls("rds:Restore*") == []


async def test_route53_upsert_returns_the_old_value_for_rollback(env: Env) -> None:
    zone = await env.ops.hosted_zone_id("videowindow.internal")
    record = env.config.dns.record
    production = await env.aws.instance("video-window")
    old = await env.ops.upsert_record(zone, record, "new.example.internal",
                                      source="video-window")
    assert old is not None and old == production.endpoint_address
    assert await env.ops.record_value(zone, record) == "new.example.internal"
    assert await env.ops.upsert_record(zone, record, old,
                                       source="video-window") == "new.example.internal"


async def test_a_recovery_of_staging_never_repoints_production_s_record(env: Env) -> None:
    # The service layer refuses it whatever the screen asks: a drill must not move production.
    zone = await env.ops.hosted_zone_id("videowindow.internal")
    production = await env.aws.instance("video-window")
    for record in ("db.videowindow.internal.", "db.videowindow.internal",
                   "db-staging.videowindow.internal."):  # no staging record configured
        with pytest.raises(GuardrailError, match="may only repoint"):
            await env.ops.upsert_record(zone, record, "drill.example.internal",
                                        source="video-window-staging")
    assert env.calls("route53:ChangeResourceRecordSets") == []
    assert await env.ops.record_value(zone, env.config.dns.record) == production.endpoint_address
    # With staging's own record configured, that one (and only that one) may be repointed.
    staging = env.with_config(dns=DnsConfig(staging_record="db-staging.videowindow.internal."))
    await staging.ops.upsert_record(zone, "db-staging.videowindow.internal.",
                                    "drill.example.internal", source="video-window-staging")
    with pytest.raises(GuardrailError, match="may only repoint"):
        await staging.ops.upsert_record(zone, "db.videowindow.internal.",
                                        "drill.example.internal", source="video-window-staging")
    assert await env.ops.record_value(zone, env.config.dns.record) == production.endpoint_address


async def test_cli_twins_match_the_calls(env: Env) -> None:
    window = await env.aws.pitr_window("video-window")
    assert window.latest is not None
    line = env.ops.cli_command("restore_to_point_in_time", "video-window", TARGET, window.latest,
                               subnet_group="video-window-db-subnets")
    assert line.startswith("aws rds restore-db-instance-to-point-in-time ")
    assert f"--target-db-instance-identifier {TARGET}" in line
    assert f"--endpoint-url {env.config.aws.endpoint_url}" in line
    assert "--skip-final-snapshot" in env.ops.cli_command("delete_instance", TARGET,
                                                          skip_final_snapshot=True)


async def test_cross_region_dr_is_reported_not_configured(env: Env) -> None:
    status = await env.ops.cross_region_prerequisites("video-window")
    assert not status.configured
    assert status.dr_region is None
    text = "\n".join(status.lines())
    assert "not configured" in text and "aws.dr_region" in text


async def test_cross_region_prerequisites_are_checked_in_the_dr_region(env: Env) -> None:
    dr = env.with_config(aws=AwsConfig(region=env.config.aws.region,
                                       endpoint_url=env.config.aws.endpoint_url,
                                       max_attempts=2, dr_region="eu-central-1"))
    before = await dr.ops.cross_region_prerequisites("video-window")
    assert before.dr_region == "eu-central-1"
    assert not before.has_snapshot_copies and not before.configured

    # A read replica in the DR region, as the runbook's second prerequisite asks.
    production = await env.aws.instance("video-window")
    from vwtui.services.aws import AwsService
    remote = AwsService(dr.config, region="eu-central-1")
    await remote.call("rds", "CreateDBInstanceReadReplica", DBInstanceIdentifier="video-window-dr",
                      SourceDBInstanceIdentifier=production.arn, DBInstanceClass="db.t3.micro")
    after = await dr.ops.cross_region_prerequisites("video-window")
    assert after.read_replicas == ("arn:aws:rds:eu-central-1:123456789012:db:video-window-dr",)
    assert after.has_read_replica
    # Snapshots of the primary region do not count as copies (the sandbox lists them there too).
    assert not after.has_snapshot_copies and not after.configured
    lines = after.lines()
    assert any(line.startswith("✓ Read replica") for line in lines)
    assert any("Cross-region snapshot copy: not configured" in line for line in lines)


async def test_restore_time_window_error_from_aws_names_the_window(env: Env) -> None:
    window = await env.aws.pitr_window("video-window")
    assert window.earliest is not None
    from vwtui.errors import InvalidParameter
    with pytest.raises(InvalidParameter, match="restorable window"):
        await env.ops.restore_to_point_in_time("video-window", TARGET,
                                               window.earliest - timedelta(days=1))


async def test_a_backup_restore_gets_both_security_groups(env: Env) -> None:
    # AWS Backup's restore metadata is a map of strings: a list goes as a JSON-array string,
    # '["sg-1","sg-2"]' (AWS Backup developer guide, format for list-typed values). The
    # product sends that and the sandbox reads it as AWS does; split on commas, it made
    # '["sg-1"' and '"sg-2"]' of it.
    import asyncio

    from moto.ec2.models import ec2_backends

    fleet = env.sandbox.fleet
    ec2 = ec2_backends[env.sandbox.account][env.sandbox.region]
    bastion = ec2.create_security_group("video-window-db-bastion", "PostgreSQL from the bastion",
                                        fleet.vpc_id)
    groups = (fleet.security_group_id, bastion.id)
    source = await env.aws.instance("video-window")
    point = next(p for p in await env.aws.recovery_points(env.config.backup.vault)
                 if p.resource_arn == source.arn)
    job_id = await env.ops.start_restore_job(point.arn,
                                             restore_job_metadata(TARGET, None, None, groups))
    for _ in range(100):
        if (await env.ops.restore_job(job_id)).status == "COMPLETED":
            break
        await asyncio.sleep(0.05)
    assert (await env.aws.instance(TARGET)).security_groups == groups


async def test_security_groups_not_json_encoded_are_refused_as_aws_does(env: Env) -> None:
    source = await env.aws.instance("video-window")
    point = next(p for p in await env.aws.recovery_points(env.config.backup.vault)
                 if p.resource_arn == source.arn)
    with pytest.raises(InvalidParameter, match="JSON array"):
        await env.ops.start_restore_job(point.arn, {"DBInstanceIdentifier": TARGET,
                                                    "VpcSecurityGroupIds": "sg-1,sg-2"})
    assert not await env.aws.instance_exists(TARGET)
