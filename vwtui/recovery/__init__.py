"""The recovery engine (issue 3): runbook scenarios 1-4 as plans, runs, a journal and a clock.

No Textual here; the screens build on this API. Mutating AWS calls and their guardrails are in
`vwtui.services.recovery_ops.RecoveryOps`.

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
    StepStatus (pending, running, waiting, done, failed, skipped), StepState (key, title,
    status, started_at, ended_at, detail, error, skip_reason, estimate, command, mutating,
    progress, troubleshooting, checklist; elapsed(now), remaining_estimate(now)),
    ChecklistItem(key, label, ticked_at), Troubleshooting(title, causes, commands, resolution,
    events).
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
runner.py
    RecoveryRun.start(request, config, aws, pg, *, state_base, poll_interval) (async) and
    RecoveryRun.resume(journal_path, config, aws, pg, ...) (async); attributes steps, clock,
    request, plan, run_id, journal_path, created, renamed, owned, restore_job_id,
    restore_point, new_instance, verification, swap_result, cross_region, finished, outcome;
    current, busy, eta(now), rpo_achieved, replaced, cleanup_candidates();
    subscribe(listener) -> unsubscribe (listener(RunUpdate(kind, step, message, time)));
    async run_step(), async run_until_blocked(), tick(item_key),
    async confirm_cleanup(typed, *, skip_final_snapshot=False), async retry(), skip(reason),
    async abort(cleanup, *, typed_confirmation="", skip_final_snapshot=False);
    restore_settings(aws, config, request) -> RestoreSettings;
    RecoveryStateError, StepFailed, RunUpdate.
"""
