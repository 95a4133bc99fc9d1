"""Styles by component-class name, for renderers that are plain functions.

The recovery renderers (`render_clock`, `render_step`, `status_cell`, ...) build `rich.text.Text`
and name each style by a component class of the widget that shows it; the colours themselves
live in `recovery.tcss`, as the dashboard's live in `vwtui.tcss`. Called without a widget (a
test reading `.plain`), they use `unstyled`.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from textual.widget import Widget

StyleOf = Callable[[str], Style]


def unstyled(name: str) -> Style:
    """No style for any name: the words and symbols alone (what NO_COLOR reads too)."""
    return Style.null()


def component_style(widget: Widget) -> StyleOf:
    """The widget's component-class styles, by name, as set in its .tcss (only what the rule
    sets: no background or colour of the widget itself mixed in)."""

    def style_of(name: str) -> Style:
        return widget.get_component_rich_style(name, partial=True)

    return style_of
