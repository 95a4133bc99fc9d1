"""The recovery test log: one record per finished drill or recovery, kept for good.

Two files in the state directory, appended when a run ends (finished, failed or aborted):

- `history.jsonl`: one JSON object per run (`HistoryRecord.to_json`), fsync'd. What the
  checklist's "monthly recovery test" item, the drill rotation, the health view's restore test
  results and `vwtui report` read. A torn or damaged line is reported by `read_history` (line
  and reason) and skipped; the records around it still count.
- `recovery-test-log.txt`: the runbook's plain lines, for whoever greps the old log:
  "Recovery test started: ...", "Recovery completed: ...", "RTO achieved: N hours".

Pure standard library plus the run's own state; no AWS, no UI. Appends go through `safefile`
(no symbolic link followed, 0600).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from vwtui import safefile

if TYPE_CHECKING:
    from vwtui.recovery.state import RunState

HISTORY_NAME = "history.jsonl"
TEST_LOG_NAME = "recovery-test-log.txt"
SCHEMA = 1

RunKind = Literal["drill", "recovery"]


@dataclass(frozen=True)
class StepRecord:
    """One step as it ended: its key, title, status and how long it took (None: never ran)."""

    key: str
    title: str
    status: str
    seconds: float | None = None


@dataclass(frozen=True)
class SmokeResult:
    """The application test of a drill: passed or not, how long, and what it said."""

    passed: bool
    seconds: float
    summary: str
    command: str | None = None  # None: the built-in test
    exit_code: int | None = None


@dataclass(frozen=True)
class HistoryRecord:
    """One run, as the recovery test log keeps it."""

    run_id: str
    kind: RunKind
    outcome: str  # "finished", "aborted", "failed"
    method: str  # the scenario's value: "pitr", "snapshot", "backup", ...
    source: str
    target: str
    started_at: datetime
    finished_at: datetime
    rto_seconds: float
    rto_target_seconds: float
    rpo_seconds: float | None = None
    restore_point: datetime | None = None
    steps: tuple[StepRecord, ...] = ()
    verify: Mapping[str, str] = field(default_factory=dict)  # check name -> verdict
    verify_overall: str | None = None
    smoke: SmokeResult | None = None
    caller_arn: str | None = None
    os_user: str = ""
    notes: str = ""
    procedure_issues: str = ""
    method_override_reason: str | None = None

    @property
    def rto_met(self) -> bool:
        """The run finished inside the RTO target (an aborted or failed run never meets it)."""
        return self.outcome == "finished" and self.rto_seconds <= self.rto_target_seconds

    @property
    def succeeded(self) -> bool:
        """Finished, verified (when verified at all) and, for a drill, the smoke test passed."""
        if self.outcome != "finished":
            return False
        if self.verify_overall is not None and self.verify_overall == "fail":
            return False
        return self.smoke is None or self.smoke.passed

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "run_id": self.run_id, "kind": self.kind,
            "outcome": self.outcome, "method": self.method, "source": self.source,
            "target": self.target, "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at), "rto_seconds": self.rto_seconds,
            "rto_target_seconds": self.rto_target_seconds, "rpo_seconds": self.rpo_seconds,
            "restore_point": _iso(self.restore_point) if self.restore_point else None,
            "steps": [{"key": s.key, "title": s.title, "status": s.status,
                       "seconds": s.seconds} for s in self.steps],
            "verify": dict(self.verify), "verify_overall": self.verify_overall,
            "smoke": None if self.smoke is None else {
                "passed": self.smoke.passed, "seconds": self.smoke.seconds,
                "summary": self.smoke.summary, "command": self.smoke.command,
                "exit_code": self.smoke.exit_code},
            "caller_arn": self.caller_arn, "os_user": self.os_user, "notes": self.notes,
            "procedure_issues": self.procedure_issues,
            "method_override_reason": self.method_override_reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryRecord:
        """Raises KeyError/TypeError/ValueError on a record that is not one of ours."""
        kind = data["kind"]
        if kind not in ("drill", "recovery"):
            raise ValueError(f"unknown kind {kind!r}")
        smoke = data.get("smoke")
        restore_point = data.get("restore_point")
        return cls(
            run_id=str(data["run_id"]), kind=kind, outcome=str(data["outcome"]),
            method=str(data["method"]), source=str(data["source"]),
            target=str(data["target"]), started_at=_parse(data["started_at"]),
            finished_at=_parse(data["finished_at"]),
            rto_seconds=float(data["rto_seconds"]),
            rto_target_seconds=float(data["rto_target_seconds"]),
            rpo_seconds=None if data.get("rpo_seconds") is None else float(data["rpo_seconds"]),
            restore_point=_parse(restore_point) if restore_point else None,
            steps=tuple(StepRecord(key=str(s["key"]), title=str(s["title"]),
                                   status=str(s["status"]),
                                   seconds=None if s.get("seconds") is None
                                   else float(s["seconds"]))
                        for s in data.get("steps") or ()),
            verify={str(k): str(v) for k, v in (data.get("verify") or {}).items()},
            verify_overall=data.get("verify_overall"),
            smoke=None if smoke is None else SmokeResult(
                passed=bool(smoke["passed"]), seconds=float(smoke["seconds"]),
                summary=str(smoke["summary"]), command=smoke.get("command"),
                exit_code=smoke.get("exit_code")),
            caller_arn=data.get("caller_arn"), os_user=str(data.get("os_user") or ""),
            notes=str(data.get("notes") or ""),
            procedure_issues=str(data.get("procedure_issues") or ""),
            method_override_reason=data.get("method_override_reason"),
        )


@dataclass(frozen=True)
class HistoryRead:
    """What the history file holds: its records, oldest first, and its damaged lines."""

    records: tuple[HistoryRecord, ...]
    problems: tuple[str, ...] = ()  # "history.jsonl line 4: <reason>"
    missing: bool = False  # no file yet (no run has ended here)

    def of_kind(self, kind: RunKind) -> tuple[HistoryRecord, ...]:
        return tuple(r for r in self.records if r.kind == kind)

    def last(self, kind: RunKind) -> HistoryRecord | None:
        records = self.of_kind(kind)
        return max(records, key=lambda r: r.finished_at) if records else None


class HistoryUnreadable(Exception):
    """The history file exists but cannot be read at all (permissions, I/O)."""


def history_path(base: Path | None = None) -> Path:
    return (base or safefile.state_dir()) / HISTORY_NAME


def plain_log_path(base: Path | None = None) -> Path:
    return (base or safefile.state_dir()) / TEST_LOG_NAME


def record_from_state(state: RunState, *, kind: RunKind, caller_arn: str | None,
                      os_user: str, now: datetime, notes: str = "",
                      procedure_issues: str = "", smoke: SmokeResult | None = None,
                      method_override_reason: str | None = None,
                      rto_seconds: float | None = None) -> HistoryRecord:
    """The history record of a run that has ended (its clock stopped at `finished_at`).
    `rto_seconds`: the RTO a drill measured when its application test passed (default: the
    clock at the end)."""
    clock = state.clock
    rpo = state.rpo_achieved
    verification = state.verification
    return HistoryRecord(
        run_id=state.run_id, kind=kind, outcome=state.outcome or "finished",
        method=str(state.request.scenario.value), source=state.request.source,
        target=state.request.target, started_at=clock.started_at,
        finished_at=clock.finished_at or now,
        rto_seconds=rto_seconds if rto_seconds is not None
        else clock.elapsed(now).total_seconds(),
        rto_target_seconds=clock.target.total_seconds(),
        rpo_seconds=rpo.total_seconds() if rpo is not None else None,
        restore_point=state.restore_point,
        steps=tuple(StepRecord(key=str(s.key), title=s.title, status=str(s.status.value),
                               seconds=s.elapsed(now).total_seconds()
                               if s.started_at is not None else None)
                    for s in state.steps),
        verify={c.title: str(c.verdict.value) for c in verification.checks}
        if verification else {},
        verify_overall=str(verification.overall.value) if verification else None,
        smoke=smoke, caller_arn=caller_arn, os_user=os_user, notes=notes,
        procedure_issues=procedure_issues, method_override_reason=method_override_reason)


def append_record(record: HistoryRecord, base: Path | None = None) -> Path:
    """Append one record to the history file and the runbook's plain lines to the test log,
    each fsync'd. Raises OSError (full disk, read-only) or UnsafePathError for the caller to
    say; a record is never half-written on purpose (one write of one line)."""
    folder = safefile.ensure_state_dir(base)
    path = folder / HISTORY_NAME
    line = json.dumps(record.to_json(), sort_keys=True, separators=(",", ":")) + "\n"
    safefile.append_line(path, line.encode())
    hours = record.rto_seconds / 3600
    plain = (f"Recovery test started: {_plain_time(record.started_at)}\n"
             f"Recovery completed: {_plain_time(record.finished_at)} "
             f"({record.kind}, {record.method}, {record.source} -> {record.target}, "
             f"{record.outcome})\n"
             f"RTO achieved: {hours:.2f} hours\n")
    safefile.append_line(folder / TEST_LOG_NAME, plain.encode())
    return path


def read_history(base: Path | None = None) -> HistoryRead:
    """Every record of the history file, oldest first. A missing file is an empty history
    (`missing` set); a damaged line is skipped and named in `problems`. Raises
    HistoryUnreadable when the file exists but cannot be read."""
    path = history_path(base)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return HistoryRead(records=(), missing=True)
    except OSError as exc:
        raise HistoryUnreadable(f"{path}: {exc.strerror or exc}") from None
    records: list[HistoryRecord] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            records.append(HistoryRecord.from_json(json.loads(raw)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"{path.name} line {number}: {type(exc).__name__}: {exc}")
    records.sort(key=lambda r: r.finished_at)
    return HistoryRead(records=tuple(records), problems=tuple(problems))


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _parse(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time without a zone: {value!r}")
    return moment


def _plain_time(moment: datetime) -> str:
    # The runbook's `$(date)` in UTC, e.g. "Tue Dec  1 18:08:00 UTC 2026".
    return moment.astimezone(tz=moment.tzinfo).strftime("%a %b %e %H:%M:%S %Z %Y")


def duration(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)
