"""A long snapshot list on a big account (issue 12): read before the UI, shown page by page.

Against the scaled sandbox at a small size (a few pages of `DescribeDBSnapshots`, not a
hundred) with a round trip added to every call, so a load is slow enough to be seen half way.
Nothing waits a fixed time: each step waits for the state it needs, and fails (not hangs) if
that never comes.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fixtures_dashboard import NOW, wait_for_polls
from fixtures_sandbox import sandbox_client, start_sandbox
from textual.widgets import Input, Static
from vwtui.screens.dashboard import DashboardScreen

from vwtui.app import VwtuiApp
from vwtui.config import AwsConfig, Config, UiConfig
from vwtui.errors import AccessDenied
from vwtui.sandbox.scale import Scale
from vwtui.services.aws import AwsService
from vwtui.services.early import MODE_ENV, EarlyReads, start_view_reads
from vwtui.widgets.backup_panes import SnapshotsPane

PROD = Config().instances.production
# Nine pages of manual snapshots (100 a page) and the vault shared with a few others.
SMALL = Scale(snapshots=850, other_points=60, job_resources=3, job_days=2)
LATENCY_MS = 100
SLOW_MS = 400


@pytest.fixture
def scaled(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    sandbox = start_sandbox(monkeypatch, restore_seconds=0, now=NOW, scale=SMALL)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def _config(sandbox: Any) -> Config:
    return Config(aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                                max_attempts=1), ui=UiConfig(refresh_seconds=0))


def _all_snapshot_ids(sandbox: Any) -> list[str]:
    client = sandbox_client(sandbox, "rds")
    pages = client.get_paginator("describe_db_snapshots").paginate(DBInstanceIdentifier=PROD)
    return [s["DBSnapshotIdentifier"] for page in pages for s in page["DBSnapshots"]]


async def _until(pilot: Any, condition: Callable[[], bool], what: str) -> None:
    for _ in range(1200):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never happened: {what}")


def _status(pane: SnapshotsPane) -> str:
    return str(pane.query_one(".pane-status", Static).content)


async def test_snapshots_show_page_by_page_keep_the_cursor_restart_on_r_and_filter(
        scaled: Any) -> None:
    sandbox = scaled
    everything = _all_snapshot_ids(sandbox)
    assert len(everything) > 400
    config = _config(sandbox)
    aws = AwsService(config)
    sandbox.set_latency(LATENCY_MS)
    before = len(sandbox.calls("rds:DescribeDBSnapshots"))
    app = VwtuiApp(config, aws, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        pane = screen.query_one(SnapshotsPane)

        # The first pages are on screen while the rest are still being read.
        await _until(pilot, lambda: bool(pane.loading_count) and pane.table.row_count > 0,
                     "first rows shown during the load")
        shown = pane.loading_count
        assert shown is not None and shown < len(everything)
        assert screen.polls_completed == 0
        assert f"loading… {shown} so far" in _status(pane)

        # The engineer moves down; later pages (newer ones among them) do not move the cursor.
        # The rest come slower from here, so that `r` lands half way.
        sandbox.set_latency(SLOW_MS)
        await pilot.press("down", "down", "down")
        chosen = pane.highlighted_key
        assert chosen is not None
        shown = pane.loading_count
        await _until(pilot, lambda: (pane.loading_count or 0) > (shown or 0), "a later page")
        assert pane.highlighted_key == chosen
        assert f"loading… {pane.loading_count} so far" in _status(pane)

        # `r` half way through restarts the load: the first is cancelled, the second ends
        # with each snapshot once, no error, and the cursor still on its row.
        assert pane.loading_count is not None and pane.loading_count < len(everything)
        sandbox.set_latency(0)
        await pilot.press("r")
        screen = await wait_for_polls(pilot)
        assert screen.polls_completed == 1
        ids = pane.column_values("id")
        assert sorted(ids) == sorted(everything)
        assert pane.loading_count is None and not pane.errors
        assert "loading" not in _status(pane)
        assert pane.highlighted_key == chosen
        # The first load stopped at `r`: fewer calls than reading every page twice.
        pages = len(sandbox.calls("rds:DescribeDBSnapshots")) - before
        assert pages < 2 * (len(everything) // 100 + 1)

        # `/` filters by text as it is typed; esc clears it.
        await pilot.press("slash")
        line = screen.query_one("#text-filter", Input)
        assert line.has_focus
        text = f"hourly-{NOW:%Y-%m}-0"
        await pilot.press(*text)
        await pilot.pause()
        expected = [i for i in everything if text in i]
        assert 0 < len(expected) < len(everything)
        assert sorted(pane.column_values("id")) == sorted(expected)
        assert f"/{text}" in _status(pane)
        await pilot.press("escape")
        await pilot.pause()
        assert pane.table.row_count == len(everything) and not line.display
        # `f` over the whole list.
        automated = pane.column_values("type").count("auto")
        await pilot.press("f")
        assert pane.type_filter == "automated" and pane.table.row_count == automated
        await pilot.press("f")
        assert pane.type_filter == "manual"
        assert set(pane.column_values("type")) == {"manual"}
        assert pane.table.row_count == len(everything) - automated


@pytest.fixture(params=["thread", "process"])
def early_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The early reads in a thread, or in a forked child process (what `vwtui` does on Linux:
    services/early.py), each taken through the same code."""
    mode: str = request.param
    monkeypatch.setenv(MODE_ENV, mode)
    return mode


