"""What the run screen says about one step: progress, verdicts, checklist, failure and its
troubleshooting, the keys that apply. Pure rendering to rich `Text` (AWS and PostgreSQL strings
never go through markup); each style is named by a component class of `RecoveryText`, its
colour set in recovery.tcss."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text

from vwtui.recovery.clock import format_duration
from vwtui.recovery.plan import (
    RENAME_WARNING,
    SwapMethod,
)
from vwtui.recovery.state import StepKey, StepState, StepStatus
from vwtui.recovery.verify import CheckVerdict
from vwtui.widgets.palette import StyleOf, unstyled
from vwtui.widgets.steps import STATUS_CLASS, status_cell

if TYPE_CHECKING:
    from vwtui.instance_settings import Comparison
    from vwtui.orchestrator import RecoveryRun

VERDICT_CLASS = {CheckVerdict.PASS: "verdict--pass", CheckVerdict.WARN: "verdict--warn",
                 CheckVerdict.FAIL: "verdict--fail"}


def _t(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment.astimezone(UTC):%H:%M:%S} UTC"


_VERDICT_MARK = {"must match": ("✗", "recovery--bad"), "may differ": ("~", "recovery--muted"),
                 "differs on purpose": ("≠", "recovery--turn")}


def _parity_value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(f"{v[0]}={v[1]}" if isinstance(v, tuple) else str(v)
                        for v in value) or "none"
    return "–" if value is None else str(value)


def _parity(comparison: Comparison, text: Text, style_of: StyleOf) -> None:
    """The new instance's settings side by side with the source's: each difference with its
    verdict, then what is the same."""
    if comparison.differences:
        text.append(f"\n  {'setting':<22} {comparison.source[:17]:<17} "
                    f"{comparison.new[:17]:<17} verdict", style=style_of("recovery--muted"))
    for diff in comparison.differences:
        mark, style = _VERDICT_MARK[diff.verdict.value]
        text.append(f"\n{mark} ", style=style_of(style))
        text.append(f"{diff.label[:22]:<22} {_parity_value(diff.source)[:17]:<17} "
                    f"{_parity_value(diff.new)[:17]:<17} {diff.verdict.value}")
    different = {d.key for d in comparison.differences}
    same = [setting.label for setting, _, _ in comparison.rows if setting.key not in different]
    text.append(f"\n✓ the same ({len(same)}): " + ", ".join(same),
                style=style_of("recovery--muted"))


def render_step(run: RecoveryRun, step: StepState, now: datetime, *,
                skip_final_snapshot: bool = False, style_of: StyleOf = unstyled) -> Text:
    """The detail of one step, as the engineer needs it at this moment."""
    text = Text()
    text.append_text(status_cell(step.status, style_of))
    if step.started_at:
        text.append(f" · started {_t(step.started_at)} · elapsed "
                    f"{format_duration(step.elapsed(now))}")
    text.append(f"\n{step.title}", style=style_of("recovery--strong"))
    if step.status is StepStatus.SKIPPED and step.skip_reason:
        text.append(f"\nSkipped: {step.skip_reason}")
    if step.progress:
        text.append(f"\n⟳ {step.progress}", style=style_of("step--progress"))
    # The swap's own instructions are drawn from its checklist below, not from the last answer.
    # The swap's and a refused cleanup's words are drawn below from the state, not repeated
    # from the run's last answer; verify's summary heads its verdicts.
    refused = step.key == StepKey.CLEANUP and not run.state.can_delete_replaced()
    stale = (step.key == StepKey.SWAP and run.swap_result is None) or (
        step.key == StepKey.VERIFY and run.verification is not None) or (
        refused and step.status is StepStatus.WAITING)
    if step.detail and step.status is not StepStatus.FAILED and not stale:
        text.append(f"\n{step.detail}")
    if step.key == StepKey.VERIFY:
        _verification(run, text, style_of)
    elif step.key == StepKey.SWAP:
        _swap(run, step, text, style_of)
    elif step.key == StepKey.CLEANUP:
        _cleanup(run, step, text, skip_final_snapshot, style_of)
    elif step.key == StepKey.PARITY and run.state.parity is not None:
        _parity(run.state.parity, text, style_of)
    elif step.key == StepKey.PREREQUISITES and run.cross_region is not None:
        text.append("\n" + "\n".join(run.cross_region.lines()))
    if step.status is StepStatus.FAILED:
        _failure(step, text, style_of)
    elif step.error:
        text.append(f"\n✗ {step.error}", style=style_of("recovery--bad"))
    if step.command and step.status is not StepStatus.FAILED and not refused:
        # Every line of the command carries its own mark: a read-only wait is not a "$" line.
        for line in step.command.splitlines():
            words = line.split()
            reads = (len(words) > 2 and words[2].startswith(("describe-", "list-", "get-"))) or \
                words[2:3] == ["wait"]
            mark = "$ " if step.mutating and not reads else "(read-only) "
            text.append(f"\n{mark}", style=style_of("recovery--strong"))
            text.append(line, style=style_of("recovery--muted"))
    return text


def _verification(run: RecoveryRun, text: Text, style_of: StyleOf) -> None:
    found = run.verification
    if found is None:
        return
    text.append(f"\n{found.overall.symbol} {found.summary()}",
                style=style_of(VERDICT_CLASS[found.overall]))
    for check in found.checks:
        text.append(f"\n {check.verdict.symbol} {check.verdict.value:<4} ",
                    style=style_of(VERDICT_CLASS[check.verdict]))
        text.append(f"{check.title}: {check.detail}")


def _swap(run: RecoveryRun, step: StepState, text: Text, style_of: StyleOf) -> None:
    method = run.request.swap
    if method is SwapMethod.ROUTE53 and run.swap_record is None:
        text.append(f"\nSwap by hand (chosen on the plan): no DNS record is configured for "
                    f"{run.request.source}, so vwtui changes no DNS; g shows the endpoint to "
                    f"point the application at.")
    else:
        how = (f"Route53 UPSERT of {run.swap_record}" if method is SwapMethod.ROUTE53
               else "rename")
        text.append(f"\nSwap by {how} (chosen on the plan)")
    if method is SwapMethod.RENAME:
        text.append(f"\n! {RENAME_WARNING}", style=style_of("recovery--caution"))
    for number, item in enumerate(step.checklist, start=1):
        mark = "[x]" if item.ticked else "[ ]"
        when = f" ticked {_t(item.ticked_at)}" if item.ticked else ""
        phase = "before the swap" if item.before_swap else "after the swap"
        text.append(f"\n {number} {mark} {item.label}",
                    style=style_of("recovery--good") if item.ticked else "")
        text.append(f" ({phase}){when}", style=style_of("recovery--muted"))
    gate = run.state.swap_gate()
    if step.status is StepStatus.WAITING and gate is not None and not gate.ran:
        if gate.pending_before:
            text.append("\nTick what is done before the swap (1, 2 or t), then g runs it.",
                        style=style_of("recovery--turn"))
        else:
            text.append("\nReady: g runs the swap.", style=style_of("recovery--turn"))
    elif step.status is StepStatus.PENDING and run.current is step:
        text.append("\ng: start the swap step.", style=style_of("recovery--turn"))


def _cleanup(run: RecoveryRun, step: StepState, text: Text, skip_final: bool,
             style_of: StyleOf) -> None:
    if run.current is not step or step.status is StepStatus.DONE:
        return
    replaced = run.replaced
    block = run.state.delete_block()
    if block == "protected":
        text.append(f"\n{replaced} is protected: vwtui never deletes it. Skip this step "
                    f"(s) with a reason; delete it by hand if it must go.",
                    style=style_of("recovery--strong"))
        return
    if block == "not-owned":
        text.append(f"\n{replaced} was not created or renamed by this run: it cannot be "
                    f"deleted from here. Skip this step (s) with a reason.",
                    style=style_of("recovery--strong"))
        return
    if step.status is StepStatus.WAITING:
        text.append(f"\nx: delete {replaced} (you type its identifier to confirm)",
                    style=style_of("recovery--turn"))
        if run.request.drill:
            return  # a drill's test instance goes without a final snapshot (the runbook's)
        text.append("\nFinal snapshot: ")
        if skip_final:
            text.append("DECLINED", style=style_of("recovery--bad"))
            text.append(" (f takes one again)")
        else:
            text.append("taken before the delete", style=style_of("recovery--good"))
            text.append(" (f declines it)")


def _failure(step: StepState, text: Text, style_of: StyleOf) -> None:
    text.append(f"\n✗ {step.error or 'failed'}", style=style_of(STATUS_CLASS[StepStatus.FAILED]))
    guide = step.troubleshooting
    if guide is not None:
        if guide.events:
            text.append("\nRDS events of the new instance:")
            for event in guide.events[:5]:
                text.append(f"\n {_t(event.time)} {event.message}")
        text.append(f"\nRunbook troubleshooting: {guide.title}",
                    style=style_of("recovery--strong"))
        if guide.causes:
            text.append("\nCommon causes:")
            for number, cause in enumerate(guide.causes, start=1):
                text.append(f"\n {number}. {cause}")
        if guide.commands:
            text.append("\nDiagnosis:")
            for command in guide.commands:
                text.append(f"\n $ {command}", style=style_of("recovery--muted"))
        if guide.resolution:
            text.append("\nResolution:")
            for line in guide.resolution:
                text.append(f"\n - {line}")
    text.append("\nr retry · s skip with a reason · a abort (offers cleanup)",
                style=style_of("recovery--turn"))


def render_outcome(run: RecoveryRun, now: datetime, style_of: StyleOf = unstyled) -> Text:
    """The run's end: outcome, RTO and RPO achieved, the journal."""
    clock = run.clock
    text = Text()
    outcome = run.outcome or "?"
    text.append(f"Run {outcome}", style=style_of(
        "outcome--finished" if outcome == "finished" else "outcome--ended"))
    if run.dry_run:
        text.append(" (dry run: nothing was changed)", style=style_of("recovery--strong"))
    took = format_duration(clock.elapsed(now))
    # RTO and RPO are achieved only by a real run that finished: an aborted run or a dry run
    # recovered nothing, and a "✓ within 4 h" beside it would say otherwise.
    recovered = outcome == "finished" and not run.dry_run
    if run.dry_run:
        text.append(f"\nThe dry run took {took}; no RTO or RPO was achieved.")
    elif not recovered:
        text.append(f"\nNo recovery: the run ended ({outcome}) after {took}; no RTO or RPO "
                    f"was achieved.", style=style_of("recovery--strong"))
    else:
        met = clock.elapsed(now) <= clock.target
        text.append(f"\nRTO achieved {took} "
                    f"{'✓ within' if met else '✗ over'} {clock.target.total_seconds() / 3600:g} h")
    rpo = run.rpo_achieved
    if rpo is not None and recovered:
        ok = rpo <= clock.rpo_target
        text.append(f"\nRPO achieved {format_duration(rpo)} "
                    f"{'✓ within' if ok else '✗ over'} "
                    f"{clock.rpo_target.total_seconds() / 3600:g} h")
    if run.deleted:
        text.append(f"\nDeleted: {', '.join(run.deleted)}")
    text.append(f"\nJournal: {run.journal_path}", style=style_of("recovery--muted"))
    return text
