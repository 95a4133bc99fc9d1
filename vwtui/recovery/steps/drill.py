"""The monthly drill's own steps: verify beyond the runbook's queries (every foreign key, the
team's extra checks), the application test, and the RTO achieved.

The application test runs `drill.smoke_command` with the test instance's connection in its
environment (PGHOST, PGPORT, PGDATABASE, PGUSER, VWTUI_TEST_ENDPOINT), timed, with a timeout, its
output (bounded) journaled; with none configured, the PostgreSQL service's built-in test.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from vwtui import fmt
from vwtui.errors import DatabaseError
from vwtui.recovery import troubleshooting as ts
from vwtui.recovery.history import SmokeResult
from vwtui.recovery.plan import StepKey
from vwtui.recovery.state import (
    RTO_ACHIEVED,
    SMOKE_RESULT,
    StepFailed,
    StepState,
    StepStatus,
    Troubleshooting,
)
from vwtui.recovery.steps import Outcome, StepContext
from vwtui.recovery.verify import CheckVerdict, VerifyCheck
from vwtui.validation import ValidationQuery, extra_queries

if TYPE_CHECKING:
    from vwtui.model import Instance, ValidationReport

# Output of the smoke command kept in the journal and on screen: its last this many bytes of
# each stream (a chatty test must not fill the disk the journal is on).
OUTPUT_LIMIT = 8192


class InstanceReads(Protocol):
    async def instance(self, identifier: str) -> Instance: ...


class DrillDatabase(Protocol):
    def endpoint(self, host: str | None = ..., port: int | None = ...) -> tuple[str, int]: ...

    async def drill_checks(self, extra: Sequence[ValidationQuery] = ..., host: str | None = ...,
                           port: int | None = ...) -> ValidationReport: ...

    async def smoke_test(self, instance: str, host: str | None = ...,
                         port: int | None = ...) -> str: ...


# ---- judging the drill's extra checks (pure) ----------------------------------------------------

def judge_drill_checks(report: ValidationReport) -> list[VerifyCheck]:
    """A verdict for the foreign keys (every one of the schema) and each extra check."""
    checks: list[VerifyCheck] = []
    keys = [r for r in report.results if r.name.startswith("fk:")]
    listing = report.result("foreign_key_orphans")
    if listing is not None:
        broken = [r for r in keys if r.error or (r.rows and _number(r.rows[0][0]))]
        if listing.error:
            checks.append(VerifyCheck("foreign_keys", "Foreign keys", CheckVerdict.FAIL,
                                      listing.error))
        elif broken:
            said = "; ".join(f"{r.title}: {r.error or f'{r.rows[0][0]} orphaned'}"
                             for r in broken[:5])
            checks.append(VerifyCheck("foreign_keys", "Foreign keys", CheckVerdict.FAIL,
                                      f"{len(broken)} of {len(keys)} foreign keys have "
                                      f"orphaned rows: {said}"))
        else:
            checks.append(VerifyCheck("foreign_keys", "Foreign keys", CheckVerdict.PASS,
                                      f"{len(keys)} foreign keys, no orphaned rows"))
    for result in report.results:
        if result.name == "foreign_key_orphans" or result.name.startswith("fk:"):
            continue
        if result.error:
            checks.append(VerifyCheck(result.name, result.title or result.name,
                                      CheckVerdict.FAIL, result.error))
            continue
        failing = [row for row in result.rows if row and _number(row[0])]
        title = result.title or result.name
        if failing:
            checks.append(VerifyCheck(result.name, title, CheckVerdict.FAIL,
                                      f"{len(failing)} row(s) with a non-zero first column: "
                                      f"{', '.join(str(v) for v in failing[0])}"))
        else:
            checks.append(VerifyCheck(result.name, title, CheckVerdict.PASS,
                                      f"{len(result.rows)} row(s), none reporting a problem"))
    return checks


def _number(value: object) -> bool:
    """A non-zero number (or numeric text): the check found something."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return value != 0
    if isinstance(value, str):
        try:
            return Decimal(value) != 0
        except ArithmeticError:
            return False
    return False


