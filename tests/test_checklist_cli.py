"""`vwtui checklist` as a user runs it: a subprocess, a config file pointing at the sandbox.

Checks the three outputs (table, --json, --markdown) and the exit statuses: 0 all pass, 1 any
fail or unknown, 2 config or credentials error (one sentence on stderr, never a traceback).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vwtui import config as config_mod
from vwtui.config import AwsConfig, Config
from vwtui.signoff import SignOffLog

REPO = Path(__file__).resolve().parent.parent


def write_config(path: Path, sandbox: Any | None, **aws: Any) -> Path:
    """A config file as `vwtui init` writes it, pointing at the sandbox."""
    if sandbox is not None:
        aws = {"region": sandbox.region, "endpoint_url": sandbox.endpoint_url, **aws}
    config_mod.write(Config(aws=AwsConfig(max_attempts=1, **aws)), path)
    return path


def vwtui(*args: str, env: dict[str, str] | None = None,
          unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run `python -m vwtui checklist ...` with this process's environment (the sandbox's),
    changed by `env` and without the variables in `unset`."""
    environ = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset}
    return subprocess.run([sys.executable, "-m", "vwtui", "checklist", *args], env=environ,
                          capture_output=True, text=True, cwd=REPO, timeout=60)


def words(text: str) -> str:
    """Text with its line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state directory of the test's own (the sign-off log), and no colour."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("VWTUI_CONFIG", raising=False)
    return tmp_path / "state"


def test_a_healthy_account_prints_a_table_and_asks_about_the_weeks_failed_job(
        make_sandbox: Callable[..., Any], state: Path, tmp_path: Path) -> None:
    """Never signed off: the week's FAILED staging job (retried, completed) fails the logs
    item, resolved and when, and the exit status is 1 until the review is signed off (the
    JSON test below signs it)."""
    config = write_config(tmp_path / "config.toml", make_sandbox("healthy"))
    done = vwtui("--config", str(config))
    assert done.returncode == 1, done.stderr
    out = done.stdout
    for heading in ("Daily checks", "Weekly checklist", "Compliance"):
        assert f"\n{heading}\n" in out
    assert "✔ PASS    Newest automated snapshot < 25 h old" in out
    assert "✖ FAIL    Backup logs show no errors" in out
    assert "(resolved: job" in words(out)
    assert "Last sign-off: none yet (weekly review due)" in out
    assert out.rstrip().endswith("19 pass, 1 fail, 0 unknown")
    assert "\033[" not in out  # NO_COLOR, and not a terminal anyway
    assert done.stderr == ""


def test_json_lists_every_check_with_evidence_and_the_last_sign_off(
        make_sandbox: Callable[..., Any], state: Path, tmp_path: Path) -> None:
    sandbox = make_sandbox("healthy")
    config = write_config(tmp_path / "config.toml", sandbox)
    SignOffLog(state / "vwtui" / "signoffs.jsonl").sign("Dana", "all fine",
                                                        now=sandbox.current_time())
    done = vwtui("--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert report["summary"] == {"pass": 20, "fail": 0, "unknown": 0}
    assert report["instance"] == "video-window"
    assert report["region"] == sandbox.region
    assert {c["group"] for c in report["checks"]} == {"daily", "weekly", "compliance"}
    assert all(c["verdict"] == "pass" and c["evidence"] for c in report["checks"])
    assert report["last_signoff"]["name"] == "Dana"
    assert report["review_overdue"] is False

    # One call denied: its checks are unknown, never pass, and the exit status says so.
    sandbox.deny("ListBackupJobs")
    denied = vwtui("--json", "--config", str(config))
    assert denied.returncode == 1
    report = json.loads(denied.stdout)
    unknown = {c["id"] for c in report["checks"] if c["verdict"] == "unknown"}
    assert unknown == {"daily.backup_jobs", "weekly.backup_logs"}
    assert report["ok"] is False


def test_stale_backups_fail_and_markdown_carries_the_diagnosis(
        make_sandbox: Callable[..., Any], state: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", make_sandbox("stale-backups"))
    done = vwtui("--markdown", "--config", str(config))
    assert done.returncode == 1, done.stderr
    md = done.stdout
    assert md.startswith("# Backup verification of video-window")
    assert "| Verdict | Check | Evidence |" in md
    assert "| ✖ FAIL | Newest automated snapshot < 25 h old |" in md
    assert "older than 25 h" in md
    assert "## Troubleshooting" in md
    assert "- Newest automated snapshot < 25 h old (fail)" in md
    # The causes of one runbook entry once, however many items point at it.
    headings = [line for line in md.splitlines() if line.startswith("### ")]
    assert md.count("Common causes:") == len(headings) == len(set(headings))
    assert "1. Insufficient IAM permissions: verify backup role has required policies" in md


def test_a_failed_backup_exits_1_naming_the_job(
        make_sandbox: Callable[..., Any], state: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", make_sandbox("failed-backup"))
    done = vwtui("--config", str(config))
    assert done.returncode == 1
    assert "✖ FAIL    Backup job completion (last 25 h)" in done.stdout
    assert "(video-window) FAILED at" in words(done.stdout)
    assert "does not have sufficient permissions to execute the backup" in words(done.stdout)


def test_a_bad_config_exits_2_with_one_sentence(state: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[backup]\nmax_age_hours = "soon"\n')
    done = vwtui("--config", str(bad))
    assert done.returncode == 2
    assert done.stdout == ""
    assert "backup.max_age_hours must be a number" in done.stderr
    assert "Traceback" not in done.stderr
    missing = vwtui("--config", str(tmp_path / "nowhere.toml"))
    assert missing.returncode == 2
    assert "no such config file" in missing.stderr


def test_missing_credentials_exit_2(state: Path, tmp_path: Path) -> None:
    # Nothing listens on port 9: the request is refused before it is sent, for want of keys.
    config = write_config(tmp_path / "config.toml", None, region="eu-west-1",
                          endpoint_url="http://127.0.0.1:9")
    unset = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
             "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
             "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE")
    env = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           "AWS_EC2_METADATA_DISABLED": "true"}
    done = vwtui("--config", str(config), env=env, unset=unset)
    assert done.returncode == 2, done.stdout
    assert "No AWS credentials found" in done.stderr
    assert "Traceback" not in done.stderr
    profile = vwtui("--config", str(config), "--profile", "no-such-profile", env=env,
                    unset=unset)
    assert profile.returncode == 2
    assert "AWS profile 'no-such-profile' is not in" in profile.stderr
