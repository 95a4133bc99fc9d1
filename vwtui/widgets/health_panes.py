"""The health view's panes: success rate, time since the last backup, size trend, restore tests.

Each pane draws one figure of `vwtui.health` (computed by the screen from what it read) and
keeps its own loading state and error row, so a read that failed shows in its own place while
the rest still shows. Per-day strips are one cell per UTC day, oldest first, and line up
column for column across the panes; every cell has a symbol as well as a colour (NO_COLOR).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from vwtui import fmt
from vwtui.fmt import Level
from vwtui.health import DayCell, LastBackup, RestoreTest, RestoreTests, SizeTrend, SuccessRate
from vwtui.widgets.pane import Pane

# The label column in front of every strip, so the strips of all panes line up.
LABEL = 11


def _label(text: str) -> Text:
    return Text(f"{text:<{LABEL}}"[:LABEL])


class HealthPane(Pane):
    """A health pane: status line (the figure in a few words), error row, then text lines."""

    def compose_body(self) -> ComposeResult:
        yield Static("", classes="health-body", markup=False)

    def set_body(self, text: Text) -> None:
        self.query_one(".health-body", Static).update(text)

    def heading(self, title: str, level: Level, words: str) -> Text:
        """The status line: the figure's level, its title and its verdict in a few words."""
        text = self.leveled(f"{level.symbol} ", level)
        text.append(title, style="bold")
        text.append(": ")
        text.append_text(self.leveled(words, level))
        return text

    def strip(self, cells: Sequence[DayCell]) -> Text:
        """One cell per day: the day's symbol in its level's style (· for no backup)."""
        text = Text(no_wrap=True)
        for cell in cells:
            level = cell.level
            text.append(cell.symbol, style=self.style_for(level) if level else
                        self.style_for(None))
        return text

    def axis(self, first: date | None) -> Text:
        """Under the strips: the first day of the window on the left, today on the right."""
        if first is None:
            return Text()
        start = f"{first:%m-%d}"
        return self.muted(f"{'':<{LABEL}}{start}{'today':>25}")

    def muted(self, text: str) -> Text:
        return Text(text, style=self.style_for(None), no_wrap=True, overflow="ellipsis")


