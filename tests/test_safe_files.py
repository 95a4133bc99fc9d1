"""Files vwtui writes: a private state dir (0700), files 0600, never through a symbolic link, a
state dir that is world-writable, a link or another user's is refused (issue 9, section 5)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vwtui import config as config_mod
from vwtui import safefile
from vwtui.config import Config
from vwtui.errors import ConfigError, UnsafePathError
from vwtui.model import ValidationReport
from vwtui.recovery import journal as jr
from vwtui.recovery.plan import RecoveryRequest, Scenario
from vwtui.recovery.verify import Baseline, baseline_path, load_baseline, save_baseline
from vwtui.signoff import SignOffError, SignOffLog

NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
REQUEST = RecoveryRequest(Scenario.PITR, "video-window", "video-window-recovery-202511111200",
                          restore_time=NOW - timedelta(hours=1))
PLAN = [{"key": k} for k in ("restore", "wait", "verify", "swap", "cleanup")]
VICTIM_TEXT = "the file a planted link points at: must stay as it is\n"
BASELINE = Baseline.from_report("video-window", ValidationReport(
    host="h", database="serverpod", results=()))


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """XDG_STATE_HOME under tmp_path, not yet created (so vwtui makes every level), with the
    umask most systems have: what vwtui must not rely on."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    old = os.umask(0o022)
    yield tmp_path / "xdg" / "vwtui"
    os.umask(old)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text(VICTIM_TEXT)
    return path


def started_journal(base: Path | None = None, run_id: str = "run-1") -> jr.Journal:
    journal = jr.Journal.create(run_id, jr.runs_dir(base))
    journal.append(jr.RUN_START, **jr.start_record_fields(REQUEST, PLAN, NOW))
    return journal


# ---- modes ---------------------------------------------------------------------------------

def test_state_dir_is_0700_and_every_file_vwtui_writes_there_0600(state: Path) -> None:
    journal = started_journal()
    journal.append(jr.STEP_START, step="restore")
    baseline = save_baseline(jr.state_dir(), BASELINE)
    SignOffLog().sign("Alice", "all good", now=NOW)

    assert jr.state_dir() == state
    for folder in (state, state / "runs", state / "baselines"):
        assert stat.S_ISDIR(os.lstat(folder).st_mode) and mode(folder) == 0o700, folder
    for path in (journal.path, baseline, state / "signoffs.jsonl"):
        assert mode(path) == 0o600, path
    # The atomic write leaves no temporary file behind.
    assert sorted(p.name for p in (state / "baselines").iterdir()) == ["video-window.json"]


def test_an_older_state_dir_readable_by_others_is_tightened(state: Path) -> None:
    # An earlier vwtui made it with mkdir's default mode, and its sign-off log 0644.
    state.mkdir(parents=True, mode=0o755)
    os.chmod(state, 0o755)
    log = state / "signoffs.jsonl"
    log.write_text("")
    os.chmod(log, 0o644)

    SignOffLog().sign("Alice", now=NOW)

    assert mode(state) == 0o700
    assert mode(log) == 0o600


def test_config_written_by_init_is_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = config_mod.write(Config(), tmp_path / "cfg" / "config.toml")
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert config_mod.load_file(path) == Config()
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]


# ---- state dirs refused ----------------------------------------------------------------------

def test_a_world_writable_state_dir_is_refused(state: Path) -> None:
    state.mkdir(parents=True)
    os.chmod(state, 0o777)

    with pytest.raises(jr.JournalError, match="writable by every user") as refused:
        started_journal()
    assert str(state) in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(SignOffError, match="writable by every user"):
        SignOffLog().sign("Alice", now=NOW)
    with pytest.raises(UnsafePathError, match="writable by every user"):
        save_baseline(jr.state_dir(), BASELINE)
    assert list(state.iterdir()) == []  # nothing written there
    assert mode(state) == 0o777  # and not silently "fixed": someone must look


