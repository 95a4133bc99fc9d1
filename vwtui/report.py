"""Reports for a ticket or the runbook log: a recovery or drill run, and the weekly checklist.

A run's report is made from what is on disk, never from a screen: its journal
(`vwtui.recovery.journal.load_run`: plan, steps with times, the run-end record's RTO and RPO,
who ran it) and, once the run has ended, its record in the recovery test log
(`vwtui.recovery.history`: verify verdicts, the smoke test, notes). The same facts come out as
Markdown (`run_markdown`) and as JSON (`run_dict`). The checklist's report lists each item's
verdict and evidence, the last sign-off, and the runbook's causes once per troubleshooting
entry, with every item that points at it, rather than once per failing item.

`vwtui report [RUN_ID | latest] [--json]` prints a run's report; the run screen and the
checklist screen save theirs with `save_report`. Pure standard library and the project's own
modules: no AWS call, no Textual.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vwtui import fmt, safefile
from vwtui.errors import VwtuiError
from vwtui.recovery import history as hist
from vwtui.recovery import journal as jr
from vwtui.recovery.plan import Scenario, parse_utc

if TYPE_CHECKING:
    from vwtui.checks import Readings
    from vwtui.config import Config
    from vwtui.model import CheckResult
    from vwtui.signoff import SignOff

REPORTS_DIR = "reports"


class ReportError(VwtuiError):
    title = "Report"


# ---- a run --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunReport:
    """What a run's report says, gathered from its journal and its history record."""

    run: jr.RunRecord
    history: hist.HistoryRecord | None
    rto_target: timedelta
    rpo_target: timedelta

    @property
    def end(self) -> Mapping[str, Any]:
        """The journal's run-end record (empty while the run has not ended)."""
        ends = [r for r in self.run.records if r.get("event") == jr.RUN_END]
        return ends[-1] if ends else {}

    @property
    def finished_at(self) -> datetime | None:
        """When the run ended, as its run-end record says (the moment the clock stopped)."""
        stamp = self.end.get("finished_at")
        if isinstance(stamp, str):
            try:
                return parse_utc(stamp)
            except (ValueError, VwtuiError):
                pass  # a damaged stamp: the record's own time below
        return self.run.finished_at

    @property
    def kind(self) -> str:
        return self.history.kind if self.history is not None else "recovery"

    @property
    def outcome(self) -> str:
        if self.run.finished:
            return str(self.run.outcome or "finished")
        return "not ended"

    @property
    def rto(self) -> timedelta | None:
        seconds = self.end.get("rto_seconds")
        if seconds is None and self.history is not None:
            seconds = self.history.rto_seconds
        if seconds is None and self.finished_at is not None:
            return self.finished_at - self.run.started_at
        return None if seconds is None else timedelta(seconds=float(seconds))

    @property
    def rpo(self) -> timedelta | None:
        seconds = self.end.get("rpo_seconds")
        if seconds is None and self.history is not None:
            seconds = self.history.rpo_seconds
        return None if seconds is None else timedelta(seconds=float(seconds))

    @property
    def restore_point(self) -> datetime | None:
        if self.run.restore_point is not None:
            return self.run.restore_point
        return self.history.restore_point if self.history is not None else None

    def plan(self) -> list[Mapping[str, Any]]:
        """The plan as the run-start record holds it: key, title, estimate, command."""
        first = self.run.records[0] if self.run.records else {}
        return [p for p in first.get("plan") or [] if isinstance(p, Mapping)]


def load_report(run_id: str = "latest", base: Path | None = None,
                rto_target: timedelta = timedelta(hours=4),
                rpo_target: timedelta = timedelta(hours=1)) -> RunReport:
    """The report of the run `run_id` ("latest": the most recently started one) from the
    journals and the history file under the state directory `base`."""
    folder = jr.runs_dir(base)
    paths = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not paths:
        raise ReportError(f"No recovery or drill run is recorded in {folder}.")
    if run_id == "latest":
        runs = []
        for path in paths:
            try:
                runs.append(jr.load_run(path))
            except (jr.JournalError, KeyError, ValueError, TypeError):
                continue  # a damaged journal is not the latest run's
        if not runs:
            raise ReportError(f"No readable run journal in {folder}.")
        run = max(runs, key=lambda r: r.started_at)
    else:
        path = folder / f"{run_id}.jsonl"
        if not path.is_file():
            known = ", ".join(p.stem for p in paths[-5:])
            raise ReportError(f"No run {run_id!r} in {folder}; the latest: {known}.")
        try:
            run = jr.load_run(path)
        except (KeyError, ValueError, TypeError) as exc:
            raise ReportError(f"The journal {path} cannot be read: {exc}.") from None
    return RunReport(run=run, history=_history_of(run.run_id, base),
                     rto_target=rto_target, rpo_target=rpo_target)


def _history_of(run_id: str, base: Path | None) -> hist.HistoryRecord | None:
    try:
        read = hist.read_history(base)
    except hist.HistoryUnreadable:
        return None  # the journal alone still makes a report
    found = [r for r in read.records if r.run_id == run_id]
    return found[-1] if found else None


