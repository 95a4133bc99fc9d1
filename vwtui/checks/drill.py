"""The runbook's monthly verification: "Full recovery test monthly to validate <4 hour RTO".

Pass when the last drill in the recovery test log (vwtui.recovery.history) ended less than 31
days ago and met the RTO; fail when it is older, missed the RTO, or no drill is recorded;
unknown when the history file cannot be read.
"""

from __future__ import annotations

from datetime import datetime

from vwtui import fmt
from vwtui.checks.common import COMPLIANCE, Unreadable, Verdicts
from vwtui.model import CheckResult
from vwtui.recovery.drill import DRILL_MAX_AGE, due_line
from vwtui.recovery.history import HistoryRead

MONTHLY_ID = "compliance.monthly_recovery_test"
MONTHLY_TITLE = "Monthly recovery test done"


def check_monthly_recovery_test(history: HistoryRead | Unreadable, now: datetime) -> CheckResult:
    v = Verdicts()
    if isinstance(history, Unreadable):
        v.missing(history)
        return v.result(MONTHLY_ID, MONTHLY_TITLE, COMPLIANCE, "recovery_test")
    last = history.last("drill")
    if last is None:
        v.fail("No recovery drill recorded in the recovery test log (D on the dashboard, or "
               "vwtui drill).")
    else:
        age = now - last.finished_at
        line = (f"Last drill {last.finished_at:%Y-%m-%d} ({fmt.duration(age)} ago), "
                f"{last.method}, RTO {last.rto_seconds / 3600:.2f} h of "
                f"{last.rto_target_seconds / 3600:g} h, {last.outcome}")
        if age >= DRILL_MAX_AGE:
            v.fail(f"{line}: older than {DRILL_MAX_AGE.days} days.")
        elif not last.rto_met:
            v.fail(f"{line}: the RTO was not met.")
        else:
            v.ok(line)
    for problem in history.problems[:2]:
        v.ok(f"(skipped a damaged line: {problem})")
    v.ok(due_line(history, now))
    return v.result(MONTHLY_ID, MONTHLY_TITLE, COMPLIANCE, "recovery_test")