def test_a_state_dir_that_is_a_symbolic_link_is_refused(state: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    state.parent.mkdir(parents=True)
    state.symlink_to(elsewhere)

    with pytest.raises(jr.JournalError, match="symbolic link"):
        started_journal()
    with pytest.raises(SignOffError, match="symbolic link"):
        SignOffLog().sign("Alice", now=NOW)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_state_dir_owned_by_another_user_is_refused(state: Path) -> None:
    state.mkdir(parents=True, mode=0o700)
    os.chown(state, 65534, 65534)

    with pytest.raises(jr.JournalError, match="belongs to another user"):
        started_journal()
    with pytest.raises(SignOffError, match="belongs to another user"):
        SignOffLog().sign("Alice", now=NOW)
    assert list(state.iterdir()) == []


# ---- no write through a symbolic link ----------------------------------------------------------

def test_a_link_planted_at_a_new_journal_is_refused(state: Path, victim: Path) -> None:
    runs = jr.runs_dir()
    safefile.private_dir(runs, base=state)
    (runs / "run-1.jsonl").symlink_to(victim)

    with pytest.raises(jr.JournalError, match="symbolic link"):
        jr.Journal.create("run-1", runs)
    assert victim.read_text() == VICTIM_TEXT


def test_a_journal_swapped_for_a_link_mid_run_is_not_written_through(
        state: Path, victim: Path) -> None:
    journal = started_journal()
    before = journal.path.read_bytes()
    victim.write_bytes(before)  # a copy that still reads as a journal
    journal.path.unlink()
    journal.path.symlink_to(victim)

    with pytest.raises(jr.JournalError, match="symbolic link"):
        journal.append(jr.STEP_START, step="restore")
    with pytest.raises(jr.JournalError, match="symbolic link"):
        jr.Journal.open(journal.path)
    assert victim.read_bytes() == before


def test_a_link_planted_at_a_baseline_is_refused(state: Path, victim: Path) -> None:
    path = baseline_path(jr.state_dir(), BASELINE.source)
    safefile.private_dir(path.parent, base=state)
    path.symlink_to(victim)

    with pytest.raises(UnsafePathError, match="symbolic link"):
        save_baseline(jr.state_dir(), BASELINE)
    assert victim.read_text() == VICTIM_TEXT
    assert path.is_symlink()
    assert load_baseline(jr.state_dir(), BASELINE.source) is None  # not read through it


def test_a_link_at_the_baseline_temp_name_is_not_written_through(
        state: Path, victim: Path) -> None:
    # The temporary file had a fixed name (<source>.tmp) opened without O_NOFOLLOW or O_EXCL.
    path = baseline_path(jr.state_dir(), BASELINE.source)
    safefile.private_dir(path.parent, base=state)
    path.with_suffix(".tmp").symlink_to(victim)

    save_baseline(jr.state_dir(), BASELINE)

    assert victim.read_text() == VICTIM_TEXT
    assert load_baseline(jr.state_dir(), BASELINE.source) == BASELINE
    assert not path.is_symlink() and mode(path) == 0o600


def test_a_link_planted_at_the_sign_off_log_is_refused(state: Path, victim: Path) -> None:
    safefile.ensure_state_dir()
    (state / "signoffs.jsonl").symlink_to(victim)

    with pytest.raises(SignOffError, match="symbolic link") as refused:
        SignOffLog().sign("Mallory", now=NOW)
    assert str(state / "signoffs.jsonl") in str(refused.value)
    assert victim.read_text() == VICTIM_TEXT


def test_a_fifo_planted_at_the_sign_off_log_is_refused_without_hanging(state: Path) -> None:
    safefile.ensure_state_dir()
    os.mkfifo(state / "signoffs.jsonl", 0o600)

    with pytest.raises(SignOffError, match="not a regular file"):
        SignOffLog().sign("Alice", now=NOW)


def test_init_does_not_write_a_config_through_a_link(tmp_path: Path, victim: Path) -> None:
    path = tmp_path / "config.toml"
    path.symlink_to(victim)

    with pytest.raises(ConfigError, match="already exists"):
        config_mod.write(Config(), path)
    with pytest.raises(ConfigError, match="symbolic link"):
        config_mod.write(Config(), path, force=True)
    assert victim.read_text() == VICTIM_TEXT


def test_write_atomic_replaces_whole_and_refuses_another_users_file(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    safefile.write_atomic(path, b"one")
    safefile.write_atomic(path, b"two")
    assert path.read_bytes() == b"two" and mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
        with pytest.raises(UnsafePathError, match="another user"):
            safefile.write_atomic(path, b"three")
        assert path.read_bytes() == b"two"
