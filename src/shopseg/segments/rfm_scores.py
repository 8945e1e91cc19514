"""RFM scores: quantile R, F and M scores of every buyer, on values, the same on every engine.

The rules (buckets dealt by ``NTILE``, each value taking the bucket of its first
buyer) are described in :mod:`shopseg.segments.rfm_map`, which names the cells;
:func:`rfm_notes` says when a dimension has too few distinct values for ``bins`` scores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import pandas as pd

from shopseg.config import get_setting
from shopseg.segments.rfm_map import RFM_TABLE, check_bins, check_columns, segment_expr

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.workspace import Workspace

__all__ = ["INPUT_COLUMNS", "normalize_rfm", "rfm_notes", "rfm_scores"]


INPUT_COLUMNS = ("customer_id", "days_since_last_order", "orders", "revenue")


def rfm_scores(features: ir.Table, bins: int | None = None) -> ir.Table:
    """Add quantile R, F, M scores, the cell code and the named segment to a feature table.

    Parameters
    ----------
    features : ibis.Table
        One row per customer with at least ``customer_id``,
        ``days_since_last_order``, ``orders`` and ``revenue`` (the
        ``customer_features`` table or :func:`shopseg.features.feature_expr`).
    bins : int, default=None
        Number of quantile bins, 2 to 9; default the ``rfm_bins`` setting (5).

    Returns
    -------
    ibis.Table
        ``features`` plus ``r_score``, ``f_score``, ``m_score`` (int64,
        1..bins, NULL without a purchase), ``rfm_cell`` (e.g. ``"545"``) and
        ``rfm_segment`` (one of :data:`RFM_SEGMENTS` or ``"No purchase"``).

    Raises
    ------
    InvalidParameterError
        ``bins`` is not an int in [2, 9].
    SchemaError
        A required column is missing.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"customer_id": ["a", "b", "c"], "days_since_last_order": [3, 40, None],
    ...                    "orders": [4, 1, 0], "revenue": [90.0, 10.0, 0.0]})
    >>> out = rfm_scores(t, bins=2).order_by("customer_id").to_pandas()
    >>> out.rfm_cell.tolist()[:2], out.rfm_segment.tolist()
    (['222', '111'], ['Champions', 'Lost', 'No purchase'])
    """
    bins = check_bins(get_setting("rfm_bins") if bins is None else bins)
    check_columns(features, INPUT_COLUMNS, "rfm_scores")
    return _scores(features, bins)


def _scores(t: ir.Table, bins: int) -> ir.Table:
    original = list(t.columns)
    # The three rankings sort only buyers, and only the columns they rank on: each window
    # materialises its input, so ranking a narrow projection and joining the scores back is
    # cheaper than ranking the whole feature row (about 3x less data sorted at 1M customers).
    # Non-buyers find no match in the join and keep NULL scores.
    buyers = t.filter(t.orders.fill_null(0) > 0)
    narrow = buyers.select(
        _key=buyers.customer_id,
        _recency=buyers.days_since_last_order,
        _orders=buyers.orders,
        _cents=(buyers.revenue.cast("float64").fill_null(0.0) * 100).round().cast("int64"),
    )
    keys = {
        "r_score": ibis.desc(narrow._recency),
        "f_score": narrow._orders,
        "m_score": narrow._cents,
    }
    # A value's score is the NTILE bucket of its first buyer (equal values share a score). Its first
    # buyer's 0-based position in the dealing order is the value's RANK - 1, so one sort per dimension
    # gives the score: no NTILE over (value, customer_id) then MIN per value (half the CPU at 1M).
    ranked = narrow.select(
        "_key", _n=narrow._key.count().over(), **{f"_p_{k}": ibis.rank().over(order_by=key) for k, key in keys.items()}
    )
    scores = ranked.select("_key", **{k: _bucket(ranked[f"_p_{k}"], ranked._n, bins) for k in keys})
    t = t.left_join(scores, t.customer_id == scores._key).drop("_key")
    cell = t.r_score.cast("string") + t.f_score.cast("string") + t.m_score.cast("string")
    return t.mutate(rfm_cell=cell, rfm_segment=segment_expr(t, bins)).select(
        *[c for c in original if c not in (*keys, "rfm_cell", "rfm_segment")],
        *keys,
        "rfm_cell",
        "rfm_segment",
    )


def _bucket(position: ir.IntegerValue, n: ir.IntegerValue, bins: int) -> ir.IntegerValue:
    """``NTILE(bins)`` (1-based) of the row at 0-based ``position`` among ``n`` rows, as SQL's NTILE deals them.

    With ``b = min(bins, n)`` buckets of ``q = n // b`` rows, the first ``n - b*q`` get one row more.
    """
    b = ibis.least(n, bins)
    q = n // b
    large = n - b * q
    small_start = large * (q + 1)  # position of the first row of the first small bucket
    return (
        ibis.cases((position < small_start, position // (q + 1)), else_=large + (position - small_start) // q.nullif(0))
        + 1
    ).cast("int64")


_DIMENSIONS = (
    ("R", "r_score", "days since the last order"),
    ("F", "f_score", "purchase orders"),
    ("M", "m_score", "revenue"),
)


def rfm_notes(workspace: Workspace, bins: int) -> list[str]:
    """Say which dimensions of the stored ``customer_rfm`` use fewer than ``bins`` scores, and why."""
    cols = ", ".join(f"list(DISTINCT {c} ORDER BY {c})" for _, c, _ in _DIMENSIONS)
    row = workspace.con.execute(f"SELECT count(*), {cols} FROM {RFM_TABLE} WHERE r_score IS NOT NULL").fetchone()
    if not row or not row[0]:
        return []
    notes = []
    from shopseg.features.build import store_measures

    priced = store_measures(workspace)["prices"]
    for (letter, _, what), used in zip(_DIMENSIONS, row[1:], strict=True):
        if letter == "M" and not priced:
            notes.append(
                "M: the store has no prices (unit_price was one constant at ingest), so revenue is "
                "unavailable and every buyer scores M = 1; read the segments on R and F."
            )
        elif len(used) < bins:
            notes.append(
                f"{letter}: {row[0]:,} buyers have too few distinct values of {what} for {bins} scores; equal "
                f"values share a score, so {letter} uses {len(used)} score{'s' if len(used) > 1 else ''} "
                f"({', '.join(str(u) for u in used)})."
            )
    return notes + _lapsed_note(workspace)


#: Days since the last order beyond which no buyer reads as recent (a half year without an order).
LAPSED_DAYS = 180
#: Segments whose names say their buyers bought recently.
_RECENT_NAMES = ("Champions", "New", "Promising")


def _lapsed_note(workspace: Workspace) -> list[str]:
    """Notes for segments named for recent buyers whose every buyer has not ordered for over
    :data:`LAPSED_DAYS`: the map names cells by rank, so on a store of one old cohort (CDNOW's 1997 buyers)
    'New' holds first-time buyers who lapsed long ago."""
    rows = workspace.con.execute(
        f"SELECT rfm_segment, count(*), min(days_since_last_order) FROM {RFM_TABLE} "
        f"WHERE list_contains(?, rfm_segment) GROUP BY 1 HAVING min(days_since_last_order) > ? ORDER BY 1",
        [list(_RECENT_NAMES), LAPSED_DAYS],
    ).fetchall()
    return [
        f"{name}: its {n:,} buyers last ordered {int(days):,}+ days ago. RFM scores rank buyers against each "
        f"other, so on this store '{name}' holds lapsed buyers, not recent ones; read it with days_since_last_order."
        for name, n, days in rows
    ]


def normalize_rfm(df: pd.DataFrame) -> pd.DataFrame:
    """Sort by customer and give every engine's output the same pandas dtypes."""
    df = df.sort_values("customer_id", kind="stable").reset_index(drop=True)
    for col in ("days_since_last_order", "r_score", "f_score", "m_score"):
        df[col] = pd.array(df[col], dtype="Int64")
    df["orders"] = df["orders"].astype("int64")
    df["last_order_at"] = pd.to_datetime(df["last_order_at"]).astype("datetime64[us]")
    for col in ("customer_id", "rfm_cell", "rfm_segment"):
        df[col] = df[col].astype("string").astype(object).where(df[col].notna(), None)
    return df
