"""The parity step: the new instance's configuration side by side with the source's, each
difference with a verdict, and the fixes applied (on one key) to the run's own instance only.

The comparison is `vwtui.instance_settings.compare` over two DescribeDBInstances reads; the
fixes are one guarded ModifyDBInstance (and AddTagsToResource for missing tags) through
RecoveryOps, whose guardrails refuse a read-only session, a protected instance, and anything
this run did not create.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from vwtui import instance_settings as catalog
from vwtui.recovery import journal as jr
from vwtui.recovery.plan import config_overrides
from vwtui.recovery.state import RecoveryStateError, StepState, StepStatus
from vwtui.recovery.steps import Outcome, StepContext

if TYPE_CHECKING:
    from vwtui.model import Instance


class ParityReads(Protocol):
    async def instance(self, identifier: str) -> Instance: ...


class ParityOps(Protocol):
    async def modify_instance(self, identifier: str, settings: Mapping[str, Any], *,
                              owned: Collection[str]) -> Instance: ...

    async def add_tags(self, arn: str, tags: Sequence[tuple[str, str]], *,
                       owned: Collection[str]) -> None: ...

    def cli_command(self, operation: str, *args: object, **kwargs: object) -> str: ...


class ParityStep:
    def __init__(self, reads: ParityReads, ops: ParityOps) -> None:
        self.reads = reads
        self.ops = ops
        # The run ids whose must-match differences were shown once: a second `g` goes on.
        self._shown: set[str] = set()

    async def compare(self, ctx: StepContext) -> catalog.Comparison:
        """Read both instances (rds:DescribeDBInstances) and compare them."""
        state = ctx.state
        req = state.request
        source = await self.reads.instance(req.source)
        new = await self.reads.instance(req.target)
        state.new_instance = new
        comparison = catalog.compare(req.source, source.setting_values, req.target,
                                     new.setting_values, config_overrides(ctx.config))
        state.parity = comparison
        return comparison

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        state = ctx.state
        req = state.request
        if state.dry_run:
            return StepStatus.DONE, (f"Dry run: would compare {req.target}'s settings with "
                                     f"{req.source}'s ({len(catalog.SETTINGS)} settings).")
        comparison = await self.compare(ctx)
        step.command = self.fix_lines(ctx, comparison) or None
        ctx.note(jr.STEP_PROGRESS, step=step.key, compared=comparison.compared,
                 differences=[d.key for d in comparison.differences],
                 must_match=[d.key for d in comparison.must_match_left])
        if not comparison.must_match_left:
            return StepStatus.DONE, comparison.summary()
        if state.run_id in self._shown:
            return StepStatus.DONE, (f"{comparison.summary()} Left as they are: the swap asks "
                                     f"for a reason.")
        self._shown.add(state.run_id)
        if not comparison.fixable:
            return StepStatus.WAITING, (f"{comparison.summary()} None can be fixed by a "
                                        f"modify: g goes on (the swap asks why).")
        return StepStatus.WAITING, (f"{comparison.summary()} m applies the fixes to "
                                    f"{req.target}; g goes on without them.")

    def fix_lines(self, ctx: StepContext, comparison: catalog.Comparison) -> str:
        """The `aws` lines the fixes amount to."""
        state = ctx.state
        new = state.new_instance
        params, tags = catalog.modify_fixes(
            comparison, new.setting_values if new else {})
        lines = []
        if params:
            lines.append(self.ops.cli_command("modify_instance", state.request.target, params))
        if tags and new is not None:
            lines.append(self.ops.cli_command("add_tags", new.arn, tags))
        return "\n".join(lines)

    async def fix(self, ctx: StepContext, step: StepState) -> catalog.Comparison:
        """Apply the fixes of every must-match difference to the run's own instance (the
        guardrails refuse a protected, not-owned or read-only target), then compare again."""
        state = ctx.state
        target = state.request.target
        comparison = state.parity or await self.compare(ctx)
        new = state.new_instance
        if new is None:
            raise RecoveryStateError(f"{target} has not been read yet; run the parity step.")
        params, tags = catalog.modify_fixes(comparison, new.setting_values)
        if not (params or tags):
            return comparison
        await ctx.before_mutation(f"apply {len(params) + bool(tags)} parity fixes to {target}")
        ctx.note(jr.STEP_PROGRESS, step=step.key, fixes=sorted(params),
                 tags=[k for k, _ in tags], command=self.fix_lines(ctx, comparison))
        if params:
            await self.ops.modify_instance(target, params, owned=state.owned)
        if tags:
            await self.ops.add_tags(new.arn, tags, owned=state.owned)
        return await self.compare(ctx)
