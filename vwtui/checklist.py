"""`vwtui checklist`: read everything once, concurrently, then print the verdicts.

`read_all` makes every AWS call the checks need at the same time (asyncio.gather); a call that
fails becomes an `Unreadable` so the checks that needed it answer unknown while the rest still
answer. The renderers turn results into a table for people, JSON for machines and Markdown for
tickets. Exit status: 0 all pass, 1 any fail or unknown, 2 config error or a session that cannot
reach AWS at all (no credentials, unknown profile, endpoint or region unreachable, an answer that
is not AWS's): then one sentence on stderr, not one per item.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Awaitable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from vwtui import checks, fmt
from vwtui.checks import GROUP_TITLES, GROUPS, Readings, Unreadable
from vwtui.errors import AwsError, SessionError, VwtuiError
from vwtui.model import CheckResult, Instance, Snapshot, Verdict, utcnow
from vwtui.signoff import SignOff, SignOffLog, is_overdue

if TYPE_CHECKING:
    from vwtui.config import Config
    from vwtui.services.aws import AwsService

T = TypeVar("T")

# The AWS services the checklist calls. The first one's client (and the session: a bad profile
# or region is said once, here) is made before the calls start; the others as the calls need
# them, while the snapshot list, the longest read, is already under way (a client takes
# 40-100 ms to make, the first one several hundred).
SERVICES = ("rds", "backup", "cloudwatch", "sns", "events", "route53", "cloudtrail")
# Backup jobs and RDS events are read this far back (the weekly review's span).
HISTORY = timedelta(days=7)


# What an item the session could not read says on the checklist screen, where the banner above
# carries the sentence once.
SEE_BANNER = "AWS could not be reached (see the banner above)"


async def _read(source: str, call: Awaitable[T]) -> T | Unreadable:
    try:
        return await call
    except SessionError as exc:
        # `credentials` marks a failure of the session, not of this one call.
        return Unreadable(source, str(exc), credentials=True)
    except AwsError as exc:
        return Unreadable(source, str(exc))


def _start(source: str, call: Coroutine[Any, Any, T]) -> asyncio.Task[T | Unreadable]:
    """A task that reads `call` and turns an AWS failure into an Unreadable."""
    return asyncio.ensure_future(_read(source, call))


async def read_all(service: AwsService, config: Config, now: datetime | None = None,
                   last_signoff: datetime | None = None) -> Readings:
    """Every reading the checks need, all AWS calls at once; failures become Unreadable.
    `last_signoff` starts the weekly review period (None: the full REVIEW_DAYS)."""
    now = now or utcnow()
    production, staging = config.instances.production, config.instances.staging
    others = [staging] if staging and staging != production else []
    alarms = [config.alarms.backup_age, config.alarms.backup_failure]
    since = now - HISTORY
    dr_region = config.aws.dr_region if config.aws.dr_region != service.region else ""
    # One typed task per reading (a gather of a dozen mixed results has no useful type).
    dr_snapshots = _start(f"the snapshots of {production} in {dr_region}",
                          _dr_snapshots(service, config, dr_region))
    production_detail = _start(f"instance {production}",
                               service.instance_with_replications(production))
    pitr_window = _start(f"the PITR window of {production}", service.pitr_window(production))
    # Every snapshot of the instance (the encryption items judge each one): on a big account
    # the longest list by far (101 pages for 10,000), each next page asked for while the last
    # is parsed.
    snapshots = _start(f"the snapshots of {production}",
                       service.snapshots(production, read_ahead=True))
    # Only our instances' points and jobs, filtered by AWS (ByResourceArn): a shared vault's
    # other resources are never read.
    recovery_points = _start(f"the recovery points in {config.backup.vault}",
                             service.recovery_points_of(config.backup.vault,
                                                        [production, *others]))
    backup_jobs = _start("the backup jobs", service.backup_jobs_of(
        [production, *others], vault=config.backup.vault, created_after=since))
    alarm_list = _start("the CloudWatch alarms", service.alarms(alarms))
    events = _start(f"the RDS events of {production}",
                    service.rds_events(production, hours=int(HISTORY.total_seconds() // 3600)))
    plan = _start(f"the backup plan {config.backup.plan}",
                  service.backup_plan(config.backup.plan))
    topic = _start(f"the SNS topic {config.alarms.sns_topic}",
                   service.sns_topic(config.alarms.sns_topic))
    rules = _start("the EventBridge rules", service.eventbridge_rules(source="aws.backup"))
    trails = _start("the CloudTrail trails", service.cloudtrail_trails())
    instances = [_start(f"instance {name}", service.instance(name)) for name in others]
    from vwtui.services.protection import production_protection

    protection = _start(f"what {config.dns.record or production} points at",
                        production_protection(service, production, config.dns.zone,
                                              config.dns.record, plan_name=config.backup.plan,
                                              alarm_names=alarms))
    await asyncio.gather(dr_snapshots, production_detail, pitr_window, snapshots,
                         recovery_points, backup_jobs, alarm_list, events, plan, topic, rules,
                         protection, trails, *instances)
    detail = production_detail.result()
    instance: Instance | Unreadable
    replications: tuple[str, ...] | Unreadable
    if isinstance(detail, Unreadable):
        instance, replications = detail, detail
    else:
        instance, replications = detail
    return Readings(
        now=now, region=service.region or config.aws.region, production=production,
        instances={production: instance,
                   **{name: task.result() for name, task in zip(others, instances, strict=True)}},
        pitr_window=pitr_window.result(), replications=replications,
        snapshots=snapshots.result(), recovery_points=recovery_points.result(),
        backup_jobs=backup_jobs.result(), alarms=alarm_list.result(),
        rds_events=events.result(), backup_plan=plan.result(), sns_topic=topic.result(),
        event_rules=rules.result(), dr_region=dr_region, dr_snapshots=dr_snapshots.result(),
        protection=protection.result(), drill_history=_drill_history(),
        trails=trails.result(), last_signoff=last_signoff)


def _drill_history() -> object:
    """The recovery test log, for the monthly recovery test item (Unreadable when the file
    exists but cannot be read)."""
    from vwtui.recovery.history import HistoryUnreadable, read_history

    try:
        history = read_history()
    except HistoryUnreadable as exc:
        return Unreadable("the recovery test log", str(exc))
    # No log in this state dir at all (a fresh install, another host's state dir): the item is
    # left out rather than failed, so an account is not judged by a log it never kept here.
    # check_monthly_recovery_test fails "no drill recorded" when given one.
    return None if history.missing else history


async def _dr_snapshots(service: AwsService, config: Config,
                        dr_region: str) -> list[Snapshot] | None:
    """The production instance's snapshots in the DR region; None when none is configured."""
    if not dr_region:
        return None
    other = type(service)(config, profile=service.profile, region=dr_region,
                          endpoint_url=service.endpoint_url)
    try:
        return await other.snapshots(config.instances.production, read_ahead=True)
    except SessionError as exc:
        # The DR region unreachable is one item's trouble, not the session's: the main region
        # may answer everything else.
        raise AwsError(str(exc), code=exc.code, operation=exc.operation) from exc


