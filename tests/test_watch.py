"""Observers (issue 10 part 8): `vwtui watch` and `w` at the resume offer follow a run another
process drives, live and read-only, from its journal.

- a second app instance reading the same state dir sees every step change of a driver that
  runs in the sandbox, and who drives it; then the run's end;
- no key of the observer view changes anything: every key vwtui binds (and every letter and
  digit) is pressed on it while the driver waits at the swap; the sandbox's mutating calls and
  the journal stay as they were;
- `w` at the resume offer (another live process holds the run's lock) opens the view;
- the journal is read by its new bytes only, a line being written waits for its newline;
- how the observer view looks, at 80x24 (SVG snapshot, fixed clock, no driver).
"""

from __future__ import annotations

import dataclasses
import json
import os
import string
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from recovery_ui_env import (  # noqa: F401
    NOW,
    SIZE,
    RecoveryEnv,
    recovery_env,
    screen_text,
    wait_until,
)
from test_bindings import declared_bindings
from test_resume_offer_ui import held_elsewhere, open_run, run_id_of
from vwtui.screens.recovery_watch import WatchOffer, WatchScreen

from vwtui import cli
from vwtui.app import VwtuiApp
from vwtui.model import utcnow
from vwtui.orchestrator import RecoveryRun
from vwtui.recovery import journal as jr
from vwtui.recovery.follow import JournalTail, find_run
from vwtui.recovery.plan import RecoveryRequest, Scenario, build_plan
from vwtui.recovery.state import StepStatus
from vwtui.services.aws import AwsService
from vwtui.services.pg import PgService
from vwtui.widgets.detail_view import DetailView
from vwtui.widgets.steps import StepList, status_cell

Start = Callable[..., RecoveryEnv]
# Generous: the observer is woken by inotify (or a 1 s poll); bench/watch.py measures the delay.
FOLLOW_SECONDS = 10.0


def statuses(run: Any) -> list[tuple[str, StepStatus]]:
    return [(s.key, s.status) for s in run.steps]


def watch_screen(app: VwtuiApp) -> WatchScreen:
    screen = app.screen
    assert isinstance(screen, WatchScreen), f"expected the watch screen, got {screen!r}"
    return screen


async def sees_driver(pilot: Any, app: VwtuiApp, driver: RecoveryRun, what: str) -> None:
    """The observer's screen shows the driver's steps as they are now (each row's state)."""
    wanted = statuses(driver)

    def shown() -> bool:
        screen = app.screen
        if not isinstance(screen, WatchScreen) or not screen.run.loaded:
            return False
        table = screen.query_one(StepList)
        return statuses(screen.run) == wanted and all(
            str(table.get_cell(key, "state")) == str(status_cell(status))
            for key, status in wanted)

    await wait_until(pilot, shown, f"the observer to show {what}: {wanted}",
                     seconds=FOLLOW_SECONDS)


async def drive_one(driver: RecoveryRun) -> None:
    step = await driver.run_step()
    assert step is not None and step.status is not StepStatus.FAILED, step


def mutating(env: RecoveryEnv) -> int:
    return len(env.sandbox.requests(mutating=True))


