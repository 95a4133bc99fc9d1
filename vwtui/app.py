"""VwtuiApp: the screens, the bindings, the command palette, the theme.

Every screen reads the services and the config from the app (`self.app.aws`, `self.app.config`,
`self.app.clock()`); nothing else is global. To add a screen: one entry in MODES (a screen
class, or `lazy("vwtui.screens.x:XScreen")` to import it when first opened) and one Binding,
with an id unique across the app (tests/test_bindings.py), so a keymap can move its key.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.reactive import reactive
from textual.screen import Screen

from vwtui.config import Config
from vwtui.errors import SessionError, VwtuiError
from vwtui.model import CallerIdentity, utcnow
from vwtui.screens.dashboard import DashboardScreen
from vwtui.screens.help import HelpScreen, declared_by_vwtui
from vwtui.widgets.frame_timer import keep_timers_on_tick

if TYPE_CHECKING:
    # The recovery screens (and the recovery code under them) are imported when first used,
    # not at start: the first frame shows the dashboard and needs none of them.
    from vwtui.screens.recovery import RecoveryManager
    from vwtui.screens.recovery_choose import ChooseScreen
    from vwtui.screens.recovery_plan import PlanScreen
    from vwtui.services.aws import AwsService
    from vwtui.services.pg import PgService

Environment = Literal["production", "staging"]


def lazy(target: str) -> Callable[[], Screen[Any]]:
    """A MODES entry that imports "package.module:ScreenClass" when the mode is first opened."""

    def make() -> Screen[Any]:
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)()  # type: ignore[no-any-return]

    return make


# Textual housekeeping, and the palette itself: not actions to list in the palette.
_NOT_IN_PALETTE = {"screen.copy_text", "app.focus_next", "app.focus_previous", "help_quit",
                   "command_palette"}


class ActionsProvider(Provider):
    """Command palette: every action of the current view and of the app, by its description."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding, node = active.binding, active.node
            # The app's, the screen's and vwtui's widgets' actions; not a list's cursor keys.
            if (not declared_by_vwtui(node, binding) or not binding.description
                    or binding.system or binding.action in seen
                    or binding.action in _NOT_IN_PALETTE or not active.enabled):
                continue
            seen.add(binding.action)
            keys = self.app.get_key_display(binding)
            yield (binding.description, f"key: {keys}",
                   partial(self.app.run_action, binding.action, node))

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)


def screens_seen_under(stack: list[Screen[Any]]) -> list[Screen[Any]]:
    """The screens seen through the top of `stack`, bottom first: each under a screen whose
    background lets it show (a modal's), none under an opaque one (the App's
    `_background_screens`, which Textual draws and counts as current).

    Textual's own list always holds the screen just under the top one, opaque or not: a run
    screen under another, or the dashboard under a run screen, kept drawing every change
    unseen, and each of its frames repainted the whole top screen (a repaint of the screen
    instead of the widgets that changed): with runs polling, most of the run screen's frames.
    Textual is pinned exactly (pyproject.toml).
    """
    seen: list[Screen[Any]] = []
    for above, screen in zip(reversed(stack), reversed(stack[:-1]), strict=False):
        if above.styles.background.a == 1:
            break
        seen.append(screen)
    return seen[::-1]


