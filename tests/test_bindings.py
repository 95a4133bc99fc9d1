"""Every key vwtui binds on a screen or on the App has an id, unique across the app, so a keymap
(`App.set_keymap`) can move any of them to another key; and a keymap does move a recovery key."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import vwtui.screens
from recovery_ui_env import SIZE, RecoveryEnv, recovery_env, wait_until  # noqa: F401
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from vwtui.screens.recovery_choose import ChooseScreen
from vwtui.screens.recovery_confirm import YesNo

from vwtui.app import VwtuiApp
from vwtui.recovery.plan import Scenario

Start = Callable[..., RecoveryEnv]


def screen_classes() -> list[type[Screen[Any]]]:
    """Every Screen class defined in vwtui's screens package (modals included)."""
    found: dict[str, type[Screen[Any]]] = {}
    for module_info in pkgutil.iter_modules(vwtui.screens.__path__):
        module = importlib.import_module(f"vwtui.screens.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                found[cls.__qualname__] = cls
    return list(found.values())


def declared_bindings() -> Iterator[tuple[str, Binding | Any]]:
    """(owner, binding) for every binding vwtui declares (not Textual's own, inherited)."""
    owners: list[type[Any]] = [*screen_classes(), VwtuiApp]
    for cls in owners:
        for binding in cls.__dict__.get("BINDINGS", []):
            yield cls.__qualname__, binding


def test_the_walk_finds_the_recovery_and_dashboard_screens() -> None:
    names = {cls.__name__ for cls in screen_classes()}
    assert {"DashboardScreen", "ChooseScreen", "PlanScreen", "RunScreen", "YesNo",
            "TypedConfirm", "ReasonPrompt", "HelpScreen"} <= names


def test_every_binding_has_a_unique_id() -> None:
    seen: dict[str, str] = {}
    missing: list[str] = []
    duplicated: list[str] = []
    bindings = list(declared_bindings())
    assert len(bindings) > 40  # the walk reached the screens' bindings
    for owner, binding in bindings:
        assert isinstance(binding, Binding), f"{owner}: {binding!r} is not a Binding"
        if not binding.id:
            missing.append(f"{owner}: {binding.key} → {binding.action}")
        elif binding.id in seen:
            duplicated.append(f"{binding.id} on {seen[binding.id]} and {owner}")
        else:
            seen[binding.id] = owner
    assert not missing, f"bindings without an id: {missing}"
    assert not duplicated, f"ids used twice: {duplicated}"


class _Question(App[None]):
    """One guarding question, its answer kept."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[bool | None] = []

    def on_mount(self) -> None:
        self.push_screen(YesNo("Abort this recovery?"), self.answers.append)


async def test_a_keymap_moves_the_yes_of_a_question() -> None:
    app = _Question()
    app.set_keymap({"question.yes": "j"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("y")  # no longer "yes"
        await pilot.pause()
        assert isinstance(app.screen, YesNo) and app.answers == []
        await pilot.press("j")
        await pilot.pause()
        assert app.answers == [True]


async def test_a_keymap_moves_a_recovery_key(recovery_env: Start) -> None:
    """The chooser's scenario 4, moved from 4 to x: x picks cross-region, 4 does nothing."""
    app = recovery_env().app()
    app.set_keymap({"recovery.choose.cross_region": "x"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "DashboardScreen",
                         "the dashboard")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ChooseScreen), "the chooser")
        choose = app.screen
        assert isinstance(choose, ChooseScreen)
        await pilot.press("4")
        await pilot.pause()
        assert choose.scenario is Scenario.PITR
        await pilot.press("x")
        await pilot.pause()
        assert choose.scenario is Scenario.CROSS_REGION