async def run_checks(service: AwsService, config: Config, now: datetime | None = None,
                     last_signoff: datetime | None = None
                     ) -> tuple[Readings, list[CheckResult]]:
    """Read everything once and evaluate every check."""
    readings = await read_all(service, config, now, last_signoff)
    return readings, checks.evaluate(readings, config)


def session_problem(readings: Readings) -> str | None:
    """The sentence of a session failure (the session cannot reach AWS at all), if any reading
    failed for that reason; the first one, as every call meets the same trouble."""
    return next((u.reason for u in readings.unreadable() if u.credentials), None)


def pointing_at_banner(readings: Readings) -> Readings:
    """The readings with each session failure's reason replaced by SEE_BANNER: the screen shows
    the sentence once in its banner, and the items only point at it."""
    def point(value: Any) -> Any:  # a field of any type: only Unreadables change
        if isinstance(value, Unreadable) and value.credentials:
            return replace(value, reason=SEE_BANNER)
        if isinstance(value, dict):
            return {key: point(item) for key, item in value.items()}
        return value

    changes: dict[str, Any] = {f.name: point(getattr(readings, f.name))
                               for f in fields(readings)}
    return replace(readings, **changes)


async def check_for_screen(service: AwsService, config: Config, now: datetime | None = None,
                           last_signoff: datetime | None = None
                           ) -> tuple[Readings, list[CheckResult], str | None]:
    """As `run_checks`, for a screen with a banner: the session failure's sentence apart (None
    when AWS answered), and the items that met it pointing at the banner."""
    readings = await read_all(service, config, now, last_signoff)
    problem = session_problem(readings)
    if problem is not None:
        readings = pointing_at_banner(readings)
    return readings, checks.evaluate(readings, config), problem


# ---- the command ------------------------------------------------------------------------------

def run_checklist(config: Config, args: argparse.Namespace) -> int:
    """`vwtui checklist [--json | --markdown]`: print the verdicts; 0 / 1 / 2 as documented."""
    from vwtui.services.aws import AwsService

    service = AwsService(config, profile=getattr(args, "profile", None),
                         region=getattr(args, "region", None))
    # The last sign-off first: it starts the weekly review period.
    last, log_problem = _last_signoff()
    try:
        service.prepare(SERVICES[:1])
        readings, results = asyncio.run(_run(service, config, last))
    except SessionError as exc:
        print(f"vwtui: {exc}", file=sys.stderr)
        return 2
    problem = session_problem(readings)
    if problem:
        # Once, not once per item: every call met the same trouble.
        print(f"vwtui: {problem}", file=sys.stderr)
        return 2
    if getattr(args, "json", False):
        out = render_json(results, readings, config, last)
    elif getattr(args, "markdown", False):
        out = render_markdown(results, readings, config, last)
    else:
        out = render_table(results, readings, config, last, color=_use_color(),
                           width=shutil.get_terminal_size((100, 24)).columns)
    sys.stdout.write(out)
    sys.stdout.flush()
    if log_problem:
        print(f"vwtui: {log_problem}", file=sys.stderr)
    return checks.exit_status(results)


