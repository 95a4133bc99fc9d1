"""The shared state directory (`state.dir`, issue 10 part 8): journals on the bastion that the
team's group can read, so an observer of another user follows a run. The team's group may read
(and write, where the directory lets it); the world may not; a world-writable directory or a
symbolic link is still refused; files are 0640. The default XDG directory stays private
(tests/test_safe_files.py)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vwtui import cli, safefile
from vwtui import config as config_mod
from vwtui.errors import ConfigError
from vwtui.recovery import journal as jr
from vwtui.recovery.lock import RunLock, holder_of, lock_path
from vwtui.recovery.plan import RecoveryRequest, Scenario

NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)
REQUEST = RecoveryRequest(Scenario.PITR, "video-window", "video-window-recovery-202511111200",
                          restore_time=NOW - timedelta(hours=1))
PLAN = [{"key": k} for k in ("restore", "wait", "verify", "swap", "cleanup")]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A configured shared state dir (not yet made), the private XDG one elsewhere, and the
    umask most systems have."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(safefile.SHARED_DIR_ENV, str(tmp_path / "team"))
    old = os.umask(0o022)
    yield tmp_path / "team"
    os.umask(old)


def started_journal(run_id: str = "run-1") -> jr.Journal:
    journal = jr.Journal.create(run_id, jr.runs_dir())
    journal.append(jr.RUN_START, **jr.start_record_fields(REQUEST, PLAN, NOW))
    return journal


def test_journals_lock_and_history_go_to_the_shared_dir_readable_by_the_group(
        shared: Path, tmp_path: Path) -> None:
    from vwtui.recovery import history

    journal = started_journal()
    lock = RunLock.acquire(journal.path, "run-1", "recovery of video-window", "alice")
    try:
        assert jr.state_dir() == shared and journal.path.parent == shared / "runs"
        assert mode(shared) == 0o750 and mode(shared / "runs") == 0o750
        assert mode(journal.path) == 0o640 and mode(lock_path(journal.path)) == 0o640
        # An observer opens the lock read-only to ask the kernel who drives.
        holder = holder_of(journal.path)
        assert holder is not None and holder.user == "alice"
    finally:
        lock.release()
    safefile.append_line(shared / history.HISTORY_NAME, b"{}\n")
    assert mode(shared / history.HISTORY_NAME) == 0o640
    safefile.write_atomic(shared / "baselines.json", b"{}")
    assert mode(shared / "baselines.json") == 0o640
    # Nothing went to the private XDG dir.
    assert not (tmp_path / "xdg").exists()


def test_a_team_dir_that_is_group_writable_and_setgid_gives_its_group_bits_to_new_dirs(
        shared: Path) -> None:
    shared.mkdir()
    os.chmod(shared, 0o2770)
    journal = started_journal()
    runs = journal.path.parent
    assert mode(runs) == 0o2770  # a second driver of the group can start a run in it too
    assert mode(shared) == 0o2770  # the team's choice is kept
    assert mode(journal.path) == 0o640


def test_the_world_bits_of_our_shared_dir_are_taken_off_not_the_groups(shared: Path) -> None:
    shared.mkdir()
    os.chmod(shared, 0o755)
    started_journal()
    assert mode(shared) == 0o750


def test_a_world_writable_shared_dir_is_refused(shared: Path) -> None:
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(jr.JournalError, match="writable by every user") as refused:
        started_journal()
    assert str(shared) in str(refused.value)
    assert not (shared / "runs").exists()


def test_a_shared_dir_that_is_a_symbolic_link_is_refused(shared: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o750)
    shared.symlink_to(elsewhere)
    with pytest.raises(jr.JournalError, match="symbolic link"):
        started_journal()
    assert list(elsewhere.iterdir()) == []


def test_a_runs_dir_that_is_a_symbolic_link_in_the_shared_dir_is_refused(
        shared: Path, tmp_path: Path) -> None:
    shared.mkdir(mode=0o750)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o750)
    (shared / "runs").symlink_to(elsewhere)
    with pytest.raises(jr.JournalError, match="symbolic link"):
        started_journal()
    assert list(elsewhere.iterdir()) == []


def test_a_shared_dir_of_another_owner_is_used_but_not_a_subdir_open_to_the_world(
        shared: Path) -> None:
    nobody = 65534
    shared.mkdir()
    os.chmod(shared, 0o2770)
    os.chown(shared, nobody, -1)
    journal = started_journal()  # the team's directory, set up by an administrator
    assert mode(journal.path) == 0o640
    runs = journal.path.parent
    os.chown(runs, nobody, -1)
    os.chmod(runs, 0o755)
    with pytest.raises(jr.JournalError, match="open to every user"):
        started_journal("run-2")


def test_the_private_policy_is_untouched_without_a_shared_dir(
        shared: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(safefile.SHARED_DIR_ENV)
    journal = started_journal()
    assert journal.path.parent == tmp_path / "xdg" / "vwtui" / "runs"
    assert mode(tmp_path / "xdg" / "vwtui") == 0o700 and mode(journal.path) == 0o600
    assert not shared.exists()


def test_state_dir_config_must_be_absolute_and_reaches_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"state\.dir must be an absolute path"):
        config_mod.from_mapping({"state": {"dir": "relative/dir"}})
    config = config_mod.from_mapping({"state": {"dir": str(tmp_path / "team")}})
    # Recorded by monkeypatch (so restored after), then unset for the CLI to fill in.
    monkeypatch.setenv(safefile.SHARED_DIR_ENV, "")
    monkeypatch.delenv(safefile.SHARED_DIR_ENV)
    cli._use_state_dir(config)
    assert os.environ[safefile.SHARED_DIR_ENV] == str(tmp_path / "team")
    assert safefile.state_dir() == tmp_path / "team"
    # The environment wins over the file.
    monkeypatch.setenv(safefile.SHARED_DIR_ENV, str(tmp_path / "other"))
    cli._use_state_dir(config)
    assert safefile.state_dir() == tmp_path / "other"
