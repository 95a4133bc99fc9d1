"""Alarms, RDS events and failed backup jobs: what has gone wrong lately."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from vwtui import fmt
from vwtui.fmt import Level
from vwtui.model import Alarm, BackupJob, RdsEvent
from vwtui.widgets.pane import Row, TablePane


class AlarmsPane(TablePane):
    """The runbook's CloudWatch alarms: state by colour and by symbol, reason, since when."""

    TITLE = "Alarms"
    COLUMNS = (
        ("state", "State", False),
        ("name", "Alarm", False),
        ("since", "Since", False),
        ("for", "For", True),
        ("reason", "Reason", False),
    )

    def __init__(self, *, id: str | None = "alarms", classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.alarms: list[Alarm] = []
        self.alarms_read = False

    def show(self, alarms: Sequence[Alarm] | None, errors: Sequence[BaseException], *,
             now: datetime) -> None:
        """Draw the alarms (None: the fetch failed, keep the last ones shown)."""
        if alarms is not None:
            self.alarms = list(alarms)
            self.alarms_read = True
        self.set_errors(errors)
        self.set_rows([self._row(a, now) for a in self.alarms])
        levels = [fmt.alarm_level(a.state, a.exists) for a in self.alarms]
        if self.errors:
            levels.append(Level.BAD)
        self.badge = fmt.worst(levels)
        if not self.alarms_read:
            self.set_status(self.unreadable("alarms"), now)
            return
        firing = [a for a in self.alarms if fmt.alarm_level(a.state, a.exists) is Level.BAD]
        if firing:
            summary = self.leveled(f"{Level.BAD.symbol} {len(firing)} of "
                                   f"{fmt.plural(len(self.alarms), 'alarm')} need attention",
                                   Level.BAD)
        else:
            summary = Text(fmt.plural(len(self.alarms), "alarm"))
        self.set_status(summary, now)

    def _row(self, alarm: Alarm, now: datetime) -> Row:
        level = fmt.alarm_level(alarm.state, alarm.exists)
        cells = (
            self.leveled(fmt.alarm_badge(alarm.state, alarm.exists), level),
            Text(alarm.name),
            Text(fmt.utc(alarm.updated, year=False)),
            Text(fmt.age_since(alarm.updated, now), justify="right"),
            Text(alarm.reason, no_wrap=True, overflow="ellipsis"),
        )
        detail = Text(overflow="ellipsis")  # the reason wraps onto the second line
        detail.append(f"{alarm.name}: ", style="bold")
        detail.append(alarm.reason or "no reason given")
        if alarm.metric:
            threshold = "" if alarm.threshold is None else f" threshold {alarm.threshold:g}"
            detail.append(f"  [{alarm.namespace or ''} {alarm.metric}{threshold}]",
                          style=self.style_for(None))
        return Row(alarm.name, cells, detail)


class EventsPane(TablePane):
    """Failed AWS Backup jobs of the last days first, then the instance's recent RDS events."""

    TITLE = "Events · failed backup jobs"
    COLUMNS = (
        ("time", "Time", False),
        ("age", "Age", True),
        ("source", "Source", False),
        ("message", "Message", False),
    )

    def __init__(self, *, id: str | None = "events", classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.events: list[RdsEvent] = []
        self.failed_jobs: list[BackupJob] = []
        self.events_read = False
        self.jobs_read = False

    def show(self, events: Sequence[RdsEvent] | None, failed_jobs: Sequence[BackupJob] | None,
             errors: Sequence[BaseException], *, now: datetime, days: int) -> None:
        """Draw both lists; one that failed to load keeps what it showed before."""
        if events is not None:
            self.events = sorted(events, key=lambda e: e.time, reverse=True)
            self.events_read = True
        if failed_jobs is not None:
            self.failed_jobs = list(failed_jobs)
            self.jobs_read = True
        self.set_errors(errors)
        rows = [self._job_row(j, now) for j in self.failed_jobs]
        seen: dict[str, int] = {}
        for event in self.events:
            # Events have no id of their own: time and message make one (numbered if repeated).
            key = f"event:{event.time.isoformat()}:{event.message}"
            seen[key] = seen.get(key, 0) + 1
            rows.append(self._event_row(f"{key}#{seen[key]}", event, now))
        self.set_rows(rows)
        self.badge = Level.BAD if self.failed_jobs or self.errors else Level.OK
        jobs = fmt.plural(len(self.failed_jobs), "failed backup job")
        if not self.jobs_read:
            summary = self.unreadable("failed backup jobs")
        elif self.failed_jobs:
            summary = self.leveled(f"{Level.BAD.symbol} {jobs}", Level.BAD)
        else:
            summary = self.leveled(f"{Level.OK.symbol} {jobs}", Level.OK)
        if self.events_read:
            summary.append(f" · {fmt.plural(len(self.events), 'RDS event')}")
        else:
            summary.append(" · ")
            summary.append_text(self.unreadable("RDS events"))
        summary.append(f" · last {days} days")
        self.set_status(summary, now)

    def _job_row(self, job: BackupJob, now: datetime) -> Row:
        message = job.status_message or "no status message"
        cells = (
            Text(fmt.utc(job.created, year=False)),
            Text(fmt.age_since(job.created, now), justify="right"),
            self.leveled(f"{Level.BAD.symbol} backup job", Level.BAD),
            Text(f"{job.state}: {message}", no_wrap=True, overflow="ellipsis"),
        )
        detail = Text(no_wrap=True, overflow="ellipsis")
        detail.append(f"Backup job {job.job_id} {job.state}", style="bold")
        detail.append(f" at {fmt.utc(job.created, seconds=True)} UTC: {message}\n")
        detail.append(f"{job.resource_arn} → {job.vault}", style=self.style_for(None))
        return Row(f"job:{job.job_id}", cells, detail)

    def _event_row(self, key: str, event: RdsEvent, now: datetime) -> Row:
        cells = (
            Text(fmt.utc(event.time, year=False)),
            Text(fmt.age_since(event.time, now), justify="right"),
            Text("rds"),
            Text(event.message, no_wrap=True, overflow="ellipsis"),
        )
        detail = Text(overflow="ellipsis")  # the message wraps onto the second line
        detail.append(f"{fmt.utc(event.time, seconds=True)} UTC {event.source_identifier}: ",
                      style="bold")
        detail.append(event.message)
        if event.categories:
            detail.append(f"  ({', '.join(event.categories)})", style=self.style_for(None))
        return Row(key, cells, detail)
