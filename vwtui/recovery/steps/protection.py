"""The protection step (after the swap): the instance now serving production is backed up,
watched and protected like the one it replaced (issue 13, part 3).

The step reads (`ProtectionReads`) and judges (`vwtui.checks.protection.assess`); it changes
nothing by itself. What it finds wrong is shown with the exact `aws` command that fixes it;
`apply` (the engineer's confirmed `p`) sends each fix vwtui may make through the guarded
service layer, journaling the intent before and the fix after, so a resumed run never sends a
fix twice: it reads AWS again and journaled fixes are not offered again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from vwtui.checks.protection import Finding, Fix, assess
from vwtui.recovery import journal as jr
from vwtui.recovery.state import StepState, StepStatus
from vwtui.recovery.steps import Outcome, StepContext

if TYPE_CHECKING:
    from vwtui.model import ProtectionReadings


class ProtectionReads(Protocol):
    async def read_protection(self, identifier: str) -> ProtectionReadings: ...


class ProtectionOps(Protocol):
    async def add_to_backup_selection(self, plan_id: str, selection_name: str, role_arn: str,
                                      resource_arns: Sequence[str], *, owned: Collection[str],
                                      request_id: str | None = ...) -> str: ...

    async def tag_instance(self, instance_arn: str, tags: Sequence[tuple[str, str]], *,
                           owned: Collection[str]) -> None: ...

    async def put_metric_alarm(self, alarm: Mapping[str, Any]) -> None: ...

    async def enable_deletion_protection(self, identifier: str, *,
                                         owned: Collection[str]) -> None: ...

    async def set_backup_retention(self, identifier: str, days: int, *,
                                   owned: Collection[str]) -> None: ...


# The fixes that change an instance: the guardrails need what the run owns.
_ON_INSTANCE = frozenset({"add_to_backup_selection", "tag_instance",
                          "enable_deletion_protection", "set_backup_retention"})


class ProtectionStep:
    def __init__(self, reads: ProtectionReads, ops: ProtectionOps) -> None:
        self.reads = reads
        self.ops = ops

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        state = ctx.state
        serving = state.protected_instance
        if state.dry_run:
            return StepStatus.DONE, ("Dry run: would check that the instance put in service is "
                                     "in the backup plan, keeps its backups, is watched by the "
                                     "alarms and has deletion protection.")
        if serving is None:
            return StepStatus.DONE, ("The swap did not run: no instance was put in service, "
                                     "so there is nothing to bring under protection.")
        readings = await self.reads.read_protection(serving)
        findings = assess(readings, ctx.config, owned=state.owned, replaced=state.replaced,
                          request_id=f"{state.run_id}-protection"[:100])
        state.protection = findings
        commands = [f.command for f in findings if f.ok is False and f.command]
        step.command = "\n".join(commands) or None
        # The lines shown are fixes (mutations), not reads: marked "$" on screen.
        step.mutating = bool(commands)
        open_ = [f for f in findings if f.ok is not True]
        if not open_:
            return StepStatus.DONE, (f"{serving} is back under protection: in the backup plan, "
                                     f"backups kept, watched by the alarms and the EventBridge "
                                     f"rule, deletion protection on.")
        return StepStatus.WAITING, describe(findings, state.protection_fixes(),
                                            state.protection_fixed)

    async def apply(self, ctx: StepContext, step: StepState) -> list[str]:
        """Send every fix still to apply, in order; returns their keys. Each: intent
        journaled (before_mutation), the guarded call, the fix journaled."""
        state = ctx.state
        sent: list[str] = []
        for fix in state.protection_fixes():
            command = fix.call().cli(ctx.config)
            ctx.note(jr.STEP_PROGRESS, step=step.key, command=command)
            await ctx.before_mutation(f"apply the protection fix {fix.key}")
            await self._send(fix, state.owned)
            ctx.record(state.protection_fixed_record(fix.key, command))
            sent.append(fix.key)
        return sent

    async def _send(self, fix: Fix, owned: Collection[str]) -> None:
        kwargs = dict(fix.kwargs)
        if fix.operation in _ON_INSTANCE:
            kwargs["owned"] = owned
        await getattr(self.ops, fix.operation)(*fix.args, **kwargs)


def describe(findings: Sequence[Finding], fixes: Sequence[Fix], fixed: Sequence[str]) -> str:
    """The step's detail: what is not in place, one line each, and what p would do."""
    lines = []
    for f in findings:
        if f.ok is True:
            continue
        mark = "?" if f.ok is None else "✗"
        sent = " (fix sent before; AWS does not show it yet)" if f.fix and \
            f.fix.key in fixed else ""
        lines.append(f"{mark} {f.area}: {f.text}{sent}")
    if fixes:
        lines.append(f"p: apply {len(fixes)} fix(es), each shown as its aws command first.")
    else:
        lines.append("g: check again · s: skip with a reason (the commands are shown above).")
    return "\n".join(lines)
