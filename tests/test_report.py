"""Reports: a run's Markdown (and JSON) from its journal and the recovery test log, and the
checklist's Markdown, compared with golden files (tests/golden/*.md). Every time in them is
fixed, so the files change only when the report does. To refresh them after a deliberate change:
VWTUI_UPDATE_GOLDEN=1 pytest tests/test_report.py, then review the diff like code."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_checks import PROD_ARN, healthy, job

from vwtui import checks
from vwtui.cli import main
from vwtui.config import Config
from vwtui.model import BackupJob
from vwtui.recovery import history as hist
from vwtui.recovery import journal as jr
from vwtui.recovery.plan import RecoveryRequest, Scenario, build_plan
from vwtui.recovery.state import _plan_json
from vwtui.report import (
    checklist_markdown,
    load_report,
    run_dict,
    run_markdown,
    save_report,
)
from vwtui.signoff import SignOff

GOLDEN = Path(__file__).parent / "golden"
STARTED = datetime(2025, 11, 11, 10, 30, tzinfo=UTC)
RUN_ID = "20251111T103000Z-video-window-restored-20251111-1030-4242"
TARGET = "video-window-restored-20251111-1030"
POINT = datetime(2025, 11, 11, 9, 55, tzinfo=UTC)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("VWTUI_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def at(minutes: float) -> datetime:
    return STARTED + timedelta(minutes=minutes)


def write_run(base: Path, *, with_history: bool = True) -> None:
    """A PITR recovery as its journal records it (through the real Journal writer), ended
    after 1 h 32 min, and its record in the recovery test log."""
    request = RecoveryRequest(Scenario.PITR, "video-window", TARGET, incident_time=at(-20),
                              restore_time=POINT, restore_point=POINT, requested_at=STARTED)
    plan = build_plan(request, Config(), now=STARTED, run_id=RUN_ID)
    journal = jr.Journal.create(RUN_ID, jr.runs_dir(base))
    journal.user = "oncall"
    journal.caller_arn = "arn:aws:sts::123456789012:assumed-role/oncall/jane"
    journal.append(jr.RUN_START, run_id=RUN_ID, request=request.to_json(),
                   plan=[_plan_json(p) for p in plan], started_at=STARTED.isoformat(),
                   dry_run=False, host="bastion-1", pid=4242)
    times = {"prerequisites": (0, 1), "restore": (1, 3), "wait": (3, 71), "verify": (71, 74),
             "parity": (74, 75), "swap": (75, 80), "protection": (80, 82), "cleanup": (82, 92)}
    details = {"prerequisites": "All prerequisites met.",
               "restore": f"restore-db-instance-to-point-in-time issued for {TARGET}.",
               "wait": f"{TARGET} is available at {TARGET}.abc.eu-west-1.rds.amazonaws.com.",
               "verify": "12 checks: 11 pass, 1 warn | see the table",
               "parity": "32 settings compared: 31 the same, 1 may differ (deletion protection).",
               "swap": "db.videowindow.internal. now points at the new endpoint.",
               "protection": f"{TARGET} is backed up, watched and protected."}
    for step in plan:
        start, end = times[step.key]
        journal.append(jr.STEP_START, step=step.key, at=at(start), command=step.command)
        if step.key == "restore":
            journal.append(jr.RESTORE_ISSUED, step="restore", created=[TARGET],
                           restore_point=POINT)
        if step.key == "cleanup":
            journal.append(jr.STEP_END, step=step.key, outcome="skipped", at=at(end),
                           skip_reason="keep the old instance a day for forensics")
        else:
            journal.append(jr.STEP_END, step=step.key, outcome="done", detail=details[step.key],
                           at=at(end))
    journal.append(jr.RUN_END, outcome="finished", finished_at=at(92),
                   rto_seconds=92 * 60.0, rpo_seconds=35 * 60.0)
    if with_history:
        hist.append_record(hist.HistoryRecord(
            run_id=RUN_ID, kind="recovery", outcome="finished", method="pitr",
            source="video-window", target=TARGET, started_at=STARTED, finished_at=at(92),
            rto_seconds=92 * 60.0, rto_target_seconds=4 * 3600.0, rpo_seconds=35 * 60.0,
            restore_point=POINT,
            verify={"Row counts against the source": "pass",
                    "Newest user created before the restore point": "pass",
                    "Index count | constraints": "warn"},
            verify_overall="warn", caller_arn=journal.caller_arn, os_user="oncall",
            notes="Ticket OPS-1234; app team confirmed orders at 12:05.",
            procedure_issues="Route53 TTL of 300 s made the swap slow to reach every client."),
            base)


def test_a_finished_runs_report_matches_the_golden_markdown(tmp_path: Path) -> None:
    write_run(tmp_path)
    report = load_report("latest", base=tmp_path)
    text = run_markdown(report)
    golden("report_run.md", text)
    # The facts a ticket needs, checked apart from the file's layout too.
    assert "| RTO achieved | 1 h 32 min (target 4 h: met) |" in text
    assert "| RPO achieved | 35 min (target 1 h: met) |" in text
    assert "| Run by | oncall on bastion-1 |" in text
    assert "| Index count \\| constraints | warn |" in text  # a pipe never breaks the table
    assert "skipped: keep the old instance a day for forensics" in text
    assert load_report(RUN_ID, base=tmp_path).run.run_id == RUN_ID


def test_the_json_report_carries_the_same_facts(tmp_path: Path) -> None:
    write_run(tmp_path)
    data = run_dict(load_report(RUN_ID, base=tmp_path))
    assert data["rto_seconds"] == 92 * 60 and data["rpo_seconds"] == 35 * 60
    assert data["finished_at"] == "2025-11-11T12:02:00Z"
    assert [s["outcome"] for s in data["steps"]] == ["done"] * 6 + ["skipped"]
    assert data["steps"][1]["key"] == "wait"
    assert data["steps"][1]["started_at"] == "2025-11-11T10:33:00Z"
    assert data["verify_overall"] == "warn"
    assert data["plan"][0]["command"].startswith("aws rds restore-db-instance-to-point-in-time")
    json.dumps(data)  # JSON-ready as it is


def test_without_its_history_record_the_journal_still_makes_the_report(
        tmp_path: Path) -> None:
    write_run(tmp_path, with_history=False)
    text = run_markdown(load_report("latest", base=tmp_path))
    assert "| RTO achieved | 1 h 32 min (target 4 h: met) |" in text
    assert "12 checks: 11 pass, 1 warn" in text  # the verify step's own words
    assert "None recorded." in text


def test_vwtui_report_prints_markdown_or_json_and_says_when_there_is_no_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    config = tmp_path / "config.toml"
    config.write_text("[objectives]\nrto_hours = 1.0\n", encoding="utf-8")
    assert main(["report", "--config", str(config)]) == 1
    assert "No recovery or drill run is recorded" in capsys.readouterr().err
    base = tmp_path / "state" / "vwtui"
    write_run(base)
    assert main(["report", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# Recovery report: {RUN_ID}")
    assert "| RTO achieved | 1 h 32 min (target 1 h: MISSED) |" in out  # the config's target
    assert main(["report", RUN_ID, "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == RUN_ID
    assert main(["report", "no-such-run", "--config", str(config)]) == 1
    assert "No run 'no-such-run'" in capsys.readouterr().err


def test_the_checklist_report_lists_causes_once_per_entry(tmp_path: Path) -> None:
    staging = PROD_ARN + "-staging"
    failed = [dataclasses.replace(job(50, "FAILED", "Storage full"), resource_arn=staging),
              dataclasses.replace(job(30), resource_arn=staging),
              BackupJob("job-x", "video-window-backup-vault", PROD_ARN, "EXPIRED",
                        "Backup job failed to start before the end of its start window",
                        datetime(2025, 11, 16, 5, 0, tzinfo=UTC),
                        datetime(2025, 11, 16, 6, 0, tzinfo=UTC), None)]
    base = healthy()
    assert isinstance(base.backup_jobs, list)
    readings = dataclasses.replace(base, backup_jobs=[*base.backup_jobs, *failed], snapshots=[])
    results = checks.evaluate(readings, Config())
    signed = SignOff("Jane Reviewer", datetime(2025, 11, 10, 9, 0, tzinfo=UTC),
                     "OPS-1200 followed up")
    text = checklist_markdown(results, readings, Config(), signed)
    golden("report_checklist.md", text)
    failing = [r for r in results if not r.passed]
    # Three failing items share the runbook's Backup Job Fails entry: its causes are listed
    # once, under one heading naming the three.
    assert len(failing) == 4
    assert text.count("### Backup Job Fails") == 1
    assert text.count("Insufficient IAM permissions") == 1
    assert text.count("Common causes:") == len(
        [line for line in text.splitlines() if line.startswith("### ")]) == 2
    assert "Last sign-off: Jane Reviewer, 2025-11-10 09:00 UTC" in text
    path = save_report("checklist-20251117T120000Z", text, base=tmp_path)
    assert path.read_text(encoding="utf-8") == text
    assert path.stat().st_mode & 0o077 == 0
