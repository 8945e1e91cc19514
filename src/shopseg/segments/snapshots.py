"""Questions about the dated membership snapshots of :class:`~shopseg.segments.definitions.SegmentStore`.

Who was in a segment on each snapshot date (``history``), who entered and who
left between two dates (``movement``), and how customers moved between RFM
segments (``migration``). A mixin of :class:`SegmentStore`: it reads the
store's ``workspace`` and saved definitions.

A snapshot with no member writes no member row, so every refresh also records
``(name, version, as_of)`` in ``segment_snapshot_runs``: a segment refreshed
with 0 members has a snapshot of size 0 (:meth:`SnapshotQueries.latest_snapshots`,
:meth:`SnapshotQueries.history`), not none. Sizes are always counted from the
member rows, so an erasure (``shopseg forget``) is reflected in them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from shopseg.errors import NotFound, did_you_mean

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["SnapshotQueries", "SNAPSHOTS_TABLE", "SNAPSHOT_RUNS_TABLE", "RFM_SNAPSHOTS_TABLE"]

SNAPSHOTS_TABLE = "segment_snapshots"
SNAPSHOT_RUNS_TABLE = "segment_snapshot_runs"
RFM_SNAPSHOTS_TABLE = "rfm_snapshots"


class SnapshotQueries:
    """History, movement and RFM migration read from the snapshot tables (mixed into ``SegmentStore``)."""

    workspace: Workspace

    def _rows(self) -> pd.DataFrame:  # pragma: no cover - provided by SegmentStore
        raise NotImplementedError

    def _latest(self) -> dict[str, Any]:  # pragma: no cover - provided by SegmentStore
        raise NotImplementedError

    def _need_snapshots(self, name: str | None = None) -> None:
        table = SNAPSHOTS_TABLE if name is not None else RFM_SNAPSHOTS_TABLE
        if not self.workspace.has_table(table):
            raise NotFound("no snapshots yet. Hint: run `shopseg segment refresh` after each features build.")
        if name is not None and name not in set(self._rows()["name"]):
            known = list(self._latest())
            raise NotFound(
                f"segment '{name}' does not exist. Saved segments: {known or 'none'}.{did_you_mean(name, known)}"
            )

    def _runs_sql(self) -> str:
        """``name, version, as_of`` of every snapshot: the recorded runs, and the days with member rows (a
        workspace refreshed before runs were recorded has only those)."""
        members = f'SELECT DISTINCT name, version, as_of FROM "{SNAPSHOTS_TABLE}"'
        if not self.workspace.has_table(SNAPSHOT_RUNS_TABLE):
            return members
        return f'SELECT name, version, as_of FROM "{SNAPSHOT_RUNS_TABLE}" UNION {members}'

    def latest_snapshots(self) -> pd.DataFrame:
        """``name, version, as_of, size`` of each segment's latest snapshot; ``size`` 0 when it had no member.

        Segments never refreshed have no row. Empty (with these columns) before the first refresh.
        """
        cols = ["name", "version", "as_of", "size"]
        if not self.workspace.has_table(SNAPSHOTS_TABLE):
            return pd.DataFrame(columns=cols)
        return self.workspace.con.execute(
            f"""WITH runs AS ({self._runs_sql()}),
                latest AS (SELECT name, max(as_of) AS as_of FROM runs GROUP BY name)
                SELECT l.name, max(r.version) AS version, l.as_of,
                       (SELECT count(*) FROM "{SNAPSHOTS_TABLE}" s WHERE s.name = l.name AND s.as_of = l.as_of) AS size
                FROM latest l JOIN runs r USING (name, as_of) GROUP BY l.name, l.as_of ORDER BY l.name"""
        ).df()[cols]

    def history(self, name: str) -> pd.DataFrame:
        """Size per snapshot date: ``as_of, version, size, entered, left`` (a day with no member has size 0)."""
        self._need_snapshots(name)
        snaps = self.workspace.con.execute(
            f"""SELECT r.as_of, r.version, s.customer_id FROM ({self._runs_sql()}) r
                LEFT JOIN "{SNAPSHOTS_TABLE}" s ON s.name = r.name AND s.as_of = r.as_of
                WHERE r.name = ? ORDER BY r.as_of""",
            [name],
        ).df()
        rows, previous = [], None
        for day, grp in snaps.groupby("as_of", sort=True):
            ids = set(grp["customer_id"].dropna())
            rows.append(
                {
                    "as_of": pd.Timestamp(day).date(),
                    "version": int(grp["version"].iloc[0]),
                    "size": len(ids),
                    "entered": len(ids - previous) if previous is not None else len(ids),
                    "left": len(previous - ids) if previous is not None else 0,
                }
            )
            previous = ids
        return pd.DataFrame(rows, columns=["as_of", "version", "size", "entered", "left"])

    def movement(self, name: str, start: dt.date | str, end: dt.date | str) -> dict[str, list[str]]:
        """Who entered and who left ``name`` between two snapshot dates."""
        self._need_snapshots(name)
        a, b = (self._snapshot(name, d) for d in (start, end))
        return {"entered": sorted(b - a), "left": sorted(a - b)}

    def _snapshot(self, name: str, day: dt.date | str) -> set[str]:
        rows = self.workspace.con.execute(
            f'SELECT customer_id FROM "{SNAPSHOTS_TABLE}" WHERE name = ? AND as_of = ?', [name, str(day)]
        ).fetchall()
        return {r[0] for r in rows}

    def migration(self, start: dt.date | str, end: dt.date | str) -> pd.DataFrame:
        """Customers per (RFM segment on ``start``) x (RFM segment on ``end``); ``(none)`` when absent."""
        self._need_snapshots()
        df = self.workspace.con.execute(
            f"""SELECT coalesce(a.rfm_segment, '(none)') AS "from", coalesce(b.rfm_segment, '(none)') AS "to"
                FROM (SELECT * FROM "{RFM_SNAPSHOTS_TABLE}" WHERE as_of = ?) a
                FULL OUTER JOIN (SELECT * FROM "{RFM_SNAPSHOTS_TABLE}" WHERE as_of = ?) b USING (customer_id)""",
            [str(start), str(end)],
        ).df()
        return pd.crosstab(df["from"], df["to"])
