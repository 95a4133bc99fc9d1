"""Config: loading, search order, clear errors, and `vwtui init`."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vwtui import config as config_mod
from vwtui.cli import main
from vwtui.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.toml"


def test_example_config_holds_every_setting_with_the_runbooks_values() -> None:
    config = config_mod.load_file(EXAMPLE)
    assert config == config_mod.Config()  # the example documents exactly the defaults
    raw = tomllib.loads(EXAMPLE.read_text())
    assert raw == config_mod.to_mapping(config_mod.Config())  # and leaves nothing out
    assert config.instances.production == "video-window"
    assert config.instances.staging == "video-window-staging"
    assert config.backup.vault == "video-window-backup-vault"
    assert config.backup.plan == "video-window-database-backup-plan"
    assert (config.objectives.rto_hours, config.objectives.rpo_hours) == (4.0, 1.0)
    assert (config.backup.max_age_hours, config.backup.retention_days) == (25.0, 30)
    assert config.backup.pitr_window_days == 7
    assert (config.database.name, config.database.user) == ("serverpod", "postgres")


def test_production_is_protected_even_when_not_listed() -> None:
    config = config_mod.from_mapping({"instances": {"protected": []}})
    assert config.is_protected("video-window")
    assert not config.is_protected("video-window-recovery-202611251200")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[ui]\nrefresh_seconds = \"60\"\n",
         "ui.refresh_seconds must be an integer, got string '60'"),
        ("[ui]\nread_only = 1\n", "ui.read_only must be true or false, got integer 1"),
        ("[instances]\nprotected = \"video-window\"\n",
         "instances.protected must be a list of strings"),
        ("[backup]\nvalt = \"x\"\n", "unknown key backup.valt; [backup] takes vault"),
        ("[bakup]\nvault = \"x\"\n", "unknown section [bakup]"),
        ("[backup]\nvault = \"\"\n", "backup.vault is required and must not be empty"),
        ("[objectives]\nrto_hours = 0\n", "objectives.rto_hours must be greater than 0"),
        ("[database]\nsslmode = \"yes\"\n", "database.sslmode must be one of"),
        ("[aws\nregion = 1\n", "not valid TOML"),
        ("[backup]\nsize_tolerance = 20\n", "backup.size_tolerance is a fraction between 0 "
         "and 1 (0.2 = 20 %), got 20"),
        ("[backup]\nsize_tolerance = -0.1\n", "backup.size_tolerance is a fraction"),
        ("[backup]\nmax_age_hours = nan\n", "backup.max_age_hours must be a finite number"),
        ("[objectives]\nrpo_hours = inf\n", "objectives.rpo_hours must be a finite number"),
        ("[aws]\nmax_attempts = 100000\n", "aws.max_attempts must be between 1 and 10 attempts"),
        ("[aws]\nendpoint_url = \"localhost:5000\"\n",
         "aws.endpoint_url must start with http:// or https://"),
    ],
)
def test_bad_config_is_refused_with_file_key_and_expectation(tmp_path: Path, text: str,
                                                             expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        config_mod.load_file(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_config_that_is_not_utf8_is_refused_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('# Größe\n[aws]\nregion = "eu-west-1"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        config_mod.load_file(path)


def test_search_order_flag_then_env_then_xdg(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "vwtui").mkdir(parents=True)
    (xdg / "vwtui" / "config.toml").write_text('[aws]\nregion = "eu-central-1"\n')
    env_file = tmp_path / "env.toml"
    env_file.write_text('[aws]\nregion = "us-east-1"\n')
    flag_file = tmp_path / "flag.toml"
    flag_file.write_text('[aws]\nregion = "ap-south-1"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.delenv("VWTUI_CONFIG", raising=False)
    assert config_mod.load().aws.region == "eu-central-1"
    monkeypatch.setenv("VWTUI_CONFIG", str(env_file))
    assert config_mod.load().aws.region == "us-east-1"
    assert config_mod.load(flag_file).aws.region == "ap-south-1"


def test_no_config_anywhere_gives_the_defaults(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("VWTUI_CONFIG", raising=False)
    assert config_mod.load() == config_mod.Config()


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        config_mod.load(tmp_path / "absent.toml")


def test_bad_config_exits_2_with_one_sentence_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[ui]\nrefresh_seconds = true\n")
    done = subprocess.run([sys.executable, "-m", "vwtui", "--config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"vwtui: {path}: ui.refresh_seconds must be an integer, got boolean True")
    assert "Traceback" not in done.stderr + done.stdout


def test_help_and_version() -> None:
    done = subprocess.run([sys.executable, "-m", "vwtui", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("vwtui 0.")
    done = subprocess.run([sys.executable, "-m", "vwtui", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    for command in ("demo", "init", "checklist"):
        assert command in done.stdout


def test_init_writes_a_loadable_config_from_flags(tmp_path: Path) -> None:
    path = tmp_path / "vwtui" / "config.toml"
    code = main(["init", "--path", str(path), "--defaults", "--region", "eu-central-1",
                 "--production", "vw-prod", "--staging", "vw-stage"])
    assert code == 0
    config = config_mod.load_file(path)
    assert config.aws.region == "eu-central-1"
    assert config.instances.production == "vw-prod"
    assert config.instances.protected == ("vw-prod", "vw-stage")
    assert config.backup.vault == "video-window-backup-vault"


def test_init_never_overwrites_without_force(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# mine\n")
    assert main(["init", "--path", str(path), "--defaults"]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert path.read_text() == "# mine\n"
    assert main(["init", "--path", str(path), "--defaults", "--force"]) == 0
    assert config_mod.load_file(path) == config_mod.Config(source=path)


def test_init_asks_for_what_the_flags_leave_out(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    answers = iter(["", "prod-db", "", "", "", "", ""])
    import argparse

    from vwtui.init import build_config

    args = argparse.Namespace(region=None, production=None, staging_name=None, vault="my-vault",
                              restore_role_arn=None, dns_zone=None, dns_record=None)
    asked: list[str] = []

    def ask(question: str, default: str) -> str:
        asked.append(question)
        return next(answers) or default

    config = build_config(args, ask)
    assert "AWS Backup vault" not in asked  # given as a flag
    assert config.instances.production == "prod-db"
    assert config.backup.vault == "my-vault"
    assert config.aws.region == "eu-west-1"
    config_mod.write(config, path)
    assert config_mod.load_file(path).instances.production == "prod-db"


def test_global_options_work_before_or_after_the_command(tmp_path: Path) -> None:
    from vwtui.cli import build_parser

    parser = build_parser()
    before = parser.parse_args(["--config", "x.toml", "--read-only", "--staging", "run"])
    assert (before.config, before.read_only, before.staging) == ("x.toml", True, True)
    after = parser.parse_args(["run", "--config", "y.toml", "--read-only"])
    assert (after.config, after.read_only) == ("y.toml", True)
    checklist = parser.parse_args(["--config", "z.toml", "checklist", "--json"])
    assert checklist.config == "z.toml"
    # The demo opens the console too: staging and read-only either side of the command.
    demo = parser.parse_args(["demo", "--staging", "--read-only", "--scenario", "stale-backups"])
    assert (demo.staging, demo.read_only, demo.scenario) == (True, True, "stale-backups")
    demo = parser.parse_args(["--staging", "demo"])
    assert (demo.staging, demo.read_only) == (True, False)


def test_read_only_flag_makes_a_read_only_config_and_never_unmakes_one() -> None:
    assert config_mod.Config().with_read_only(True).ui.read_only
    assert not config_mod.Config().with_read_only(False).ui.read_only
    locked = config_mod.Config(ui=config_mod.UiConfig(read_only=True))
    assert locked.with_read_only(False).ui.read_only  # the config's own setting stands


# ---- refusals of values that would make a recovery unsafe (names) or absurd (numbers) --------

REFUSALS = [
    ('[instances]\nstaging = " Video-Window"\n',
     "instances.staging must not be the production instance (both name video-window): a "
     "staging drill would restore, swap and clean up production"),
    ('[dns]\nstaging_record = "DB.VideoWindow.internal"\n',
     "dns.staging_record must not be production's dns.record (both name "
     "db.videowindow.internal.): a staging drill would move production's traffic"),
    ('[instances]\nproduction = "video_window"\n',
     "instances.production holds 'video_window', not a valid RDS instance identifier: it may "
     "hold only letters, digits and hyphens"),
    ('[instances]\nprotected = ["video-window", "1-db"]\n',
     "instances.protected holds '1-db', not a valid RDS instance identifier: it must start "
     "with a letter"),
    ('[restore]\ntarget_pattern = "video-windo{time:%-M}"\n',
     "restore.target_pattern can give 'video-window', the source's own name, to a recovery "
     "of video-window: a restore must never take it; write it like "
     "'{source}-recovery-{time:%Y%m%d%H%M}'"),
    ('[instances]\nprotected = ["vw-1030"]\n[restore]\ntarget_pattern = "vw-{time:%M%S}"\n',
     "restore.target_pattern can give 'vw-1030', a protected instance's name, to a recovery "
     "of video-window: a restore must never take it; write it like "
     "'{source}-recovery-{time:%Y%m%d%H%M}'"),
    ('[restore]\ntarget_pattern = "{source}-recovery"\n',
     "restore.target_pattern must hold {time:...} (e.g. {time:%Y%m%d%H%M}), or two recoveries "
     "would get the same name; write it like '{source}-recovery-{time:%Y%m%d%H%M}'"),
    ('[restore]\ntarget_pattern = "{source}-{time:%Y%m%d}"\n',
     "restore.target_pattern gives 'video-window-20251111' a minute later too: its "
     "{time:...} needs the minute (%M), or two recoveries would get the same name; write it "
     "like '{source}-recovery-{time:%Y%m%d%H%M}'"),
    ('[restore]\ntarget_pattern = "{source}-{time:%M"\n',
     "restore.target_pattern is not a valid pattern (unmatched '{' in format spec); "
     "write it like '{source}-recovery-{time:%Y%m%d%H%M}'"),
    ('[restore]\ntarget_pattern = "{source}-{run}-{time:%M}"\n',
     "restore.target_pattern may hold only the fields {source} and {time:...}, not {run}; "
     "write it like '{source}-recovery-{time:%Y%m%d%H%M}'"),
    ('[restore]\ntarget_pattern = "{source}_{time:%Y%m%d%H%M}"\n',
     "restore.target_pattern gives 'video-window_202511111030' for video-window, not a valid "
     "RDS instance identifier: it may hold only letters, digits and hyphens"),
    ('[instances]\nproduction = "' + "v" * 50 + '"\n',
     "restore.target_pattern gives '" + "v" * 50 + "-recovery-202511111030' for " + "v" * 50
     + ", not a valid RDS instance identifier: it has 72 characters, at most 63 are allowed"),
    ("[dns]\nttl = -1\n", "dns.ttl must be between 0 and 86400 seconds (a day), got -1"),
    ("[dns]\nttl = 604800\n", "dns.ttl must be between 0 and 86400 seconds (a day), got 604800"),
    ("[database]\nport = 0\n", "database.port must be between 1 and 65535, got 0"),
    ("[database]\nport = 65536\n", "database.port must be between 1 and 65535, got 65536"),
    ("[database]\nconnect_timeout_seconds = 0\n",
     "database.connect_timeout_seconds must be between 1 and 300 seconds, got 0"),
    ("[database]\nstatement_timeout_seconds = 86400\n",
     "database.statement_timeout_seconds must be between 1 and 3600 seconds, got 86400"),
    ("[ui]\npoll_seconds = -1\n",
     "ui.poll_seconds must be greater than 0 and at most 600 seconds, got -1.0"),
    ("[ui]\npoll_seconds = 3600\n",
     "ui.poll_seconds must be greater than 0 and at most 600 seconds, got 3600.0"),
    ("[ui]\nrefresh_seconds = -5\n",
     "ui.refresh_seconds must be between 0 and 3600 seconds (0 = off), got -5"),
    ("[backup]\nretention_days = -1\n",
     "backup.retention_days must be between 1 and 36500 days, got -1"),
    ("[backup]\npitr_window_days = 36\n",
     "backup.pitr_window_days must be between 1 and 35 days (RDS's longest backup "
     "retention), got 36"),
    ("[backup]\nmax_age_hours = -25\n",
     "backup.max_age_hours must be greater than 0 and at most 8760 hours (a year), got -25.0"),
    ("[objectives]\nrto_hours = 10000\n",
     "objectives.rto_hours must be greater than 0 and at most 720 hours (30 days), got "
     "10000.0"),
    ("[aws]\nmax_attempts = 0\n",
     "aws.max_attempts must be between 1 and 10 attempts (each attempt waits longer), got 0"),
]


@pytest.mark.parametrize(("text", "sentence"), REFUSALS,
                         ids=[t.split("\n")[-2].split(" =")[0] + f"-{i}"
                              for i, (t, _) in enumerate(REFUSALS)])
def test_checklist_refuses_the_config_with_exit_2_and_one_sentence(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, sentence: str) -> None:
    """`vwtui checklist --config bad.toml`, in process (the same path as the command): exit 2,
    the file, the key and what is allowed, in one line; nothing read from AWS before."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["checklist", "--config", str(path)]) == 2
    out = capsys.readouterr()
    assert out.err == f"vwtui: {path}: {sentence}\n"
    assert out.out == ""


