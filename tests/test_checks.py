"""The checks as pure functions: each one passing, failing, and unknown when its data is missing.

Arranged as the runbook reads: daily checks, the weekly checklist, compliance, then the
troubleshooting that a failing item opens. No AWS, no terminal here (see
test_checks_sandbox.py for the same checks against the sandbox account).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from vwtui import checks
from vwtui.checks import Readings, Unreadable
from vwtui.config import Config
from vwtui.diagnosis import ENTRIES, diagnose
from vwtui.model import (
    Alarm,
    AlarmState,
    BackupJob,
    BackupPlan,
    BackupRule,
    CopyAction,
    EventRule,
    Instance,
    PitrWindow,
    RdsEvent,
    RecoveryPoint,
    Snapshot,
    SnsSubscription,
    SnsTopic,
    Trail,
    Verdict,
)

NOW = datetime(2025, 11, 17, 12, 0, tzinfo=UTC)
PROD = "video-window"
PROD_ARN = f"arn:aws:rds:eu-west-1:123456789012:db:{PROD}"
TOPIC = "video-window-backup-notifications"
TOPIC_ARN = f"arn:aws:sns:eu-west-1:123456789012:{TOPIC}"
TRAIL = Trail("audit", "arn:aws:cloudtrail:eu-west-1:123456789012:trail/audit", "us-east-1",
              multi_region=True, logging=True, management_events=True)
DENIED = Unreadable("the things", "backup:ListBackupJobs was denied for this identity.")


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def snap(hours: float, *, kind: str = "automated", size: int = 100, encrypted: bool = True,
         status: str = "available", name: str | None = None) -> Snapshot:
    created = hours_ago(hours)
    return Snapshot(identifier=name or f"rds:{PROD}-{created:%Y-%m-%d-%H-%M}",
                    arn=f"arn:aws:rds:eu-west-1:123456789012:snapshot:x{hours}",
                    instance_identifier=PROD, snapshot_type=kind, created=created,
                    status=status, allocated_storage_gb=size, encrypted=encrypted,
                    engine="postgres", engine_version="15.4")


def point(hours: float, *, size: int | None = 10 * 2**30, encrypted: bool = True,
          status: str = "COMPLETED", resource: str = PROD_ARN) -> RecoveryPoint:
    return RecoveryPoint(arn=f"arn:aws:backup:eu-west-1:123456789012:recovery-point:rp-{hours}",
                         vault="video-window-backup-vault", resource_arn=resource,
                         resource_type="RDS", created=hours_ago(hours),
                         completed=hours_ago(hours - 0.5), status=status, size_bytes=size,
                         encrypted=encrypted, delete_after_days=30, iam_role_arn=None)


def job(hours: float, state: str = "COMPLETED", message: str | None = None) -> BackupJob:
    return BackupJob(job_id=f"job-{hours}-{state}", vault="video-window-backup-vault",
                     resource_arn=PROD_ARN, state=state, status_message=message,
                     created=hours_ago(hours), completed=hours_ago(hours - 0.5),
                     size_bytes=None)


def alarm(name: str, state: AlarmState = AlarmState.OK, actions: tuple[str, ...] = (TOPIC_ARN,),
          exists: bool = True) -> Alarm:
    return Alarm(name=name, state=state, reason="Threshold Crossed" if state is AlarmState.ALARM
                 else "ok", updated=hours_ago(3), metric="TimeSinceLastBackup",
                 namespace="VideoWindow/Backup", threshold=90000.0, alarm_actions=actions,
                 exists=exists)


def instance(name: str = PROD, *, encrypted: bool = True, retention: int = 7) -> Instance:
    return Instance(identifier=name, arn=f"arn:aws:rds:eu-west-1:123456789012:db:{name}",
                    status="available", engine="postgres", engine_version="15.4",
                    instance_class="db.t3.micro", allocated_storage_gb=100,
                    storage_encrypted=encrypted, kms_key_id="arn:aws:kms:eu-west-1:1:key/abc"
                    if encrypted else None, backup_retention_days=retention,
                    latest_restorable_time=hours_ago(0.1), subnet_group="default",
                    security_groups=(), endpoint_address=None, endpoint_port=None,
                    multi_az=False, created=hours_ago(24 * 90), backup_window="03:00-04:00")


def plan(*rules: BackupRule) -> BackupPlan:
    return BackupPlan(plan_id="p1", name="video-window-database-backup-plan", arn="arn:plan",
                      rules=rules or (BackupRule("daily", "video-window-backup-vault",
                                                 "cron(0 5 * * ? *)", 30),))


FAILED_RULE_PATTERN = ('{"source": ["aws.backup"], "detail-type": ["Backup Job State Change"], '
                       '"detail": {"state": ["FAILED", "EXPIRED"]}}')


def healthy() -> Readings:
    snaps = [snap(9 + 24 * d, size=100 + d // 10) for d in range(30)]
    points = [point(7 + 24 * d) for d in range(30)]
    return Readings(
        now=NOW, region="eu-west-1", production=PROD,
        instances={PROD: instance(), "video-window-staging": instance("video-window-staging")},
        pitr_window=PitrWindow(PROD, NOW - timedelta(days=7), hours_ago(0.1), 7),
        replications=(),
        snapshots=snaps, recovery_points=points,
        backup_jobs=[job(7 + 24 * d) for d in range(7)] + [job(24 * 12, "FAILED")],
        alarms=[alarm("video-window-backup-age"), alarm("video-window-backup-failure")],
        rds_events=[RdsEvent(hours_ago(9), PROD, "db-instance", "Finished DB Instance backup",
                             ("backup",))],
        backup_plan=plan(),
        sns_topic=SnsTopic(TOPIC, TOPIC_ARN, (
            SnsSubscription(f"{TOPIC_ARN}:sub1", "email", "ops@example.com"),
            SnsSubscription(f"{TOPIC_ARN}:sub2", "sms", "+15555550100"))),
        event_rules=[EventRule("video-window-backup-failed", "arn:rule", "ENABLED",
                               FAILED_RULE_PATTERN, (TOPIC_ARN,))],
        trails=[TRAIL],
    )


def by_id(readings: Readings) -> dict[str, checks.CheckResult]:
    return {r.id: r for r in checks.evaluate(readings, Config())}


def test_a_healthy_account_passes_every_check() -> None:
    results = checks.evaluate(healthy(), Config())
    assert [r.id for r in results if r.verdict is not Verdict.PASS] == []
    assert len(results) == 19
    assert {r.group for r in results} == {"daily", "weekly", "compliance"}
    assert checks.exit_status(results) == 0
    assert all(r.evidence for r in results)


# ---- daily ---------------------------------------------------------------------------------

def test_a_failed_job_in_the_last_24_hours_fails_job_completion() -> None:
    result = checks.check_backup_jobs(
        [job(5), job(2, "FAILED", "Insufficient privileges to perform the backup")], NOW, 25)
    assert result.verdict is Verdict.FAIL
    assert any("FAILED" in e and "Insufficient privileges" in e for e in result.evidence)
    assert result.diagnosis == "backup-job-fails"


def test_a_failure_followed_by_a_completed_job_of_the_same_resource_is_resolved() -> None:
    failed = job(5, "FAILED", "Storage full")
    result = checks.check_backup_jobs([failed, job(2)], NOW, 25)
    assert result.verdict is Verdict.PASS
    assert any("Storage full" in e and "resolved: job job-2-COMPLETED" in e
               for e in result.evidence)
    other = dataclasses.replace(job(2), resource_arn=PROD_ARN + "-staging")
    assert checks.check_backup_jobs([failed, other], NOW, 25).verdict is Verdict.FAIL


def test_an_old_failure_does_not_fail_the_daily_job_check() -> None:
    result = checks.check_backup_jobs([job(2), job(30, "FAILED")], NOW, 25)
    assert result.verdict is Verdict.PASS


def test_no_completed_job_in_24_hours_fails() -> None:
    result = checks.check_backup_jobs([job(30), job(3, "RUNNING")], NOW, 25)
    assert result.verdict is Verdict.FAIL
    assert "no backup job completed" in result.evidence[0]


def test_unreadable_jobs_are_unknown_never_pass() -> None:
    result = checks.check_backup_jobs(DENIED, NOW, 25)
    assert result.verdict is Verdict.UNKNOWN
    assert "denied" in result.evidence[0]


@pytest.mark.parametrize(("age", "verdict"), [(24.9, Verdict.PASS), (25.1, Verdict.FAIL)])
def test_snapshot_age_against_the_25_hour_limit(age: float, verdict: Verdict) -> None:
    result = checks.check_snapshot_age([snap(age), snap(age + 24)], NOW, 25)
    assert result.verdict is verdict
    assert snap(age).identifier in result.evidence[0]


def test_a_backup_from_the_future_is_unknown_and_blames_the_clock() -> None:
    result = checks.check_snapshot_age([snap(-2)], NOW, 25)
    assert result.verdict is Verdict.UNKNOWN
    assert "in the future: check this host's clock" in result.evidence[0]


def test_snapshot_age_looks_only_at_available_automated_snapshots() -> None:
    fresh_manual = snap(1, kind="manual")
    creating = snap(2, status="creating")
    result = checks.check_snapshot_age([fresh_manual, creating, snap(30)], NOW, 25)
    assert result.verdict is Verdict.FAIL
    assert checks.check_snapshot_age([], NOW, 25).verdict is Verdict.FAIL
    assert checks.check_snapshot_age(DENIED, NOW, 25).verdict is Verdict.UNKNOWN


def test_recovery_point_age_counts_only_the_production_instance() -> None:
    staging = point(1, resource="arn:aws:rds:eu-west-1:123456789012:db:video-window-staging")
    result = checks.check_recovery_point_age([staging, point(40)], PROD, NOW, 25)
    assert result.verdict is Verdict.FAIL
    assert "older than 25 h" in result.evidence[0]
    assert checks.check_recovery_point_age([point(3)], PROD, NOW, 25).verdict is Verdict.PASS
    assert checks.check_recovery_point_age([staging], PROD, NOW, 25).verdict is Verdict.FAIL
    assert checks.check_recovery_point_age(DENIED, PROD, NOW, 25).verdict is Verdict.UNKNOWN


def test_a_partial_recovery_point_is_not_a_backup() -> None:
    result = checks.check_recovery_point_age([point(2, status="PARTIAL"), point(30)], PROD,
                                             NOW, 25)
    assert result.verdict is Verdict.FAIL


def test_size_within_tolerance_passes_and_a_shrunk_backup_fails() -> None:
    steady = [point(7 + 24 * d, size=10_000 + d) for d in range(10)]
    ok = checks.check_size_consistency([snap(9), snap(33)], steady, PROD, 0.2)
    assert ok.verdict is Verdict.PASS
    shrunk = [point(7, size=4_000), *steady[1:]]
    bad = checks.check_size_consistency([snap(9), snap(33)], shrunk, PROD, 0.2)
    assert bad.verdict is Verdict.FAIL
    assert any("recovery points" in e and "tolerance" in e for e in bad.evidence)


def test_size_baseline_is_the_median_of_the_trailing_backups() -> None:
    # One outlier among the trailing ones does not move the median.
    sizes = [100, 100, 100, 500, 100, 100, 100, 100]
    snaps = [snap(9 + 24 * i, size=s) for i, s in enumerate(sizes)]
    result = checks.check_size_consistency(snaps, [], PROD, 0.2)
    assert any("snapshots: newest 100 GB vs median 100 GB" in e for e in result.evidence)
    grown = [snap(9, size=130), *snaps[1:]]
    assert checks.check_size_consistency(grown, [point(1), point(2)], PROD,
                                         0.2).verdict is Verdict.FAIL
    assert checks.check_size_consistency(grown, [point(1), point(2)], PROD,
                                         0.35).verdict is Verdict.PASS


def test_size_with_too_little_history_or_no_data_is_unknown() -> None:
    assert checks.check_size_consistency([snap(9)], [point(7)], PROD,
                                         0.2).verdict is Verdict.UNKNOWN
    assert checks.check_size_consistency(DENIED, DENIED, PROD, 0.2).verdict is Verdict.UNKNOWN
    # Evidence of a failure wins over a missing reading.
    bad = [point(7, size=1)] + [point(31 + 24 * d) for d in range(5)]
    assert checks.check_size_consistency(DENIED, bad, PROD, 0.2).verdict is Verdict.FAIL


def test_one_unencrypted_snapshot_fails_encryption_and_is_named() -> None:
    plain = snap(200, kind="manual", encrypted=False, name="pre-migration")
    result = checks.check_backup_encryption([snap(9), plain], [point(7)])
    assert result.verdict is Verdict.FAIL
    assert any("pre-migration" in e and "NOT encrypted" in e for e in result.evidence)
    points = checks.check_backup_encryption([snap(9)], [point(7, encrypted=False)])
    assert points.verdict is Verdict.FAIL
    assert checks.check_backup_encryption([snap(9)], [point(7)]).verdict is Verdict.PASS
    assert checks.check_backup_encryption([snap(9)], DENIED).verdict is Verdict.UNKNOWN


def test_many_findings_are_cut_with_a_count() -> None:
    plain = [snap(24 * d, encrypted=False) for d in range(1, 12)]
    result = checks.check_backup_encryption(plain, [])
    assert result.evidence[5] == "... and 6 more"


# ---- weekly --------------------------------------------------------------------------------

def test_latest_backup_exists_in_rds_snapshots() -> None:
    result = checks.check_latest_snapshot_exists([snap(30), snap(3, kind="manual")], PROD,
                                                 NOW, 25)
    assert result.verdict is Verdict.PASS
    assert "manual snapshot" in result.evidence[0]
    assert checks.check_latest_snapshot_exists([snap(30)], PROD, NOW,
                                               25).verdict is Verdict.FAIL
    assert checks.check_latest_snapshot_exists([], PROD, NOW, 25).verdict is Verdict.FAIL
    assert checks.check_latest_snapshot_exists(DENIED, PROD, NOW,
                                               25).verdict is Verdict.UNKNOWN


def test_vault_contains_recent_backups_of_production() -> None:
    vault = "video-window-backup-vault"
    assert checks.check_vault_has_recent_backups([point(7)], vault, PROD, NOW,
                                                 25).verdict is Verdict.PASS
    stale = checks.check_vault_has_recent_backups([point(50), point(74)], vault, PROD, NOW, 25)
    assert stale.verdict is Verdict.FAIL
    assert "2 d 2 h ago" in stale.evidence[0]
    # A fresh backup of another database in the same vault does not make production's fresh.
    staging = point(2, resource=PROD_ARN + "-staging")
    mixed = checks.check_vault_has_recent_backups([point(50), staging], vault, PROD, NOW, 25)
    assert mixed.verdict is Verdict.FAIL
    assert "recovery point of video-window created" in mixed.evidence[0]
    only_staging = checks.check_vault_has_recent_backups([staging], vault, PROD, NOW, 25)
    assert only_staging.verdict is Verdict.FAIL
    assert "no completed recovery point of video-window" in only_staging.evidence[0]
    assert checks.check_vault_has_recent_backups([], vault, PROD, NOW,
                                                 25).verdict is Verdict.FAIL
    assert checks.check_vault_has_recent_backups(DENIED, vault, PROD, NOW,
                                                 25).verdict is Verdict.UNKNOWN


def test_an_alarm_in_alarm_fails_and_a_missing_alarm_is_unknown() -> None:
    firing = checks.check_no_alarm_triggered([alarm("a"), alarm("b", AlarmState.ALARM)])
    assert firing.verdict is Verdict.FAIL
    assert any("b is in ALARM" in e for e in firing.evidence)
    missing = checks.check_no_alarm_triggered([alarm("a"), alarm("b", exists=False)])
    assert missing.verdict is Verdict.UNKNOWN
    quiet = checks.check_no_alarm_triggered([alarm("a"), alarm("b",
                                                                AlarmState.INSUFFICIENT_DATA)])
    assert quiet.verdict is Verdict.PASS
    assert checks.check_no_alarm_triggered(DENIED).verdict is Verdict.UNKNOWN


def test_backup_logs_show_failed_jobs_and_failure_events_of_the_week() -> None:
    result = checks.check_backup_logs([job(50), job(30, "FAILED", "Storage full")], [], NOW)
    assert result.verdict is Verdict.FAIL
    assert any("Storage full" in e for e in result.evidence)
    event = RdsEvent(hours_ago(20), PROD, "db-instance", "Backup failed: storage full",
                     ("failure",))
    by_event = checks.check_backup_logs([job(30)], [event], NOW)
    assert by_event.verdict is Verdict.FAIL
    old = checks.check_backup_logs([job(24 * 8, "FAILED")], [], NOW)
    assert old.verdict is Verdict.PASS
    assert checks.check_backup_logs([job(3)], DENIED, NOW).verdict is Verdict.UNKNOWN


def test_a_failure_a_later_job_resolved_still_fails_the_weekly_logs() -> None:
    """The issue's account: storage-full FAILED, then a later job completed. The reviewer must
    be asked about it: the item fails, and says it was resolved and when."""
    jobs = [job(50, "FAILED", "Storage full"), job(30)]
    resolved = checks.check_backup_logs(jobs, [], NOW)
    assert resolved.verdict is Verdict.FAIL
    line = next(e for e in resolved.evidence if "Storage full" in e)
    assert "resolved: job job-30-COMPLETED completed at 2025-11-16 06:30 UTC" in line
    assert "1 failed backup job(s) in the last 7 d, 0 not yet resolved" in "\n".join(
        resolved.evidence)
    expired = checks.check_backup_logs([job(40, "EXPIRED"), job(20)], [], NOW)
    assert expired.verdict is Verdict.FAIL
    # The daily job-completion check still treats it as behind us.
    assert checks.check_backup_jobs(jobs, NOW, 72).verdict is Verdict.PASS


def test_the_weekly_review_period_starts_at_the_last_signoff() -> None:
    jobs = [job(50, "FAILED", "Storage full"), job(30)]
    after = checks.check_backup_logs(jobs, [], NOW, since=hours_ago(40))
    assert after.verdict is Verdict.PASS
    assert "no failed backup job since the last sign-off (2025-11-15 20:00 UTC)" in \
        after.evidence[0]
    before = checks.check_backup_logs(jobs, [], NOW, since=hours_ago(60))
    assert before.verdict is Verdict.FAIL
    # A sign-off older than the week does not widen the period.
    ancient = checks.check_backup_logs([job(24 * 9, "FAILED")], [], NOW,
                                       since=hours_ago(24 * 30))
    assert ancient.verdict is Verdict.PASS
    assert "in the last 7 d" in ancient.evidence[0]
    # Through evaluate: the readings carry the sign-off.
    readings = dataclasses.replace(healthy(), backup_jobs=jobs)
    assert by_id(readings)["weekly.backup_logs"].verdict is Verdict.FAIL
    signed = dataclasses.replace(readings, last_signoff=hours_ago(40))
    assert by_id(signed)["weekly.backup_logs"].verdict is Verdict.PASS


def test_sns_topic_needs_confirmed_email_and_sms_subscribers_each_listed() -> None:
    email = SnsSubscription(f"{TOPIC_ARN}:s1", "email", "ops@x")
    sms = SnsSubscription(f"{TOPIC_ARN}:s2", "sms", "+15555550100")
    both = checks.check_sns_subscribers(SnsTopic(TOPIC, TOPIC_ARN, (email, sms)), TOPIC)
    assert both.verdict is Verdict.PASS
    assert both.evidence == ("email subscriber ops@x (email, confirmed)",
                             "sms subscriber +15555550100 (sms, confirmed)")
    no_sms = checks.check_sns_subscribers(SnsTopic(TOPIC, TOPIC_ARN, (email,)), TOPIC)
    assert no_sms.verdict is Verdict.FAIL
    assert f"topic {TOPIC} has no confirmed sms subscriber" in no_sms.evidence
    pending = SnsSubscription("PendingConfirmation", "email", "x")
    unconfirmed = checks.check_sns_subscribers(SnsTopic(TOPIC, TOPIC_ARN, (pending, sms)),
                                               TOPIC)
    assert unconfirmed.verdict is Verdict.FAIL
    assert any("1 pending confirmation" in e for e in unconfirmed.evidence)
    assert checks.check_sns_subscribers(SnsTopic(TOPIC, None), TOPIC).verdict is Verdict.FAIL
    assert checks.check_sns_subscribers(DENIED, TOPIC).verdict is Verdict.UNKNOWN


def test_backup_age_alarm_watches_time_since_last_backup_at_25_hours() -> None:
    good = checks.check_backup_age_alarm([alarm("age")], "age", 25)
    assert good.verdict is Verdict.PASS
    assert "alarm age threshold is 90000 s (25 h)" in good.evidence
    wrong_metric = dataclasses.replace(alarm("age"), metric="FreeStorageSpace")
    result = checks.check_backup_age_alarm([wrong_metric], "age", 25)
    assert result.verdict is Verdict.FAIL
    assert "not TimeSinceLastBackup" in result.evidence[0]
    loose = dataclasses.replace(alarm("age"), threshold=48 * 3600.0)
    result = checks.check_backup_age_alarm([loose], "age", 25)
    assert result.verdict is Verdict.FAIL
    assert "threshold is 172800 s (2 d), not 90000 s (25 h)" in result.evidence[1]
    assert checks.check_backup_age_alarm([alarm("age", exists=False)], "age",
                                         25).verdict is Verdict.FAIL
    assert checks.check_backup_age_alarm(DENIED, "age", 25).verdict is Verdict.UNKNOWN


def test_backup_window_and_plan_schedule_match_the_config() -> None:
    args = ("03:00-04:00", "05:00", "video-window-database-backup-plan")
    assert checks.check_backup_schedule(instance(), plan(), *args).verdict is Verdict.PASS
    moved = dataclasses.replace(instance(), backup_window="22:00-23:00")
    result = checks.check_backup_schedule(moved, plan(), *args)
    assert result.verdict is Verdict.FAIL
    assert "is 22:00-23:00 UTC, not 03:00-04:00 UTC" in result.evidence[0]
    late = plan(BackupRule("daily", "v", "cron(30 7 ? * * *)", 30))
    result = checks.check_backup_schedule(instance(), late, *args)
    assert result.verdict is Verdict.FAIL
    assert "rule daily runs at 07:30 UTC, not 05:00 UTC" in result.evidence
    local = plan(BackupRule("daily", "v", "cron(0 5 ? * * *)", 30,
                            schedule_timezone="Europe/Berlin"))
    result = checks.check_backup_schedule(instance(), local, *args)
    assert result.verdict is Verdict.FAIL
    assert "runs at 05:00 Europe/Berlin" in result.evidence[1]
    assert checks.schedule_time("cron(0 5 ? * * *)") == "05:00"
    assert checks.schedule_time("rate(12 hours)") is None
    assert checks.check_backup_schedule(DENIED, plan(), *args).verdict is Verdict.UNKNOWN
    assert checks.check_backup_schedule(instance(), None, *args).verdict is Verdict.FAIL


def test_cloudtrail_must_log_api_access_in_the_region() -> None:
    assert checks.check_access_logged([TRAIL], "eu-west-1").verdict is Verdict.PASS
    here = dataclasses.replace(TRAIL, multi_region=False, home_region="eu-west-1")
    assert checks.check_access_logged([here], "eu-west-1").verdict is Verdict.PASS
    elsewhere = dataclasses.replace(TRAIL, multi_region=False)
    result = checks.check_access_logged([elsewhere], "eu-west-1")
    assert result.verdict is Verdict.FAIL
    assert "no CloudTrail trail logs API calls in eu-west-1 (1 trail(s) seen)" in \
        result.evidence
    stopped = checks.check_access_logged([dataclasses.replace(TRAIL, logging=False)],
                                         "eu-west-1")
    assert stopped.verdict is Verdict.FAIL
    assert "trail audit (all regions) is NOT logging" in stopped.evidence
    data_only = dataclasses.replace(TRAIL, management_events=False)
    assert checks.check_access_logged([data_only], "eu-west-1").verdict is Verdict.FAIL
    assert checks.check_access_logged([], "eu-west-1").verdict is Verdict.FAIL
    assert checks.check_access_logged(DENIED, "eu-west-1").verdict is Verdict.UNKNOWN


def test_failure_events_are_recognised_by_category_or_wording() -> None:
    assert checks.is_failure_event(RdsEvent(NOW, PROD, "db-instance", "x", ("failure",)))
    assert checks.is_failure_event(RdsEvent(NOW, PROD, "db-instance",
                                            "Automated backup failed", ()))
    assert not checks.is_failure_event(RdsEvent(NOW, PROD, "db-instance",
                                                "Finished DB Instance backup", ("backup",)))


# ---- compliance ----------------------------------------------------------------------------

def test_pitr_window_of_seven_days_passes_and_shorter_fails() -> None:
    seven = PitrWindow(PROD, NOW - timedelta(days=6, hours=12), hours_ago(0.1), 7)
    assert checks.check_pitr_window(seven, instance(), 7, NOW, 1).verdict is Verdict.PASS
    three = PitrWindow(PROD, NOW - timedelta(days=3), hours_ago(0.1), 3)
    result = checks.check_pitr_window(three, instance(retention=3), 7, NOW, 1)
    assert result.verdict is Verdict.FAIL
    assert any("BackupRetentionPeriod" in e and "3 d" in e for e in result.evidence)
    off = checks.check_pitr_window(seven, instance(retention=0), 7, NOW, 1)
    assert off.verdict is Verdict.FAIL
    assert "disabled" in off.evidence[0]


def test_a_pitr_window_that_stopped_reaching_now_fails() -> None:
    # Seven days long, but its latest restorable time is two days old: nothing of the last two
    # days can be restored to, whatever the span says.
    stale = PitrWindow(PROD, NOW - timedelta(days=9), NOW - timedelta(days=2), 7)
    result = checks.check_pitr_window(stale, instance(), 7, NOW, 1)
    assert result.verdict is Verdict.FAIL
    assert any("beyond the 1 h RPO" in e for e in result.evidence)
    fresh = PitrWindow(PROD, NOW - timedelta(days=7), NOW - timedelta(minutes=50), 7)
    assert checks.check_pitr_window(fresh, instance(), 7, NOW, 1).verdict is Verdict.PASS


def test_last_night_s_job_still_counts_until_the_backup_age_limit() -> None:
    # 05:10 UTC: today's job has not finished; yesterday's ended 24 h 40 min ago. Healthy.
    yesterday = BackupJob(job_id="job-y", vault="video-window-backup-vault",
                          resource_arn=PROD_ARN, state="COMPLETED", status_message=None,
                          created=hours_ago(25.2), completed=hours_ago(24.7), size_bytes=None)
    assert checks.check_backup_jobs([yesterday, job(0.2, "RUNNING")], NOW, 25).verdict \
        is Verdict.PASS
    assert checks.check_backup_jobs([yesterday], NOW + timedelta(hours=1), 25).verdict \
        is Verdict.FAIL


def test_pitr_window_unknown_without_a_restore_window() -> None:
    empty = PitrWindow(PROD, None, None, 7)
    assert checks.check_pitr_window(empty, instance(), 7, NOW, 1).verdict is Verdict.UNKNOWN
    window = PitrWindow(PROD, NOW - timedelta(days=7), NOW, 7)
    assert checks.check_pitr_window(window, DENIED, 7, NOW, 1).verdict is Verdict.UNKNOWN


def test_plan_lifecycle_must_be_thirty_days_on_every_rule() -> None:
    assert checks.check_plan_lifecycle(plan(), "p", 30).verdict is Verdict.PASS
    short = plan(BackupRule("daily", "v", None, 30), BackupRule("weekly", "v", None, 14))
    result = checks.check_plan_lifecycle(short, "p", 30)
    assert result.verdict is Verdict.FAIL
    assert any("weekly deletes after 14 d" in e for e in result.evidence)
    forever = checks.check_plan_lifecycle(plan(BackupRule("daily", "v", None, None)), "p", 30)
    assert forever.verdict is Verdict.FAIL
    assert checks.check_plan_lifecycle(None, "p", 30).verdict is Verdict.FAIL
    assert checks.check_plan_lifecycle(DENIED, "p", 30).verdict is Verdict.UNKNOWN


def test_encryption_at_rest_covers_instances() -> None:
    result = checks.check_encryption_at_rest(
        {PROD: instance(), "staging": instance("staging", encrypted=False)}, [snap(9)],
        [point(7)])
    assert result.verdict is Verdict.FAIL
    assert any("staging storage is NOT encrypted" in e for e in result.evidence)
    assert checks.check_encryption_at_rest({PROD: instance()}, [snap(9)],
                                           [point(7)]).verdict is Verdict.PASS
    assert checks.check_encryption_at_rest({PROD: DENIED}, [snap(9)],
                                           [point(7)]).verdict is Verdict.UNKNOWN


def test_a_copy_action_to_another_region_breaks_data_residency() -> None:
    abroad = CopyAction("arn:aws:backup:us-east-1:123456789012:backup-vault:dr", 30)
    at_home = CopyAction("arn:aws:backup:eu-west-1:123456789012:backup-vault:second", 30)
    result = checks.check_no_cross_region_copy(
        plan(BackupRule("daily", "v", None, 30, (abroad, at_home))), (), "eu-west-1", PROD)
    assert result.verdict is Verdict.FAIL
    assert any("copies to us-east-1" in e for e in result.evidence)
    same = checks.check_no_cross_region_copy(
        plan(BackupRule("daily", "v", None, 30, (at_home,))), (), "eu-west-1", PROD)
    assert same.verdict is Verdict.PASS


def test_replicated_automated_backups_break_data_residency() -> None:
    arn = "arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-1"
    result = checks.check_no_cross_region_copy(plan(), (arn,), "eu-west-1", PROD)
    assert result.verdict is Verdict.FAIL
    assert any("eu-central-1" in e for e in result.evidence)
    assert checks.check_no_cross_region_copy(plan(), DENIED, "eu-west-1",
                                             PROD).verdict is Verdict.UNKNOWN


def test_alarms_must_exist_and_notify_the_topic() -> None:
    names = ["age", "failure"]
    topic = SnsTopic(TOPIC, TOPIC_ARN, (SnsSubscription(f"{TOPIC_ARN}:s", "email", "ops@x"),))
    ok = checks.check_alarms_wired([alarm("age"), alarm("failure")], topic, names, TOPIC)
    assert ok.verdict is Verdict.PASS
    missing = checks.check_alarms_wired([alarm("age"), alarm("failure", exists=False)], topic,
                                        names, TOPIC)
    assert missing.verdict is Verdict.FAIL
    assert any("failure does not exist" in e for e in missing.evidence)
    unwired = checks.check_alarms_wired([alarm("age"), alarm("failure", actions=())], topic,
                                        names, TOPIC)
    assert unwired.verdict is Verdict.FAIL
    gone = checks.check_alarms_wired([alarm("age"), alarm("failure")], SnsTopic(TOPIC, None),
                                     names, TOPIC)
    assert gone.verdict is Verdict.FAIL
    assert checks.check_alarms_wired(DENIED, topic, names, TOPIC).verdict is Verdict.UNKNOWN


def test_eventbridge_rule_for_failed_backup_jobs() -> None:
    topic = SnsTopic(TOPIC, TOPIC_ARN)
    good = EventRule("r", "arn", "ENABLED", FAILED_RULE_PATTERN, (TOPIC_ARN,))
    assert checks.check_failed_backup_rule([good], topic, TOPIC).verdict is Verdict.PASS
    disabled = dataclasses.replace(good, state="DISABLED")
    result = checks.check_failed_backup_rule([disabled], topic, TOPIC)
    assert result.verdict is Verdict.FAIL
    assert "DISABLED" in result.evidence[0]
    completed_only = dataclasses.replace(good, event_pattern=FAILED_RULE_PATTERN.replace(
        '"FAILED", "EXPIRED"', '"COMPLETED"'))
    assert checks.check_failed_backup_rule([completed_only], topic,
                                           TOPIC).verdict is Verdict.FAIL
    failed_only = dataclasses.replace(good, event_pattern=FAILED_RULE_PATTERN.replace(
        '"FAILED", "EXPIRED"', '"FAILED"'))
    result = checks.check_failed_backup_rule([failed_only], topic, TOPIC)
    assert result.verdict is Verdict.FAIL
    assert "does not match EXPIRED" in result.evidence[0]
    no_target = dataclasses.replace(good, targets=())
    assert checks.check_failed_backup_rule([no_target], topic, TOPIC).verdict is Verdict.FAIL
    assert checks.check_failed_backup_rule([], topic, TOPIC).verdict is Verdict.FAIL
    assert checks.check_failed_backup_rule(DENIED, topic, TOPIC).verdict is Verdict.UNKNOWN


def test_one_unreadable_source_makes_only_its_checks_unknown() -> None:
    readings = dataclasses.replace(healthy(), backup_jobs=DENIED)
    results = by_id(readings)
    unknown = {i for i, r in results.items() if r.verdict is Verdict.UNKNOWN}
    assert unknown == {"daily.backup_jobs", "weekly.backup_logs"}
    assert checks.exit_status(results.values()) == 1
    assert checks.summary(results.values()) == {"pass": 17, "fail": 0, "unknown": 2}
    untraced = by_id(dataclasses.replace(healthy(), trails=DENIED))
    assert {i for i, r in untraced.items() if r.verdict is Verdict.UNKNOWN} == {
        "compliance.access_logged"}


def test_format_age() -> None:
    assert checks.format_age(timedelta(minutes=12)) == "12 min"
    assert checks.format_age(timedelta(hours=26, minutes=5)) == "26 h 5 min"
    assert checks.format_age(timedelta(days=3, hours=4)) == "3 d 4 h"
    assert checks.format_age(timedelta(seconds=-5)) == "in the future"


# ---- troubleshooting -----------------------------------------------------------------------

def test_a_failing_item_opens_the_runbook_diagnosis_with_what_was_read() -> None:
    readings = dataclasses.replace(
        healthy(), backup_jobs=[job(30), job(3, "FAILED", "Insufficient privileges")],
        rds_events=[RdsEvent(hours_ago(3), PROD, "db-instance", "Backup failed", ("failure",))])
    result = by_id(readings)["daily.backup_jobs"]
    assert result.verdict is Verdict.FAIL
    diagnosis = diagnose(result, readings, Config())
    text = {heading: lines for heading, lines in diagnosis.sections}
    assert diagnosis.entry.title == "Backup Job Fails"
    assert any("Insufficient privileges" in line
               for line in text["Failed backup jobs in video-window-backup-vault (last 7 d)"])
    assert any(line.startswith("!") and "Backup failed" in line
               for line in text["RDS events of video-window (last 7 d)"])
    assert text["Is PITR enabled? (BackupRetentionPeriod)"][0] == \
        "yes: BackupRetentionPeriod = 7 d"
    assert "1. Insufficient IAM permissions: verify backup role has required policies" in \
        text["Common causes"]
    assert any("--by-state FAILED" in c for c in text["Diagnosis commands"])


def test_diagnosis_says_when_pitr_is_off_and_when_data_was_unreadable() -> None:
    readings = dataclasses.replace(healthy(), instances={PROD: instance(retention=0)},
                                   rds_events=DENIED)
    result = by_id(readings)["compliance.pitr_window"]
    assert result.verdict is Verdict.FAIL
    diagnosis = diagnose(result, readings, Config())
    text = dict(diagnosis.sections)
    assert diagnosis.entry.title == "PITR Restore Fails"
    assert text["Is PITR enabled? (BackupRetentionPeriod)"][0].startswith("NO:")
    assert "denied" in text["RDS events of video-window (last 7 d)"][0]


def test_every_check_has_a_diagnosis_entry() -> None:
    for result in checks.evaluate(healthy(), Config()):
        assert result.diagnosis in ENTRIES


def test_a_snapshot_in_the_dr_region_breaks_data_residency() -> None:
    copy = dataclasses.replace(
        snap(30, kind="manual", name="video-window-copy"),
        arn="arn:aws:rds:eu-central-1:123456789012:snapshot:video-window-copy")
    # A listing that strays into the home region is not a copy abroad.
    stray = snap(9)
    assert checks.check_no_cross_region_copy(plan(), (), "eu-west-1", PROD, "eu-central-1",
                                             [stray]).verdict is Verdict.PASS
    result = checks.check_no_cross_region_copy(plan(), (), "eu-west-1", PROD, "eu-central-1",
                                               [copy])
    assert result.verdict is Verdict.FAIL
    assert any("video-window-copy" in e and "eu-central-1" in e for e in result.evidence)
    clean = checks.check_no_cross_region_copy(plan(), (), "eu-west-1", PROD, "eu-central-1", [])
    assert clean.verdict is Verdict.PASS
    assert "no snapshot of video-window in eu-central-1" in clean.evidence
    assert checks.check_no_cross_region_copy(plan(), (), "eu-west-1", PROD, "eu-central-1",
                                             DENIED).verdict is Verdict.UNKNOWN
