"""The recovery ETA follows AWS's own estimate of a restore job when AWS gives one
(ExpectedCompletionTimeMinutes, else PercentDone), and the plan's estimate otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vwtui.model import RestoreJob
from vwtui.recovery.clock import RtoClock, aws_restore_eta
from vwtui.recovery.state import StepStatus
from vwtui.recovery.step_state import StepState

NOW = datetime(2025, 11, 11, 10, 30, tzinfo=UTC)


def restore_job(*, status: str = "RUNNING", percent: str | None = None,
                minutes: int | None = None, started_minutes_ago: float = 30) -> RestoreJob:
    return RestoreJob(job_id="rj-1", status=status, percent_done=percent,
                      expected_minutes=minutes, created_resource_arn=None, status_message=None,
                      created=NOW - timedelta(minutes=started_minutes_ago), completed=None)


def test_expected_completion_minutes_count_from_the_jobs_creation() -> None:
    assert aws_restore_eta(restore_job(minutes=90), NOW) == NOW + timedelta(minutes=60)
    # Past its own estimate, the job is still running: never an ETA in the past.
    assert aws_restore_eta(restore_job(minutes=10), NOW) == NOW


def test_percent_done_projects_the_time_taken_so_far() -> None:
    assert aws_restore_eta(restore_job(percent="25.00%"), NOW) == NOW + timedelta(minutes=90)
    assert aws_restore_eta(restore_job(percent="75"), NOW) == NOW + timedelta(minutes=10)
    # The minutes win over the percentage when AWS gives both.
    both = restore_job(percent="25%", minutes=40)
    assert aws_restore_eta(both, NOW) == NOW + timedelta(minutes=10)


def test_no_estimate_when_aws_gives_none_or_the_job_ended() -> None:
    assert aws_restore_eta(restore_job(), NOW) is None
    assert aws_restore_eta(restore_job(percent="0"), NOW) is None
    assert aws_restore_eta(restore_job(percent="n/a"), NOW) is None
    assert aws_restore_eta(restore_job(status="COMPLETED", minutes=90), NOW) is None


def test_the_run_eta_uses_aws_estimate_for_the_running_step() -> None:
    clock = RtoClock(started_at=NOW - timedelta(hours=1), target=timedelta(hours=4),
                     rpo_target=timedelta(hours=1))
    wait = StepState(key="wait", title="Wait", status=StepStatus.RUNNING,
                     started_at=NOW - timedelta(minutes=30), estimate=timedelta(minutes=45))
    verify = StepState(key="verify", title="Verify", estimate=timedelta(minutes=20))
    # The plan's estimate: 15 min left of the wait, then the verify.
    assert clock.eta(NOW, [s.remaining_estimate(NOW) for s in (wait, verify)]) == \
        NOW + timedelta(minutes=35)
    wait.aws_eta = aws_restore_eta(restore_job(minutes=150), NOW)  # AWS: two more hours
    assert wait.remaining_estimate(NOW) == timedelta(hours=2)
    assert clock.eta(NOW, [s.remaining_estimate(NOW) for s in (wait, verify)]) == \
        NOW + timedelta(minutes=140)
    assert clock.eta_within_target(NOW, [s.remaining_estimate(NOW) for s in (wait, verify)])
    wait.aws_eta = aws_restore_eta(restore_job(minutes=250), NOW)  # 1 h + 220 min + 20 min
    assert not clock.eta_within_target(NOW, [s.remaining_estimate(NOW)
                                             for s in (wait, verify)])
    wait.status = StepStatus.DONE
    assert wait.remaining_estimate(NOW) == timedelta(0)
