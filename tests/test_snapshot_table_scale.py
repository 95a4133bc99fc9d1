"""The snapshot list at 10,000 rows (issue 12): what `f` and `/` show is exactly the matching
snapshots, newest first, and the cursor stays on the engineer's row.

In process, without AWS: 10,033 snapshots (33 automated dailies, 10,000 hourly manual ones)
handed to the pane page by page in a shuffled order, as two paginated reads side by side would
hand them. Nothing is timed here (bench/scale.py times the keys); the tests check the rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import Static

from vwtui.model import Snapshot
from vwtui.widgets.backup_panes import SnapshotsPane

NOW = datetime(2025, 11, 11, 12, 0, tzinfo=UTC)


def _snapshot(identifier: str, kind: str, created: datetime | None) -> Snapshot:
    return Snapshot(identifier, f"arn:aws:rds:eu-west-1:123456789012:snapshot:{identifier}",
                    "video-window", kind, created, "available", 100, True, "postgres", "16.4")


def _account() -> list[Snapshot]:
    daily = [_snapshot(f"rds:video-window-{NOW - timedelta(days=d):%Y-%m-%d}-03-00",
                       "automated", NOW.replace(hour=3, minute=7, second=13) - timedelta(days=d))
             for d in range(33)]
    hourly = [_snapshot(f"Video-Window-hourly-{t:%Y-%m-%d-%H-%M}", "manual", t)
              for t in (NOW - timedelta(minutes=59 * (i + 1)) for i in range(10_000))]
    return daily + hourly


def _newest_first(snapshots: list[Snapshot]) -> list[str]:
    return [s.identifier for s in sorted(snapshots, key=lambda s: s.created or NOW,
                                         reverse=True)]


class _PaneApp(App[None]):
    CSS_PATH = "../vwtui/vwtui.tcss"

    def compose(self) -> ComposeResult:
        yield SnapshotsPane()


def _ids(pane: SnapshotsPane) -> list[str]:
    """The snapshots on show, top to bottom (each row's key is its identifier; reading the
    id column of 10,000 rows would build every row)."""
    return pane.table.shown_keys


def _status(pane: SnapshotsPane) -> str:
    return str(pane.query_one(".pane-status", Static).content)


def _detail(pane: SnapshotsPane) -> str:
    return str(pane.query_one(".pane-detail", Static).content)


async def test_filters_on_10000_rows_show_exactly_the_matching_rows_in_order() -> None:
    snapshots = _account()
    pages = [snapshots[i:i + 100] for i in range(0, len(snapshots), 100)]
    random.Random(12).shuffle(pages)
    app = _PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(SnapshotsPane)
        pane.table.focus()

        # Page by page: the list so far, newest first, "loading… N so far".
        found: list[Snapshot] = []
        for number, page in enumerate(pages):
            found.extend(page)
            pane.add_progress(page, now=NOW, max_age_hours=25, first=number == 0,
                              draw=number % 7 == 0)
            if number % 7 == 0:
                await pilot.pause()
                assert _ids(pane) == _newest_first(found)
                assert f"loading… {len(found)} so far" in _status(pane)
        pane.show(found, [], now=NOW, max_age_hours=25)
        await pilot.pause()
        everything = _newest_first(snapshots)
        assert _ids(pane) == everything and pane.table.row_count == 10_033
        assert "loading" not in _status(pane) and "10033 snapshots" in _status(pane)

        # The engineer puts the cursor on a manual snapshot well down the list.
        await pilot.press(*["down"] * 30)
        chosen = pane.highlighted_key
        assert chosen == everything[30] and chosen in _detail(pane)
        snapshot = next(s for s in snapshots if s.identifier == chosen)
        assert snapshot.snapshot_type == "manual"

        # f: automated only (the chosen row is not among them), manual only, all again.
        automated = [i for i in everything if i.startswith("rds:")]
        pane.cycle_filter()
        await pilot.pause()
        assert pane.type_filter == "automated"
        assert _ids(pane) == automated
        assert set(pane.column_values("type")) == {"auto"}  # the cells drawn, 33 rows
        pane.cycle_filter()
        await pilot.pause()
        assert _ids(pane) == [i for i in everything if i not in set(automated)]
        assert pane.highlighted_key == chosen  # back in the list: the cursor is on it again
        pane.cycle_filter()
        await pilot.pause()
        assert pane.type_filter == "all" and _ids(pane) == everything
        assert pane.highlighted_key == chosen and chosen in _detail(pane)

        # /, typed one character at a time: case-insensitive, in order, the cursor kept
        # while its row matches.
        typed = ""
        for char in f"HOURLY-{snapshot.created:%Y-%m-%d-%H-%M}":
            typed += char
            pane.set_text_filter(typed)
            await pilot.pause()
            expected = [i for i in everything if typed.lower() in i.lower()]
            assert _ids(pane) == expected, typed
            assert pane.highlighted_key == chosen
        assert pane.column_values("id") == [chosen]
        assert f"/{typed}" in _status(pane) and "1 snapshot" in _status(pane)
        # Both filters at once, then nothing matches, then cleared.
        pane.set_text_filter("2025-11-0")
        pane.cycle_filter()
        await pilot.pause()
        assert _ids(pane) == [i for i in automated if "2025-11-0" in i]
        pane.set_text_filter("no such snapshot")
        await pilot.pause()
        assert pane.table.row_count == 0 and pane.highlighted_key is None
        assert _detail(pane) == ""
        pane.set_text_filter("")
        pane.cycle_filter()
        pane.cycle_filter()
        await pilot.pause()
        assert _ids(pane) == everything
        assert pane.highlighted_key == chosen

        # Rows are built when drawn: a few screenfuls, not 10,000 rows of Text.
        assert len(pane._built) < 1024


async def test_a_refresh_keeps_the_cursor_and_shows_new_and_gone_snapshots() -> None:
    snapshots = _account()
    app = _PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(SnapshotsPane)
        pane.table.focus()
        pane.show(snapshots, [], now=NOW, max_age_hours=25)
        await pilot.pause()
        await pilot.press(*["down"] * 12)
        chosen = pane.highlighted_key
        assert chosen is not None
        line = pane.table.cursor_row - round(pane.table.scroll_y)

        # Later: two new snapshots on top, the oldest one gone, ages counted from a new now.
        later = NOW + timedelta(hours=2)
        newer = [_snapshot("video-window-before-upgrade", "manual", NOW + timedelta(hours=1)),
                 _snapshot("video-window-creating", "manual", None)]
        pane.show(snapshots[:-1] + newer, [], now=later, max_age_hours=25)
        await pilot.pause()
        ids = _ids(pane)
        assert ids[0] == "video-window-before-upgrade" and ids[-1] == "video-window-creating"
        assert snapshots[-1].identifier not in ids and len(ids) == 10_034
        assert pane.highlighted_key == chosen
        assert pane.table.cursor_row - round(pane.table.scroll_y) == line  # on its line
        assert pane.table.get_cell_at(Coordinate(0, 1)).plain.strip() == "1h"  # from the new now
