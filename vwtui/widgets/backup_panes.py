"""Snapshots and recovery points: the two lists an engineer restores from."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime

from rich.cells import cell_len
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
        # Newest first, with each one's identifier (`_ids[i]` of `snapshots[i]`) and sort key
        # (`_order[i]`, ascending: minus its creation time) alongside. Rows are built only
        # when drawn (see TablePane.show_keys): 10,000 rows of Text were half a million
        # objects, and a filter is a list of identifiers.
        self.snapshots: list[Snapshot] = []
        self._ids: list[str] = []
        self._order: list[float] = []
        self._by_id: dict[str, Snapshot] = {}
        self.snapshots_read = False
        self.type_filter = "all"
        self._now: datetime | None = None
        self._max_age_hours = 25.0
        # `/`: only the snapshots whose identifier contains this text (case-insensitive).
        self.text_filter = ""
        # Rows drawn, by identifier, with the snapshot and the time their age is counted from.
        self._built: dict[str, tuple[Snapshot, datetime, Row]] = {}
        # The widest cell of each column over the snapshots not yet handed to the table.
        self._widths = [0] * len(self.COLUMNS)
        # Snapshots read and drawn so far while a load runs (None: not loading), and read.
        self.loading_count: int | None = None
        self._read_count = 0
        # What the status line and the badge say of all the snapshots (not the filtered
        # ones), worked out when the snapshots change, not at each `f` or `/` keystroke.
        self._summary: tuple[Snapshot | None, int, Level] | None = None

    def show(self, snapshots: Sequence[Snapshot] | None, errors: Sequence[BaseException], *,
             now: datetime, max_age_hours: float) -> None:
        """Draw the snapshots (None: the fetch failed, keep the last ones shown)."""
        if snapshots is not None or now != self._now:
            self._set_snapshots(self.snapshots if snapshots is None else snapshots, now)
        if snapshots is not None:
            self.snapshots_read = True
        self.loading_count = None
        self._max_age_hours = max_age_hours
        self.set_errors(errors)
        self._render_rows()

    def show_progress(self, snapshots: Sequence[Snapshot], *, now: datetime,
                      max_age_hours: float) -> None:
        """Draw what a load has read so far ("loading… N so far"); the cursor stays put."""
        self._set_snapshots(snapshots, now)
        self.snapshots_read = True
        self.loading_count = self._read_count = len(self.snapshots)
        self._max_age_hours = max_age_hours
        self._render_rows()

    def add_progress(self, page: Sequence[Snapshot], *, now: datetime,
                     max_age_hours: float, first: bool = False, draw: bool = True) -> None:
        """One more page of a load: merged into the list in order (work for the page, not
        for the whole list), drawn now or (draw=False) by a later `draw_progress`. The
        first page of a load (`first`) replaces what was shown ("loading… N so far")."""
        if first or self.loading_count is None or now != self._now:
            self._set_snapshots([], now)
            self.loading_count = self._read_count = 0
        self._max_age_hours = max_age_hours
        snapshots, ids, order, by_id = self.snapshots, self._ids, self._order, self._by_id
        for snap in page:
            at = bisect_right(order, key := _sort_key(snap))
            order.insert(at, key)
            snapshots.insert(at, snap)
            ids.insert(at, snap.identifier)
            by_id[snap.identifier] = snap
        self._measure(page, now)
        # Said by the status line ("loading… N so far") when these pages are drawn.
        self._read_count += len(page)
        self._summary = None
        self.snapshots_read = True
        if draw:
            self._render_rows()

    def draw_progress(self) -> None:
        """Draw the pages added (`add_progress`) since the last draw."""
        if self._now is not None:
            self._render_rows()

    def set_text_filter(self, text: str) -> None:
        """`/`: keep the snapshots whose identifier contains `text` (no AWS call)."""
        if text.strip() == self.text_filter:
            return  # esc clears the line and the filter: the line's change says it again
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
        """The snapshots that pass the filters, in order."""
        by_id = self._by_id
        return [by_id[key] for key in self._shown_ids()]

    def _shown_ids(self) -> list[str]:
        """The identifiers of the snapshots that pass the filters, in order: one list
        comprehension (the filters test two attributes of each snapshot)."""
        kind, text = self.type_filter, self.text_filter.lower()
        if kind == "all" and not text:
            return list(self._ids)
        snapshots = self.snapshots
        if not text:
            return [s.identifier for s in snapshots if s.snapshot_type == kind]
        if kind == "all":
            return [i for i in self._ids if text in i.lower()]
        return [s.identifier for s in snapshots
                if s.snapshot_type == kind and text in s.identifier.lower()]

    def newest_automated(self) -> Snapshot | None:
        return next((s for s in self.snapshots if s.snapshot_type == "automated"), None)

    def _set_snapshots(self, snapshots: Sequence[Snapshot], now: datetime) -> None:
        """All the snapshots (sorted here, newest first), their ages counted from `now`."""
        ordered = sorted(snapshots, key=_sort_key)  # stable: equal times keep their order
        self.snapshots = ordered
        self._order = [_sort_key(s) for s in ordered]
        self._ids = [s.identifier for s in ordered]
        self._by_id = dict(zip(self._ids, ordered, strict=True))
        self._now = now
        self._built = {}
        self._measure(ordered, now)
        self._summary = None

    def _measure(self, snapshots: Sequence[Snapshot], now: datetime) -> None:
        """Widen the columns (`_widths`) to these snapshots' cells, unpadded: the cells
        `_row` builds, measured from their text without building them."""
        if not snapshots:
            return
        created = {cell_len(fmt.utc(s.created, year=False)) for s in
                   (snapshots[0], *(s for s in snapshots if s.created is None))}
        widths = (
            max(created),
            max(cell_len(fmt.age(s.age(now))) for s in snapshots),
            max(cell_len(short_type(t)) for t in {s.snapshot_type for s in snapshots}),
            max(len(str(g)) for g in {s.allocated_storage_gb for s in snapshots}),
            max(cell_len((Level.OK if e else Level.BAD).symbol)
                for e in {s.encrypted for s in snapshots}),
            max(cell_len(status) for status in {s.status for s in snapshots}),
            max(cell_len(s.identifier) for s in snapshots),
        )
        self._widths = [max(a, b) for a, b in zip(self._widths, widths, strict=True)]

    def _snapshot_row(self, key: str) -> Row:
        """The row of a snapshot on show, built when first drawn."""
        snap, now = self._by_id[key], self._now
        assert now is not None
        built = self._built.get(key)
        if built is not None and built[0] is snap and built[1] is now:
            return built[2]
        if len(self._built) >= 1024:
            self._built.clear()  # rows scrolled past or filtered out a while ago
        row = self._row(snap, now)
        self._built[key] = (snap, now, row)
        return row

    def _render_rows(self) -> None:
        now = self._now
        assert now is not None
        if self.loading_count is not None:
            self.loading_count = self._read_count
        shown = self._shown_ids()
        widths, self._widths = self._widths, [0] * len(self.COLUMNS)
        self.show_keys(shown, self._snapshot_row, widths)
        if self._summary is None:
            newest = self.newest_automated()
            unencrypted = sum(1 for s in self.snapshots if not s.encrypted)
            statuses = {s.status for s in self.snapshots}
            status_level = fmt.worst(fmt.status_level(status) for status in statuses)
            self._summary = (newest, unencrypted, status_level)
        newest, unencrypted, status_level = self._summary
        newest_age = newest.age(now) if newest else None
        age_level = fmt.backup_age_level(newest_age, self._max_age_hours)
        levels = [age_level, status_level]
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
                f"{Level.BAD.symbol} {unencrypted} unencrypted", Level.BAD))
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


_EPOCH_MIN = datetime.min.replace(tzinfo=UTC).timestamp()


def _sort_key(snap: Snapshot) -> float:
    """Newest first as an ascending key (for bisect): minus the creation time."""
    return -(snap.created.timestamp() if snap.created is not None else _EPOCH_MIN)