def test_checklist_refusal_as_a_user_sees_it(tmp_path: Path) -> None:
    """The same as a real process: exit 2, one sentence on stderr, no traceback."""
    path = tmp_path / "bad.toml"
    path.write_text('[instances]\nstaging = "VIDEO-WINDOW"\n[dns]\nttl = 60\n')
    done = subprocess.run([sys.executable, "-m", "vwtui", "checklist", "--config", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"vwtui: {path}: instances.staging must not be the production instance (both name "
        f"video-window): a staging drill would restore, swap and clean up production"]
    assert done.stdout == ""


def test_names_are_normalised_once_at_load() -> None:
    config = config_mod.from_mapping({
        "instances": {"production": " Video-Window ", "staging": "VIDEO-WINDOW-STAGING",
                      "protected": ["Video-Window", "video-window", " OLD-DB "]},
        "dns": {"zone": "VideoWindow.Internal", "record": "DB.VideoWindow.Internal",
                "staging_record": " db-staging.videowindow.internal. "},
        "restore": {"subnet_group": " Video-Window-Subnets ", "instance_class": "DB.T3.Micro",
                    "security_groups": [" sg-123 "],
                    "target_pattern": " {source}-r-{time:%Y%m%d%H%M} "}})
    assert config.instances.production == "video-window"
    assert config.instances.staging == "video-window-staging"
    assert config.instances.protected == ("video-window", "old-db")
    assert (config.dns.zone, config.dns.record, config.dns.staging_record) == (
        "videowindow.internal.", "db.videowindow.internal.", "db-staging.videowindow.internal.")
    assert (config.restore.subnet_group, config.restore.instance_class) == (
        "video-window-subnets", "db.t3.micro")
    assert config.restore.security_groups == ("sg-123",)
    assert config.target_name(" Video-Window", datetime(2025, 11, 11, 10, 30, tzinfo=UTC)) \
        == "video-window-r-202511111030"
    assert config.is_protected("OLD-DB") and config.is_protected("\tvideo-window.")
    assert config.dns_record_for("VIDEO-WINDOW-STAGING ") == "db-staging.videowindow.internal."


def test_target_name_is_the_runbooks_name_by_default() -> None:
    from vwtui.recovery.plan import target_identifier

    when = datetime(2025, 11, 11, 10, 30, 59, tzinfo=UTC)
    assert config_mod.Config().target_name("video-window", when) == target_identifier(when)
    assert config_mod.Config().target_name("VIDEO-WINDOW-STAGING", when) == \
        "video-window-staging-recovery-202511111030"
    with pytest.raises(ValueError, match="timezone-aware"):
        config_mod.Config().target_name("video-window", datetime(2025, 11, 11))


def test_staging_is_protected_when_listed_and_production_always() -> None:
    listed = config_mod.Config()
    assert listed.is_protected("VIDEO-WINDOW-STAGING") and listed.is_protected(" Video-Window ")
    unlisted = config_mod.from_mapping({"instances": {"protected": []}})
    assert unlisted.is_protected("Video-Window.")
    # An unlisted staging may be retired by a drill's rename swap (tests/test_recovery_run).
    assert not unlisted.is_protected("video-window-staging")