def read_extra_sql(path: str) -> tuple[ValidationQuery, ...]:
    """drill.extra_sql's queries; raises StepFailed naming the file when it cannot be read."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StepFailed(f"Cannot read drill.extra_sql {path}: "
                         f"{getattr(exc, 'strerror', None) or exc}.") from None
    try:
        return extra_queries(text)
    except ValueError as exc:
        raise StepFailed(f"drill.extra_sql {path}: {exc}.") from None


# ---- the executors -------------------------------------------------------------------------

class DrillVerifyStep:
    """The runbook's verify, then the drill's own checks added to the same verification."""

    def __init__(self, verify: object, reads: InstanceReads, pg: DrillDatabase) -> None:
        self.verify = verify
        self.reads = reads
        self.pg = pg

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        state = ctx.state
        extra = read_extra_sql(ctx.config.drill.extra_sql) if ctx.config.drill.extra_sql else ()
        base_failure: StepFailed | None = None
        try:
            status, detail = await self.verify.run(ctx, step)  # type: ignore[attr-defined]
        except StepFailed as exc:
            base_failure, status, detail = exc, StepStatus.FAILED, exc.message
        if state.dry_run:
            return status, detail
        instance = state.new_instance or await self.reads.instance(state.request.target)
        report = await self.pg.drill_checks(extra, instance.endpoint_address,
                                            instance.endpoint_port)
        more = judge_drill_checks(report)
        if state.verification is not None:
            state.verification = dataclasses.replace(
                state.verification, checks=(*state.verification.checks, *more))
        failed = [c for c in more if c.verdict is CheckVerdict.FAIL]
        if base_failure is not None or failed:
            parts = [base_failure.message] if base_failure else []
            parts += [f"{c.title}: {c.detail}" for c in failed]
            raise StepFailed("; ".join(parts) if base_failure else
                             "Validation failed: " + "; ".join(parts),
                             ts.verify_failed(ctx.config, state.request.target))
        summary = state.verification.summary() if state.verification else detail
        return StepStatus.DONE, summary


class SmokeStep:
    """The application test on the test instance."""

    def __init__(self, reads: InstanceReads, pg: DrillDatabase) -> None:
        self.reads = reads
        self.pg = pg

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        state = ctx.state
        target = state.request.target
        command = ctx.config.drill.smoke_command or None
        if state.dry_run:
            what = f"run {command}" if command else "run the built-in test"
            return StepStatus.DONE, f"Dry run: would {what} against {target}."
        instance = state.new_instance or await self.reads.instance(target)
        started = time.monotonic()
        if command is None:
            try:
                said = await self.pg.smoke_test(target, instance.endpoint_address,
                                                instance.endpoint_port)
                passed, summary, code = True, f"Built-in test passed: {said}.", None
            except DatabaseError as exc:
                passed, summary, code = False, f"Built-in test failed: {exc.message}", None
        else:
            passed, summary, code = await self._command(ctx, command, instance)
        seconds = time.monotonic() - started
        state.smoke_result = SmokeResult(passed=passed, seconds=seconds, summary=summary,
                                         command=command, exit_code=code)
        # "passed" is a field name the journal refuses (it guards against secrets).
        ctx.note(SMOKE_RESULT, step=step.key, result="pass" if passed else "fail",
                 seconds=seconds,
                 command=command, exit_code=code, summary=summary)
        took = fmt.stopwatch(_delta(seconds))
        if not passed:
            raise StepFailed(f"Application test failed after {took}: {summary}",
                             smoke_failed(target, command))
        return StepStatus.DONE, f"{summary} ({took})"

    async def _command(self, ctx: StepContext, command: str,
                       instance: Instance) -> tuple[bool, str, int | None]:
        host, port = self.pg.endpoint(instance.endpoint_address, instance.endpoint_port)
        db = ctx.config.database
        env = {**os.environ, "PGHOST": host, "PGPORT": str(port), "PGDATABASE": db.name,
               "PGUSER": db.user,
               "VWTUI_TEST_ENDPOINT": f"{instance.endpoint_address or host}:"
                                      f"{instance.endpoint_port or port}"}
        timeout = ctx.config.drill.smoke_timeout_seconds
        process = await asyncio.create_subprocess_shell(
            command, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True)
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            _kill(process)
            await process.wait()
            return False, f"{command} did not end within {timeout:g} s and was stopped.", None
        except asyncio.CancelledError:
            _kill(process)
            raise
        code = process.returncode
        stdout, stderr = _tail(out), _tail(err)
        ctx.note("smoke-output", step="smoke", stdout=stdout, stderr=stderr, exit_code=code)
        said = "\n".join(part for part in (
            f"stdout: {stdout.strip()}" if stdout.strip() else "",
            f"stderr: {stderr.strip()}" if stderr.strip() else "") if part)
        verdict = "passed" if code == 0 else f"failed (exit {code})"
        return code == 0, f"{command} {verdict}" + (f"\n{said}" if said else ""), code


class RtoStep:
    """The RTO achieved: the clock at the moment the application test passed."""

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        state = ctx.state
        # When the test passed, not now: a drill stopped between the two steps and resumed
        # later achieved its RTO before the restart (the smoke step's end is in its journal).
        smoke = state.step(StepKey.SMOKE)
        passed_at = smoke.ended_at if smoke is not None and smoke.status is StepStatus.DONE \
            else None
        elapsed = state.clock.elapsed(passed_at or ctx.now())
        state.rto_measured = elapsed
        target = state.clock.target
        hours = elapsed.total_seconds() / 3600
        ctx.note(RTO_ACHIEVED, step=step.key, rto_seconds=elapsed.total_seconds(),
                 target_seconds=target.total_seconds(), met=elapsed <= target)
        if elapsed <= target:
            return StepStatus.DONE, (f"RTO achieved: {hours:.2f} hours "
                                     f"({fmt.stopwatch(elapsed)}); requirement met: "
                                     f"< {fmt.in_hours(target.total_seconds() / 3600)}.")
        # Logged, not failed: the drill goes on to delete its test instance; the log and the
        # escalation say the RTO was missed.
        return StepStatus.DONE, (f"RTO achieved: {hours:.2f} hours ({fmt.stopwatch(elapsed)}); "
                                 f"requirement FAILED: over "
                                 f"{fmt.in_hours(target.total_seconds() / 3600)}. Escalate.")


def _tail(data: bytes | None) -> str:
    if not data:
        return ""
    if len(data) > OUTPUT_LIMIT:
        data = b"[...] " + data[-OUTPUT_LIMIT:]
    return data.decode("utf-8", errors="replace")


def _kill(process: asyncio.subprocess.Process) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _delta(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def smoke_failed(target: str, command: str | None) -> Troubleshooting:
    """What to look at when the application test fails."""
    return Troubleshooting(
        title="Application test failed",
        causes=("The test instance is not reachable from this host (security group, tunnel).",
                "The application user cannot log in or lacks privileges on the restored data.",
                "The smoke test itself is broken or expects data the restore point lacks."),
        commands=(f"psql -h <endpoint of {target}> -U <user> -d <database> -c 'SELECT 1'",
                  *((command,) if command else ())),
        resolution=("Read the test's output in the step detail and the journal.",
                    "Fix and retry (r), or skip with a reason and record the procedure issue "
                    "at the end of the drill."))