async def test_the_dashboard_takes_the_reads_started_before_it(scaled: Any,
                                                                 early_mode: str) -> None:
    """As `vwtui` does: the dashboard's reads go out before the app exists; the first poll
    takes their answers (each page read once), a refresh reads afresh."""
    sandbox = scaled
    everything = _all_snapshot_ids(sandbox)
    config = _config(sandbox)
    aws = AwsService(config)
    before = {op: len(sandbox.calls(op)) for op in ("rds:DescribeDBSnapshots",
                                                    "rds:DescribeDBInstances")}
    start_view_reads(aws, config, PROD, "dashboard")
    assert aws.early.mode == early_mode
    app = VwtuiApp(config, aws, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await wait_for_polls(pilot)
        pane = screen.query_one(SnapshotsPane)
        assert sorted(pane.column_values("id")) == sorted(everything)
        assert aws.early.pending() == []
        pages = len(sandbox.calls("rds:DescribeDBSnapshots")) - before["rds:DescribeDBSnapshots"]
        automated = pane.column_values("type").count("auto")
        assert pages == 1 + -(-(len(everything) - automated) // 100)  # 100 a page, each once
        assert len(sandbox.calls("rds:DescribeDBInstances")) == \
            before["rds:DescribeDBInstances"] + 1
        # The instance ARN the early reads learnt is known here too (a child sends it back).
        assert PROD.lower() in aws._arns
        assert app.identity is not None and app.identity.account == sandbox.account
        await pilot.press("r")
        await wait_for_polls(pilot, 2)
        assert len(sandbox.calls("rds:DescribeDBInstances")) == \
            before["rds:DescribeDBInstances"] + 2
        assert sorted(pane.column_values("id")) == sorted(everything)

    asked: list[str] = []

    async def never() -> Any:
        asked.append("fallback")
        raise AssertionError("the early answer was there")

    early = EarlyReads()
    early.start({"instance": lambda: aws.instance(PROD)})
    assert (await early.take("instance", never)).identifier == PROD and asked == []
    with pytest.raises(AssertionError):  # taken once: the next one reads again
        await early.take("instance", never)


async def test_an_early_read_that_fails_raises_the_project_error_when_taken(
        scaled: Any, early_mode: str) -> None:
    sandbox = scaled
    sandbox.deny("rds:DescribeDBSnapshots")
    aws = AwsService(_config(sandbox))
    early = EarlyReads()
    early.start({"instance": lambda: aws.instance(PROD)},
                {"snapshots": lambda: aws.snapshot_pages(PROD, "manual")})

    async def unused() -> Any:
        raise AssertionError("not asked")

    assert (await early.take("instance", unused)).identifier == PROD
    with pytest.raises(AccessDenied):
        async for _ in early.take_pages("snapshots", unused):  # type: ignore[arg-type]
            pass
    await asyncio.sleep(0)


async def test_a_child_that_dies_mid_list_loses_nothing(scaled: Any) -> None:
    """The early reads' child process killed after its first page (as the OOM killer or a
    `kill -9` would): the answers it did not send are read again by their taker, and the list
    comes out whole, each snapshot once."""
    sandbox = scaled
    everything = _all_snapshot_ids(sandbox)
    aws = AwsService(_config(sandbox))
    sandbox.set_latency(SLOW_MS)
    early = EarlyReads()
    early.start({"instance": lambda: aws.instance(PROD)},
                {"snapshots": lambda: aws.snapshot_pages(PROD)}, process=True)
    assert early.mode == "process" and early.child_pid is not None
    taken: list[str] = []
    async for page in early.take_pages("snapshots", lambda: aws.snapshot_pages(PROD)):
        if not taken:  # one page in: the child dies with the rest still unread
            os.kill(early.child_pid, signal.SIGKILL)
            sandbox.set_latency(0)
        taken.extend(s.identifier for s in page)
    assert sorted(taken) == sorted(everything)
    asked: list[str] = []

    async def again() -> Any:
        asked.append("instance")
        return await aws.instance(PROD)

    assert (await early.take("instance", again)).identifier == PROD
