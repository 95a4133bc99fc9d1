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

    @property
    def vwtui(self) -> VwtuiApp:
        return cast("VwtuiApp", self.app)

    def on_mount(self) -> None:
        app = self.vwtui
        self.set_class(app.environment == "production", "-production")
        self.set_class(app.environment != "production", "-staging")
        self.watch(app, "identity", self._redraw, init=False)
        self.watch(app, "identity_error", self._redraw, init=False)
        self.set_interval(15, self._redraw)
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self, _value: object = None) -> None:
        app = self.vwtui
        marker = "◆ PRODUCTION ◆" if app.environment == "production" else "◇ STAGING ◇"
        left = Text()
        left.append(f" {marker} ", style="bold reverse")
        left.append(f" {app.source_instance} ", style="bold")
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
        right = Text(f"{fmt.utc(now) if width >= 100 else fmt.utc(now)[-5:]} UTC ")
        gap = max(width - left.cell_len - right.cell_len, 1)
        self.update(left + Text(" " * gap) + right)