def _against(value: timedelta | None, target: timedelta) -> str:
    if value is None:
        return "unknown"
    verdict = "met" if value <= target else "MISSED"
    return f"{fmt.duration(value)} (target {fmt.duration(target)}: {verdict})"


def _when(moment: datetime | None) -> str:
    return fmt.utc(moment, seconds=True, zone=True, missing="-")


def _took(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "-"
    return fmt.stopwatch(end - start)


def _scenario_label(value: str) -> str:
    try:
        return Scenario(value).label
    except ValueError:
        return value


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def run_markdown(report: RunReport) -> str:
    """The run's report as Markdown: summary, plan, steps with times, verification, notes."""
    run, history, req = report.run, report.history, report.run.request
    title = "Drill" if report.kind == "drill" else "Recovery"
    lines = [f"# {title} report: {run.run_id}", ""]
    who = run.os_user or "unknown user"
    if run.host:
        who += f" on {run.host}"
    rows = [
        ("Method", _scenario_label(req.scenario.value)),
        ("Source", req.source),
        ("Target", req.target),
        ("Restore point", _when(report.restore_point)),
        ("Incident time", _when(req.incident_time)),
        ("Outcome", report.outcome + (" (dry run)" if run.dry_run else "")),
        ("Started", _when(run.started_at)),
        ("Ended", _when(report.finished_at)),
        ("RTO achieved", _against(report.rto, report.rto_target)),
        ("RPO achieved", _against(report.rpo, report.rpo_target)),
        ("Run by", who),
        ("AWS identity", run.caller_arn or "unknown"),
    ]
    if run.resumed:
        rows.append(("Resumed", fmt.plural(run.resumed, "time")))
    lines += ["| | |", "| --- | --- |"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    lines.append("")

    plan = report.plan()
    if plan:
        lines += ["## Plan", ""]
        for number, planned in enumerate(plan, 1):
            seconds = float(planned.get("estimate_seconds") or 0)
            lines.append(f"{number}. {planned.get('title', planned.get('key'))} "
                         f"(estimate {fmt.estimate(timedelta(seconds=seconds))})")
            if planned.get("command"):
                lines += ["", "   ```", f"   {planned['command']}", "   ```", ""]
        if lines[-1] != "":
            lines.append("")

    lines += ["## Steps", "", "| Step | Outcome | Started | Ended | Took | Detail |",
              "| --- | --- | --- | --- | --- | --- |"]
    titles = {str(p.get("key")): str(p.get("title") or p.get("key")) for p in plan}
    for key in run.step_order:
        step = run.steps[key]
        detail = step.error or step.skip_reason or step.detail or ""
        if step.outcome == "skipped" and step.skip_reason:
            detail = f"skipped: {step.skip_reason}"
        lines.append(f"| {_cell(titles.get(key, key))} | {step.outcome} | "
                     f"{_when(step.started_at)} | {_when(step.ended_at)} | "
                     f"{_took(step.started_at, step.ended_at)} | {_cell(detail)} |")
    lines.append("")

    lines += ["## Verification", ""]
    if history is not None and history.verify:
        lines += [f"Overall: **{(history.verify_overall or 'unknown').upper()}**", "",
                  "| Check | Verdict |", "| --- | --- |"]
        lines += [f"| {_cell(name)} | {verdict} |" for name, verdict in history.verify.items()]
    else:
        verify = run.steps.get("verify")
        said = verify.detail or verify.error if verify is not None else None
        lines.append(said or "No verification was recorded for this run.")
    lines.append("")
    if history is not None and history.smoke is not None:
        smoke = history.smoke
        lines += ["## Application test", "",
                  f"{'PASSED' if smoke.passed else 'FAILED'} in "
                  f"{fmt.stopwatch(timedelta(seconds=smoke.seconds))}: {smoke.summary}", ""]

    notes = []
    if history is not None:
        if history.notes:
            notes.append(f"- Notes: {history.notes}")
        if history.procedure_issues:
            notes.append(f"- Procedure issues: {history.procedure_issues}")
        if history.method_override_reason:
            notes.append(f"- Method chosen against the rotation: "
                         f"{history.method_override_reason}")
    if run.deleted:
        notes.append(f"- Deleted at cleanup: {', '.join(run.deleted)}")
    if run.renamed:
        notes.append("- Renamed: " + ", ".join(f"{old} -> {new}"
                                               for old, new in run.renamed.items()))
    lines += ["## Notes", ""]
    lines += notes or ["None recorded."]
    lines.append("")
    return "\n".join(lines)


def run_dict(report: RunReport) -> dict[str, Any]:
    """The run's report as a JSON-ready mapping (the same facts as the Markdown)."""
    run, history = report.run, report.history
    titles = {str(p.get("key")): str(p.get("title") or p.get("key")) for p in report.plan()}

    def seconds(value: timedelta | None) -> float | None:
        return None if value is None else value.total_seconds()

    return {
        "run_id": run.run_id, "kind": report.kind, "outcome": report.outcome,
        "dry_run": run.dry_run, "method": run.request.scenario.value,
        "source": run.request.source, "target": run.request.target,
        "restore_point": fmt.iso(report.restore_point),
        "incident_time": fmt.iso(run.request.incident_time),
        "started_at": fmt.iso(run.started_at), "finished_at": fmt.iso(report.finished_at),
        "rto_seconds": seconds(report.rto),
        "rto_target_seconds": report.rto_target.total_seconds(),
        "rpo_seconds": seconds(report.rpo),
        "rpo_target_seconds": report.rpo_target.total_seconds(),
        "os_user": run.os_user, "host": run.host, "caller_arn": run.caller_arn,
        "plan": [dict(p) for p in report.plan()],
        "steps": [{"key": key, "title": titles.get(key, key),
                   "outcome": run.steps[key].outcome,
                   "started_at": fmt.iso(run.steps[key].started_at),
                   "ended_at": fmt.iso(run.steps[key].ended_at),
                   "detail": run.steps[key].detail, "error": run.steps[key].error,
                   "skip_reason": run.steps[key].skip_reason} for key in run.step_order],
        "verify": dict(history.verify) if history is not None else {},
        "verify_overall": history.verify_overall if history is not None else None,
        "notes": history.notes if history is not None else "",
        "procedure_issues": history.procedure_issues if history is not None else "",
        "deleted": list(run.deleted), "renamed": dict(run.renamed),
    }


# ---- the checklist ------------------------------------------------------------------------

_MARK = {"pass": "✔ PASS", "fail": "✖ FAIL", "unknown": "? UNKNOWN"}


def checklist_markdown(results: Sequence[CheckResult], readings: Readings, config: Config,
                       last: SignOff | None = None) -> str:
    """The checklist for a ticket: a table per group (verdict, item, evidence), the sign-off,
    then the runbook's troubleshooting: each entry once, naming the items that point at it,
    with its causes listed once."""
    from vwtui import checks
    from vwtui.checklist import signoff_line
    from vwtui.diagnosis import entry_for

    counts = checks.summary(results)
    totals = ", ".join(f"{counts[v]} {v}" for v in ("pass", "fail", "unknown"))
    lines = [f"# Backup verification of {readings.production} in {readings.region}, vault "
             f"{config.backup.vault}, at {fmt.utc(readings.now, zone=True)}", "",
             f"**{totals}**", "", signoff_line(last, readings.now), ""]
    if last is not None and last.notes:
        lines += [f"Sign-off notes: {last.notes}", ""]
    for group in checks.GROUPS:
        members = [r for r in results if r.group == group]
        if not members:
            continue
        lines += [f"## {checks.GROUP_TITLES[group]}", "", "| Verdict | Check | Evidence |",
                  "| --- | --- | --- |"]
        for r in members:
            evidence = "<br>".join(_cell(e) for e in r.evidence)
            lines.append(f"| {_MARK[r.verdict.value]} | {_cell(r.title)} | {evidence} |")
        lines.append("")
    failing = [r for r in results if r.verdict.value != "pass"]
    if failing:
        lines += ["## Troubleshooting", ""]
        by_entry: dict[str, list[CheckResult]] = {}
        for r in failing:
            by_entry.setdefault(entry_for(r.diagnosis).key, []).append(r)
        for key, items in by_entry.items():
            entry = entry_for(key)
            lines += [f"### {entry.title}", "", f"Source: {entry.source}.", "",
                      "Items:", ""]
            lines += [f"- {r.title} ({r.verdict.value})" for r in items]
            lines += ["", "Common causes:", ""]
            lines += [f"{n}. {cause}" for n, cause in enumerate(entry.causes, 1)]
            lines.append("")
    return "\n".join(lines)


# ---- saving and the command ---------------------------------------------------------------

def save_report(name: str, text: str, base: Path | None = None) -> Path:
    """Write a report to `<state dir>/reports/<name>.md` (0600, never through a link) and
    return its path. Raises ReportError when it cannot be written."""
    folder = (base or safefile.state_dir()) / REPORTS_DIR
    path = folder / f"{name}.md"
    try:
        safefile.private_dir(folder)
        safefile.write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise ReportError(f"Cannot write the report {path}: {exc.strerror or exc}.") from None
    except VwtuiError as exc:
        raise ReportError(f"Cannot write the report {path}: {exc}") from None
    return path


def run_report_command(config: Config, args: argparse.Namespace) -> int:
    """`vwtui report [RUN_ID | latest] [--json]`: print a run's report; 1 when there is none."""
    try:
        report = load_report(getattr(args, "run", None) or "latest",
                             rto_target=timedelta(hours=config.objectives.rto_hours),
                             rpo_target=timedelta(hours=config.objectives.rpo_hours))
    except (ReportError, jr.JournalError) as exc:
        print(f"vwtui: {exc}", file=sys.stderr)
        return 1
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(run_dict(report), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(run_markdown(report))
    return 0
