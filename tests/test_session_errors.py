"""When the session cannot reach AWS at all, vwtui says why once, not once per pane or item.

Real parts only: a closed port on 127.0.0.1, Python's own http.server answering HTML where AWS
should be, a profile that no AWS config file names, no credentials anywhere. The headless
checklist prints one sentence on stderr and exits 2; the console shows one banner with the
sentence, each pane points at it, and the sentence is on screen once. An error of one call
(AccessDenied) keeps its per-pane and per-item place and raises no banner.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fixtures_dashboard import NOW, tables_sized, wait_for_polls
from textual.widgets import Static
from vwtui.screens.checklist import ChecklistScreen
from vwtui.screens.dashboard import DashboardScreen

from vwtui.app import VwtuiApp
from vwtui.config import AwsConfig, Config, UiConfig
from vwtui.config import write as write_config
from vwtui.sandbox.server import ENV_UNSET
from vwtui.services.aws import AwsService
from vwtui.widgets.pane import Pane
from vwtui.widgets.session_banner import SessionBanner

REPO = Path(__file__).resolve().parent.parent
SIZE = (80, 24)
REGION = "eu-west-1"
PROFILE = "vwtui-nosuch"


# ---- the broken sessions -----------------------------------------------------------------

@dataclass
class Broken:
    """A session that cannot reach AWS: its config, profile and environment, and the words the
    sentence must carry (each names what to fix)."""

    config: Config
    says: tuple[str, ...]
    profile: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()

    def app(self) -> VwtuiApp:
        return VwtuiApp(self.config, AwsService(self.config, profile=self.profile),
                        clock=lambda: NOW)

    def apply(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point this process's boto3 at nothing but this session's settings."""
        for name in self.unset:
            monkeypatch.delenv(name, raising=False)
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)


