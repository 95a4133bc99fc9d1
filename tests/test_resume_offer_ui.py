"""The resume offer at start-up, at 80x24 (Pilot), against the sandbox and a real PostgreSQL:

- a run another live process drives (a real flock, held by a real subprocess) is never
  offered: who drives it, since when, is said instead; once that process is gone, it is;
- with several unfinished runs, the newest free one is offered and the others are counted;
- damaged journals are listed with their file and line and open read-only, raw;
- a resume refused (another region; another process took the run meanwhile) is a notice with
  its sentence, and changes nothing;
- `vwtui demo` quit mid-run says the run ends with the demo, not "start vwtui again".

What is claimed is checked on screen, in the journal on disk and in the sandbox's request log.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from recovery_ui_env import (  # noqa: F401
    SIZE,
    RecoveryEnv,
    recovery_env,
    run_screen,
    screen_text,
    wait_until,
)
from test_recovery_ui import start_pitr
from vwtui.screens.dashboard import DashboardScreen
from vwtui.screens.recovery_confirm import DamagedJournals, JournalView, Notice, YesNo
from vwtui.screens.recovery_run import RunScreen

from vwtui.app import VwtuiApp
from vwtui.model import utcnow
from vwtui.orchestrator import RecoveryRun
from vwtui.recovery import journal as jr
from vwtui.recovery.lock import holder_of
from vwtui.recovery.plan import RecoveryRequest, Scenario
from vwtui.services.aws import AwsService
from vwtui.services.pg import PgService

RAW_ERRORS = ("KeyError", "ValueError", "TypeError", "Traceback", "JSONDecodeError")

# A second vwtui, as far as the kernel can tell: a process that takes the run's lock and keeps
# it until it is killed.
HOLDER = """
import sys, time
from pathlib import Path
from vwtui.recovery.lock import RunLock
RunLock.acquire(Path(sys.argv[1]), sys.argv[2], "recovery of video-window", "alice")
print("held", flush=True)
time.sleep(600)
"""


@contextmanager
def held_elsewhere(journal: Path, run_id: str) -> Iterator[int]:
    """Another live process holds the run's lock for the block; killed (SIGKILL) after."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(journal), run_id],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held", "the holder could not take the lock"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=30)


async def open_run(env: RecoveryEnv, target: str, *, started: datetime | None = None) -> Path:
    """An unfinished run on disk, as a vwtui that quit right after starting it leaves it (no
    AWS call that changes anything has been made)."""
    _, latest = env.window()
    request = RecoveryRequest(Scenario.PITR, "video-window", target, restore_time=latest,
                              incident_time=latest + timedelta(minutes=5))
    moment = started or utcnow()
    run = await RecoveryRun.start(request, env.config, AwsService(env.config),
                                  PgService(env.config), poll_interval=0.1,
                                  now=lambda: moment)
    run.close()
    return run.journal_path


def run_id_of(journal: Path) -> str:
    return jr.load_run(journal).run_id


def shown(app: VwtuiApp) -> str:
    """The text of the screen on top, as drawn: each text widget's rows joined with a space
    (a wrapped sentence reads whole again; a path wrapped at a slash too)."""
    strips = app.screen._compositor.render_strips()
    parts = []
    for widget in app.screen.query("Static, Label, OptionList"):
        region = widget.content_region
        if region.area:
            parts.append(" ".join(strips[y].text[region.x:region.right].strip()
                                  for y in range(region.y, region.bottom)))
    return " ".join(" ".join(parts).split()).replace("/ ", "/")


def mutating(env: RecoveryEnv) -> int:
    return len(env.sandbox.requests(mutating=True))


def holder_sentence(run_id: str, pid: int) -> str:
    return (f"Run {run_id} is driven by alice@{socket.gethostname()} (pid {pid}) since ")


# ---- 1: a run driven elsewhere is never offered ------------------------------------------------