class VwtuiApp(App[int]):
    """The backup and recovery console."""

    TITLE = "vwtui"
    CSS_PATH = "vwtui.tcss"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    # Screens by mode; each keeps its own state while another one is shown.
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "dashboard": DashboardScreen,
        "checklist": lazy("vwtui.screens.checklist:ChecklistScreen"),
        "health": lazy("vwtui.screens.health:HealthScreen"),
    }
    DEFAULT_MODE = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("d", "switch_mode('dashboard')", "Dashboard", show=False, id="app.dashboard"),
        Binding("c", "switch_mode('checklist')", "Checklist", id="app.checklist"),
        Binding("h", "switch_mode('health')", "Backup health", show=False, id="app.health"),
    ]

    identity: reactive[CallerIdentity | None] = reactive(None)
    identity_error: reactive[str | None] = reactive(None)

    def __init__(self, config: Config, aws: AwsService, pg: PgService | None = None, *,
                 clock: Callable[[], datetime] = utcnow,
                 environment: Environment = "production", demo: bool = False,
                 drill: bool = False, watch: tuple[Path, ...] = (),
                 view: str = "dashboard") -> None:
        if environment not in ("production", "staging"):
            raise ValueError(f"environment must be 'production' or 'staging', not {environment!r}")
        if view not in self.MODES:
            raise ValueError(f"view must be one of {', '.join(self.MODES)}, not {view!r}")
        # The view to open on (`vwtui health`): Textual makes the first mode's screen stack
        # from DEFAULT_MODE as the App is made, so it is set before.
        self.DEFAULT_MODE = view  # type: ignore[misc]
        # A late frame is followed by the next one on the next tick, not the one after it.
        keep_timers_on_tick()
        super().__init__()
        self.config = config
        self.aws = aws
        self.pg = pg
        self.clock = clock
        self.environment: Environment = environment
        # `vwtui demo`: its sandbox and state dir are temporary (a run cannot outlive it).
        self.demo = demo
        # `vwtui drill`: open on the monthly drill's set-up.
        self.open_drill = drill
        # `vwtui watch`: the run(s) to follow read-only at start (several: a list to pick from).
        self.watch_at_start = watch
        # Recoveries belong to the App: they outlive any screen (made on first use).
        self._recovery: RecoveryManager | None = None

    @property
    def recovery(self) -> RecoveryManager:
        """The App's recoveries; the recovery screens are imported here, the first time."""
        if self._recovery is None:
            from vwtui.screens.recovery import RecoveryManager

            self._recovery = RecoveryManager(self, poll_interval=self.config.ui.poll_seconds)
        return self._recovery

    @property
    def _background_screens(self) -> list[Screen[Any]]:
        return screens_seen_under(self._screen_stack)

    @property
    def source_instance(self) -> str:
        """The instance this session watches and restores from."""
        if self.environment == "staging":
            return self.config.instances.staging
        return self.config.instances.production

    @property
    def region(self) -> str:
        return self.aws.region or self.config.aws.region or "(default region)"

    def get_system_commands(self, screen: Screen[Any]) -> Iterator[SystemCommand]:
        # Quit is already listed with its key by ActionsProvider.
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    def on_mount(self) -> None:
        self.load_identity()
        if self.watch_at_start:
            self.run_worker(self.recovery.watch(list(self.watch_at_start)), group="watch",
                            name="watch at start")
            return
        # An unfinished run in the journal (vwtui killed, SSH dropped): offer to resume it.
        # After the first frame: it imports the recovery code (not at all when no run was
        # ever journaled: nothing to offer, and the import would slow the first view's load).
        if _runs_dir_may_exist():
            self.call_after_refresh(lambda: self.recovery.offer_resume())
        if self.open_drill:
            self.call_after_refresh(self.action_new_drill)

    def on_ready(self) -> None:
        self.record_timing("first_frame")

    @work(exclusive=True, group="identity", exit_on_error=False)
    async def load_identity(self) -> None:
        """sts:GetCallerIdentity for the context bar; a failure is told once, not fatal (a
        session error, AWS not reachable at all, is told by the screen's banner instead)."""
        try:
            # The one `vwtui` started before the UI when there (services/early.py).
            self.identity = await self.aws.early.take("identity", self.aws.caller_identity)
        except VwtuiError as exc:
            self.identity_error = str(exc)
            if not isinstance(exc, SessionError):
                self.notify(str(exc), title=exc.title, severity="error", timeout=15,
                            markup=False)
        else:
            self.identity_error = None

    def action_new_recovery(self) -> None:
        """Start a recovery; the dashboard's highlighted snapshot or recovery point is
        preselected."""
        from vwtui.screens.recovery import preselection_from_dashboard

        self.recovery.new_recovery(preselection_from_dashboard(self.screen))

    def action_new_drill(self) -> None:
        """Start the monthly recovery drill on staging (the rotation's method)."""
        self.recovery.new_drill()

    # Handlers by name (on_<screen>_<message>), not @on(ChooseScreen.PlanRequested): @on would
    # import the recovery screens at start.
    def on_choose_screen_plan_requested(self, message: ChooseScreen.PlanRequested) -> None:
        """The chooser accepted its inputs: the plan goes on top of it."""
        self.recovery.show_plan(message.request, message.context)

    def on_plan_screen_start_requested(self, message: PlanScreen.StartRequested) -> None:
        """The plan was confirmed (or dry-run): the run belongs to the App from here."""
        self.recovery.start(message.request)

    def action_open_recovery(self) -> None:
        """Show the recovery run of this session (it goes on while other screens show)."""
        self.recovery.open_active()

    def action_help(self) -> None:
        """Show the keys of the current view."""
        if isinstance(self.screen, HelpScreen):
            return
        screen = self.screen
        name = getattr(screen, "VIEW_NAME", type(screen).__name__.removesuffix("Screen"))
        self.push_screen(HelpScreen(screen, name))

    def record_timing(self, event: str) -> None:
        """For bench/dashboard.py: append {"event", "t"} to $VWTUI_TIMINGS when it is set."""
        path = os.environ.get("VWTUI_TIMINGS")
        if not path:
            return
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"event": event, "t": time.time()}) + "\n")


def _runs_dir_may_exist() -> bool:
    """False only when the recovery journals' directory surely does not exist, not even as a
    link (a link, or an error looking, is left for the offer itself to report)."""
    from vwtui.recovery.journal import runs_dir

    try:
        os.lstat(runs_dir())
    except FileNotFoundError:
        return False
    except OSError:
        pass  # left for the offer to report
    return True
