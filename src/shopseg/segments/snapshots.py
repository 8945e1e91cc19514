"""Questions about the dated membership snapshots of :class:`~shopseg.segments.definitions.SegmentStore`.

Who was in a segment on each snapshot date (``history``), who entered and who
left between two dates (``movement``), and how customers moved between RFM
segments (``migration``). A mixin of :class:`SegmentStore`: it reads the
store's ``workspace`` and saved definitions.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from shopseg.errors import NotFound, did_you_mean

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["SnapshotQueries", "SNAPSHOTS_TABLE", "RFM_SNAPSHOTS_TABLE"]

SNAPSHOTS_TABLE = "segment_snapshots"
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

    def history(self, name: str) -> pd.DataFrame:
        """Size per snapshot date: ``as_of, version, size, entered, left``."""
        self._need_snapshots(name)
        snaps = self.workspace.con.execute(
            f'SELECT as_of, version, customer_id FROM "{SNAPSHOTS_TABLE}" WHERE name = ? ORDER BY as_of', [name]
        ).df()
        rows, previous = [], None
        for day, grp in snaps.groupby("as_of", sort=True):
            ids = set(grp["customer_id"])
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