async def test_a_run_driven_by_a_live_process_is_not_offered_and_is_once_it_dies(
        recovery_env: Any) -> None:
    env = recovery_env()
    journal = await open_run(env, "video-window-recovery-a")
    run_id = run_id_of(journal)
    before, on_disk = mutating(env), journal.read_bytes()
    with held_elsewhere(journal, run_id) as pid:
        app = env.app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, Notice), "the notice")
            text = shown(app)
            assert "Recovery driven by another session" in text
            assert holder_sentence(run_id, pid) in text
            assert "follow it read-only, or wait until it ends." in text
            assert "Resume" not in screen_text(app)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen),
                             "the dashboard")
            await pilot.pause(0.3)
            assert not isinstance(app.screen, (YesNo, RunScreen)) and app.recovery.runs == []
    assert mutating(env) == before and journal.read_bytes() == on_disk
    # The holder died (SIGKILL): the kernel freed its lock, and the run is offered as today.
    assert holder_of(journal) is None
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the resume offer")
        text = shown(app)
        assert "Resume the unfinished recovery?" in text and "video-window-recovery-a" in text
        assert "driven by" not in text
        await pilot.press("n")
    assert mutating(env) == before


async def test_the_newest_free_run_is_offered_and_the_one_driven_elsewhere_is_named(
        recovery_env: Any) -> None:
    env = recovery_env()
    now = utcnow()
    older = await open_run(env, "video-window-recovery-old", started=now - timedelta(hours=1))
    newest = await open_run(env, "video-window-recovery-new", started=now)
    before = mutating(env)
    with held_elsewhere(newest, run_id_of(newest)) as pid:
        app = env.app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the resume offer")
            text = shown(app)
            # The newest run is driven elsewhere: the older, free one is the one offered.
            assert "Resume the unfinished recovery?" in text
            assert "video-window → video-window-recovery-old" in text
            assert "1 other unfinished run is driven by another session, not offered here" \
                in text
            assert holder_sentence(run_id_of(newest), pid) in text
            await pilot.press("n")
            await pilot.pause()
    assert mutating(env) == before
    assert holder_of(older) is None


# ---- 2: damaged journals are listed and open read-only ---------------------------------------


async def test_damaged_journals_are_listed_with_file_and_line_and_open_raw(
        recovery_env: Any) -> None:
    env = recovery_env()
    journal = await open_run(env, "video-window-recovery-a")
    runs = journal.parent
    lines = journal.read_text(encoding="utf-8").splitlines()
    (runs / "garbage.jsonl").write_text(
        "\n".join([lines[0], "[bold]not json \x1b[31m", *lines[1:], lines[0]]) + "\n")
    first = json.loads(lines[0])
    del first["started_at"]
    (runs / "nokey.jsonl").write_text(json.dumps(first) + "\n")
    first = json.loads(lines[0])
    first["request"]["scenario"] = "teleport"
    (runs / "scen.jsonl").write_text(json.dumps(first) + "\n")
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DamagedJournals),
                         "the damaged journals")
        text = shown(app)
        assert "3 damaged recovery journals" in text
        for expected in (f"{runs}/garbage.jsonl, line 2: line 2 is not a journal record "
                         f"(not JSON).",
                         f"{runs}/nokey.jsonl, line 1: the run-start record lacks its "
                         f"'started_at' field.",
                         f"{runs}/scen.jsonl, line 1: the run-start record names an unknown "
                         f"scenario 'teleport'."):
            # A long temp path wraps anywhere at 80 columns: compare without the white space.
            assert "".join(expected.split()) in "".join(text.split()), (expected, text)
        assert not any(word in text for word in RAW_ERRORS)
        # The first (garbage.jsonl) is highlighted: enter opens it, read-only and raw.
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, JournalView), "the journal view")
        view = app.screen
        assert isinstance(view, JournalView) and view.path == runs / "garbage.jsonl"
        raw = screen_text(app)
        assert "»2 [bold]not json \\x1b[31m" in raw  # markup and escapes shown as text
        assert '{"time":' in raw
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DamagedJournals), "the list")
        await pilot.press("escape")
        # Then the free run is offered as usual.
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the resume offer")
        assert "video-window-recovery-a" in shown(app)
        await pilot.press("n")
    # Read-only: the damaged files are as they were.
    assert (runs / "scen.jsonl").read_text() == json.dumps(first) + "\n"


