"""The run screen's detail box (DetailView) and which screens the app draws: what changes on a
key press while restores poll is repainted alone, never laid out again or drawn unseen."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from vwtui.app import screens_seen_under
from vwtui.widgets.detail_view import DetailView

SIZE = (40, 12)


def numbered(count: int, word: str = "line") -> Text:
    return Text("\n".join(f"{word} {n}" for n in range(1, count + 1)))


class _Box(App[None]):
    CSS = "DetailView { height: 6; border-top: solid $primary; padding: 0 1; }"

    def compose(self) -> ComposeResult:
        yield Static("above")
        yield DetailView(id="detail")
        yield Static("below")


def shown_lines(app: App[Any], view: DetailView) -> list[str]:
    """The box's text rows as the screen draws them (border and scrollbar cut off)."""
    region = view.scrollable_content_region
    strips = app.screen._compositor.render_strips()
    return [strips[y].crop(region.x, region.right).text.rstrip()
            for y in range(region.y, region.bottom)]


@pytest.fixture
def layouts(monkeypatch: pytest.MonkeyPatch) -> list[Screen[Any]]:
    """Every layout of a screen (Textual's Screen._refresh_layout), as it happens."""
    seen: list[Screen[Any]] = []
    original = Screen._refresh_layout

    def counted(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
        seen.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    return seen


async def test_a_text_of_another_length_is_repainted_without_a_layout(
        layouts: list[Screen[Any]]) -> None:
    app = _Box()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DetailView)
        view.show(numbered(2))
        await pilot.pause()
        region = view.region
        layouts.clear()
        for text in (numbered(30), numbered(1), numbered(5, "word " * 12), numbered(3)):
            view.show(text)
            await pilot.pause()
            # What the text says is on screen, from its first line.
            first = shown_lines(app, view)[0]
            assert first and text.plain.startswith(first)
        assert layouts == []
        assert view.region == region
        assert shown_lines(app, view) == ["line 1", "line 2", "line 3", "", ""]


async def test_a_long_text_scrolls_and_another_step_starts_at_its_top() -> None:
    app = _Box()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DetailView)
        view.show(numbered(30))
        await pilot.pause()
        height = view.scrollable_content_region.height
        assert view.max_scroll_y == 30 - height
        view.focus()
        await pilot.press("end")
        await pilot.pause()
        assert shown_lines(app, view)[-1] == "line 30"

        # The same step's next poll: the reader stays where they are.
        view.show(numbered(31))
        await pilot.pause()
        assert shown_lines(app, view)[-1] == "line 30"
        # Shorter than where the reader was: the view ends at the text's last line.
        view.show(numbered(height + 2))
        await pilot.pause()
        assert shown_lines(app, view)[-1] == f"line {height + 2}"
        # Another step's detail: from its first line.
        view.show(numbered(40, "other"), key="other")
        await pilot.pause()
        assert view.scroll_y == 0
        assert shown_lines(app, view)[0] == "other 1"


async def test_words_wrap_at_the_box_width_and_again_when_it_changes() -> None:
    app = _Box()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DetailView)
        words = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
        view.show(Text(words))
        await pilot.pause()
        width = view.scrollable_content_region.width
        narrow = [line for line in shown_lines(app, view) if line]
        assert len(narrow) == 2 and all(len(line) <= width for line in narrow)
        assert " ".join(narrow) == words  # cut between words, none lost
        await pilot.resize_terminal(80, 12)
        await pilot.pause()
        assert shown_lines(app, view)[:2] == [words, ""]


class _Opaque(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("opaque")


class _Modal(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        yield Static("modal")


class _Console(App[None]):
    """Plain screens, and vwtui's choice of which screens are seen."""

    @property
    def _background_screens(self) -> list[Screen[Any]]:
        return screens_seen_under(self._screen_stack)


async def test_a_screen_under_an_opaque_one_is_not_drawn() -> None:
    app = _Console()
    async with app.run_test(size=SIZE) as pilot:
        bottom, middle = _Opaque(), _Opaque()
        await app.push_screen(bottom)
        await app.push_screen(middle)
        await pilot.pause()
        # Textual alone counts the screen under the top one as current, and draws it.
        assert app._background_screens == []
        assert not bottom.is_current and middle.is_current
        modal = _Modal()
        await app.push_screen(modal)
        await pilot.pause()
        # Under a modal, the screen shows through it (and stops at the first opaque one).
        assert app._background_screens == [middle]
        assert middle.is_current and not bottom.is_current
        app.pop_screen()
        await pilot.pause()
        assert app._background_screens == [] and app.screen is middle


async def test_a_poll_that_changes_one_line_redraws_that_line() -> None:
    app = _Box()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(DetailView)
        view.show(Text("running\nWait until db is available\n⟳ db: creating (poll 1)\n$ aws"))
        await pilot.pause()
        view.show(Text("running\nWait until db is available\n⟳ db: creating (poll 2)\n$ aws"))
        # Only the third row is marked for drawing (Textual's own record of what to repaint).
        offset = view.content_offset
        assert {(r.y - offset.y, r.height) for r in view._repaint_regions} == {(2, 1)}
        await pilot.pause()
        assert shown_lines(app, view)[2] == "⟳ db: creating (poll 2)"