def _config(endpoint_url: str = "") -> Config:
    # One attempt, so a refused or odd answer is not retried with back-off.
    return Config(aws=AwsConfig(region=REGION, endpoint_url=endpoint_url, max_attempts=1),
                  ui=UiConfig(refresh_seconds=0))


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def html_server(tmp_path: Path) -> Iterator[str]:
    """Python's http.server on a free port, serving a web page: where an AWS endpoint should
    be, a web server (or a proxy's page) answers HTML."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!DOCTYPE html><html><body>Sign in to the proxy"
                                     "</body></html>\n")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


KINDS = ("closed-port", "html", "no-such-profile", "no-credentials")


@pytest.fixture
def broken(tmp_path: Path, html_server: str, monkeypatch: pytest.MonkeyPatch
           ) -> Callable[[str], Broken]:
    """`broken(kind)`: a session of that kind, its environment isolated from the user's ~/.aws
    and from any sandbox (empty AWS config and credentials files, no metadata service)."""
    empty = tmp_path / "empty-aws-file"
    empty.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("VWTUI_CONFIG", raising=False)
    isolated = {"AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty),
                "AWS_EC2_METADATA_DISABLED": "true"}
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    unset = (*ENV_UNSET, "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION")

    def make(kind: str) -> Broken:
        if kind == "closed-port":
            url = f"http://127.0.0.1:{_closed_port()}"
            return Broken(_config(url), (f"Cannot reach the AWS endpoint {url}",
                                         "refused", "aws.endpoint_url"),
                          env={**isolated, **keys}, unset=unset)
        if kind == "html":
            return Broken(_config(html_server), (f"The AWS endpoint {html_server}",
                                                 "answered with a web page", "aws.endpoint_url"),
                          env={**isolated, **keys}, unset=unset)
        if kind == "no-such-profile":
            url = f"http://127.0.0.1:{_closed_port()}"
            return Broken(_config(url), (f"AWS profile '{PROFILE}' is not in", "--profile"),
                          profile=PROFILE, env={**isolated, **keys}, unset=unset)
        if kind == "no-credentials":
            url = f"http://127.0.0.1:{_closed_port()}"
            return Broken(_config(url), ("No AWS credentials found", "--profile"),
                          env=isolated,
                          unset=(*unset, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
        raise AssertionError(kind)

    return make


# ---- headless: one sentence on stderr, exit 2 --------------------------------------------

def _checklist(session: Broken, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """`python -m vwtui checklist` as a user runs it, with a config file and the session's
    environment (never this process's sandbox)."""
    path = tmp_path / "config.toml"
    write_config(session.config, path)
    environ = {k: v for k, v in os.environ.items() if k not in session.unset}
    environ.update(session.env, NO_COLOR="1", COLUMNS="100")
    profile = ("--profile", session.profile) if session.profile else ()
    return subprocess.run([sys.executable, "-m", "vwtui", "checklist", "--config", str(path),
                           *profile, *flags], env=environ, capture_output=True, text=True,
                          cwd=REPO, timeout=120)


@pytest.mark.parametrize("flags", [(), ("--json",), ("--markdown",)],
                         ids=["table", "json", "markdown"])
@pytest.mark.parametrize("kind", KINDS)
def test_headless_checklist_says_it_once_and_exits_2(
        broken: Callable[[str], Broken], tmp_path: Path, kind: str,
        flags: tuple[str, ...]) -> None:
    session = broken(kind)
    done = _checklist(session, tmp_path, *flags)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""  # no verdicts: none of them could be read
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr  # one sentence, not one per item
    for words in session.says:
        assert words in lines[0]
    assert done.stderr.count(session.says[0]) == 1
    assert "Traceback" not in done.stderr


def test_one_denied_call_keeps_its_item_unknown_and_exits_1(
        make_sandbox: Callable[..., Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """AccessDenied on one API is that item's trouble: exit 1, the rest still answer."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    sandbox = make_sandbox("no-backup-access")
    path = tmp_path / "config.toml"
    write_config(Config(aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                                      max_attempts=1)), path)
    done = subprocess.run([sys.executable, "-m", "vwtui", "checklist", "--json", "--config",
                           str(path)], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    verdicts = {c["verdict"] for c in report["checks"]}
    assert "unknown" in verdicts and "pass" in verdicts
    assert done.stderr == ""


# ---- the console: one banner, the sentence once on screen ---------------------------------

def screen_text(app: VwtuiApp) -> str:
    """The whole screen as the engineer reads it, toasts included, its lines run together
    with single spaces (a wrapped sentence reads whole again)."""
    strips = app.screen._compositor.render_strips()
    return " ".join(" ".join(strip.text.split()) for strip in strips)


def banners(app: VwtuiApp) -> list[SessionBanner]:
    """The banners on the current screen that are shown."""
    return [b for b in app.screen.query(SessionBanner) if b.display]


def assert_said_once(app: VwtuiApp, session: Broken) -> str:
    """One banner, carrying the sentence; the sentence once on screen; no toast repeats it."""
    shown = banners(app)
    assert len(shown) == 1
    sentence = shown[0].problem
    assert sentence is not None
    for words in session.says:
        assert words in sentence
    text = screen_text(app)
    assert text.count(session.says[0]) == 1, text
    assert text.count(sentence) == 1, text
    assert not app._notifications, [n.message for n in app._notifications]
    return sentence


@pytest.mark.parametrize("kind", KINDS)
async def test_console_shows_one_banner_and_each_pane_points_at_it(
        broken: Callable[[str], Broken], monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    session = broken(kind)
    session.apply(monkeypatch)
    app = session.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        sentence = assert_said_once(app, session)
        # Every pane met the same trouble: each points at the banner, none repeats it.
        for pane in screen.query(Pane):
            assert len(pane.errors) == 1
            assert pane.errors[0].endswith(": see the banner above"), pane.errors
            assert sentence not in pane.errors[0]
        for key in ("2", "3", "4"):  # each tab at 80x24: the sentence is still on screen once
            await pilot.press(key)
            await pilot.pause()
            assert screen_text(app).count(sentence) == 1

        # Still usable: the help opens and closes, the checklist says it once too.
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        checklist = await _open_checklist(pilot)
        assert_said_once(app, session)
        table_items = checklist.results
        assert table_items and all(r.verdict.value != "pass" for r in table_items)
        evidence = " ".join(line for r in table_items for line in r.evidence)
        assert sentence not in evidence and "see the banner above" in evidence


async def _open_checklist(pilot: Any, loads: int = 1) -> ChecklistScreen:
    await pilot.press("c")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ChecklistScreen)
    for _ in range(600):
        if screen.loads_completed >= loads and tables_sized(screen):
            await pilot.pause()
            return screen
        await pilot.pause(0.05)
    raise AssertionError("the checklist did not finish reading AWS")


def _data_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set AWS_DATA_PATH (to an empty folder: botocore's own data still answers), as importing
    awscli sets it for its whole process (tests/test_aws_calls.py does, in this one). botocore
    then makes a session without reading the AWS config file, and a missing profile is first
    met making a client, from that session: the retry must not reuse it."""
    data = tmp_path / "aws-data"
    data.mkdir()
    monkeypatch.setenv("AWS_DATA_PATH", str(data))


@pytest.mark.parametrize("data_path", [False, True], ids=["plain", "aws-data-path"])
def test_a_profile_added_after_the_first_try_is_found_by_the_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_path: bool) -> None:
    """The service side of r: the session is made again once the profile is in the files,
    whether boto3 missed it making the session or botocore making the first client."""
    from vwtui.errors import CredentialsError

    aws_config = tmp_path / "aws-config"
    aws_config.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws_config))
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    if data_path:
        _data_path(tmp_path, monkeypatch)
    aws = AwsService(_config(), profile=PROFILE)
    for _ in range(2):  # a second try before the fix meets the same (no half-made session)
        with pytest.raises(CredentialsError, match=f"AWS profile '{PROFILE}' is not in"):
            aws.prepare(["sts"])
    aws_config.write_text(f"[profile {PROFILE}]\nregion = {REGION}\n"
                          f"aws_access_key_id = testing\naws_secret_access_key = testing\n")
    aws.prepare(["sts", "rds"])
    assert aws.client("sts").meta.region_name == REGION