async def test_an_observer_follows_every_step_and_no_key_of_its_view_changes_anything(
        recovery_env: Start) -> None:
    env = recovery_env()
    _, latest = env.window()
    request = RecoveryRequest(Scenario.PITR, "video-window", "video-window-recovery-obs",
                              restore_time=latest, incident_time=latest + timedelta(minutes=5))
    driver = await RecoveryRun.start(request, env.config, AwsService(env.config),
                                     PgService(env.config), poll_interval=0.1)
    try:
        observer = env.app(watch=(driver.journal_path,))
        async with observer.run_test(size=SIZE) as pilot:
            await sees_driver(pilot, observer, driver, "the plan, nothing run yet")
            text = screen_text(observer)
            assert "WATCHING" in text and f"driven by {jr.os_user()}/{os.getpid()}" in text
            assert "RTO" in text  # the clock, from the journal's start
            for _ in ("restore", "wait", "verify", "parity", "swap"):
                await drive_one(driver)
                await sees_driver(pilot, observer, driver, f"{driver.steps}")
            assert driver.current is not None and driver.current.key == "swap"
            assert driver.current.status is StepStatus.WAITING
            # Verify's verdict line, as the driver journaled it.
            verify = watch_screen(observer).run.step("verify")
            assert verify is not None and verify.detail == driver.step("verify").detail  # type: ignore[union-attr]

            # Every key: what vwtui binds anywhere, every letter and digit; the view's own
            # leave and quit last of all.
            screen = watch_screen(observer)
            own = {b.key for b in WatchScreen.BINDINGS}
            keys = sorted(({key for _, b in declared_bindings() for key in b.key.split(",")}
                           | set(string.ascii_lowercase) | set(string.digits)
                           | {"enter", "space", "tab", "up", "down"}) - own)
            before, on_disk = mutating(env), driver.journal_path.read_bytes()
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
                await back_to(pilot, observer, screen, key)
            assert mutating(env) == before, env.sandbox.requests(mutating=True)[before:]
            assert driver.journal_path.read_bytes() == on_disk
            assert observer.recovery.runs == [] and driver.lock is not None and driver.lock.held
            assert statuses(screen.run) == statuses(driver)

            # The driver goes on: ticks and an abort reach the observer too.
            driver.tick("maintenance")
            await wait_until(pilot, lambda: "[x] Set maintenance mode" in str(
                screen.query_one(DetailView).text), "the tick",
                seconds=FOLLOW_SECONDS)
            await driver.abort(False)
            await wait_until(pilot, lambda: screen.run.loaded and screen.run.finished,
                             "the run's end", seconds=FOLLOW_SECONDS)
            await sees_driver(pilot, observer, driver, "the aborted run")
            await wait_until(pilot, lambda: "no one drives it" in screen_text(observer),
                             "the driver gone", seconds=FOLLOW_SECONDS)
            assert "Run aborted" in str(screen.query_one(DetailView).text)
            assert mutating(env) == before
            await pilot.press("q")
    finally:
        driver.close()


async def back_to(pilot: Any, app: VwtuiApp, screen: WatchScreen, key: str) -> None:
    """After a key that opened something (help, the palette, the checklist), back to the
    observer view."""
    for _ in range(5):
        if app.screen is screen:
            return
        if app.current_mode != "dashboard":
            await app.switch_mode("dashboard")
        elif len(app.screen_stack) > 1 and app.screen is not screen:
            app.pop_screen()
        await pilot.pause()
    assert app.screen is screen, f"{key} left the observer view for {app.screen!r}"


async def test_w_at_the_resume_offer_watches_the_run_another_process_drives(
        recovery_env: Start) -> None:
    env = recovery_env()
    journal = await open_run(env, "video-window-recovery-w")
    before = mutating(env)
    with held_elsewhere(journal, run_id_of(journal)) as pid:
        app = env.app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, WatchOffer), "the offer")
            assert "w watch it live, read-only" in screen_text(app)
            await pilot.press("w")
            await wait_until(pilot, lambda: isinstance(app.screen, WatchScreen)
                             and "driven by alice/" in screen_text(app), "the observer view")
            assert f"driven by alice/{pid}" in screen_text(app)
            assert "video-window-recovery-w" in screen_text(app)
            await pilot.press("escape")  # back to the console
            await wait_until(pilot, lambda: not isinstance(app.screen, WatchScreen),
                             "the dashboard")
    assert mutating(env) == before


# ---- the journal's tail ----------------------------------------------------------------------

