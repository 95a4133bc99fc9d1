"""The cleanup step: delete the instance the swap replaced, only one this run created or
renamed, never a protected one, once the engineer typed its name (the service layer's
guardrails decide; this step says what they would say before anyone types)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Protocol

from vwtui.errors import GuardrailError
from vwtui.recovery.plan import SwapMethod
from vwtui.recovery.state import StepState, StepStatus
from vwtui.recovery.steps import Outcome, StepContext
from vwtui.services.guardrails import check_delete, check_not_protected, check_owned

if TYPE_CHECKING:
    from vwtui.model import Instance


class DeleteOps(Protocol):
    async def instance_or_none(self, identifier: str) -> Instance | None: ...

    async def delete_instance(self, identifier: str, *, owned: Collection[str],
                              typed_confirmation: str | None,
                              skip_final_snapshot: bool = ...,
                              serving: Collection[str] = ...) -> str | None: ...

    async def delete_test_instance(self, identifier: str, *, run_id: str,
                                   owned: Collection[str], typed_confirmation: str | None,
                                   restore_job_id: str | None = ...) -> None: ...
    async def disable_deletion_protection(self, identifier: str, *, owned: Collection[str],
                                          typed_confirmation: str | None,
                                          serving: Collection[str] = ...) -> Instance: ...

    def cli_command(self, operation: str, *args: object, **kwargs: object) -> str: ...


def has_deletion_protection(instance: Instance | None) -> bool:
    return instance is not None and instance.setting_values.get("DeletionProtection") is True


def protection_sentence(identifier: str) -> str:
    """The one sentence the cleanup says of an instance that kept its deletion protection."""
    return (f"{identifier} has deletion protection on (kept from the instance it was): typing "
            f"its name turns it off for {identifier} only, then deletes it.")


class CleanupStep:
    def __init__(self, ops: DeleteOps) -> None:
        self.ops = ops

    async def run(self, ctx: StepContext, step: StepState) -> Outcome:
        state = ctx.state
        identifier = state.replaced
        step.command = None if ctx.config.is_protected(identifier) else \
            self.ops.cli_command("delete_instance", identifier,
                                 skip_final_snapshot=state.request.drill)
        if identifier in state.deleted:  # issued before a restart: never asked for twice
            return StepStatus.DONE, f"Delete of {identifier} already issued before the restart."
        owned = state.owned
        if state.dry_run:  # what the run would own by now
            owned = owned | {state.request.target} | (
                {identifier} if state.request.swap is SwapMethod.RENAME else set())
        refusal = delete_refusal(ctx, identifier, owned)
        if refusal is not None:
            if state.dry_run:
                return StepStatus.DONE, f"Dry run: cleanup would stop here: {refusal}"
            return StepStatus.WAITING, (f"{refusal} Skip this step with a reason to finish "
                                        f"the run.")
        if state.dry_run:
            return StepStatus.DONE, f"Dry run: would run: {step.command}"
        if state.request.drill:
            return StepStatus.WAITING, (f"x, then type {identifier} to delete the drill's test "
                                        f"instance, without a final snapshot (the runbook's "
                                        f"--skip-final-snapshot).")
        if has_deletion_protection(await self.ops.instance_or_none(identifier)):
            step.command = (self.ops.cli_command("disable_deletion_protection", identifier)
                            + "\n" + (step.command or ""))
            return StepStatus.WAITING, (f"{protection_sentence(identifier)} A final snapshot "
                                        f"is taken unless you decline it.")
        return StepStatus.WAITING, (f"Type {identifier} to delete it; a final snapshot is "
                                    f"taken unless you decline it.")

    async def delete(self, ctx: StepContext, identifier: str, typed_confirmation: str,
                     skip_final_snapshot: bool) -> tuple[str | None, bool]:
        """rds:DeleteDBInstance through the guardrails: (the final snapshot's name, whether
        AWS had already taken the delete: a retry after a lost answer issues nothing)."""
        state = ctx.state
        check_delete(ctx.config, identifier, owned=state.owned,
                     typed_confirmation=typed_confirmation, serving=state.serving)
        current = await self.ops.instance_or_none(identifier)
        if current is None or current.status == "deleting":
            return None, True
        if has_deletion_protection(current):
            # Only for this instance, owned by the run and named by the engineer: the same
            # guardrails as the delete itself (a protected-by-config name never gets here).
            await ctx.before_mutation(f"turn off deletion protection of {identifier}")
            await self.ops.disable_deletion_protection(
                identifier, owned=state.owned, typed_confirmation=typed_confirmation,
                serving=state.serving)
        await ctx.before_mutation(f"delete {identifier}")
        if state.request.drill:  # the drill's own test instance, no final snapshot (runbook)
            await self.ops.delete_test_instance(
                identifier, run_id=state.run_id, owned=state.owned,
                typed_confirmation=typed_confirmation, restore_job_id=state.restore_job_id)
            return None, False
        return await self.ops.delete_instance(
            identifier, owned=state.owned, typed_confirmation=typed_confirmation,
            skip_final_snapshot=skip_final_snapshot, serving=state.serving), False


def delete_refusal(ctx: StepContext, identifier: str, owned: Collection[str]) -> str | None:
    """What the guardrails would say of deleting `identifier` (None: they would let it)."""
    try:
        check_not_protected(ctx.config, identifier, "delete")
        check_owned(identifier, owned, "delete")
    except GuardrailError as exc:
        return exc.message
    return None
