"""The run journal: append-only, fsync'd, read back, unfinished runs found."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vwtui.recovery import journal as jr
from vwtui.recovery.plan import RecoveryRequest, Scenario

NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
REQUEST = RecoveryRequest(Scenario.PITR, "video-window", "video-window-recovery-202511111200",
                          restore_time=NOW - timedelta(hours=1))
PLAN = [{"key": k} for k in ("restore", "wait", "verify", "swap", "cleanup")]


def new_journal(tmp_path: Path, run_id: str = "run-1") -> jr.Journal:
    journal = jr.Journal.create(run_id, tmp_path / "runs")
    journal.caller_arn = "arn:aws:iam::123456789012:user/oncall"
    journal.append(jr.RUN_START, **jr.start_record_fields(REQUEST, PLAN, NOW))
    return journal


def test_journal_lives_under_xdg_state_home(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert jr.runs_dir() == tmp_path / "vwtui" / "runs"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert jr.runs_dir() == Path.home() / ".local" / "state" / "vwtui" / "runs"


def test_every_record_has_time_user_and_caller(tmp_path: Path) -> None:
    journal = new_journal(tmp_path)
    journal.append(jr.STEP_START, step="restore", command="aws rds ...")
    lines = journal.path.read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        record = json.loads(line)
        assert record["time"].endswith("Z")
        assert record["os_user"]
        assert record["caller_arn"] == "arn:aws:iam::123456789012:user/oncall"
        assert record["run_id"] == "run-1"


def test_journal_is_append_only_and_refuses_a_second_create(tmp_path: Path) -> None:
    new_journal(tmp_path)
    with pytest.raises(jr.JournalError, match="already exists"):
        jr.Journal.create("run-1", tmp_path / "runs")


def test_secrets_never_reach_the_journal(tmp_path: Path) -> None:
    journal = new_journal(tmp_path)
    with pytest.raises(jr.JournalError, match="never a secret"):
        journal.append(jr.STEP_END, step="verify", password="hunter2")
    assert "hunter2" not in journal.path.read_text()


def test_load_run_reads_steps_identifiers_and_ticks(tmp_path: Path) -> None:
    journal = new_journal(tmp_path)
    journal.append(jr.STEP_START, step="restore", command="aws rds restore-...")
    journal.append(jr.RESTORE_ISSUED, step="restore", created=[REQUEST.target],
                   restore_job_id=None, restore_point=NOW - timedelta(hours=1))
    journal.append(jr.STEP_END, step="restore", outcome="done", detail="issued")
    journal.append(jr.STEP_START, step="wait")
    journal.append(jr.TICK, step="swap", item="maintenance", ticked_at=NOW)
    run = jr.load_run(journal.path)
    assert run.request == REQUEST
    assert run.started_at == NOW
    assert run.steps["restore"].outcome == "done"
    assert run.steps["wait"].outcome == "running"
    assert run.current_step == "wait"
    assert run.created == [REQUEST.target]
    assert run.restore_issued
    assert run.restore_point == NOW - timedelta(hours=1)
    assert run.ticks == {"maintenance": NOW}
    assert run.owned == {REQUEST.target}
    assert not run.finished


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    journal = new_journal(tmp_path)
    journal.append(jr.STEP_START, step="restore")
    with journal.path.open("a") as handle:
        handle.write('{"time": "2025-11-11T12:')
    run = jr.load_run(journal.path)
    assert run.steps["restore"].outcome == "running"


def test_a_resumed_journal_drops_its_torn_line_and_stays_resumable(tmp_path: Path) -> None:
    # Killed mid-write, then resumed: what is appended must not glue onto the torn fragment
    # (the file would no longer load, and the run would vanish from the resume offer).
    journal = new_journal(tmp_path)
    journal.append(jr.STEP_START, step="restore")
    with journal.path.open("a") as handle:
        handle.write('{"time": "2025-11-11T12:')
    resumed = jr.Journal.open(journal.path)
    resumed.append(jr.RUN_RESUME)
    resumed.append(jr.STEP_END, step="restore", outcome="done")
    run = jr.load_run(journal.path)
    assert run.steps["restore"].outcome == "done"
    assert [r.run_id for r in jr.unfinished_runs(tmp_path)] == ["run-1"]
    assert all(json.loads(line) for line in journal.path.read_text().splitlines())


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"event": "step-start"}\n')
    with pytest.raises(jr.JournalError, match="not a vwtui run"):
        jr.load_run(path)


def test_unfinished_runs_lists_only_runs_without_an_end(tmp_path: Path) -> None:
    done = new_journal(tmp_path, "run-done")
    done.append(jr.RUN_END, outcome="finished")
    open_run = new_journal(tmp_path, "run-open")
    (tmp_path / "runs" / "garbage.jsonl").write_text("not json\nat all\n")
    found = jr.unfinished_runs(tmp_path)
    assert [r.run_id for r in found] == ["run-open"]
    assert found[0].path == open_run.path
    assert jr.unfinished_runs(tmp_path / "nowhere") == []
