"""The swap step: the application moves to the restored instance, by one of three strategies
(by hand, a Route53 UPSERT, or renaming the instances), once the runbook's manual items before
it are ticked."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from vwtui.errors import AwsError
from vwtui.recovery import journal as jr
from vwtui.recovery.plan import SwapMethod, no_record_note
from vwtui.recovery.state import (
    MANUAL_SWAP,
    StepFailed,
    StepKey,
    StepState,
    StepStatus,
    SwapResult,
)
from vwtui.recovery.steps import Outcome, StepContext
from vwtui.services.calls import RUN_TAG

# How long the rename swap waits for RDS to free the source's name (real AWS: minutes).
RENAME_DEADLINE = timedelta(minutes=30)
RENAME_DEADLINE_TEXT = "30 min"

if TYPE_CHECKING:
    from vwtui.model import Instance


class EndpointReads(Protocol):
    async def instance(self, identifier: str) -> Instance: ...

    async def instances(self) -> list[Instance]: ...


class Route53Ops(Protocol):
    async def hosted_zone_id(self, zone_name: str) -> str: ...

    async def record_value(self, zone_id: str, record: str) -> str | None: ...

    async def upsert_record(self, zone_id: str, record: str, value: str, *, source: str,
                            ttl: int | None = ...) -> str | None: ...

    def cli_command(self, operation: str, *args: object, **kwargs: object) -> str: ...


class RenameOps(Protocol):
    async def rename_instance(self, identifier: str, new_identifier: str) -> Instance: ...

    async def instance_or_none(self, identifier: str) -> Instance | None: ...

    def cli_command(self, operation: str, *args: object, **kwargs: object) -> str: ...


async def new_endpoint(ctx: StepContext, reads: EndpointReads) -> str:
    """The restored instance's endpoint address (read again when not known yet)."""
    state = ctx.state
    instance = state.new_instance
    if instance is None or not instance.endpoint_address:
        instance = await reads.instance(state.request.target)
        state.new_instance = instance
    if not instance.endpoint_address:
        raise StepFailed(f"{state.request.target} has no endpoint yet; wait until it is "
                         f"available.")
    return instance.endpoint_address


class SwapByHand:
    """No DNS record of this source's own: nothing changes in AWS; the engineer points the
    application at the new endpoint (shown, and journaled)."""

    def __init__(self, reads: EndpointReads) -> None:
        self.reads = reads

    async def swap(self, ctx: StepContext, step: StepState) -> SwapResult:
        endpoint = await new_endpoint(ctx, self.reads)
        return SwapResult(method=MANUAL_SWAP, new_value=endpoint)


class Route53Swap:
    """A CNAME UPSERT of the source's own record; the old value is journaled first."""

    def __init__(self, reads: EndpointReads, ops: Route53Ops) -> None:
        self.reads = reads
        self.ops = ops

    async def swap(self, ctx: StepContext, step: StepState) -> SwapResult:
        state = ctx.state
        req = state.request
        endpoint = await new_endpoint(ctx, self.reads)
        zone_id = await self.ops.hosted_zone_id(ctx.config.dns.zone)
        record = state.swap_record
        assert record is not None
        step.command = self.ops.cli_command("upsert_record", zone_id, record, endpoint)
        # The value to roll back to is journaled before the change: a crash between the
        # UPSERT and its record must not lose it.
        old = state.swap_old_value
        if old is None:
            old = await self.ops.record_value(zone_id, record) or ""
            ctx.record(state.swap_intent(step.command, zone_id, record, old))
        # A retry after a lost answer: the record may already hold the new endpoint.
        now_value = await self.ops.record_value(zone_id, record)
        if (now_value or "").rstrip(".").lower() != endpoint.rstrip(".").lower():
            await ctx.before_mutation(f"change the DNS record {record}")
            await self.ops.upsert_record(zone_id, record, endpoint, source=req.source)
        # What the record pointed at before: never this run's own target (the record may
        # already have held the new endpoint, e.g. UPSERTed by hand from the plan's command).
        replaced = await self._instance_at(old or None)
        if replaced is None or replaced == req.target:
            replaced = req.source
        return SwapResult(method="route53", zone_id=zone_id, record=record,
                          old_value=old or None, new_value=endpoint, replaced=replaced)

    async def _instance_at(self, address: str | None) -> str | None:
        """The instance whose endpoint is `address` (what the record pointed at before)."""
        if not address:
            return None
        try:
            instances = await self.reads.instances()
        except AwsError:
            return None
        wanted = address.rstrip(".")
        return next((i.identifier for i in instances
                     if (i.endpoint_address or "").rstrip(".") == wanted), None)


