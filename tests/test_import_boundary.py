"""The core imports no Textual: checked in a fresh interpreter, not by reading the code."""

from __future__ import annotations

import json
import subprocess
import sys

CORE = ["vwtui.config", "vwtui.model", "vwtui.errors", "vwtui.fmt", "vwtui.services.aws",
        "vwtui.checks", "vwtui.recovery", "vwtui.console"]


def _import_and_list(modules: list[str]) -> dict[str, list[str]]:
    script = (
        "import importlib, json, sys\n"
        "imported = []\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError as exc:\n"
        "        if exc.name != name:\n"
        "            raise\n"
        "        continue\n"
        "    imported.append(name)\n"
        "print(json.dumps({'imported': imported, 'modules': sorted(sys.modules)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=60)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_core_modules_import_no_textual() -> None:
    result = _import_and_list(CORE)
    assert {"vwtui.config", "vwtui.model", "vwtui.services.aws", "vwtui.recovery"} <= set(
        result["imported"])
    loaded = result["modules"]
    assert not [m for m in loaded if m == "textual" or m.startswith("textual.")]
    # boto3 and psycopg are imported on first use only, so none of this waits for them.
    assert not [m for m in loaded if m.split(".")[0] in {"boto3", "botocore", "psycopg"}]


def test_the_app_does_import_textual() -> None:
    # The check above can fail: the same probe sees Textual when the app is imported.
    result = _import_and_list(["vwtui.app"])
    assert "textual" in result["modules"]
