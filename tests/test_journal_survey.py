"""The runs dir surveyed: unfinished runs, and every journal that cannot be read back listed as
damaged with its file, its line and a reason in words (never an exception's text)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vwtui.recovery import journal as jr
from vwtui.recovery.plan import RecoveryRequest, Scenario

NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
PLAN = [{"key": k} for k in ("restore", "wait", "verify", "swap", "cleanup")]
RAW_ERRORS = ("KeyError", "ValueError", "TypeError", "AttributeError", "Traceback",
              "JSONDecodeError", "Expecting")


def request(target: str = "video-window-recovery-202511111200") -> RecoveryRequest:
    return RecoveryRequest(Scenario.PITR, "video-window", target,
                           restore_time=NOW - timedelta(hours=1))


def write_run(base: Path, run_id: str, *, started: datetime = NOW, steps: int = 2) -> Path:
    """A well-formed unfinished run: run-start, then `steps` step records."""
    journal = jr.Journal.create(run_id, jr.runs_dir(base))
    journal.append(jr.RUN_START, **jr.start_record_fields(request(), PLAN, started))
    for _ in range(steps // 2):
        journal.append(jr.STEP_START, step="restore", at=started)
        journal.append(jr.STEP_END, step="restore", outcome="done", at=started)
    return journal.path


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def rewrite(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def only_damaged(base: Path) -> jr.DamagedJournal:
    survey = jr.survey_runs(base)
    assert len(survey.damaged) == 1, survey
    damaged = survey.damaged[0]
    sentence = damaged.sentence()
    assert not any(word in sentence for word in RAW_ERRORS), sentence
    assert sentence.startswith(str(damaged.path)) and sentence.endswith(".")
    return damaged


def test_good_runs_are_unfinished_newest_first_and_nothing_is_damaged(tmp_path: Path) -> None:
    write_run(tmp_path, "run-old", started=NOW)
    write_run(tmp_path, "run-new", started=NOW + timedelta(minutes=5))
    survey = jr.survey_runs(tmp_path)
    assert [r.run_id for r in survey.unfinished] == ["run-new", "run-old"]
    assert survey.damaged == ()
    assert jr.survey_runs(tmp_path / "nowhere") == jr.RunsSurvey()


def test_a_garbage_line_in_the_middle_is_damaged_at_that_line(tmp_path: Path) -> None:
    path = write_run(tmp_path, "run-1", steps=2)
    lines = lines_of(path)
    rewrite(path, [lines[0], "{this is not json", *lines[1:]])
    damaged = only_damaged(tmp_path)
    assert (damaged.path, damaged.line) == (path, 2)
    assert damaged.reason == "line 2 is not a journal record (not JSON)"
    # The good run beside it is still found: one bad file hides nothing else.
    write_run(tmp_path, "run-2")
    assert [r.run_id for r in jr.survey_runs(tmp_path).unfinished] == ["run-2"]


def test_a_torn_last_line_is_not_damage(tmp_path: Path) -> None:
    path = write_run(tmp_path, "run-1")
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"time":"2025-11-11T12:00:00Z","ev')
    survey = jr.survey_runs(tmp_path)
    assert [r.run_id for r in survey.unfinished] == ["run-1"] and survey.damaged == ()


@pytest.mark.parametrize(("key", "reason"), [
    ("run_id", "the run-start record lacks its 'run_id' field"),
    ("started_at", "the run-start record lacks its 'started_at' field"),
    ("request", "the run-start record lacks its 'request' field"),
])
def test_a_run_start_without_a_key_is_damaged_at_line_1(tmp_path: Path, key: str,
                                                         reason: str) -> None:
    path = write_run(tmp_path, "run-1")
    lines = lines_of(path)
    first = json.loads(lines[0])
    del first[key]
    rewrite(path, [json.dumps(first), *lines[1:]])
    damaged = only_damaged(tmp_path)
    assert (damaged.line, damaged.reason) == (1, reason)


def test_an_unknown_scenario_is_named(tmp_path: Path) -> None:
    path = write_run(tmp_path, "run-1")
    lines = lines_of(path)
    first = json.loads(lines[0])
    first["request"]["scenario"] = "teleport"
    rewrite(path, [json.dumps(first), *lines[1:]])
    damaged = only_damaged(tmp_path)
    assert damaged.line == 1
    assert damaged.reason == "the run-start record names an unknown scenario 'teleport'"


def test_a_later_record_without_its_key_is_damaged_at_its_line(tmp_path: Path) -> None:
    path = write_run(tmp_path, "run-1", steps=2)
    lines = lines_of(path)
    broken = {"time": "2025-11-11T12:01:00Z", "run_id": "run-1", "event": jr.RENAMED,
              "new": "video-window-old"}
    rewrite(path, [*lines, json.dumps(broken), lines[-1]])
    damaged = only_damaged(tmp_path)
    assert (damaged.line, damaged.reason) == (4, "the renamed record lacks its 'old' field")


def test_a_bad_time_a_non_object_and_a_foreign_file_are_damaged(tmp_path: Path) -> None:
    path = write_run(tmp_path, "run-1")
    lines = lines_of(path)
    first = json.loads(lines[0])
    first["started_at"] = "yesterday"
    rewrite(path, [json.dumps(first), *lines[1:]])
    assert only_damaged(tmp_path).reason == "the run-start record holds a time that cannot be read"

    rewrite(path, [lines[0], "[1, 2, 3]", *lines[1:]])
    damaged = only_damaged(tmp_path)
    assert (damaged.line, damaged.reason) == (2, "line 2 is not a journal record (not a JSON "
                                                 "object)")

    rewrite(path, [json.dumps({"event": "step-start", "step": "restore"}), *lines])
    damaged = only_damaged(tmp_path)
    assert damaged.line == 1 and "not run-start" in damaged.reason


def test_bytes_that_are_not_utf8_and_an_empty_file_are_damaged(tmp_path: Path) -> None:
    path = write_run(tmp_path, "run-1")
    path.write_bytes(path.read_bytes() + b"\xff\xfe garbage\n" + path.read_bytes())
    damaged = only_damaged(tmp_path)
    assert (damaged.line, damaged.reason) == (4, "line 4 is not UTF-8 text")

    path.write_bytes(b"")
    damaged = only_damaged(tmp_path)
    assert damaged.empty and damaged.line is None
    assert damaged.sentence() == f"{path}: the file is empty: its run never recorded its start."
