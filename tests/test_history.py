"""The recovery test log (vwtui.recovery.history): what is appended, and what a damaged,
torn, missing or unreadable file reads back as."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vwtui.errors import UnsafePathError
from vwtui.recovery.history import (
    HistoryRecord,
    HistoryUnreadable,
    SmokeResult,
    StepRecord,
    append_record,
    history_path,
    plain_log_path,
    read_history,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def record(run_id: str = "r1", *, kind: str = "drill", outcome: str = "finished",
           hours: float = 1.5, finished: datetime = T0, smoke_ok: bool = True) -> HistoryRecord:
    return HistoryRecord(
        run_id=run_id, kind=kind, outcome=outcome, method="pitr",  # type: ignore[arg-type]
        source="staging-db", target="staging-db-test-20261102",
        started_at=finished - timedelta(hours=hours), finished_at=finished,
        rto_seconds=hours * 3600, rto_target_seconds=4 * 3600, rpo_seconds=3600.0,
        restore_point=finished - timedelta(hours=hours + 1),
        steps=(StepRecord("restore", "Restore", "done", 1200.0),
               StepRecord("swap", "Swap", "skipped", None)),
        verify={"Row counts": "pass"}, verify_overall="pass",
        smoke=SmokeResult(passed=smoke_ok, seconds=2.5, summary="3 of 3 passed",
                          command="./smoke.sh", exit_code=0 if smoke_ok else 1),
        caller_arn="arn:aws:iam::123456789012:user/ops", os_user="ops",
        notes="n", procedure_issues="the wiki link was dead", method_override_reason=None)


def test_a_record_round_trips_and_the_plain_log_has_the_runbook_lines(tmp_path: Path) -> None:
    first, second = record("r1"), record("r2", kind="recovery", hours=5, smoke_ok=False,
                                         finished=T0 + timedelta(days=3))
    append_record(first, tmp_path)
    append_record(second, tmp_path)
    read = read_history(tmp_path)
    assert read.records == (first, second) and not read.problems and not read.missing
    assert read.last("drill") == first and read.last("recovery") == second
    assert first.rto_met and first.succeeded
    assert not second.rto_met and not second.succeeded  # over 4 h, smoke test failed
    plain = plain_log_path(tmp_path).read_text()
    assert plain.count("Recovery test started: ") == 2
    assert "Recovery completed: Mon Nov  2 09:00:00 UTC 2026 (drill, pitr," in plain
    assert "RTO achieved: 1.50 hours" in plain and "RTO achieved: 5.00 hours" in plain
    assert oct(history_path(tmp_path).stat().st_mode & 0o777) == "0o600"


def test_an_aborted_run_never_meets_the_rto(tmp_path: Path) -> None:
    aborted = record(outcome="aborted", hours=0.5)
    assert not aborted.rto_met and not aborted.succeeded


def test_a_damaged_line_is_named_and_the_others_still_count(tmp_path: Path) -> None:
    append_record(record("r1"), tmp_path)
    with history_path(tmp_path).open("a") as f:
        f.write("{not json\n")
        f.write(json.dumps({"kind": "party", "run_id": "x"}) + "\n")
    append_record(record("r2", finished=T0 + timedelta(days=1)), tmp_path)
    read = read_history(tmp_path)
    assert [r.run_id for r in read.records] == ["r1", "r2"]
    assert [p.split(":")[0] for p in read.problems] == ["history.jsonl line 2",
                                                       "history.jsonl line 3"]
    assert "unknown kind 'party'" in read.problems[1]


def test_a_torn_last_line_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    append_record(record("r1"), tmp_path)
    with history_path(tmp_path).open("a") as f:
        f.write('{"schema": 1, "run_id": "torn')  # a kill mid-write
    append_record(record("r2", finished=T0 + timedelta(days=1)), tmp_path)
    read = read_history(tmp_path)
    assert [r.run_id for r in read.records] == ["r1", "r2"]
    assert len(read.problems) == 1 and read.problems[0].startswith("history.jsonl line 2")


def test_no_file_is_an_empty_history_and_an_unreadable_one_raises(tmp_path: Path) -> None:
    assert read_history(tmp_path).missing
    assert read_history(tmp_path).last("drill") is None
    path = history_path(tmp_path)
    path.mkdir()  # a directory where the file goes: it exists, and cannot be read
    with pytest.raises(HistoryUnreadable, match=r"history\.jsonl"):
        read_history(tmp_path)


def test_a_time_without_a_zone_is_a_damaged_line(tmp_path: Path) -> None:
    data = record().to_json()
    data["finished_at"] = "2026-11-02T09:00:00"
    tmp_path.joinpath("history.jsonl").write_text(json.dumps(data) + "\n")
    read = read_history(tmp_path)
    assert read.records == () and "without a zone" in read.problems[0]


def test_the_history_is_never_written_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("")
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.symlink(target, state / "history.jsonl")
    with pytest.raises(UnsafePathError):
        append_record(record(), state)
    assert target.read_text() == ""
