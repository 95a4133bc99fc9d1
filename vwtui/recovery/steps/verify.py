"""The verify step: the runbook's validation queries on the restored instance, judged against
the source's figures (or the recorded baseline when the source cannot be read)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from vwtui.errors import AwsError, DatabaseError
from vwtui.recovery import troubleshooting as ts
from vwtui.recovery.plan import host_override_note
from vwtui.recovery.state import StepFailed, StepState, StepStatus
from vwtui.recovery.steps import Outcome, StepContext
from vwtui.recovery.verify import Baseline, ReferenceKind, judge, load_baseline, save_baseline

if TYPE_CHECKING:
    from vwtui.model import Instance, ValidationReport

log = logging.getLogger(__name__)


class InstanceReads(Protocol):
    async def instance(self, identifier: str) -> Instance: ...


class Validator(Protocol):
    async def validate(self, host: str | None = ..., port: int | None = ...
                       ) -> ValidationReport: ...


class VerifyStep:
    def __init__(self, reads: InstanceReads, pg: Validator, state_base: Path) -> None:
        self.reads = reads
        self.pg = pg
        self.state_base = state_base

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        state = ctx.state
        req = state.request
        if state.dry_run:
            return StepStatus.DONE, (f"Dry run: would run the validation queries against "
                                     f"{req.target} and judge them.")
        instance = state.new_instance
        if instance is None or not instance.endpoint_address:
            instance = await self.reads.instance(req.target)
            state.new_instance = instance
        report = await self.pg.validate(instance.endpoint_address, instance.endpoint_port)
        reference, kind = await self._reference(ctx)
        state.verification = verification = judge(
            report, restore_point=state.restore_point, reference=reference,
            reference_kind=kind)
        summary = verification.summary()
        where = ""
        if ctx.config.database.host:  # say where the figures were read
            where = f" · {host_override_note(ctx.config, req.target)}"
        if not verification.passed:
            failed = "; ".join(f"{c.title}: {c.detail}" for c in verification.failures)
            raise StepFailed(f"Validation failed: {failed}{where}",
                             ts.verify_failed(ctx.config, req.target))
        return StepStatus.DONE, summary + where

    async def _reference(self, ctx: StepContext) -> tuple[Baseline | None, ReferenceKind]:
        """The source's figures when it is reachable (recorded as the new baseline), else the
        recorded baseline, else none."""
        source = ctx.state.request.source
        if ctx.config.database.host:
            # Every connection goes to database.host: "the source" read there is the very
            # database being verified, a reference that always agrees. The recorded one only.
            return self._recorded(source)
        try:
            instance = await self.reads.instance(source)
            report = await self.pg.validate(instance.endpoint_address, instance.endpoint_port)
        except (AwsError, DatabaseError):
            return self._recorded(source)
        if any(r.error for r in report.results):
            return self._recorded(source)
        baseline = Baseline.from_report(source, report)
        try:
            save_baseline(self.state_base, baseline)
        except OSError as exc:
            log.warning("could not record the baseline: %s", exc)
        return baseline, ReferenceKind.SOURCE

    def _recorded(self, source: str) -> tuple[Baseline | None, ReferenceKind]:
        baseline = load_baseline(self.state_base, source)
        return baseline, ReferenceKind.BASELINE if baseline else ReferenceKind.NONE
