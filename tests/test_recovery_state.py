"""The run's state decides what may happen next, without AWS, PostgreSQL or a terminal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vwtui.config import Config, InstancesConfig
from vwtui.recovery.plan import RecoveryRequest, Scenario, StepKey, SwapMethod, build_plan
from vwtui.recovery.state import (
    RUN_END,
    STEP_END,
    STEP_START,
    TICK,
    Action,
    RecoveryStateError,
    RunState,
    StepStatus,
    SwapResult,
    Tone,
)

NOW = datetime(2025, 11, 11, 11, 0, tzinfo=UTC)
REQUEST = RecoveryRequest(Scenario.PITR, "video-window", "video-window-recovery-202511111100",
                          incident_time=NOW - timedelta(minutes=20),
                          restore_time=NOW - timedelta(minutes=30), requested_at=NOW)


def state(request: RecoveryRequest = REQUEST, config: Config | None = None) -> RunState:
    config = config or Config()
    return RunState.new("run-1", request, config, build_plan(request, config, now=NOW), NOW)


def finish_until(run: RunState, key: StepKey) -> None:
    while run.current is not None and run.current.key != key:
        step = run.current
        run.begin(step, NOW)
        run.end(step, StepStatus.DONE, "ok", NOW)


def test_a_new_run_may_go_skip_or_abort_and_nothing_while_busy() -> None:
    run = state()
    assert run.allowed_actions(busy=False) == {Action.GO, Action.SKIP, Action.ABORT}
    assert run.allowed_actions(busy=True) == frozenset()
    assert run.hint(busy=False).text.startswith("g: run “Restore video-window")
    assert run.hint(busy=True).text.startswith("⟳ restore in progress")


def test_a_failed_step_allows_retry_skip_abort_never_go() -> None:
    run = state()
    step = run.current
    assert step is not None
    assert run.begin(step, NOW)[0][0] == STEP_START
    kind, fields = run.fail(step, "AccessDenied", None, NOW)
    assert (kind, fields["outcome"]) == (STEP_END, "failed")
    assert run.allowed_actions(busy=False) == {Action.RETRY, Action.SKIP, Action.ABORT}
    assert run.hint(busy=False).tone is Tone.ERROR
    with pytest.raises(RecoveryStateError, match="Retry it"):
        run.check_may_run(busy=False)
    retried, record = run.retry()
    assert retried is step and step.status is StepStatus.PENDING and record[1]["outcome"] == "retry"
    assert run.restore_attempted  # the failed attempt may have reached AWS


def test_the_swap_waits_for_its_ticks_then_asks_before_moving_traffic() -> None:
    run = state()
    finish_until(run, StepKey.SWAP)
    swap = run.current
    assert swap is not None
    run.begin(swap, NOW)
    run.end(swap, StepStatus.WAITING, "Tick first", NOW)
    assert run.begin(swap, NOW) == []  # the swap's first start is journaled once
    run.end(swap, StepStatus.WAITING, "Tick first", NOW)
    assert run.go_refusal() == ("Tick first: 1 Set maintenance mode, 2 Stop application "
                                "connections. Then g runs the swap.")
    assert Action.TICK in run.allowed_actions(busy=False)
    with pytest.raises(RecoveryStateError, match="only after the swap"):
        run.tick("resume", NOW)
    assert run.next_tick() == ("maintenance", None)
    _, records = run.tick("maintenance", NOW)
    assert records[0][0] == TICK
    assert run.tick("maintenance", NOW)[1] == []  # a second tick changes nothing
    run.tick("stop-connections", NOW)
    assert run.go_refusal() is None
    assert run.swap_needs_confirmation()
    assert run.hint(busy=False).text == "swap: g runs the swap · s skip · a abort"
    run.swapped(SwapResult(method="route53", new_value="new.example", old_value="old.example",
                           record="db.example.", replaced="video-window"))
    assert not run.swap_needs_confirmation()
    assert run.next_tick() == ("resume", None)
    assert "once the application is back" in (run.go_refusal() or "")
    run.tick("resume", NOW)
    assert run.resumes_after_tick("resume")


def test_cleanup_never_offers_a_protected_or_foreign_instance() -> None:
    run = state()
    finish_until(run, StepKey.CLEANUP)
    cleanup = run.current
    assert cleanup is not None
    run.begin(cleanup, NOW)
    run.end(cleanup, StepStatus.WAITING, "protected", NOW)
    assert run.replaced == "video-window" and run.delete_block() == "protected"
    assert Action.CLEANUP not in run.allowed_actions(busy=False)
    assert Action.GO not in run.allowed_actions(busy=False)

    unprotected = Config(instances=InstancesConfig(protected=()))
    rename = RecoveryRequest(Scenario.PITR, "video-window-staging",
                             "video-window-staging-recovery-202511111100",
                             restore_time=NOW - timedelta(minutes=30), requested_at=NOW,
                             swap=SwapMethod.RENAME)
    other = state(rename, unprotected)
    finish_until(other, StepKey.CLEANUP)
    assert other.delete_block() == "not-owned"  # the rename never happened in this run
    other.renamed_to("video-window-staging", other.retired)
    assert other.delete_block() is None and other.can_delete_replaced()


def test_serving_and_cleanup_candidates_follow_the_swap() -> None:
    run = state()
    run.issued([REQUEST.target])
    assert run.cleanup_candidates() == [REQUEST.target]
    run.swapped(SwapResult(method="route53", new_value="x", replaced="video-window"))
    assert run.serving == {REQUEST.target}
    assert run.cleanup_candidates() == []  # never the instance now in service


def test_skipping_the_last_step_finishes_the_run_and_stops_the_clock() -> None:
    run = state()
    with pytest.raises(RecoveryStateError, match="Say why"):
        run.skip("  ", NOW, busy=False)
    records = []
    while run.current is not None:
        records += run.skip("drill", NOW + timedelta(hours=1), busy=False)[1]
    assert records[-1][0] == RUN_END and run.finished and run.outcome == "finished"
    assert records[-1][1]["rto_seconds"] == 3600
    assert run.allowed_actions(busy=False) == frozenset()
    assert run.hint(busy=False).tone is Tone.DONE