async def _run(service: AwsService, config: Config,
               last: SignOff | None = None) -> tuple[Readings, list[CheckResult]]:
    # Each boto3 call holds a thread: give them enough to all be in flight at once.
    with ThreadPoolExecutor(max_workers=24, thread_name_prefix="vwtui-aws") as pool:
        asyncio.get_running_loop().set_default_executor(pool)
        return await run_checks(service, config,
                                last_signoff=last.signed_at if last is not None else None)


def _last_signoff() -> tuple[SignOff | None, str | None]:
    try:
        return SignOffLog().last(), None
    except VwtuiError as exc:
        return None, str(exc)


def _use_color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


# ---- renderers --------------------------------------------------------------------------------

_MARK = {Verdict.PASS: "PASS", Verdict.FAIL: "FAIL", Verdict.UNKNOWN: "UNKNOWN"}
_SYMBOL = {Verdict.PASS: "✔", Verdict.FAIL: "✖", Verdict.UNKNOWN: "?"}
_ANSI = {Verdict.PASS: "\033[32m", Verdict.FAIL: "\033[1;31m", Verdict.UNKNOWN: "\033[33m"}


def signoff_line(last: SignOff | None, now: datetime) -> str:
    """'Last sign-off: ...' with a flag when the weekly review is overdue."""
    if last is None:
        return "Last sign-off: none yet (weekly review due)"
    age = fmt.duration(now - last.signed_at)
    flag = " - OVERDUE, more than 7 days ago" if is_overdue(last, now) else ""
    notes = f": {last.notes}" if last.notes else ""
    return (f"Last sign-off: {last.name}, {fmt.utc(last.signed_at, zone=True)} ({age} ago)"
            f"{flag}{notes}")


def _heading(readings: Readings, config: Config) -> str:
    return (f"Backup verification of {readings.production} in {readings.region}, vault "
            f"{config.backup.vault}, at {fmt.utc(readings.now, zone=True)}")


def _totals(results: Sequence[CheckResult]) -> str:
    counts = checks.summary(results)
    return ", ".join(f"{counts[v.value]} {v.value}" for v in Verdict)


def render_table(results: Sequence[CheckResult], readings: Readings, config: Config,
                 last: SignOff | None = None, *, color: bool = False, width: int = 100) -> str:
    """The human table: one line per check, its evidence indented under it."""
    width = max(width, 60)
    lines = [_heading(readings, config), ""]
    for group in GROUPS:
        members = [r for r in results if r.group == group]
        if not members:
            continue
        lines.append(GROUP_TITLES[group])
        for result in members:
            mark = f"{_SYMBOL[result.verdict]} {_MARK[result.verdict]:<7}"
            if color:
                mark = f"{_ANSI[result.verdict]}{mark}\033[0m"
            lines.append(f"  {mark} {result.title}")
            for evidence in result.evidence:
                lines.extend(textwrap.wrap(evidence, width=width, initial_indent=" " * 12,
                                           subsequent_indent=" " * 14) or [""])
        lines.append("")
    lines.append(signoff_line(last, readings.now))
    lines.append(_totals(results))
    return "\n".join(lines) + "\n"


def as_dict(results: Sequence[CheckResult], readings: Readings, config: Config,
            last: SignOff | None = None) -> dict[str, Any]:
    """The JSON document: every check with its verdict and evidence, and the last sign-off."""
    return {
        "generated_at": fmt.iso(readings.now),
        "instance": readings.production,
        "region": readings.region,
        "vault": config.backup.vault,
        "ok": checks.exit_status(results) == 0,
        "summary": checks.summary(results),
        "checks": [{"id": r.id, "group": r.group, "title": r.title,
                    "verdict": r.verdict.value, "evidence": list(r.evidence),
                    "diagnosis": r.diagnosis} for r in results],
        "last_signoff": None if last is None else {
            "name": last.name, "signed_at": fmt.iso(last.signed_at), "notes": last.notes},
        "review_overdue": is_overdue(last, readings.now),
    }


def render_json(results: Sequence[CheckResult], readings: Readings, config: Config,
                last: SignOff | None = None) -> str:
    return json.dumps(as_dict(results, readings, config, last), indent=2,
                      ensure_ascii=False) + "\n"


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(results: Sequence[CheckResult], readings: Readings, config: Config,
                    last: SignOff | None = None) -> str:
    """A Markdown report for a ticket (`vwtui.report.checklist_markdown`): a table per group,
    the sign-off, then the runbook's causes once per troubleshooting entry."""
    from vwtui.report import checklist_markdown

    return checklist_markdown(results, readings, config, last)