def test_the_tail_reads_only_new_bytes_and_waits_for_a_whole_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(b'{"event":"a"}\n{"event":')
    tail = JournalTail(path)
    assert tail.read() == ([{"event": "a"}], False)
    assert not tail.changed()
    with path.open("ab") as handle:
        handle.write(b'"b"}\n')
    assert tail.changed()
    assert tail.read() == ([{"event": "b"}], False)
    assert tail.bytes_read == path.stat().st_size  # each byte read once
    # Cut shorter (a resuming driver cut a torn tail): read again from the start, said so.
    path.write_bytes(b'{"event":"c"}\n')
    assert tail.read() == ([{"event": "c"}], True)


def test_find_run_by_id_prefix_or_path(tmp_path: Path) -> None:
    runs = jr.runs_dir(tmp_path)
    runs.mkdir(parents=True)
    for name in ("20251111T100000Z-a-1", "20251111T110000Z-b-2"):
        (runs / f"{name}.jsonl").write_text("")
    assert find_run("20251111T10", tmp_path).stem == "20251111T100000Z-a-1"
    assert find_run(str(runs / "20251111T110000Z-b-2.jsonl"), tmp_path).name.endswith("b-2.jsonl")
    with pytest.raises(jr.JournalError, match="names 2 runs"):
        find_run("20251111T", tmp_path)
    with pytest.raises(jr.JournalError, match="No run 'zz'"):
        find_run("zz", tmp_path)


def test_vwtui_watch_without_a_run_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("VWTUI_CONFIG", raising=False)
    assert cli.main(["watch"]) == 1
    assert "no unfinished run in" in capsys.readouterr().err


# ---- how it looks --------------------------------------------------------------------------

def observed_journal(env: RecoveryEnv) -> Path:
    """A run at fixed times: restore done, the wait polling; no process drives it."""
    request = RecoveryRequest(Scenario.PITR, "video-window", "video-window-recovery-202511111150",
                              restore_time=NOW - timedelta(hours=1, minutes=10),
                              incident_time=NOW - timedelta(hours=1))
    started = NOW - timedelta(minutes=10)
    run_id = f"20251111T115000Z-{request.target}-1"
    # The driver's plan, without the sandbox's endpoint (its port changes every time).
    planned = env.config.replace(aws=dataclasses.replace(env.config.aws, endpoint_url=""))
    journal = jr.Journal.create(run_id, jr.runs_dir())
    plan = [{"key": p.key, "title": p.title, "estimate_seconds": p.estimate.total_seconds(),
             "mutating": p.mutating, "command": p.command}
            for p in build_plan(request, planned, now=started, run_id=run_id)]
    journal.append(jr.RUN_START, **jr.start_record_fields(request, plan, started))
    journal.append(jr.STEP_START, step="restore", at=started, command=plan[0]["command"])
    journal.append(jr.RESTORE_ISSUED, step="restore", created=[request.target],
                   restore_point=request.restore_time)
    journal.append(jr.STEP_END, step="restore", outcome="done", at=started + timedelta(minutes=1),
                   detail=f"Restore of {request.target} requested.")
    journal.append(jr.STEP_START, step="wait", at=started + timedelta(minutes=1))
    journal.append(jr.STEP_PROGRESS, step="wait", instance=request.target, status="creating")
    return journal.path


def test_observer_view_80x24(recovery_env: Start, snap_compare: Any) -> None:
    env = recovery_env(now=NOW)
    path = observed_journal(env)
    app = env.app(clock=lambda: NOW, watch=(path,))

    async def shown(pilot: Any) -> None:
        await wait_until(pilot, lambda: isinstance(app.screen, WatchScreen)
                         and app.screen.run.loaded and "acct" in screen_text(app)
                         and "…" not in screen_text(app).splitlines()[0], "the observer view")

    assert snap_compare(app, terminal_size=(80, 24), run_before=shown)


def test_records_the_snapshot_reads_are_json(tmp_path: Path) -> None:
    # The observer reads records written by another process: each is one JSON object a line.
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps({"event": "x", "at": utcnow().isoformat()}) + "\n")
    assert JournalTail(path).read()[0][0]["event"] == "x"
