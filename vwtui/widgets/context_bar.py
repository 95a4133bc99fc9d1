"""The context bar at the top of every screen: which account, region and instance this is.

Production is drawn in a colour nobody can miss and named in words, so NO_COLOR shows it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.widgets import Static

from vwtui import fmt

if TYPE_CHECKING:
    from vwtui.app import VwtuiApp


class ContextBar(Static):
    """One line: environment marker, source instance, account id, region, mode, UTC clock."""

    DEFAULT_CLASSES = "context-bar"

    def __init__(self) -> None:
        super().__init__("", markup=False)
        self._shown: Text | None = None

    @property
    def vwtui(self) -> VwtuiApp:
        return cast("VwtuiApp", self.app)

    def _source(self) -> tuple[str, bool]:
        """The instance this screen acts on, and whether it is production: the screen's own
        (`context_source`: a recovery of production opened from a staging console) or the
        console's."""
        app = self.vwtui
        own = getattr(self.screen, "context_source", None)
        if isinstance(own, str) and own:
            return own, own == app.config.instances.production
        return app.source_instance, app.environment == "production"

    def refresh_source(self) -> None:
        """Redraw after the screen's source changed (the chooser's prod/staging switch)."""
        _, production = self._source()
        self.set_class(production, "-production")
        self.set_class(not production, "-staging")
        self._redraw()

    def on_mount(self) -> None:
        app = self.vwtui
        self.refresh_source()
        self.watch(app, "identity", self._redraw, init=False)
        self.watch(app, "identity_error", self._redraw, init=False)
        self.set_interval(15, self._redraw)
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self, _value: object = None) -> None:
        app = self.vwtui
        source, production = self._source()
        marker = "◆ PRODUCTION ◆" if production else "◇ STAGING ◇"
        left = Text()
        left.append(f" {marker} ", style="bold reverse")
        left.append(f" {source} ", style="bold")
        if app.identity is not None:
            account = app.identity.account
        elif app.identity_error is not None:
            account = "?"
        else:
            account = "…"
        left.append(f" acct {account}  {app.region} ")
        if app.config.ui.read_only:
            left.append(" READ-ONLY ", style="bold")
        width = self.size.width or 80
        now = app.clock()
        right = Text(f"{fmt.utc(now) if width >= 100 else fmt.clock(now, seconds=False)} UTC ")
        gap = max(width - left.cell_len - right.cell_len, 1)
        text = left + Text(" " * gap) + right
        # The same line again is not set: an update relays the screen out and repaints it
        # whole (an idle `vwtui watch` would send the whole screen every 15 s).
        if text != self._shown:
            self._shown = text
            self.update(text)
