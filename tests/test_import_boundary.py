"""The import boundary, held two ways, each shown able to fail.

1. import-linter's contracts (`[tool.importlinter]` in pyproject.toml) over every module: run
   with the venv's `lint-imports` on a copy of the package laid out as it is installed
   (setuptools maps `vwtui.screens` to `screens/`, and grimp only walks the `vwtui/`
   directory), after checking the graph holds one module per Python file.
2. A fresh interpreter imports every module the package has (walked with pkgutil, not a list
   that could go stale) and looks at `sys.modules`: the core loads no Textual, Rich, boto3,
   botocore or psycopg, the UI loads no AWS or PostgreSQL library before it is used.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = REPO / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# The UI: the only modules that may import Textual (or Rich, which comes with it).
UI = ("vwtui.app", "vwtui.widgets", "vwtui.screens")
# They start the UI, importing it inside a function: outside the chain-following contract, but
# importing them must still load no Textual (the fresh-interpreter test).
LAUNCHERS = ("vwtui", "vwtui.__main__", "vwtui.cli", "vwtui.console", "vwtui.demo")
# Packages with no Python code of their own.
DATA_ONLY = ("vwtui.sql",)
# The demo's sandbox: it brings moto and a PostgreSQL of its own, so it loads AWS libraries.
SANDBOX = ("vwtui.sandbox", "vwtui.demo")

UI_LIBRARIES = {"textual", "rich"}
BACKEND_LIBRARIES = {"boto3", "botocore", "psycopg"}


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _tool(name: str) -> Any:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"][name]


def package_dirs() -> dict[str, Path]:
    """Each package pyproject.toml installs, with the directory it comes from (package-dir)."""
    tool = _tool("setuptools")
    mapping: dict[str, str] = tool["package-dir"]
    packages: list[str] = tool["packages"]
    dirs = {}
    for name in packages:
        base = max((k for k in mapping if name == k or name.startswith(k + ".")), key=len)
        rest = name[len(base):].lstrip(".")
        dirs[name] = REPO / mapping[base] / rest.replace(".", "/")
    return dirs


def modules_on_disk() -> dict[str, Path]:
    """Every module the installed package has, by name: one per Python file."""
    found = {}
    for package, folder in package_dirs().items():
        for path in sorted(folder.glob("*.py")):
            found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return found


def test_every_package_directory_is_installed() -> None:
    # A folder with an __init__.py that pyproject.toml does not list would be left out of the
    # wheel, and out of every check below.
    dirs = package_dirs()
    listed = {d.resolve() for d in dirs.values()}
    for root in {d.resolve() for d in dirs.values()}:
        for init in root.rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                assert init.parent.resolve() in listed, f"{init.parent} is not in packages"
    assert len(modules_on_disk()) >= len(list((REPO / "vwtui").rglob("*.py")))


# ---- 1. import-linter --------------------------------------------------------------------------

def stage(target: Path) -> Path:
    """A copy of the package as installed (screens/ at vwtui/screens/ ...), for grimp to walk."""
    for name, path in modules_on_disk().items():
        is_package = path.stem == "__init__"
        parts = name.split(".") if is_package else name.split(".")[:-1]
        folder = target.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / path.name)
    return target


def run_in(staged: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command with the staged copy first on the path (before the editable install)."""
    env = {**os.environ, "PYTHONPATH": str(staged)}
    return subprocess.run(list(args), cwd=staged, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def lint_imports(staged: Path) -> subprocess.CompletedProcess[str]:
    return run_in(staged, str(LINT_IMPORTS), "--config", str(PYPROJECT), "--no-cache")


def contracts() -> list[dict[str, Any]]:
    return _tool("importlinter")["contracts"]  # type: ignore[no-any-return]


def contract(contract_id: str) -> dict[str, Any]:
    return next(c for c in contracts() if c["id"] == contract_id)


def test_the_contracts_hold_over_every_module(tmp_path: Path) -> None:
    staged = stage(tmp_path / "src")
    expected = set(modules_on_disk())
    # The graph lint-imports checks: grimp, on the staged copy (not the editable install).
    probe = ("import json, grimp, vwtui; "
             "print(json.dumps([vwtui.__file__, sorted(grimp.build_graph('vwtui').modules)]))")
    graphed = run_in(staged, sys.executable, "-c", probe)
    assert graphed.returncode == 0, graphed.stderr
    origin, modules = json.loads(graphed.stdout)
    assert Path(origin).is_relative_to(staged), origin
    assert set(modules) == expected, set(modules) ^ expected
    print(f"import contracts check {len(modules)} modules "
          f"({len(list((REPO / 'vwtui').rglob('*.py')))} .py files under vwtui/, "
          f"{len(expected)} with screens/ and sql/)")

    done = lint_imports(staged)
    assert done.returncode == 0, done.stdout + done.stderr
    analysed = re.search(r"Analyzed (\d+) files", done.stdout)
    assert analysed, done.stdout
    # grimp counts the external packages too (textual, boto3 ...), so this is at least ours.
    assert int(analysed.group(1)) >= len(expected)
    assert f"Contracts: {len(contracts())} kept, 0 broken." in done.stdout


VIOLATIONS = {
    # module planted in the staged copy: its code, and the contract ids it must break
    "vwtui/model_view.py": ("import textual\n", {"ui-only-textual", "core-reaches-no-textual"}),
    "vwtui/checks/pretty.py": ("from vwtui.widgets import pane\n", {"core-reaches-no-textual"}),
    "vwtui/recovery/direct.py": ("import botocore\nimport moto\n",
                                 {"aws-pg-in-services", "moto-in-sandbox"}),
    "vwtui/services/upward.py": ("from vwtui.recovery import state\n",
                                 {"services-below-recovery"}),
}


def test_a_violating_module_breaks_each_contract(tmp_path: Path) -> None:
    staged = stage(tmp_path / "src")
    for relative, (code, _) in VIOLATIONS.items():
        (staged / relative).write_text(code, encoding="utf-8")
    done = lint_imports(staged)
    assert done.returncode != 0
    out = " ".join((done.stdout + done.stderr).split())  # the report wraps long lines
    broken = {str(c["id"]) for c in contracts()
              if f"{' '.join(str(c['name']).split())} BROKEN" in out}
    assert broken == {i for _, ids in VIOLATIONS.values() for i in ids}, out
    for relative in VIOLATIONS:
        assert relative.removesuffix(".py").replace("/", ".") in out


def test_the_contracts_name_every_forbidden_package_and_every_module() -> None:
    assert set(contract("ui-only-textual")["protected_modules"]) == UI_LIBRARIES
    # Allowed: the UI and nothing else (screens with ** as vwtui.screens is not under vwtui/).
    assert [m.removesuffix(".**") for m in contract("ui-only-textual")["allowed_importers"]] == [
        *UI]
    assert set(contract("aws-pg-in-services")["protected_modules"]) == BACKEND_LIBRARIES
    assert set(contract("aws-pg-in-services")["allowed_importers"]) == {
        "vwtui.services", "vwtui.sandbox"}
    core = contract("core-reaches-no-textual")
    assert set(core["forbidden_modules"]) == UI_LIBRARIES
    sources = tuple(core["source_modules"])
    # Every module is core (checked through chains), UI, a launcher of it, or data: a module
    # added anywhere falls under a contract without anyone remembering to list it.
    unchecked = [m for m in modules_on_disk() if not _under(m, sources) and not _under(m, UI)
                 and m not in LAUNCHERS and m not in DATA_ONLY]
    assert unchecked == []
    assert contract("services-below-recovery")["forbidden_modules"] == ["vwtui.recovery"]


# ---- 2. a fresh interpreter ----------------------------------------------------------------------

def _import_all(select: str) -> dict[str, list[str]]:
    """In a fresh interpreter: walk every installed package with pkgutil, import the modules
    `select` (a Python expression over `name`) picks, and report them and `sys.modules`."""
    packages = list(package_dirs())
    script = (
        "import importlib, importlib.util, json, pkgutil, sys\n"
        "names = []\n"
        f"for package in {packages!r}:\n"
        "    names.append(package)\n"
        "    # The spec, not an import: a package's __init__ runs only if it is picked.\n"
        "    found = importlib.util.find_spec(package).submodule_search_locations\n"
        "    names += [i.name for i in pkgutil.iter_modules(found, package + '.')\n"
        "              if not i.ispkg]\n"
        "names = sorted(set(names))\n"
        "# Importing a __main__ runs the program: it is walked but never imported.\n"
        "picked = [name for name in names if not name.endswith('.__main__')\n"
        f"          and ({select})]\n"
        "for name in picked:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps({'all': names, 'imported': picked, 'modules': sorted(sys.modules)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _loaded(result: dict[str, list[str]], libraries: set[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in result["modules"]} & libraries)


def _is(packages: tuple[str, ...]) -> str:
    return f"any(name == p or name.startswith(p + '.') for p in {packages!r})"


def test_the_walk_finds_every_module() -> None:
    # The walks below cannot pass by finding nothing: they see what is on disk.
    assert set(_import_all("False")["all"]) == set(modules_on_disk())


def test_no_module_outside_the_ui_loads_textual_rich_or_a_backend_library() -> None:
    result = _import_all(f"not {_is(UI)} and not {_is(SANDBOX)}")
    expected = [m for m in modules_on_disk() if not _under(m, UI) and not _under(m, SANDBOX)
                and not m.endswith(".__main__")]
    assert sorted(result["imported"]) == sorted(expected)
    assert "vwtui.checks.daily" in result["imported"] and "vwtui.cli" in result["imported"]
    assert _loaded(result, UI_LIBRARIES) == []
    # boto3 and psycopg are imported on first use only, so none of this waits for them.
    assert _loaded(result, BACKEND_LIBRARIES) == []


def test_the_sandbox_loads_no_textual() -> None:
    result = _import_all(_is(SANDBOX))
    assert "vwtui.sandbox.seed" in result["imported"]
    assert _loaded(result, UI_LIBRARIES) == []


def test_the_ui_loads_no_backend_library_before_it_is_used() -> None:
    result = _import_all(_is(UI))
    assert "vwtui.screens.dashboard" in result["imported"]
    assert _loaded(result, BACKEND_LIBRARIES) == []


def test_the_probe_sees_the_libraries_when_they_are_loaded() -> None:
    # The checks above can fail: the same probe sees Textual and Rich once the app is
    # imported, and boto3 and psycopg once the sandbox (moto and a PostgreSQL of its own) is.
    assert _loaded(_import_all("name == 'vwtui.app'"), UI_LIBRARIES) == sorted(UI_LIBRARIES)
    assert _loaded(_import_all(_is(SANDBOX)), BACKEND_LIBRARIES) == sorted(BACKEND_LIBRARIES)