# ---- 3: a refused resume is a sentence, and changes nothing -----------------------------------


async def test_resume_in_another_region_is_refused_with_its_sentence(recovery_env: Any) -> None:
    env = recovery_env()
    journal = await open_run(env, "video-window-recovery-a")
    run_id = run_id_of(journal)
    before, on_disk = mutating(env), journal.read_bytes()
    elsewhere = env.config.replace(aws=dataclasses.replace(env.config.aws,
                                                           region="eu-central-1"))
    app = VwtuiApp(elsewhere, AwsService(elsewhere), PgService(elsewhere),
                   clock=env.sandbox.current_time)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the resume offer")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, Notice), "the refusal")
        text = shown(app)
        assert f"Run {run_id} was started in region eu-west-1; this session is in " \
               f"eu-central-1. Resume it with --region eu-west-1; nothing was changed." in text
        assert not any(word in text for word in RAW_ERRORS)
        await pilot.press("enter")
        await pilot.pause()
        assert app.recovery.runs == [] and not isinstance(app.screen, RunScreen)
    assert mutating(env) == before and journal.read_bytes() == on_disk
    assert holder_of(journal) is None


async def test_resume_of_a_run_taken_meanwhile_is_refused_with_who_drives_it(
        recovery_env: Any) -> None:
    env = recovery_env()
    journal = await open_run(env, "video-window-recovery-a")
    run_id = run_id_of(journal)
    before, on_disk = mutating(env), journal.read_bytes()
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the resume offer")
        # Between the offer and the answer, another session takes the run.
        with held_elsewhere(journal, run_id) as pid:
            await pilot.press("y")
            await wait_until(pilot, lambda: isinstance(app.screen, Notice), "the refusal")
            text = shown(app)
            assert "Not resumed: Driven elsewhere" in text
            assert holder_sentence(run_id, pid) in text
            await pilot.press("enter")
            await pilot.pause()
            assert app.recovery.runs == [] and not isinstance(app.screen, RunScreen)
    assert mutating(env) == before and journal.read_bytes() == on_disk


# ---- 4: the demo's quit ------------------------------------------------------------------------


async def test_demo_quit_mid_run_says_the_run_ends_with_the_demo(recovery_env: Any) -> None:
    env = recovery_env(restore_seconds=600)
    app = env.app(demo=True)
    async with app.run_test(size=SIZE) as pilot:
        run = await start_pitr(pilot, env)
        await wait_until(pilot, lambda: "creating (poll" in screen_text(app), "the wait")
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the quit question")
        text = shown(app)
        assert "This is vwtui demo: its sandbox account and its journal are removed when it " \
               "quits, so this run ends with it and cannot be resumed." in text
        assert "start vwtui again" not in text and "resume it" not in text
        await pilot.press("y")
    records = [json.loads(line) for line in run.journal_path.read_text().splitlines()]
    interrupted = [r for r in records if r.get("outcome") == "interrupted"]
    assert interrupted and "the demo's run ended with it" in interrupted[-1]["detail"]
    assert "start vwtui again" not in interrupted[-1]["detail"]


async def test_console_quit_mid_run_still_says_how_to_resume(recovery_env: Any) -> None:
    env = recovery_env(restore_seconds=600)
    app = env.app()
    async with app.run_test(size=SIZE) as pilot:
        await start_pitr(pilot, env)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, YesNo), "the quit question")
        assert "start vwtui again to resume it" in shown(app)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(run_screen(app), RunScreen)
        app.recovery.quit()
