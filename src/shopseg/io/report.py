"""The data-quality report every ingest returns and logs.

An :class:`IngestReport` says how many rows were read from the source, how
many landed in the canonical tables, how many were flagged and why, and how
many rows each canonical table gained. It is appended to the workspace's
``_shopseg_ingests`` log in the same transaction as the data it describes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from shopseg._sql import value_sql

__all__ = ["IngestReport", "log_report"]

#: Suffixes of reason labels; the part in brackets says what happened to the rows.
DROPPED = "(flagged, not kept)"
MARKED = "(kept, marked)"
SKIPPED = "(already ingested, skipped)"
REPLACED = "(kept, replaced the earlier value)"
#: Rows whose every field is empty (Excel's trailing ``,,,,`` rows): skipped, counted under this reason.
BLANK = "blank row (every field empty, skipped)"


@dataclass
class IngestReport:
    """What one ingest read, kept and flagged.

    Parameters
    ----------
    kind : str
        The kind of data loaded (``"orders"``, ``"customers"``, ...).
    source : str
        The file name the rows came from.
    fmt : str
        ``"csv"``, ``"parquet"`` or ``"jsonl"``.
    preset : str or None, default=None
        The preset used to map the source, if any.
    rows_read : int, default=0
        Data rows in the source (header excluded).
    rows_kept : int, default=0
        Rows that landed in the main canonical table of ``kind``.
    rows_flagged : int, default=0
        Rows with at least one reason, kept or not.
    reasons : dict of str to int
        Rows per reason, e.g. ``{"missing customer_id (flagged, not kept)": 135080}``.
        A row can have several reasons; dropped rows count only the reasons that
        dropped them.
    added : dict of str to int
        Rows added to each canonical table (``orders``, ``order_lines``, ``products``, ...).
    updated : dict of str to int
        Existing rows updated in each canonical table (upserts).
    elapsed_s : float, default=0.0
        Wall-clock seconds of the whole ingest.
    unmapped : list of (str, str or None)
        Source columns no canonical column reads, each with the canonical field it
        looks like (None when none); customers keep them as custom attributes.
    warnings : list of str
        Data-health warnings about the workspace after the ingest (:mod:`shopseg.io.health`).

    Examples
    --------
    >>> r = IngestReport("orders", "a.csv", "csv", rows_read=3, rows_kept=2, rows_flagged=1,
    ...                  reasons={"missing customer_id (flagged, not kept)": 1})
    >>> r.rows_dropped
    1
    >>> r.summary_rows()[0]
    ('rows read', 3)
    """

    kind: str
    source: str
    fmt: str
    preset: str | None = None
    rows_read: int = 0
    rows_kept: int = 0
    rows_flagged: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    unmapped: list[tuple[str, str | None]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_dropped(self) -> int:
        """Rows read but not kept."""
        return self.rows_read - self.rows_kept

    def summary_rows(self) -> list[tuple[str, int | float | str]]:
        """Rows ``(label, value)`` for a two-column table (the CLI prints it with Rich).

        Returns
        -------
        list of tuple
            Counts first, then one row per reason, then rows added per table.
        """
        rows: list[tuple[str, int | float | str]] = [
            ("rows read", self.rows_read),
            ("rows kept", self.rows_kept),
            ("rows flagged", self.rows_flagged),
        ]
        rows += [(f"  {reason}", n) for reason, n in sorted(self.reasons.items(), key=lambda kv: -kv[1])]
        rows += [(f"added to {table}", n) for table, n in self.added.items()]
        rows += [(f"updated in {table}", n) for table, n in self.updated.items() if n]
        rows.append(("seconds", round(self.elapsed_s, 2)))
        return rows

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)

    def __str__(self) -> str:
        width = max(len(label) for label, _ in self.summary_rows())
        lines = [f"{self.source} -> {self.kind}" + (f" (preset {self.preset})" if self.preset else "")]
        for label, value in self.summary_rows():
            text = f"{value:,}" if isinstance(value, int) else str(value)
            lines.append(f"  {label:<{width}}  {text:>12}")
        return "\n".join(lines)


def log_report(con: duckdb.DuckDBPyConnection, report: IngestReport, log_table: str) -> int:
    """Append ``report`` to the ingest log and return its ``ingest_id``.

    Call it inside the ingest's transaction so the log and the data land together.
    """
    row = con.execute(f'SELECT coalesce(max(ingest_id), 0) + 1 FROM "{log_table}"').fetchone()
    ingest_id = int(row[0]) if row else 1
    now = datetime.now(UTC).replace(tzinfo=None)
    values: list[int | str | datetime] = [
        ingest_id,
        report.kind,
        report.source,
        report.fmt,
        report.rows_read,
        report.rows_kept,
        report.rows_flagged,
        json.dumps(report.to_dict()),
        now,
    ]  # literals, not parameters: see shopseg._sql.value_sql
    con.execute(f'INSERT INTO "{log_table}" VALUES ({", ".join(map(value_sql, values))})')
    return ingest_id
