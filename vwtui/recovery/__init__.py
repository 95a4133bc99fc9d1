"""The recovery engine (issue 3): runbook scenarios 1-4 as plans, runs, a journal and a clock.

No Textual, no boto3, no psycopg here; the screens build on this API. Mutating AWS calls and
their guardrails are in `vwtui.services.recovery_ops.RecoveryOps`.

plan.py
    Scenario (pitr, snapshot, aws-backup, cross-region), SwapMethod (route53, rename),
    RecoveryRequest (frozen; to_json/from_json), PlannedStep(key, title, estimate, mutating,
    command, notes), RecoveryInputError.
    target_identifier(now), parse_utc(text), check_restore_time(window, t, now),
    check_incident_time(incident, restore_time, now), implied_rpo(incident, restore_time),
    check_request(request), build_plan(request, config, *, zone_id, new_endpoint, replaced, now),
    plan_warnings(request, config), total_estimate(plan), retired_identifier(source, now),
    final_snapshot_identifier(id, now), restore_job_metadata(...), cli_* (the `aws ...` twins),
    STEP_ESTIMATES, SWAP_CHECKLIST_BEFORE / SWAP_CHECKLIST_AFTER, RENAME_WARNING.
clock.py
    RtoClock(started_at, target, rpo_target, finished_at=None): elapsed(now), fraction(now),
    level(now) -> ClockLevel (ok / warn >= 75 % / breach), symbol(now), remaining(now),
    eta(now, remaining), eta_within_target(now, remaining), rpo_achieved(incident, point),
    rpo_met(...), stopped(at); ClockLevel.symbol; format_duration(delta).
state.py
    The run as data and its transitions (pure): RunState (steps, clock, what the run created,
    renamed, deleted, the swap's result) with begin/end/fail/skip/tick/retry/abort/finish, each
    returning the journal records it produces; the one place that decides what may happen next:
    allowed_actions(busy), hint(busy), swap_gate(), go_refusal(), can_delete_replaced(),
    cleanup_candidates(). StepKey, StepStatus, Action, StepState, ChecklistItem, SwapResult,
    RunUpdate, Troubleshooting, RecoveryStateError, StepFailed.
steps/
    One executor per step (restore, wait, verify, swap with its three strategies, cleanup,
    prerequisites), each given the run's context and a narrow protocol of the calls it needs.
journal.py
    Journal.create(run_id, dir) / Journal.open(path) / append(event, **fields) (fsync'd),
    load_run(path) -> RunRecord, unfinished_runs(state_base=None) -> list[RunRecord],
    state_dir(), runs_dir(), JournalError.
guardrails.py
    check_writable, check_not_protected, check_owned, check_confirmation, check_delete,
    check_rename, check_create (each raises GuardrailError with the reason).
verify.py
    judge(report, *, restore_point, reference, reference_kind) -> Verification (checks, overall,
    passed, failures, summary()), VerifyCheck, CheckVerdict (pass / warn / fail), ReferenceKind,
    Baseline, save_baseline / load_baseline.
troubleshooting.py
    the runbook's troubleshooting per failure case (Troubleshooting objects).
The driver that runs the executors and writes the journal is `vwtui.orchestrator.RecoveryRun`:
it sits above this package and `vwtui.services` (nothing in services imports recovery).
"""