class RenameSwap:
    """The source renamed to <source>-old-..., then the restored instance to the source's
    name, each once (the journal says which is done)."""

    def __init__(self, ops: RenameOps) -> None:
        self.ops = ops

    async def swap(self, ctx: StepContext, step: StepState) -> SwapResult:
        state = ctx.state
        req = state.request
        retired = state.retired
        if req.source not in state.renamed:
            if await self._took_effect(req.source, retired):
                # A lost answer: AWS renamed it, the journal did not hear of it.
                ctx.record(state.renamed_to(req.source, retired))
            else:
                ctx.note(jr.STEP_PROGRESS, step=step.key,
                         command=self.ops.cli_command("rename_instance", req.source, retired))
                await ctx.before_mutation(f"rename {req.source}")
                await self.ops.rename_instance(req.source, retired)
                ctx.record(state.renamed_to(req.source, retired))
        if req.target not in state.renamed:
            if await self._took_effect(req.target, req.source, tag=state.run_id):
                ctx.record(state.renamed_to(req.target, req.source))
            else:
                await self._wait_name_free(ctx, step, req.source, retired)
                ctx.note(jr.STEP_PROGRESS, step=step.key,
                         command=self.ops.cli_command("rename_instance", req.target,
                                                      req.source))
                await ctx.before_mutation(f"rename {req.target}")
                await self.ops.rename_instance(req.target, req.source)
                ctx.record(state.renamed_to(req.target, req.source))
        return SwapResult(method="rename", retired=retired, replaced=retired,
                          old_value=req.source, new_value=req.target)

    async def _took_effect(self, old: str, new: str, *, tag: str | None = None) -> bool:
        """Did a rename of `old` to `new` already happen (its answer lost)? `new` exists and
        `old` does not; for the restored instance, `new` must also carry this run's tag."""
        renamed = await self.ops.instance_or_none(new)
        if renamed is None or await self.ops.instance_or_none(old) is not None:
            return False
        return tag is None or (RUN_TAG, tag) in renamed.tags

    async def _wait_name_free(self, ctx: StepContext, step: StepState, name: str,
                              retired: str) -> None:
        """RDS frees the old name only when the rename is done (minutes, in real AWS); not
        forever: past the deadline the step fails with a sentence, and a retry looks again."""
        deadline = ctx.now() + RENAME_DEADLINE
        polls = 0
        while await self.ops.instance_or_none(name) is not None:
            polls += 1
            if ctx.now() >= deadline:
                raise StepFailed(
                    f"RDS still shows an instance named {name} {RENAME_DEADLINE_TEXT} after "
                    f"renaming it to {retired}; check `aws rds describe-db-instances "
                    f"--db-instance-identifier {retired}`, then retry (r): the rename is not "
                    f"sent again.")
            ctx.progress(step, f"waiting for RDS to free the name {name} (poll {polls})")
            await asyncio.sleep(ctx.poll_interval)


class SwapStrategy(Protocol):
    async def swap(self, ctx: StepContext, step: StepState) -> SwapResult: ...


class SwapStep:
    def __init__(self, by_hand: SwapStrategy, route53: SwapStrategy,
                 rename: SwapStrategy, parity: Any = None) -> None:
        self.by_hand = by_hand
        self.route53 = route53
        self.rename = rename
        # The parity step's comparer (compare(ctx) -> Comparison): the swap's gate needs its
        # verdict, which a resumed run no longer has in memory.
        self.parity = parity

    def strategy(self, ctx: StepContext) -> SwapStrategy:
        state = ctx.state
        if state.request.swap is SwapMethod.RENAME:
            return self.rename
        return self.route53 if state.swap_record is not None else self.by_hand

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        state = ctx.state
        if state.dry_run:
            if step.command is None:
                return StepStatus.DONE, (f"Dry run: no AWS call. "
                                         f"{no_record_note(state.request.source)}")
            return StepStatus.DONE, f"Dry run: would run: {step.command}"
        gate = state.swap_gate()
        assert gate is not None
        if gate.pending_before:
            pending = ", ".join(i.label for _, i in gate.pending_before)
            return StepStatus.WAITING, f"Tick first: {pending}. Then run the swap."
        if state.swap_result is None:
            parity = state.step(StepKey.PARITY)
            if (state.parity is None and self.parity is not None and parity is not None
                    and parity.status is StepStatus.DONE):
                # Resumed after the parity step: compare again, so that a must-match
                # difference still asks for a reason before production moves.
                state.parity = await self.parity.compare(ctx)
            refusal = state.parity_refusal()
            if refusal is not None:
                return StepStatus.WAITING, refusal
            result = await self.strategy(ctx).swap(ctx, step)
            ctx.record(state.swapped(result))
        done = summary(ctx)
        gate = state.swap_gate()
        assert gate is not None
        if gate.pending_after:
            after = ", ".join(i.label for _, i in gate.pending_after)
            return StepStatus.WAITING, f"{done} Tick when done: {after}."
        return StepStatus.DONE, done


def summary(ctx: StepContext) -> str:
    state = ctx.state
    result = state.swap_result
    source = state.request.source
    if result is None:
        return ""
    if result.method == MANUAL_SWAP:
        return (f"No DNS changed: point the application at {result.new_value} by "
                f"hand (no DNS record is configured for {source}).")
    if result.method == "route53":
        return (f"{result.record} now points at {result.new_value} "
                f"(was {result.old_value or 'absent'}; kept for rollback).")
    return (f"{source} renamed to {result.retired}, {state.request.target} renamed to "
            f"{source}.")
