"""Scenario plans, inputs and CLI twins: pure logic, no AWS."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from vwtui.config import Config, DatabaseConfig, DnsConfig, InstancesConfig
from vwtui.model import PitrWindow
from vwtui.recovery.plan import (
    PlannedStep,
    RecoveryInputError,
    RecoveryRequest,
    Scenario,
    SwapMethod,
    build_plan,
    check_incident_time,
    check_request,
    check_restore_time,
    implied_rpo,
    parse_utc,
    plan_warnings,
    target_identifier,
    total_estimate,
)

NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
WINDOW = PitrWindow("video-window", NOW - timedelta(days=7), NOW - timedelta(minutes=5), 7)


def request(scenario: Scenario = Scenario.PITR, **kw: object) -> RecoveryRequest:
    base: dict[str, object] = {
        "scenario": scenario, "source": "video-window",
        "target": "video-window-recovery-202511111200",
        "incident_time": NOW - timedelta(minutes=40), "restore_time": NOW - timedelta(hours=1),
        "snapshot_id": "rds:video-window-2025-11-11-03-00",
        "recovery_point_arn": "arn:aws:backup:eu-west-1:123456789012:recovery-point:abc",
        "subnet_group": "db-private", "security_groups": ("sg-1", "sg-2")}
    base.update(kw)
    return RecoveryRequest(**base)  # type: ignore[arg-type]


def test_target_identifier_is_the_runbooks_name_in_utc() -> None:
    local = datetime(2025, 11, 11, 13, 7, tzinfo=timezone(timedelta(hours=1)))
    assert target_identifier(local) == "video-window-recovery-202511111207"


def test_parse_utc_accepts_z_and_offsets() -> None:
    assert parse_utc("2025-11-11T10:30:00Z") == datetime(2025, 11, 11, 10, 30, tzinfo=UTC)
    assert parse_utc("2025-11-11T11:30:00+01:00") == datetime(2025, 11, 11, 10, 30, tzinfo=UTC)
    assert parse_utc("2025-11-11 10:30:00Z").tzinfo is UTC


@pytest.mark.parametrize(("text", "says"), [
    ("2025-11-11T10:30:00", "no time zone"),
    ("yesterday", "not an ISO 8601"),
    ("", "Type a time"),
])
def test_parse_utc_refuses_with_the_reason(text: str, says: str) -> None:
    with pytest.raises(RecoveryInputError, match=says):
        parse_utc(text)


def test_pitr_time_inside_window_is_accepted() -> None:
    moment = NOW - timedelta(hours=2)
    assert check_restore_time(WINDOW, moment, NOW) == moment


def test_pitr_time_outside_window_is_refused_and_names_the_window() -> None:
    with pytest.raises(RecoveryInputError) as err:
        check_restore_time(WINDOW, NOW - timedelta(days=8), NOW)
    assert "outside the restore window" in str(err.value)
    assert "2025-11-04 12:00:00 UTC to 2025-11-11 11:55:00 UTC" in str(err.value)
    assert "before the earliest" in str(err.value)
    with pytest.raises(RecoveryInputError, match="after the latest"):
        check_restore_time(WINDOW, NOW - timedelta(minutes=2), NOW)


def test_pitr_time_in_the_future_is_refused() -> None:
    with pytest.raises(RecoveryInputError, match="in the future"):
        check_restore_time(WINDOW, NOW + timedelta(minutes=1), NOW)


def test_pitr_naive_time_is_refused() -> None:
    with pytest.raises(RecoveryInputError, match="no time zone"):
        check_restore_time(WINDOW, datetime(2025, 11, 11, 10, 0), NOW)


def test_pitr_without_window_says_to_use_a_snapshot() -> None:
    with pytest.raises(RecoveryInputError, match="snapshot restore"):
        check_restore_time(PitrWindow("video-window", None, None, 0), NOW, NOW)


def test_incident_before_restore_time_is_refused() -> None:
    with pytest.raises(RecoveryInputError, match="after the incident"):
        check_incident_time(NOW - timedelta(hours=2), NOW - timedelta(hours=1), NOW)
    assert check_incident_time(NOW - timedelta(hours=1), NOW - timedelta(hours=2), NOW)


def test_implied_rpo_is_incident_minus_restore_time() -> None:
    assert implied_rpo(NOW, NOW - timedelta(minutes=45)) == timedelta(minutes=45)
    assert implied_rpo(NOW, NOW + timedelta(minutes=5)) == timedelta(0)


def test_pitr_plan_has_the_runbook_steps_and_estimates() -> None:
    plan = build_plan(request(), Config())
    assert [s.key for s in plan] == ["restore", "wait", "verify", "parity", "swap",
                                    "protection", "cleanup"]
    assert all(isinstance(s, PlannedStep) for s in plan)
    # Production is protected: its cleanup is no delete at all, not even a preview of one.
    assert [s.mutating for s in plan] == [True, False, False, False, True, False, False]
    assert plan[-1].command is None and "protected, never deleted" in plan[-1].title
    assert plan[1].estimate == timedelta(minutes=20)  # "10-20 minutes"
    assert timedelta(hours=1) <= total_estimate(plan) <= timedelta(hours=2)  # "1-2 hours"
    assert all(s.command for s in plan if s.mutating)


def test_pitr_command_is_the_runbooks_cli_line() -> None:
    restore = build_plan(request(), Config())[0]
    assert restore.command is not None
    words = shlex.split(restore.command)
    assert words[:3] == ["aws", "rds", "restore-db-instance-to-point-in-time"]
    pairs = {words[i]: words[i + 1] for i in range(3, len(words) - 1) if words[i].startswith("--")}
    assert pairs["--source-db-instance-identifier"] == "video-window"
    assert pairs["--target-db-instance-identifier"] == "video-window-recovery-202511111200"
    assert pairs["--restore-time"] == "2025-11-11T11:00:00Z"
    assert pairs["--db-subnet-group-name"] == "db-private"
    assert words[words.index("--vpc-security-group-ids") + 1:][:2] == ["sg-1", "sg-2"]
    assert pairs["--region"] == "eu-west-1"


def test_snapshot_and_backup_plans_take_longer() -> None:
    snap = build_plan(request(Scenario.SNAPSHOT), Config())
    backup = build_plan(request(Scenario.AWS_BACKUP), Config())
    assert timedelta(hours=1.5) <= total_estimate(snap) <= timedelta(hours=3)
    assert timedelta(hours=2) <= total_estimate(backup) <= timedelta(hours=4)
    assert "restore-db-instance-from-db-snapshot" in (snap[0].command or "")
    assert "--db-snapshot-identifier rds:video-window-2025-11-11-03-00" in (snap[0].command or "")


def test_backup_plan_uses_the_configured_role_and_runbook_metadata() -> None:
    plan = build_plan(request(Scenario.AWS_BACKUP, instance_class="db.t3.medium"), Config())
    words = shlex.split(plan[0].command or "")
    assert words[:3] == ["aws", "backup", "start-restore-job"]
    assert words[words.index("--iam-role-arn") + 1] == Config().backup.restore_role_arn
    import json
    metadata = json.loads(words[words.index("--metadata") + 1])
    assert metadata["DBInstanceIdentifier"] == "video-window-recovery-202511111200"
    # Never a fixed MultiAZ "false": without the source's settings, none at all (AWS's default).
    assert metadata["Engine"] == "postgres" and "MultiAZ" not in metadata
    assert metadata["DBInstanceClass"] == "db.t3.medium"
    assert "describe-restore-job" in (plan[1].command or "")


def test_an_unknown_class_is_left_out_so_aws_keeps_the_original() -> None:
    # The source could not be read: no class is invented; AWS's default is the original's.
    for scenario in (Scenario.PITR, Scenario.SNAPSHOT, Scenario.AWS_BACKUP):
        command = build_plan(request(scenario, instance_class=None), Config())[0].command or ""
        assert "--db-instance-class" not in command and "DBInstanceClass" not in command


def test_route53_swap_command_upserts_the_configured_record() -> None:
    swap = build_plan(request(), Config(), zone_id="Z123", new_endpoint="new.rds.example")[4]
    assert "change-resource-record-sets --hosted-zone-id Z123" in (swap.command or "")
    assert '"Action":"UPSERT"' in (swap.command or "")
    assert "db.videowindow.internal." in (swap.command or "")
    assert "new.rds.example" in (swap.command or "")


def test_rename_swap_is_two_renames_and_warns() -> None:
    req = request(swap=SwapMethod.RENAME)
    swap = build_plan(req, Config(), now=NOW)[4]
    lines = (swap.command or "").splitlines()
    assert "--new-db-instance-identifier video-window-old-202511111200" in lines[0]
    assert "--db-instance-identifier video-window-recovery-202511111200 " \
           "--new-db-instance-identifier video-window" in lines[1]
    warnings = plan_warnings(req, Config())
    assert any("DNS" in w for w in warnings)
    assert any("protected" in w and "rename" in w for w in warnings)


def test_cleanup_takes_a_final_snapshot_by_default() -> None:
    unprotected = Config(instances=InstancesConfig(production="video-window", protected=()),
                         dns=DnsConfig(staging_record="db-staging.videowindow.internal."))
    cleanup = build_plan(request(source="video-window-staging"), unprotected, now=NOW)[-1]
    final = "--final-db-snapshot-identifier video-window-staging-final-202511111200"
    assert final in (cleanup.command or "")
    assert "--skip-final-snapshot" not in (cleanup.command or "")


def test_cross_region_plan_is_a_prerequisite_check() -> None:
    plan = build_plan(request(Scenario.CROSS_REGION), Config())
    assert [s.key for s in plan] == ["prerequisites"]
    assert not plan[0].mutating


def test_request_roundtrips_through_json() -> None:
    req = request(swap=SwapMethod.RENAME, dry_run=True)
    assert RecoveryRequest.from_json(req.to_json()) == req


@pytest.mark.parametrize(("kw", "says"), [
    ({"target": "video-window"}, "that is the source"),
    ({"restore_time": None}, "restore time"),
])
def test_incomplete_requests_are_refused(kw: dict[str, Any], says: str) -> None:
    with pytest.raises(RecoveryInputError, match=says):
        check_request(request(**kw))
    with pytest.raises(RecoveryInputError, match="snapshot"):
        check_request(request(Scenario.SNAPSHOT, snapshot_id=None))
    with pytest.raises(RecoveryInputError, match="recovery point"):
        check_request(request(Scenario.AWS_BACKUP, recovery_point_arn=None))


def test_unprotected_source_has_no_protection_warning() -> None:
    config = Config(instances=InstancesConfig(production="video-window", protected=()),
                    dns=DnsConfig(staging_record="db-staging.videowindow.internal."))
    warnings = plan_warnings(request(source="video-window-staging"), config)
    assert warnings == ()


def test_a_staging_swap_never_names_production_s_record() -> None:
    # The monthly drill restores staging: its Route53 swap repoints staging's record, or, with
    # none configured (the default), no record at all: a swap by hand, no AWS call.
    drill = request(source="video-window-staging")
    swap = build_plan(drill, Config())[4]
    assert swap.key == "swap" and swap.command is None and not swap.mutating
    assert "by hand" in swap.title and "db.videowindow.internal." not in swap.title
    assert any("No DNS record is configured for video-window-staging" in w
               for w in plan_warnings(drill, Config()))
    staging_dns = Config(dns=DnsConfig(staging_record="db-staging.videowindow.internal."))
    swap = build_plan(drill, staging_dns, zone_id="Z1", new_endpoint="new.example")[4]
    words = shlex.split(swap.command or "")
    assert swap.mutating and "db-staging.videowindow.internal." in swap.title
    assert "db-staging.videowindow.internal." in " ".join(words)
    assert "db.videowindow.internal." not in " ".join(words)
    # Production's plan repoints production's record.
    assert "db.videowindow.internal." in (build_plan(request(), Config())[4].command or "")


def test_verify_says_where_it_connects_when_database_host_overrides_the_endpoint() -> None:
    # A tunnel set in database.host reaches one database, not necessarily the restored one.
    plain = build_plan(request(), Config())[2]
    assert plain.key == "verify" and not any("database.host" in n for n in plain.notes)
    tunnel = Config(database=DatabaseConfig(host="127.0.0.1", port=6543))
    notes = " ".join(build_plan(request(), tunnel)[2].notes)
    assert ("Connects to 127.0.0.1:6543 (database.host), not to the endpoint of "
            "video-window-recovery-202511111200") in notes
