"""The named RFM map and the stored ``customer_rfm`` table, one Ibis definition for every engine.

**Scores.** Among customers with at least one purchase order (``orders > 0``),
buyers are dealt into ``bins`` equal buckets in the order below (``NTILE``;
bucket sizes differ by at most one, the larger first), and each *value* gets
the bucket of its first customer plus one: a value's score is fixed by its
lowest rank, so customers with equal values always share a score (quantile
edges on values, not on rows). Scores run from 1 (worst) to ``bins`` (best);
a value held by more than a bucket's worth of buyers spans buckets, and the
scores it spans are not used (a store where every buyer has one order gives
every buyer F = 1). :func:`~shopseg.segments.rfm_scores.rfm_notes` says when a dimension has too few
distinct values for ``bins`` scores.

- **R** orders customers by ``days_since_last_order`` *descending*: the longer
  ago the last order, the lower the score.
- **F** orders them by ``orders`` (distinct purchase orders) ascending.
- **M** orders them by ``revenue`` (total net purchase value), rounded to whole
  cents, ascending.

Every ordering ends with ``customer_id`` ascending so the dealing is
deterministic, but it never splits a tie: the same input gives the same scores
on DuckDB and Spark, whatever the row order.

**Named map.** ``rfm_cell`` is the three digits ``"<r><f><m>"``. The segment
is looked up in :data:`RFM_CELLS`, the widely circulated 125-code table of 11
segments (as published, e.g., by Squeezely's RFM app); every one of the 125
cells belongs to exactly one segment. With ``bins != 5`` each score ``s`` is
first put on the five-point scale as ``1 + round(4 * (s - 1) / (bins - 1))``
(halves rounded up), so the best bin is 5 and the worst is 1. Customers
without a purchase get NULL scores and the segment ``"No purchase"``. The full
table is in ``docs/rfm.md``.

References
----------
.. [1] Hughes, A. M. (1994). Strategic Database Marketing. Probus.
.. [2] Squeezely, "RFM segments" (default score codes of the 11 segments).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Literal, overload

import ibis
import pandas as pd

from shopseg.config import get_setting
from shopseg.engine import Engine, get_engine
from shopseg.errors import InvalidParameterError, SchemaError, did_you_mean

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.workspace import Workspace

__all__ = [
    "RFM_CELLS",
    "RFM_SEGMENTS",
    "NO_PURCHASE",
    "RFM_TABLE",
    "RFM_COLUMNS",
    "rfm_segment_table",
    "build_rfm",
    "segment_of_cell",
    "segment_expr",
    "check_bins",
    "check_columns",
]

RFM_TABLE = "customer_rfm"
NO_PURCHASE = "No purchase"

#: The 11 named segments and the ``"<r><f><m>"`` codes (five-point scale) of each.
RFM_CELLS: dict[str, tuple[str, ...]] = {
    "Champions": ("555", "554", "544", "545", "454", "455", "445"),
    "Loyal": ("543", "444", "435", "355", "354", "345", "344", "335"),
    "Potential loyalist": (
        "553",
        "551",
        "552",
        "541",
        "542",
        "533",
        "532",
        "531",
        "452",
        "451",
        "442",
        "441",
        "431",
        "453",
        "433",
        "432",
        "423",
        "353",
        "352",
        "351",
        "342",
        "341",
        "333",
        "323",
    ),
    "New": ("512", "511", "422", "421", "412", "411", "311"),
    "Promising": (
        "525",
        "524",
        "523",
        "522",
        "521",
        "515",
        "514",
        "513",
        "425",
        "424",
        "413",
        "414",
        "415",
        "315",
        "314",
        "313",
    ),
    "Need attention": ("535", "534", "443", "434", "343", "334", "325", "324"),
    "About to sleep": ("331", "321", "312", "221", "213", "231", "241", "251"),
    "At risk": (
        "255",
        "254",
        "245",
        "244",
        "253",
        "252",
        "243",
        "242",
        "235",
        "234",
        "225",
        "224",
        "153",
        "152",
        "145",
        "143",
        "142",
        "135",
        "134",
        "133",
        "125",
        "124",
    ),
    "Cannot lose them": ("155", "154", "144", "214", "215", "115", "114", "113"),
    "Hibernating": ("332", "322", "233", "232", "223", "222", "132", "123", "122", "212", "211"),
    "Lost": ("111", "112", "121", "131", "141", "151"),
}

RFM_SEGMENTS: tuple[str, ...] = tuple(RFM_CELLS)

_SEGMENT_OF: dict[str, str] = {cell: name for name, cells in RFM_CELLS.items() for cell in cells}

#: Columns ``build_rfm`` stores in ``customer_rfm``.
RFM_COLUMNS = [
    "customer_id",
    "last_order_at",
    "days_since_last_order",
    "orders",
    "revenue",
    "avg_order_value",
    "r_score",
    "f_score",
    "m_score",
    "rfm_cell",
    "rfm_segment",
]

_MAX_BINS = 9  # a cell code is one digit per score


def segment_of_cell(r: int, f: int, m: int, bins: int = 5) -> str:
    """The named segment of one score triple (pure Python; the reference for the Ibis map).

    Examples
    --------
    >>> segment_of_cell(5, 5, 5), segment_of_cell(1, 1, 1), segment_of_cell(5, 1, 1)
    ('Champions', 'Lost', 'New')
    >>> segment_of_cell(9, 9, 1, bins=9)
    'Potential loyalist'
    """
    check_bins(bins)
    for name, score in (("r", r), ("f", f), ("m", m)):
        if not 1 <= score <= bins:
            raise InvalidParameterError(f"The '{name}' score must be in [1, {bins}]. Got {score!r} instead.")
    return _SEGMENT_OF["".join(str(_to_five(s, bins)) for s in (r, f, m))]


def _to_five(score: int, bins: int) -> int:
    """Linear map of 1..bins onto 1..5, rounded half up: ``1 + round(4 * (s - 1) / (bins - 1))``."""
    return 1 + (8 * (score - 1) + bins - 1) // (2 * (bins - 1))


def check_bins(bins: object) -> int:
    """``bins`` when it is an int in [2, 9]; :class:`InvalidParameterError` otherwise."""
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= _MAX_BINS:
        raise InvalidParameterError(
            f"The 'bins' parameter must be an int in the range [2, {_MAX_BINS}]. Got {bins!r} instead."
        )
    return bins


def segment_expr(t: ir.Table, bins: int) -> ir.StringValue:
    """The named segment of ``t``'s ``r_score, f_score, m_score`` as one Ibis expression (:data:`RFM_CELLS`).

    One lookup of ``100 r + 10 f + m`` in an array of names (an IN list per segment is a semi-join each on
    DuckDB); NULL scores are tested first, as Spark's lookup gave a name to the NULL scores of non-buyers.
    """
    names = [NO_PURCHASE] * (111 * bins + 1)
    for r, f, m in itertools.product(range(1, bins + 1), repeat=3):
        names[100 * r + 10 * f + m] = segment_of_cell(r, f, m, bins)
    code = (t.r_score * 100 + t.f_score * 10 + t.m_score).cast("int32")  # Spark indexes arrays by INT
    return ibis.cases((code.isnull(), NO_PURCHASE), else_=ibis.literal(names, type="array<string>")[code])


def check_columns(table: ir.Table | pd.DataFrame, needed: tuple[str, ...], where: str) -> None:
    """:class:`SchemaError` naming the first of ``needed`` that ``table`` lacks."""
    have = list(table.columns)
    missing = [c for c in needed if c not in have]
    if missing:
        hint = did_you_mean(missing[0], have)
        raise SchemaError(
            f"{where}: required column '{missing[0]}' is missing. Expected {list(needed)}; "
            f"got {have[:12]}{' ...' if len(have) > 12 else ''}.{hint}",
            table=where,
            column=missing[0],
        )


def rfm_segment_table(scored: ir.Table | pd.DataFrame) -> pd.DataFrame:
    """Summarise customers per named RFM segment.

    Parameters
    ----------
    scored : ibis.Table or pandas.DataFrame
        Output of :func:`~shopseg.segments.rfm_scores.rfm_scores` (or the stored ``customer_rfm`` table):
        needs ``rfm_segment``, ``revenue``, ``days_since_last_order`` and
        ``orders``. An Ibis table is aggregated on its own engine; only one
        row per segment is fetched.

    Returns
    -------
    pandas.DataFrame
        One row per segment, the 11 of :data:`RFM_SEGMENTS` in order (empty
        ones with 0 customers) then ``"No purchase"`` when present, with
        ``segment``, ``customers``, ``share`` (of all rows), ``revenue``,
        ``revenue_share``, and the segment means ``recency_days`` (days since
        the last order), ``orders`` (purchase orders per customer) and
        ``monetary`` (revenue per customer, the quantity M is scored on).
        Means are NaN for empty segments.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"rfm_segment": ["Lost", "Lost", "Champions"], "revenue": [10.0, 30.0, 60.0],
    ...                    "days_since_last_order": [300, 200, 2], "orders": [1, 1, 9]})
    >>> table = rfm_segment_table(df).set_index("segment")
    >>> table.loc["Lost", ["share", "revenue_share", "recency_days", "monetary"]].tolist()
    [0.6667, 0.4, 250.0, 20.0]
    >>> table["customers"].tolist()
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    """
    needed = ("rfm_segment", "revenue", "days_since_last_order", "orders")
    check_columns(scored, needed, "rfm_segment_table")
    if isinstance(scored, pd.DataFrame):
        df = scored.assign(_n=1)
        sums = df.groupby("rfm_segment")[["_n", "revenue", "days_since_last_order", "orders"]].sum(min_count=1)
        sums = sums.rename(columns={"_n": "customers", "days_since_last_order": "recency_sum", "orders": "orders_sum"})
    else:
        agg = scored.group_by("rfm_segment").aggregate(
            customers=scored.count(),
            revenue=scored.revenue.cast("float64").sum(),
            recency_sum=scored.days_since_last_order.cast("float64").sum(),
            orders_sum=scored.orders.cast("float64").sum(),
        )
        sums = agg.to_pandas().set_index("rfm_segment")
    return _finish_table(sums)


def _finish_table(sums: pd.DataFrame) -> pd.DataFrame:
    order = list(RFM_SEGMENTS) + ([NO_PURCHASE] if NO_PURCHASE in sums.index else [])
    sums = sums.reindex(order).astype("float64")
    customers = sums["customers"].fillna(0.0)
    revenue = sums["revenue"].fillna(0.0)
    n_total, rev_total = customers.sum(), revenue.sum()
    per = customers.where(customers > 0)
    out = pd.DataFrame(
        {
            "segment": order,
            "customers": customers.astype("int64").to_numpy(),
            "share": (customers / n_total if n_total else customers * 0.0).round(4).to_numpy(),
            "revenue": revenue.round(2).to_numpy(),
            "revenue_share": (revenue / rev_total if rev_total else revenue * 0.0).round(4).to_numpy(),
            "recency_days": (sums["recency_sum"] / per).round(1).to_numpy(),
            "orders": (sums["orders_sum"] / per).round(2).to_numpy(),
            "monetary": (revenue / per).round(2).to_numpy(),
        }
    )
    return out


@overload
def build_rfm(
    workspace: Workspace,
    engine: str | Engine = ...,
    bins: int | None = ...,
    *,
    return_frame: Literal[True] = ...,
) -> pd.DataFrame: ...


@overload
def build_rfm(
    workspace: Workspace,
    engine: str | Engine = ...,
    bins: int | None = ...,
    *,
    return_frame: Literal[False],
) -> ir.Table: ...


def build_rfm(
    workspace: Workspace,
    engine: str | Engine = "duckdb",
    bins: int | None = None,
    *,
    return_frame: bool = True,
) -> pd.DataFrame | ir.Table:
    """Score the stored customer features, store ``customer_rfm`` and return it.

    The scores are computed from the stored ``customer_features`` table; on
    DuckDB they are stored in the same statement, without a pandas round trip.

    The feature table ``customer_features`` is built first (with default
    options, via :func:`shopseg.features.build_features`) when the workspace
    does not have one yet; rebuild it yourself to change ``as_of``.

    Parameters
    ----------
    workspace : Workspace
        An open, writable workspace.
    engine : {"duckdb", "spark"} or Engine, default="duckdb"
        Where to compute. The result is always stored in the workspace file.
    bins : int, default=None
        Quantile bins (2 to 9); default the ``rfm_bins`` setting.
    return_frame : bool, default=True
        Return a pandas DataFrame. ``False`` returns the stored table as a
        lazy Ibis table on the workspace (see :func:`rfm_segment_table`).

    Returns
    -------
    pandas.DataFrame or ibis.Table
        :data:`RFM_COLUMNS`, one row per customer, sorted by ``customer_id``;
        ``attrs`` carries ``bins``, ``engine``, ``as_of`` (the features'
        as-of date) and ``notes`` (:func:`~shopseg.segments.rfm_scores.rfm_notes`), also stored in the
        workspace metadata as ``rfm_bins``, ``rfm_engine``, ``rfm_as_of`` and ``rfm_notes``.

    Raises
    ------
    SchemaError
        The workspace has no orders (raised while building features).
    """
    from shopseg.features import FEATURES_TABLE, build_features
    from shopseg.segments.rfm_scores import INPUT_COLUMNS, _scores, normalize_rfm, rfm_notes  # imports this module

    bins = check_bins(get_setting("rfm_bins") if bins is None else bins)
    owned = isinstance(engine, str)
    eng = get_engine(workspace, engine) if isinstance(engine, str) else engine
    try:
        if not workspace.has_table(FEATURES_TABLE):
            build_features(workspace, engine=eng, return_frame=False)
        features = eng.table(FEATURES_TABLE)
        check_columns(features, (*INPUT_COLUMNS, "last_order_at", "avg_order_value"), FEATURES_TABLE)
        scored = _scores(features.select(*[c for c in RFM_COLUMNS if c in features.columns]), bins)
        df = eng.store(scored.select(*RFM_COLUMNS), workspace, RFM_TABLE, normalize=normalize_rfm)
    finally:
        if owned:
            eng.close()
    notes = rfm_notes(workspace, bins)
    meta = {
        "bins": str(bins),
        "engine": eng.name,
        "as_of": workspace.meta("features_as_of") or "",
        "notes": "\n".join(notes),
    }
    for key, value in meta.items():
        workspace.set_meta(f"rfm_{key}", value)
    if not return_frame:
        return workspace.ibis.table(RFM_TABLE)
    if df is None:
        df = normalize_rfm(workspace.ibis.table(RFM_TABLE).to_pandas())
    df.attrs.update(bins=bins, engine=eng.name, as_of=meta["as_of"], notes=notes)
    return df
