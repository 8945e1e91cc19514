"""Purchase behaviour per customer: orders, cadence, basket, returns, discounts, channels, categories.

Every function returns one row per customer *who has the input rows*; the
feature table left-joins them onto the customer population
(:mod:`shopseg.features.build`) and fills counts with 0.

Definitions (money in cents until the final division, see
:mod:`shopseg.features.purchases`):

- ``orders``: purchase orders; ``first_order_at``/``last_order_at``: their
  first and last timestamps.
- ``std_days_between_orders``: sample standard deviation of the gaps, in days,
  between consecutive purchase *days* (NULL with fewer than two gaps).
- ``top_category``: the top-level product category (first level of
  ``products.category``, levels joined by " > ") with the largest purchase
  value; ties go to the alphabetically first category.
- ``share_<slug>``: share of purchase value in one top-level category.
- ``share_web``/``share_app``/``share_store``: share of purchase orders placed
  through that channel among orders whose channel is one of the three
  (``orders.channel``, trimmed, lower case); NULL when none is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import ibis

from shopseg.features.purchases import day_gaps

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine

__all__ = [
    "CHANNELS",
    "CATEGORY_SEPARATOR",
    "MAX_CATEGORY_SHARES",
    "order_summary",
    "gap_spread",
    "top_level_category",
    "category_slugs",
    "category_features",
]

CHANNELS = ("web", "app", "store")
CATEGORY_SEPARATOR = " > "
MAX_CATEGORY_SHARES = 20


def order_summary(orders: ir.Table) -> ir.Table:
    """Counts and sums over purchase orders.

    Returns
    -------
    ibis.Table
        ``customer_id, first_order_at, last_order_at, gross_cents, units,
        discounted_cents, orders_known_channel, orders_web, orders_app,
        orders_store`` (the order count itself comes with
        :func:`~shopseg.features.rfm.rfm_from_days`).
    """
    per_channel = {f"orders_{c}": (orders.channel == c).ifelse(1, 0).sum().cast("int64") for c in CHANNELS}
    return orders.group_by("customer_id").aggregate(
        first_order_at=orders.ordered_at.min(),
        last_order_at=orders.ordered_at.max(),
        gross_cents=orders.cents.sum().cast("int64"),
        units=orders.units.sum().cast("int64"),
        discounted_cents=orders.discounted_cents.sum().cast("int64"),
        orders_known_channel=orders.channel.isin(CHANNELS).ifelse(1, 0).sum().cast("int64"),
        **per_channel,
    )


def gap_spread(days: ir.Table) -> ir.Table:
    """Sample standard deviation of the day gaps between consecutive purchase days.

    Returns
    -------
    ibis.Table
        ``customer_id, std_days_between_orders`` (NULL for customers with fewer
        than two gaps).
    """
    gaps = day_gaps(days)  # stored with the days by ingest, else one LAG window
    gaps = gaps.filter(gaps.gap.notnull())
    sums = gaps.group_by("customer_id").aggregate(
        n=gaps.count().cast("int64"), s1=gaps.gap.sum().cast("int64"), s2=(gaps.gap * gaps.gap).sum().cast("int64")
    )
    # Sample variance from exact integer sums, (n*s2 - s1^2) / (n*(n-1)): one rounding, so every
    # engine and every run gives the same bits (a parallel STDDEV_SAMP varies in the last bit).
    spread = (sums.n * sums.s2 - sums.s1 * sums.s1).cast("float64")
    variance = spread / (sums.n * (sums.n - 1)).cast("float64").nullif(0.0)
    return sums.select("customer_id", std_days_between_orders=variance.sqrt())


def top_level_category(category: ir.StringValue) -> ir.StringValue:
    """The first level of a category path ("Home > Kitchen" → "Home"); NULL when blank."""
    head = category.split(CATEGORY_SEPARATOR.strip())[0].strip()
    return head.nullif("")


def _slug(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "other"


def category_slugs(engine: Engine) -> dict[str, str]:
    """Map the top-level categories of ``products`` to ``share_<slug>`` column names.

    At most :data:`MAX_CATEGORY_SHARES` categories are kept: those with the most
    products, ties broken by name. Slugs are lower-case ASCII with ``_``;
    clashing slugs get a numeric suffix.

    Returns
    -------
    dict
        ``{category: "share_<slug>"}`` in column order (alphabetical by category).
    """
    products = engine.table("products")
    tops = products.select(category=top_level_category(products.category)).filter(lambda t: t.category.notnull())
    counts = tops.group_by("category").aggregate(n=tops.count())
    counts = counts.order_by([ibis.desc("n"), "category"]).limit(MAX_CATEGORY_SHARES)
    names = sorted(str(c) for c in engine.execute(counts)["category"])
    out: dict[str, str] = {}
    for name in names:
        slug, k = f"share_{_slug(name)}", 2
        while slug in out.values() or slug in _RESERVED:
            slug, k = f"share_{_slug(name)}_{k}", k + 1
        out[name] = slug
    return out


_RESERVED = {f"share_{c}" for c in CHANNELS}


def category_features(engine: Engine, lines: ir.Table, slugs: dict[str, str]) -> ir.Table:
    """Distinct categories, top category and per-category value (cents) per customer.

    Parameters
    ----------
    engine : Engine
        Gives the ``products`` table.
    lines : ibis.Table
        Purchase lines (:func:`shopseg.features.purchases.purchase_lines`).
    slugs : dict
        Categories to report as ``share_<slug>`` (:func:`category_slugs`).

    Returns
    -------
    ibis.Table
        ``customer_id, distinct_categories, top_category`` and one
        ``cents_<share column>`` per entry of ``slugs``.
    """
    products = engine.table("products")
    cats = products.select(product_id=products.product_id, category=top_level_category(products.category))
    tagged = lines.join(cats, lines.product_id == cats.product_id).select(
        customer_id=lines.customer_id, category=cats.category, cents=lines.cents
    )
    tagged = tagged.filter(tagged.category.notnull())
    per_cat = tagged.group_by(["customer_id", "category"]).aggregate(cents=tagged.cents.sum())
    rank = ibis.row_number().over(
        ibis.window(group_by=per_cat.customer_id, order_by=[ibis.desc(per_cat.cents), per_cat.category])
    )
    ranked = per_cat.mutate(rank=rank)
    shares = {
        f"cents_{col}": (ranked.category == name).ifelse(ranked.cents, 0).sum().cast("int64")
        for name, col in slugs.items()
    }
    return ranked.group_by("customer_id").aggregate(
        distinct_categories=ranked.count().cast("int64"),
        top_category=(ranked.rank == 0).ifelse(ranked.category, ibis.null("string")).max(),
        **shares,
    )
