"""Text changed in place: a repaint of one widget, not a layout of the whole screen.

`Static.update()` asks for a layout pass by default, and a layout reflows the screen and
repaints every widget whose region moved. The run screen changes text on every poll (a wait's
"poll N", the clock's next second) while the engineer moves the cursor: when the new text takes
the same rows at the width the widget already has, its box cannot change, and a repaint of that
widget alone shows it.
"""

from __future__ import annotations

from rich.text import Text
from textual.visual import visualize
from textual.widgets import Static


def update_in_place(widget: Static, text: Text) -> None:
    """`widget.update(text)`, with a layout pass only when the text may change the widget's
    size: a width that follows its content, or a new number of rows at the current width."""
    size = widget.content_size
    width = widget.styles.width
    same_rows = False
    if size.width and size.height and not (width is not None and width.is_auto):
        # The styles as the rules map, as Widget.get_content_height passes them.
        rows = visualize(widget, text, markup=False).get_height(
            widget.styles, size.width)  # type: ignore[arg-type]
        same_rows = rows == size.height
    widget.update(text, layout=not same_rows)