class SuccessPane(HealthPane):
    """Backup success rate over the window: AWS Backup jobs and automated snapshots per day."""

    TITLE = "Backup success rate · last 30 days"

    def __init__(self, *, id: str | None = "success", classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.rates: tuple[SuccessRate, ...] = ()

    def show(self, rates: Sequence[SuccessRate], errors: Sequence[BaseException], *,
             now: datetime) -> None:
        self.rates = tuple(rates)
        self.set_errors(errors)
        level = fmt.worst(r.level for r in rates)
        self.badge = level
        words = " · ".join(f"{_short(r.source)} {r.summary.split(' (')[0]}" for r in rates)
        self.set_status(self.heading("Backup success, 30 days", level, words), now)
        body = Text(no_wrap=True, overflow="ellipsis")
        for rate in rates:
            body.append_text(_label(_short(rate.source)))
            if rate.unreadable is not None:
                body.append_text(self.leveled(
                    f"{Level.UNKNOWN.symbol} could not read {rate.unreadable.source}",
                    Level.UNKNOWN))
            else:
                body.append_text(self.strip(rate.days))
                body.append(" ")
                body.append_text(self.leveled(rate.summary, rate.level))
            body.append("\n")
        first = rates[0].days[0].day if rates and rates[0].days else None
        body.append_text(self.axis(first))
        failures = sorted((f for r in rates for f in r.failures), key=lambda f: f[1],
                          reverse=True)
        for failure_level, line in failures:
            body.append("\n")
            body.append_text(self.leveled(f"{failure_level.symbol} {line}", failure_level))
        self.set_body(body)


def _short(source: str) -> str:
    return {"AWS Backup jobs": "jobs", "automated snapshots": "snapshots"}.get(source, source)


class LastBackupPane(HealthPane):
    """Time since the last successful backup, per source, against the age limit."""

    TITLE = "Time since the last successful backup"

    def __init__(self, *, id: str | None = "last-backup", classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.lasts: tuple[LastBackup, ...] = ()

    def show(self, lasts: Sequence[LastBackup], errors: Sequence[BaseException], *,
             now: datetime, limit_hours: float) -> None:
        self.lasts = tuple(lasts)
        self.set_errors(errors)
        level = fmt.worst(item.level for item in lasts)
        self.badge = level
        over = [item.source for item in lasts if item.level is Level.BAD]
        unknown = [item.source for item in lasts if item.level is Level.UNKNOWN]
        limit = fmt.in_hours(limit_hours)
        if over:
            words = f"{', '.join(over)} over {limit}"
        elif unknown:
            words = f"{', '.join(unknown)} unknown"
        else:
            words = f"every source within {limit}"
        self.set_status(self.heading("Last successful backup", level, words), now)
        body = Text(no_wrap=True, overflow="ellipsis")
        for i, item in enumerate(lasts):
            if i:
                body.append("\n")
            body.append_text(self.leveled(f"{item.level.symbol} ", item.level))
            body.append(f"{item.source:<20}")
            body.append_text(self.leveled(item.line, item.level))
        self.set_body(body)


class SizeTrendPane(HealthPane):
    """Recovery point size per day (a sparkline on the strips' columns), newest vs median,
    and the size-consistency check's verdict with its evidence."""

    TITLE = "Backup size trend · last 30 days"

    def __init__(self, *, id: str | None = "size-trend", classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.trend: SizeTrend | None = None

    def show(self, trend: SizeTrend, errors: Sequence[BaseException], *,
             now: datetime) -> None:
        self.trend = trend
        self.set_errors(errors)
        level = trend.level
        self.badge = level
        words = {Level.OK: "consistent", Level.BAD: "inconsistent"}.get(level, "unknown")
        self.set_status(self.heading("Backup size", level, words), now)
        body = Text(no_wrap=True, overflow="ellipsis")
        body.append_text(_label("size"))
        if trend.unreadable is not None:
            body.append_text(self.leveled(
                f"{Level.UNKNOWN.symbol} could not read {trend.unreadable.source}",
                Level.UNKNOWN))
        else:
            body.append(trend.spark)
            body.append(" ")
            body.append_text(self.muted(trend.summary))
        for line in trend.verdict.evidence:
            body.append("\n")
            body.append_text(self.leveled(f"{level.symbol} {line}", level))
        self.set_body(body)


class RestoreTestsPane(HealthPane):
    """Restore test results from the history file: the RTO trend, the damaged lines in their
    own place, then one line per drill or recovery, newest first."""

    TITLE = "Restore test results"

    def __init__(self, *, id: str | None = "restore-tests", classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.results: RestoreTests | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", classes="health-problems", markup=False)
        yield from super().compose_body()

    def show(self, results: RestoreTests, *, now: datetime) -> None:
        self.results = results
        row = self.query_one(".pane-error", Static)
        # An unreadable file is this pane's error row; it is not an AWS error.
        self.errors = (results.unreadable,) if results.unreadable else ()
        row.update(Text(f"{Level.BAD.symbol} History file unreadable: {results.unreadable}")
                   if results.unreadable else Text())
        self.set_class(bool(self.errors), "-error")
        self.badge = results.level
        self.set_status(self.heading("Restore tests", results.level, results.summary), now)
        problems = Text(no_wrap=True, overflow="ellipsis")
        for i, line in enumerate(results.problems):
            if i:
                problems.append("\n")
            problems.append_text(self.leveled(f"{Level.WARN.symbol} damaged: {line}",
                                              Level.WARN))
        self.query_one(".health-problems", Static).update(problems)
        self.set_class(bool(results.problems), "-problems")
        body = Text(no_wrap=True, overflow="ellipsis")
        if results.tests:
            body.append_text(_label("RTO trend"))
            body.append(results.trend)
            met = sum(1 for t in results.tests if t.rto_met)
            body.append_text(self.muted(f"  oldest → newest; RTO met {met} of "
                                        f"{len(results.tests)}"))
            body.append("\n")
            body.append_text(Text(f"  {'finished (UTC)':<17}{'kind':<9}{'method':<12}"
                                  f"{'RTO / target':<17}verdict", style="bold"))
            for test in results.tests:
                body.append("\n")
                body.append_text(self._line(test))
        self.set_body(body)

    def _line(self, test: RestoreTest) -> Text:
        text = self.leveled(f"{test.level.symbol} ", test.level)
        rto = f"{fmt.age(test.rto)} / {fmt.age(test.rto_target)}"
        text.append(f"{fmt.utc(test.finished_at):<17}{test.kind:<9}{test.method:<12}{rto:<17}")
        text.append_text(self.leveled(test.verdict, test.level))
        return text