async def test_keys_added_after_a_call_without_credentials_are_used_by_the_next(
        make_sandbox: Callable[..., Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The service side of r after "no credentials": the engineer puts keys in
    ~/.aws/credentials (or runs aws sso login); the next call makes its client again and reads
    them (a client made without credentials kept none)."""
    from vwtui.errors import CredentialsError

    sandbox = make_sandbox("healthy", restore_seconds=0, now=NOW)
    config_file, credentials = tmp_path / "aws-config", tmp_path / "aws-credentials"
    config_file.write_text("")
    credentials.write_text("")
    for name in (*ENV_UNSET, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    aws = AwsService(Config(aws=AwsConfig(region=sandbox.region,
                                          endpoint_url=sandbox.endpoint_url, max_attempts=1)))
    for _ in range(2):
        with pytest.raises(CredentialsError, match="No AWS credentials found"):
            await aws.caller_identity()
    credentials.write_text("[default]\naws_access_key_id = testing\n"
                           "aws_secret_access_key = testing\n")
    identity = await aws.caller_identity()
    assert identity.account == sandbox.account


async def test_r_retries_and_the_banner_goes_when_aws_answers(
        make_sandbox: Callable[..., Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile is missing; the engineer adds it to the AWS config and presses r."""
    sandbox = make_sandbox("healthy", restore_seconds=0, now=NOW)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    # The same whichever tests ran before in this process: AWS_DATA_PATH set as awscli sets it
    # (the harder case: the session is made, the profile first missed making a client).
    _data_path(tmp_path, monkeypatch)
    aws_config, credentials = tmp_path / "aws-config", tmp_path / "aws-credentials"
    aws_config.write_text("")
    credentials.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    config = Config(aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                                  max_attempts=1), ui=UiConfig(refresh_seconds=0))
    app = VwtuiApp(config, AwsService(config, profile=PROFILE), clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        (banner,) = banners(app)
        assert banner.problem and f"AWS profile '{PROFILE}' is not in" in banner.problem
        assert app.identity is None

        checklist = await _open_checklist(pilot)
        (checklist_banner,) = banners(app)

        aws_config.write_text(f"[profile {PROFILE}]\nregion = {sandbox.region}\n")
        credentials.write_text(f"[{PROFILE}]\naws_access_key_id = testing\n"
                               f"aws_secret_access_key = testing\n")
        await pilot.press("r")  # on the checklist
        # The load completes, then the banner hears of it: wait for both (a loaded machine
        # may paint in between).
        for _ in range(600):
            if checklist.loads_completed >= 2 and not banners(app):
                break
            await pilot.pause(0.05)
        assert checklist.loads_completed >= 2
        assert banners(app) == [] and checklist_banner.problem is None
        # Every check read AWS: all pass but the weekly logs item, which fails on the healthy
        # week's resolved staging failure until the week is signed off.
        assert {r.id for r in checklist.results if r.verdict.value != "pass"} == {
            "weekly.backup_logs"}

        await pilot.press("d")  # back to the dashboard: its banner stays until r
        await pilot.pause()
        assert banners(app) == [banner]
        await pilot.press("r")
        await wait_for_polls(pilot, 2)
        for _ in range(200):  # the context bar's identity is asked again beside the panes
            if app.identity is not None and not banners(app):
                break
            await pilot.pause(0.05)
        assert banners(app) == []
        assert banner.problem is None
        for pane in screen.query(Pane):
            assert pane.errors == (), (pane.id, pane.errors)
        assert screen.pane("snapshots").table.row_count > 0
        assert app.identity is not None and app.identity_error is None
        assert PROFILE not in screen_text(app)


async def test_one_denied_call_raises_no_banner(make_sandbox: Callable[..., Any],
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    sandbox = make_sandbox("no-backup-access", restore_seconds=0, now=NOW)
    config = Config(aws=AwsConfig(region=sandbox.region, endpoint_url=sandbox.endpoint_url,
                                  max_attempts=1), ui=UiConfig(refresh_seconds=0))
    app = VwtuiApp(config, AwsService(config), clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for_polls(pilot)
        assert banners(app) == []
        points = screen.pane("recovery-points")
        assert points.errors[0].startswith("Access denied: backup:ListRecoveryPointsByBackupVault")
        await _open_checklist(pilot)
        assert banners(app) == []
        status = app.screen.query_one("#checklist-status", Static)
        assert "AWS not reached" not in str(status.content)


# ---- how the banner looks (80x24) ---------------------------------------------------------

async def _loaded(pilot: Any) -> None:
    await wait_for_polls(pilot)


async def _checklist_loaded(pilot: Any) -> None:
    await wait_for_polls(pilot)
    await _open_checklist(pilot)


def test_dashboard_session_banner_80x24(broken: Callable[[str], Broken], snap_compare: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The profile's sentence names no port: the picture is the same on every run.
    session = broken("no-such-profile")
    session.apply(monkeypatch)
    assert snap_compare(session.app(), terminal_size=SIZE, run_before=_loaded)


def test_dashboard_session_banner_no_color_80x24(broken: Callable[[str], Broken],
                                                 snap_compare: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    session = broken("no-credentials")
    session.apply(monkeypatch)
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(session.app(), terminal_size=SIZE, run_before=_loaded)


def test_checklist_session_banner_80x24(broken: Callable[[str], Broken], snap_compare: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    session = broken("no-credentials")
    session.apply(monkeypatch)
    assert snap_compare(session.app(), terminal_size=SIZE, run_before=_checklist_loaded)


# ---- which errors are the session's (translate, without a network) ------------------------

def _client_error(code: str, message: str = "m", status: int = 400) -> Any:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "ListBackupJobs")


def _unresolved(host: str) -> Any:
    from botocore.exceptions import EndpointConnectionError

    return EndpointConnectionError(endpoint_url=f"https://{host}/", error=OSError(
        f"Failed to resolve '{host}' ([Errno -2] Name or service not known)"))


@pytest.mark.parametrize(("raised", "place", "kind", "says"), [
    (lambda: _unresolved("backup.xx-nowhere-1.amazonaws.com"), {"region": "xx-nowhere-1"},
     "EndpointUnreachable", "'xx-nowhere-1' is not a region botocore knows"),
    (lambda: _unresolved("backup.eu-west-1.amazonaws.com"), {"region": "eu-west-1"},
     "EndpointUnreachable", "Cannot reach AWS in region eu-west-1: its name does not resolve"),
    (lambda: _client_error("404", "<!DOCTYPE HTML><html>Not found</html>", 404),
     {"region": "eu-west-1"}, "EndpointUnreachable", "AWS in region eu-west-1 answered with a "
                                                     "web page"),
    (lambda: _client_error("502", "Bad gateway", 502), {"endpoint_url": "http://proxy:3128"},
     "EndpointUnreachable", "answered with HTTP 502 and no AWS error code"),
    (lambda: _client_error("InvalidClientTokenId"), {"profile": "ops"}, "CredentialsError",
     "AWS refused the credentials of profile 'ops' (InvalidClientTokenId)"),
    (lambda: _client_error("ExpiredToken"), {}, "CredentialsError", "have expired"),
    (lambda: _client_error("AccessDeniedException"), {}, "AccessDenied",
     "backup:ListBackupJobs was denied"),
    (lambda: _client_error("ThrottlingException"), {}, "AwsUnavailable", "try again"),
])
def test_the_session_errors_are_told_apart_from_one_calls(
        raised: Callable[[], BaseException], place: dict[str, str], kind: str,
        says: str) -> None:
    from vwtui.errors import SessionError
    from vwtui.services.aws_errors import Place, translate

    error = translate(raised(), "backup", "ListBackupJobs", place=Place(**place))
    assert type(error).__name__ == kind
    assert says in str(error)
    # A session error names no call: the same sentence whichever pane met it first.
    assert isinstance(error, SessionError) == (kind in ("EndpointUnreachable",
                                                        "CredentialsError"))
    if isinstance(error, SessionError):
        assert "ListBackupJobs" not in str(error)


def test_a_bad_region_setting_is_a_config_error_and_the_sessions() -> None:
    from vwtui.errors import ConfigError, SessionError

    aws = AwsService(Config(aws=AwsConfig(region="eu west 1")))
    with pytest.raises(ConfigError) as raised:
        aws.prepare(["rds"])
    assert isinstance(raised.value, SessionError)
    assert "aws.region or --region" in str(raised.value)
