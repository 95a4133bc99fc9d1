"""Rich text in a box of fixed size that scrolls: a recovery step's detail.

The run screen's detail used to be a `Static` inside a `VerticalScroll`. Each step's detail
has its own length, so moving the cursor changed the Static's height, and Textual answers a
height change with a layout of the whole screen (about 16 ms a frame here against 5 ms for a
repaint), then a second one when the Static's new size comes back as a new virtual size; the
scrollbar appearing or going was a third. While restores poll, that layout was most of the
delay between a key and its frame.

Here the box's size comes from the CSS alone. The text is wrapped to the box's width once, when
it is set (or the box resized), and drawn line by line (Textual's line API, as its `Log` is);
a new text changes only what scrolls inside the box, which is a repaint of this widget.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class DetailView(ScrollView, can_focus=True):
    """Text wrapped to the box's width, scrolled by the keys, the wheel or the scrollbar."""

    # The vertical scrollbar is always there: a scrollbar that came and went with the text's
    # length would change the box's layout, which is the cost this widget avoids. Its track is
    # the box's own background, so a text that fits shows no bar, and a longer one its thumb.
    DEFAULT_CSS = """
    DetailView {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-background: $background;
        scrollbar-background-hover: $background;
        scrollbar-background-active: $background;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = Text()
        self._lines: list[Strip] = []
        self._wrapped_at = -1
        # Whose detail is shown (a step's key).
        self.key: str | None = None
        self._base_style = Style()
        self._width = 0

    @property
    def text(self) -> Text:
        """The text shown (all of it, not only the lines in view)."""
        return self._text

    def show(self, text: Text, key: str | None = None) -> None:
        """Show `text`, the detail of `key` (a step): another key's is shown from its first
        line, the same key's next text (a poll) where the reader is."""
        top = key != self.key
        self.key = key
        if text == self._text and not top:
            return
        self._text = text
        before, extent = self._lines, self.virtual_size
        self._wrap()
        if top and self.scroll_y:
            self.scroll_to(y=0, animate=False, immediate=True)
            self.refresh()
        elif self.virtual_size == extent and len(before) == len(self._lines):
            # The same step's next poll changes a line or two ("poll 12"): those are drawn
            # again, not the whole box.
            changed = [y for y, (old, new) in enumerate(zip(before, self._lines, strict=True))
                       if old != new]
            if changed:
                self.refresh_lines(changed[0], changed[-1] - changed[0] + 1)
        else:
            self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._wrap()

    def _wrap(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0 or not self.is_mounted:
            self._wrapped_at = -1
            return
        self._wrapped_at = width
        console = self.app.console
        rendered = console.render_lines(self._text, console.options.update_width(width),
                                        pad=False)
        self._lines = [Strip(line) for line in rendered]
        # At least the box's height: a scrollbar whose extent is its own length draws only its
        # track (a shorter extent would draw a thumb over the whole track).
        size = Size(width, max(len(self._lines), self.scrollable_content_region.height))
        if size != self.virtual_size:
            # The reactive's assignment would ask for a layout of the screen; only the
            # scrollable extent inside this box changed, which its scrollbar is told of.
            self.set_reactive(ScrollView.virtual_size, size)
            self._scroll_update(size)
            if self.scroll_y > self.max_scroll_y:
                self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's own style, once per render rather than once per line (it is worked out
        # from every ancestor's styles).
        self._base_style = self.rich_style
        self._width = self.scrollable_content_region.width
        if self._width != self._wrapped_at:
            self._wrap()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = y + round(self.scroll_y)
        line = self._lines[index] if 0 <= index < len(self._lines) else Strip.blank(0)
        return line.crop_extend(0, self._width, None).apply_style(self._base_style)
