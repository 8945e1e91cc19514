"""Retail network performance: revenue, orders, AOV, repeat rate and CLV by segment x region x category x period.

:func:`region_performance` is one aggregate query over the purchase lines
(orders not cancelled, lines not returns, quantity > 0, unit price >= 0,
revenue net of line discounts, rounded to cents): the sales, before returns
(``revenue`` in the features nets returns out). A line's **segment** is its buyer's RFM segment
(``customer_rfm``; ``"(no RFM)"`` before ``shopseg rfm``), its **region** the
buyer's region (or country, ``level="country"``), its **category** the top
level of the product's category path, its **period** the month, quarter or
year of the order. Per group:

- ``revenue``, ``orders`` (distinct orders with a line in the group),
  ``buyers`` (distinct customers) and ``aov = revenue / orders``;
- ``repeat_rate``: the share of the group's buyers with two or more purchase
  orders in the group (so "repeat in this category and region");
- ``clv``: the mean predicted CLV of the group's buyers
  (``customer_predictions``; NULL before ``shopseg predict``);
- ``revenue_index``: the group's share of its region's revenue divided by the
  category's share of all revenue (in the same period): above 1 the category
  does better in that region than in the store as a whole, below 1 it lags.

Only aggregates leave the database, so the query stays light on a million
customers and the result never carries customer-level rows.

>>> import tempfile, os
>>> from shopseg.workspace import Workspace
>>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
>>> list(region_performance(ws).columns)[:5]
['segment', 'region', 'category', 'period', 'revenue']
>>> ws.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from shopseg.errors import InvalidParameterError

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["DIMENSIONS", "PERIODS", "LEVELS", "METRICS", "Breakdown", "region_performance", "region_performance_many"]

DIMENSIONS = ("segment", "region", "category", "period")
PERIODS = ("month", "quarter", "year", "all")
LEVELS = ("region", "country")
METRICS = ("revenue", "orders", "buyers", "aov", "repeat_rate", "clv", "revenue_index")


def _check(by: Sequence[str], period: str, level: str) -> list[str]:
    dims = list(dict.fromkeys(by))
    bad = [d for d in dims if d not in DIMENSIONS]
    if bad or not dims:
        raise InvalidParameterError(
            f"The 'by' parameter of region_performance must be a non-empty subset of {list(DIMENSIONS)}. Got {list(by)} instead."
        )
    if period not in PERIODS:
        raise InvalidParameterError(f"The 'period' parameter must be one of {list(PERIODS)}. Got {period!r} instead.")
    if level not in LEVELS:
        raise InvalidParameterError(f"The 'level' parameter must be one of {list(LEVELS)}. Got {level!r} instead.")
    return dims


def _lines_sql(period: str, level: str) -> str:
    """One row per purchase order x top-level category (lines summed first: the heavy part stays narrow), with
    the order's customer, period and own region (``o_region``); the customer's region and segment are joined
    later, to the far fewer per-buyer rows (:func:`_per_buyer_sql`)."""
    when = "DATE '1970-01-01'" if period == "all" else f"date_trunc('{period}', o.ordered_at)::DATE"
    return f"""
        WITH pc AS (SELECT product_id, coalesce(nullif(trim(split_part(category, '>', 1)), ''), 'unknown') AS category
                    FROM products),
        oc AS (SELECT l.order_id, coalesce(pc.category, 'unknown') AS category,
                      sum(round(greatest(l.quantity * l.unit_price - coalesce(l.discount, 0), 0), 2)) AS value
               FROM order_lines l LEFT JOIN pc ON pc.product_id = l.product_id
               WHERE l.quantity > 0 AND l.unit_price >= 0 AND NOT coalesce(l.is_return, false)
               GROUP BY 1, 2),
        od AS (SELECT o.order_id, o.customer_id, {when} AS period, o.{level} AS o_region
               FROM orders o WHERE NOT coalesce(o.is_cancelled, false))
        SELECT od.*, oc.category, oc.value FROM oc JOIN od ON od.order_id = oc.order_id"""


def _per_buyer_sql(name: str, keys: list[str], level: str, has_rfm: bool) -> str:
    """CTEs ``{name}_o`` and ``{name}``: one row per group of ``keys`` and buyer, with her ``orders`` and
    ``revenue`` in the group.

    The lines are grouped by the order's own region first; the buyer's region (``coalesce(customer's,
    order's, 'unknown')``) and segment are joined to those rows, and rows the customer's region merges are
    summed (an order has one region, so the order counts add up).
    """
    first = [("o_region" if k == "region" else k) for k in keys if k != "segment"]
    # rows are (order, category): within a group that fixes the category each order appears once
    orders = "count(*)" if "category" in keys else "count(DISTINCT order_id)"
    by = ", ".join([*first, "customer_id"])
    exprs = {
        "region": f"coalesce(c.{level}, o.o_region, 'unknown')",
        "segment": "coalesce(r.rfm_segment, '(no RFM)')" if has_rfm else "'(no RFM)'",
    }
    cols = ", ".join(f"{exprs[k]} AS {k}" if k in exprs else f"o.{k}" for k in keys)
    joins = " ".join(
        [
            *(["LEFT JOIN customers c ON c.customer_id = o.customer_id"] if "region" in keys else []),
            *(["LEFT JOIN customer_rfm r ON r.customer_id = o.customer_id"] if "segment" in keys and has_rfm else []),
        ]
    )
    joined = f"SELECT {cols}, o.customer_id, o.orders, o.revenue FROM {name}_o o {joins}"
    if "region" in keys:  # the customer's region can merge rows of several order regions
        key_list = ", ".join(keys)
        joined = (
            f"SELECT {key_list}, customer_id, sum(orders)::BIGINT AS orders, sum(revenue) AS revenue "
            f"FROM ({joined}) GROUP BY {key_list}, customer_id"
        )
    return f"""{name}_o AS (SELECT {by}, {orders} AS orders, sum(value) AS revenue FROM lines GROUP BY {by}),
        {name} AS ({joined})"""


def region_performance(
    workspace: Workspace,
    *,
    by: Sequence[str] = DIMENSIONS,
    period: str = "quarter",
    level: str = "region",
    limit: int | None = None,
) -> pd.DataFrame:
    """Aggregate purchase performance by any of segment, region, category and period.

    Parameters
    ----------
    workspace : Workspace
        An open workspace with orders (and, optionally, customer_rfm and customer_predictions).
    by : sequence of {"segment", "region", "category", "period"}, default=all four
        Group-by dimensions; the others are summed over.
    period : {"month", "quarter", "year", "all"}, default="quarter"
        Time grain; ``"all"`` puts every order in one period, labelled with the
        first and last order dates (``"2010-12-01 .. 2011-12-09"``).
    level : {"region", "country"}, default="region"
        Geography: the customer's region (or the order's) or country.
    limit : int, default=None
        Keep the ``limit`` groups with the most revenue.

    Returns
    -------
    pandas.DataFrame
        The dimensions in ``by`` then :data:`METRICS`, sorted by the dimensions.

    Raises
    ------
    InvalidParameterError
        Unknown dimension, period or level.
    """
    return region_performance_many(workspace, [Breakdown(tuple(by), limit)], period=period, level=level)[0]


@dataclass(frozen=True)
class Breakdown:
    """One aggregation of :func:`region_performance_many`: its dimensions and an optional top-``limit``."""

    by: tuple[str, ...]
    limit: int | None = None


def region_performance_many(
    workspace: Workspace, breakdowns: Sequence[Breakdown], *, period: str = "quarter", level: str = "region"
) -> list[pd.DataFrame]:
    """Several :func:`region_performance` aggregations in one query over one pass of the order lines.

    The purchase lines are summed per order and category once (the costly part:
    at 1M customers 9.6M lines, about 9 CPU-seconds) and every breakdown
    aggregates that; ``period`` is the grain of the breakdowns that group by
    period. One frame per breakdown, in order, each as :func:`region_performance`
    returns it.

    Breakdowns that differ only by ``segment`` read one per-buyer table (a buyer has one segment): the
    report's two and two of the dashboard's three. The customer's region and segment are looked up for
    those per-buyer rows, not for every order (:func:`_per_buyer_sql`). At 10M customers (96M lines) the
    report's aggregate went from 152.5 to 80.2 CPU-seconds, at 1M from 5.9 to 4.4 (bench/RESULTS.md).
    """
    dims = [_check(b.by, period, level) for b in breakdowns]
    tables = set(workspace.tables())  # one catalog query for every breakdown's optional joins
    has_rfm, has_pred = "customer_rfm" in tables, "customer_predictions" in tables
    # A buyer's segment is hers alone (her RFM segment), so a breakdown and the same one with segment added
    # have the same (group, buyer) rows up to the segment column: they share one per-buyer table, the
    # costly GROUP BY over the (order, category) rows (at 10M customers 66M of them).
    shared: dict[tuple[str, ...], list[int]] = {}
    for i, d in enumerate(dims):
        shared.setdefault(tuple(k for k in d if k != "segment"), []).append(i)
    per_buyer = {}
    parts = []
    for j, (base, members) in enumerate(shared.items()):
        keys = [k for k in DIMENSIONS if k in base or (k == "segment" and any(k in dims[i] for i in members))]
        parts.append(_per_buyer_sql(f"b{j}", keys, level, has_rfm))
        per_buyer.update({i: f"b{j}" for i in members})
    # the (order, category) rows are made once and read by every per-buyer table (stored only if several read it)
    keep = "MATERIALIZED" if len(shared) > 1 else "NOT MATERIALIZED"
    parts.insert(0, f"WITH lines AS {keep} ({_lines_sql(period, level)})")
    selects = []
    for i, (b, d) in enumerate(zip(breakdowns, dims, strict=True)):
        parts.append(_aggregate_sql(f"q{i}", d, b.limit, per_buyer[i], has_pred))
        selects.append(f"SELECT {i} AS _part, * FROM q{i}")
    sql = ",\n".join(parts) + "\n" + "\nUNION ALL BY NAME\n".join(selects)
    both = workspace.con.execute(sql).df()
    span = None
    out = []
    for i, d in enumerate(dims):
        df = both[both["_part"] == i][[*d, *METRICS]].sort_values(d, kind="stable").reset_index(drop=True)
        for m in ("orders", "buyers"):
            df[m] = df[m].astype("int64")
        if "period" in df.columns and period == "all":  # one period: label it with the dates it spans
            if span is None:
                row = workspace.con.execute(
                    "SELECT min(ordered_at)::DATE, max(ordered_at)::DATE FROM orders"
                ).fetchone()
                span = f"{row[0]} .. {row[1]}" if row and row[0] else "all"
            df["period"] = span
        elif "period" in df.columns:
            df["period"] = pd.to_datetime(df["period"]).dt.date
        out.append(df)
    return out


def _aggregate_sql(name: str, dims: list[str], limit: int | None, b: str, has_pred: bool) -> str:
    """CTEs ``{name}_g`` and ``{name}``: one breakdown (see :func:`region_performance`) of the per-buyer table
    ``b`` (one row per group and buyer, with her ``orders`` and ``revenue`` in it)."""
    clv_join = f"LEFT JOIN customer_predictions pr ON pr.customer_id = {b}.customer_id" if has_pred else ""
    clv = "pr.clv" if has_pred else "CAST(NULL AS DOUBLE)"
    g = f"{name}_g"
    # the region's revenue and the category's store-wide share, in the same period when period is a dimension
    in_period = ["period"] if "period" in dims else []
    cat_keys = ", ".join(["category", *in_period])
    index = (
        f"""(sum({g}.revenue) OVER (PARTITION BY {", ".join([f"{g}." + k for k in ["region", "category", *in_period]])})
              / nullif(sum({g}.revenue) OVER (PARTITION BY {", ".join(f"{g}." + k for k in ["region", *in_period])}), 0))
             / nullif(cs.cat_share, 0)"""
        if {"region", "category"} <= set(dims)
        else "CAST(NULL AS DOUBLE)"
    )
    cat_share_join = (
        f"""LEFT JOIN (SELECT {cat_keys}, sum(revenue) / nullif(sum(sum(revenue)) OVER ({"PARTITION BY period" if in_period else ""}), 0)
                              AS cat_share FROM {b} GROUP BY {cat_keys}) cs USING ({cat_keys})"""
        if {"region", "category"} <= set(dims)
        else ""
    )
    return f"""
        {g} AS (SELECT {", ".join(f"{b}." + d for d in dims)}, round(sum({b}.revenue), 2) AS revenue,
                       sum({b}.orders)::BIGINT AS orders, count(*)::BIGINT AS buyers,
                       avg(CASE WHEN {b}.orders >= 2 THEN 1.0 ELSE 0.0 END) AS repeat_rate, avg({clv}) AS clv
                FROM {b} {clv_join} GROUP BY {", ".join(f"{b}." + d for d in dims)}),
        {name} AS (SELECT {", ".join(f"{g}." + d for d in dims)}, {g}.revenue, {g}.orders, {g}.buyers,
                          round({g}.revenue / nullif({g}.orders, 0), 2) AS aov, round({g}.repeat_rate, 4) AS repeat_rate,
                          round({g}.clv, 2) AS clv, round({index}, 3) AS revenue_index
                   FROM {g} {cat_share_join}
                   {f"ORDER BY {g}.revenue DESC, {', '.join(f'{g}.' + d for d in dims)} LIMIT {int(limit)}" if limit else ""})"""
