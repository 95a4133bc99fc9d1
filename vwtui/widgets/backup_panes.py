"""Snapshots and recovery points: the two lists an engineer restores from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.text import Text

from vwtui import fmt
from vwtui.fmt import Level
from vwtui.model import RecoveryPoint, Snapshot
from vwtui.widgets.pane import RestorableTable, Row, TablePane

SNAPSHOT_FILTERS = ("all", "automated", "manual")
_TYPE_SHORT = {"automated": "auto", "manual": "manual", "awsbackup": "backup"}


class SnapshotsPane(TablePane):
    """RDS snapshots of the source instance, newest first, filtered by type."""

    TITLE = "Snapshots"
    TABLE = RestorableTable
    # The identifier goes last: it is the widest, and the detail lines show it whole (wrapped).
    COLUMNS = (
        ("created", "Created", False),
        ("age", "Age", True),
        ("type", "Type", False),
        ("size", "GB", True),
        ("enc", "Enc", False),
        ("status", "Status", False),
        ("id", "Snapshot", False),
    )

    def __init__(self, *, id: str | None = "snapshots", classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.snapshots: list[Snapshot] = []
        self.snapshots_read = False
        self.type_filter = "all"
        self._now: datetime | None = None
        self._max_age_hours = 25.0
        # `/`: only the snapshots whose identifier contains this text (case-insensitive).
        self.text_filter = ""
        # Rows already built, by snapshot and the time their age is counted from: a list
        # filling page by page, or filtered again, builds each row once.
        self._rows: dict[tuple[Snapshot, datetime], Row] = {}
        # Pages read so far while a load runs (None: not loading).
        self.loading_count: int | None = None

    def show(self, snapshots: Sequence[Snapshot] | None, errors: Sequence[BaseException], *,
             now: datetime, max_age_hours: float) -> None:
        """Draw the snapshots (None: the fetch failed, keep the last ones shown)."""
        if snapshots is not None:
            self.snapshots = sorted(snapshots, key=_created, reverse=True)
            self.snapshots_read = True
        self.loading_count = None
        self._now = now
        self._max_age_hours = max_age_hours
        self.set_errors(errors)
        self._render_rows()

    def show_progress(self, snapshots: Sequence[Snapshot], *, now: datetime,
                      max_age_hours: float) -> None:
        """Draw what a load has read so far ("loading… N so far"); the cursor stays put."""
        self.snapshots = sorted(snapshots, key=_created, reverse=True)
        self.snapshots_read = True
        self.loading_count = len(self.snapshots)
        self._now = now
        self._max_age_hours = max_age_hours
        self._render_rows()

    def set_text_filter(self, text: str) -> None:
        """`/`: keep the snapshots whose identifier contains `text` (no AWS call)."""
        self.text_filter = text.strip()
        if self._now is not None:
            self._render_rows()

    def cycle_filter(self) -> str:
        """all -> automated -> manual -> all; redraws from what was fetched (no AWS call)."""
        index = SNAPSHOT_FILTERS.index(self.type_filter)
        self.type_filter = SNAPSHOT_FILTERS[(index + 1) % len(SNAPSHOT_FILTERS)]
        if self._now is not None:
            self._render_rows()
        return self.type_filter

    @property
    def shown(self) -> list[Snapshot]:
        text = self.text_filter.lower()
        return [s for s in self.snapshots
                if (self.type_filter == "all" or s.snapshot_type == self.type_filter)
                and (not text or text in s.identifier.lower())]

    def newest_automated(self) -> Snapshot | None:
        return next((s for s in self.snapshots if s.snapshot_type == "automated"), None)

    def _render_rows(self) -> None:
        now = self._now
        assert now is not None
        shown = self.shown
        if len(self._rows) > 4 * max(len(self.snapshots), 1000):
            self._rows.clear()  # rows of earlier loads (another `now`)
        rows = []
        for snap in shown:
            row = self._rows.get((snap, now))
            if row is None:
                row = self._rows[(snap, now)] = self._row(snap, now)
            rows.append(row)
        self.set_rows(rows)
        newest = self.newest_automated()
        newest_age = newest.age(now) if newest else None
        age_level = fmt.backup_age_level(newest_age, self._max_age_hours)
        unencrypted = [s for s in self.snapshots if not s.encrypted]
        levels = [age_level, *(fmt.status_level(s.status) for s in self.snapshots)]
        if unencrypted or self.errors:
            levels.append(Level.BAD)
        self.badge = fmt.worst(levels)
        if not self.snapshots_read:
            self.set_status(self.unreadable("snapshots"), now)
            return

        summary = Text()
        if self.loading_count is not None:
            summary.append(f"⟳ loading… {self.loading_count} so far · ",
                           style=self.style_for(None))
        summary.append(f"type: {self.type_filter} (f) · ")
        if self.text_filter:
            summary.append(f"/{self.text_filter} · ")
        summary.append(f"{fmt.plural(len(shown), 'snapshot')} · newest automated ")
        summary.append_text(self.leveled(
            f"{age_level.symbol} {fmt.age(newest_age)}" if newest else f"{Level.BAD.symbol} none",
            age_level))
        if unencrypted:
            summary.append(" · ")
            summary.append_text(self.leveled(
                f"{Level.BAD.symbol} {len(unencrypted)} unencrypted", Level.BAD))
        self.set_status(summary, now)

    def _row(self, snap: Snapshot, now: datetime) -> Row:
        status = fmt.status_level(snap.status)
        enc = (self.leveled(Level.OK.symbol, Level.OK) if snap.encrypted
               else self.leveled(Level.BAD.symbol, Level.BAD))
        cells = (
            Text(fmt.utc(snap.created, year=False)),
            Text(fmt.age(snap.age(now)), justify="right"),
            Text(short_type(snap.snapshot_type)),
            Text(str(snap.allocated_storage_gb), justify="right"),
            enc,
            self.leveled(snap.status, status) if status is not Level.OK else Text(snap.status),
            Text(snap.identifier),
        )
        detail = _detail_text()
        detail.append(snap.identifier, style="bold")
        detail.append(f"  {snap.engine} {snap.engine_version}, "
                      f"{'encrypted' if snap.encrypted else 'NOT encrypted'}, "
                      f"created {fmt.utc(snap.created, seconds=True)} UTC\n")
        detail.append(snap.arn, style=self.style_for(None))
        return Row(snap.identifier, cells, detail)


class RecoveryPointsPane(TablePane):
    """AWS Backup recovery points of the source instance in the vault, newest first.

    The vault holds production's and staging's points side by side: only the source
    instance's are listed, so nobody restores production from a staging backup.
    """

    TITLE = "Recovery points"
    TABLE = RestorableTable
    COLUMNS = (
        ("created", "Created", False),
        ("age", "Age", True),
        ("size", "Size", True),
        ("status", "Status", False),
        ("keep", "Keep", True),
        ("enc", "Enc", False),
        ("id", "Recovery point", False),
    )

    def __init__(self, *, id: str | None = "recovery-points", classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.recovery_points: list[RecoveryPoint] = []
        self.points_read = False

    def show(self, points: Sequence[RecoveryPoint] | None, errors: Sequence[BaseException], *,
             now: datetime, vault: str, instance: str, max_age_hours: float) -> None:
        """Draw the instance's recovery points (None: the fetch failed, keep the last ones)."""
        if points is not None:
            mine = [p for p in points if is_point_of(p, instance)]
            self.recovery_points = sorted(mine, key=_created, reverse=True)
            self.points_read = True
        self.set_errors(errors)
        points = self.recovery_points
        self.set_rows([self._row(p, now) for p in points])
        newest = points[0] if points else None
        newest_age = newest.age(now) if newest else None
        age_level = fmt.backup_age_level(newest_age, max_age_hours)
        levels = [age_level, *(fmt.status_level(p.status, ("completed",)) for p in points)]
        if self.errors:
            levels.append(Level.BAD)
        self.badge = fmt.worst(levels)
        if not self.points_read:
            self.set_status(self.unreadable(f"recovery points in {vault}"), now)
            return
        summary = Text(f"{fmt.plural(len(points), 'recovery point')} of {instance} · newest ")
        summary.append_text(self.leveled(
            f"{age_level.symbol} {fmt.age(newest_age)}" if newest else f"{Level.BAD.symbol} none",
            age_level))
        summary.append(f" · {vault}")
        self.set_status(summary, now)

    def _row(self, point: RecoveryPoint, now: datetime) -> Row:
        status = fmt.status_level(point.status, ("completed",))
        keep = f"{point.delete_after_days}d" if point.delete_after_days is not None else fmt.NONE
        enc = (self.leveled(Level.OK.symbol, Level.OK) if point.encrypted
               else self.leveled(Level.BAD.symbol, Level.BAD))
        cells = (
            Text(fmt.utc(point.created, year=False)),
            Text(fmt.age(point.age(now)), justify="right"),
            Text(fmt.gigabytes(point.size_bytes), justify="right"),
            self.leveled(point.status, status) if status is not Level.OK else Text(point.status),
            Text(keep, justify="right"),
            enc,
            Text(fmt.short_arn(point.arn)),
        )
        detail = _detail_text()
        detail.append(point.arn, style="bold")
        detail.append(f"\n{point.resource_type or 'resource'} {point.resource_arn}, created "
                      f"{fmt.utc(point.created, seconds=True)} UTC", style=self.style_for(None))
        return Row(point.arn, cells, detail)


def is_point_of(point: RecoveryPoint, instance: str) -> bool:
    """Whether a recovery point backs up this RDS instance (its resource ARN ends in :db:NAME)."""
    return point.resource_arn.endswith(f":db:{instance}")


def short_type(snapshot_type: str) -> str:
    """A snapshot's type in a column: "auto", "manual", "backup"."""
    return _TYPE_SHORT.get(snapshot_type, snapshot_type)


def _detail_text() -> Text:
    """The detail of a row: identifiers and ARNs are never cut; a line too long for the pane
    wraps, and a word longer than a line (an ARN) is folded onto the next one."""
    return Text(overflow="fold")


def _created(item: Snapshot | RecoveryPoint) -> datetime:
    return item.created or datetime.min.replace(tzinfo=UTC)
