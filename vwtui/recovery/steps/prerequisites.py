"""Scenario 4's only step: are cross-region snapshot copies and a read replica in place?"""

from __future__ import annotations

from typing import Any, Protocol

from vwtui.recovery.state import StepState, StepStatus
from vwtui.recovery.steps import Outcome, StepContext


class CrossRegionReads(Protocol):
    async def cross_region_prerequisites(self, source: str) -> Any: ...


class PrerequisitesStep:
    def __init__(self, reads: CrossRegionReads) -> None:
        self.reads = reads

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        status = await self.reads.cross_region_prerequisites(ctx.state.request.source)
        ctx.state.cross_region = status
        verdict = "configured" if status.configured else "not configured"
        return StepStatus.DONE, f"Cross-region DR is {verdict}. " + " ".join(status.lines())
