"""Where the recovery screens' styles live: one .tcss file shipped inside the vwtui package."""

from __future__ import annotations

from pathlib import Path

import vwtui

# An absolute path, so it resolves the same from the repo (screens/) and from the wheel
# (vwtui/screens/).
CSS_PATH = str(Path(vwtui.__file__).with_name("recovery.tcss"))
