"""The weekly sign-off log: append-only, fsync'd, under $XDG_STATE_HOME/vwtui, survives restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vwtui.model import CheckResult, Verdict
from vwtui.signoff import SignOff, SignOffError, SignOffLog, default_log_path, is_overdue

NOW = datetime(2025, 11, 17, 9, 0, tzinfo=UTC)


def result(check_id: str, verdict: Verdict) -> CheckResult:
    return CheckResult(id=check_id, title=check_id, group="weekly", verdict=verdict,
                       evidence=("x",), diagnosis="backup-job-fails")


def test_the_log_lives_under_xdg_state_home(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_log_path() == tmp_path / "state" / "vwtui" / "signoffs.jsonl"
    SignOffLog().sign("Alice", "all good", now=NOW)
    assert (tmp_path / "state" / "vwtui" / "signoffs.jsonl").is_file()


def test_the_log_defaults_to_local_state_without_xdg(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_log_path() == tmp_path / ".local" / "state" / "vwtui" / "signoffs.jsonl"


def test_sign_offs_append_and_the_last_one_is_the_newest(tmp_path: Path) -> None:
    log = SignOffLog(tmp_path / "log.jsonl")
    assert log.last() is None
    first = log.sign("Alice", "ok", [result("weekly.no_alarms", Verdict.PASS)],
                     now=NOW - timedelta(days=7))
    second = log.sign("  Bob  Smith ", "alarm b firing, ticket OPS-12\nsecond line",
                      [result("weekly.no_alarms", Verdict.FAIL)], now=NOW)
    assert log.entries() == [first, second]
    assert log.last() == second
    assert second.name == "Bob Smith"
    assert second.notes == "alarm b firing, ticket OPS-12\nsecond line"
    assert second.failing() == ["weekly.no_alarms"]
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["name"] == "Alice"


def test_a_sign_off_needs_a_name(tmp_path: Path) -> None:
    with pytest.raises(SignOffError, match="reviewer's name"):
        SignOffLog(tmp_path / "log.jsonl").sign("   ", "notes")


def test_a_review_older_than_seven_days_is_overdue() -> None:
    assert is_overdue(None, NOW)
    recent = SignOff("Alice", NOW - timedelta(days=6, hours=23))
    old = SignOff("Alice", NOW - timedelta(days=7, minutes=1))
    assert not is_overdue(recent, NOW)
    assert is_overdue(old, NOW)


def test_a_torn_last_line_is_skipped_and_the_next_sign_off_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    log = SignOffLog(path)
    log.sign("Alice", now=NOW - timedelta(days=1))
    with path.open("a") as handle:
        handle.write('{"name": "Bo')  # power cut mid-write
    assert [s.name for s in log.entries()] == ["Alice"]
    log.sign("Carol", now=NOW)
    assert [s.name for s in SignOffLog(path).entries()] == ["Alice", "Carol"]


def test_an_unwritable_state_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SignOffError, match="XDG_STATE_HOME"):
        SignOffLog(blocker / "vwtui" / "signoffs.jsonl").sign("Alice")


def test_the_sign_off_survives_a_restart(tmp_path: Path) -> None:
    """Signed in one process, read back by a fresh one (nothing cached in memory)."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    sign = ("from vwtui.signoff import SignOffLog; "
            "SignOffLog().sign('Dana', 'checked vault and snapshots')")
    subprocess.run([sys.executable, "-c", sign], env=env, check=True)
    read = ("from vwtui.signoff import SignOffLog; s = SignOffLog().last(); "
            "print(s.name, '|', s.notes, '|', s.signed_at.tzinfo)")
    out = subprocess.run([sys.executable, "-c", read], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out == "Dana | checked vault and snapshots | UTC"
