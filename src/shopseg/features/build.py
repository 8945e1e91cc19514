"""The customer feature table: one row per known customer, as of a date, on any engine.

:func:`feature_expr` assembles one Ibis expression from the pieces in
:mod:`~shopseg.features.purchases`, :mod:`~shopseg.features.rfm`,
:mod:`~shopseg.features.behaviour`, :mod:`~shopseg.features.engagement` and
:mod:`~shopseg.features.profile`; it has no engine-specific branch, so DuckDB
and Spark compute the same table (``tests/engines`` holds them equal).
:func:`build_features` executes it, stores it in the workspace as
``customer_features`` and records ``features_as_of`` and
``features_time_unit`` in the workspace metadata. Column definitions and units
are listed in ``docs/features.md``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal, overload

import ibis
import pandas as pd

from shopseg.engine import Engine, get_engine
from shopseg.errors import SchemaError
from shopseg.features.asof import AsOf, DateLike, check_time_unit, day_diff
from shopseg.features.behaviour import CHANNELS, category_features, category_slugs, gap_spread, order_summary
from shopseg.features.engagement import abandoned_checkouts, event_counts, recent_orders
from shopseg.features.order_totals import is_fresh, order_totals_spec, refresh_order_totals
from shopseg.features.profile import population, profile_columns
from shopseg.features.purchases import purchase_base, purchase_lines, return_totals
from shopseg.features.rfm import rfm_from_days
from shopseg.features.stamp import STAMP_KEY, features_spec, source_stamps

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.workspace import Workspace

__all__ = ["FEATURE_COLUMNS", "FEATURES_TABLE", "feature_expr", "buyer_feature_expr", "build_features", "resolve_as_of"]

FEATURES_TABLE = "customer_features"

#: The stable columns, in order. ``share_<category>`` columns follow them, one
#: per top-level product category (see ``docs/features.md``).
FEATURE_COLUMNS: list[str] = [
    "customer_id",
    "first_order_at",
    "last_order_at",
    "orders",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "revenue",
    "gross_revenue",
    "avg_order_value",
    "days_since_last_order",
    "avg_days_between_orders",
    "std_days_between_orders",
    "basket_size",
    "distinct_categories",
    "top_category",
    "discount_share",
    "return_rate",
    *(f"share_{c}" for c in CHANNELS),
    "country",
    "region",
    "city",
    "age",
    "age_band",
    "gender",
    "email_marketing",
    "sms_marketing",
    "profiling",
    "tenure_days",
    "product_views_7d",
    "product_views_30d",
    "product_views_90d",
    "add_to_carts_7d",
    "add_to_carts_30d",
    "add_to_carts_90d",
    "checkouts_started_90d",
    "abandoned_checkouts_90d",
    "orders_90d",
    "browse_to_buy_ratio",
    "email_opens_90d",
    "email_clicks_90d",
]


def resolve_as_of(engine: Engine, as_of: DateLike | None) -> dt.date:
    """Validate ``as_of``; default to the date of the latest order in the workspace.

    Raises
    ------
    SchemaError
        When the workspace holds no orders.
    InvalidParameterError
        When ``as_of`` is not a date.
    """
    explicit = AsOf.of(as_of).date if as_of is not None else None
    orders = engine.table("orders")
    stats = engine.execute(orders.aggregate(n=orders.count(), last=orders.ordered_at.max()))
    if int(stats["n"].iloc[0]) == 0:
        raise SchemaError(
            f"{engine.workspace.path}: the orders table is empty. Expected at least one order to compute "
            "customer features; got 0. Hint: load orders first with `shopseg ingest orders FILE`.",
            table="orders",
        )
    return explicit if explicit is not None else pd.Timestamp(stats["last"].iloc[0]).date()


def feature_expr(engine: Engine, as_of: DateLike | None = None, time_unit: str = "days") -> ir.Table:
    """The customer feature table as an Ibis expression on ``engine``.

    Building it runs two small queries on ``engine``: the latest order date
    (the default ``as_of``, and the check that orders exist) and the list of
    top-level product categories (which ``share_<category>`` columns exist).
    The returned expression itself is lazy.

    Parameters
    ----------
    engine : Engine
        Where the workspace tables live (``get_engine(ws, "duckdb" | "spark")``).
    as_of : date or str, default=None
        Last calendar day of data to use (rows with timestamps before
        ``as_of + 1 day``). Default: the date of the latest order.
    time_unit : {"days", "weeks"}, default="days"
        Unit of ``recency`` and ``T``.

    Returns
    -------
    ibis.Table
        One row per customer known on ``as_of`` (see
        :mod:`shopseg.features.profile`): :data:`FEATURE_COLUMNS` then the
        ``share_<category>`` columns.

    Raises
    ------
    InvalidParameterError
        Bad ``as_of`` or ``time_unit``.
    SchemaError
        The workspace has no orders.
    """
    check_time_unit(time_unit)
    window = AsOf.of(resolve_as_of(engine, as_of), time_unit)
    return _assemble(engine, window, category_slugs(engine))


def _attach(table: ir.Table, part: ir.Table) -> ir.Table:
    part = part.rename(_key="customer_id")
    return table.left_join(part, table.customer_id == part._key).drop("_key")


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """``num / den`` as float64, NULL when ``den`` is 0 or NULL (Spark's ANSI mode raises on x/0)."""
    return num.cast("float64") / den.cast("float64").nullif(0.0)


#: Feature columns that are money (NULL, "unavailable", when the store has no prices) or units
#: (NULL when it has no quantities); see :func:`store_measures`.
MONEY_COLUMNS = ("monetary_value", "revenue", "gross_revenue", "avg_order_value", "discount_share", "return_rate")
UNIT_COLUMNS = ("basket_size",)


def store_measures(workspace: Workspace) -> dict[str, bool]:
    """Whether the store's order lines carry real prices and quantities.

    An import spec (or ``--const``) that sets ``unit_price`` or ``quantity`` to one
    constant for every line records it in the workspace metadata
    (``prices_available``, ``quantities_available``); without such a record both are real.
    """
    return {k: workspace.meta(f"{k}_available") != "false" for k in ("prices", "quantities")}


def buyer_feature_expr(engine: Engine, window: AsOf, base: tuple[ir.Table, ir.Table]) -> ir.Table:
    """The feature columns of the buyers only (``orders > 0``), from a given purchase base.

    The same values as ``feature_expr`` filtered to ``orders > 0``, without the
    population (every known customer, a union of ``customers`` and the order
    customers) it starts from: the buyers are the customers with purchase days.
    ``base`` is the window's ``(orders, days)`` (:func:`~shopseg.features.purchases.purchase_base`),
    so a caller that also reads later days checks the stored tables' freshness once. Select the
    columns you need: DuckDB drops the aggregates behind the others.
    """
    return _assemble(engine, window, category_slugs(engine), base=base)


def _assemble(
    engine: Engine,
    window: AsOf,
    slugs: dict[str, str],
    measures: dict[str, bool] | None = None,
    *,
    fresh: bool | None = None,
    base: tuple[ir.Table, ir.Table] | None = None,
) -> ir.Table:
    """Every feature column; of every known customer, or of the buyers of ``base`` when it is given."""
    lines = purchase_lines(engine, window)
    orders, days = base if base is not None else purchase_base(engine, window, fresh)
    rfm = rfm_from_days(days, window)
    parts = [
        order_summary(orders),
        gap_spread(days),
        category_features(engine, lines, slugs),
        return_totals(engine, window),
        event_counts(engine, window),
        abandoned_checkouts(engine, window, orders),
        recent_orders(orders, window),
        profile_columns(engine, window),
    ]
    t = rfm if base is not None else _attach(population(engine, window), rfm)
    for part in parts:
        t = _attach(t, part)
    cols = _columns(t, window, slugs)
    measures = measures or {"prices": True, "quantities": True}
    unavailable = (MONEY_COLUMNS + tuple(slugs.values()) if not measures["prices"] else ()) + (
        UNIT_COLUMNS if not measures["quantities"] else ()
    )
    for name in unavailable:  # unavailable, not zero: a store without prices has no spend to measure
        cols[name] = ibis.null().cast("float64")
    return t.select(**cols)


def _columns(t: ir.Table, window: AsOf, slugs: dict[str, str]) -> dict[str, ir.Value]:
    as_of = window.date_lit()
    gross = t.gross_cents.fill_null(0)
    returned = ibis.least(t.returned_cents.fill_null(0), gross)
    views_90d = t.product_views_90d.fill_null(0)
    orders_90d = t.orders_90d.fill_null(0)
    start = ibis.cases(
        (t.signup_day.isnull(), t.first_day),
        (t.first_day.isnull(), t.signup_day),
        (t.signup_day < t.first_day, t.signup_day),
        else_=t.first_day,
    )
    cols: dict[str, ir.Value] = {
        "customer_id": t.customer_id,
        "first_order_at": t.first_order_at,
        "last_order_at": t.last_order_at,
        "orders": t.orders.fill_null(0),
        "frequency": t.frequency,
        "recency": t.recency,
        "T": t["T"],
        "monetary_value": t.monetary_value,
        "revenue": (gross - returned).cast("float64") / 100.0,
        "gross_revenue": gross.cast("float64") / 100.0,
        "avg_order_value": _ratio(t.gross_cents, t.orders) / 100.0,
        "days_since_last_order": day_diff(as_of, t.last_day),
        "avg_days_between_orders": _ratio(t.recency_days, t.frequency),
        "std_days_between_orders": t.std_days_between_orders,
        "basket_size": _ratio(t.units, t.orders),
        "distinct_categories": t.distinct_categories.fill_null(0),
        "top_category": t.top_category,
        "discount_share": _ratio(t.discounted_cents, t.gross_cents),
        "return_rate": _ratio(returned, t.gross_cents),
        **{f"share_{c}": _ratio(t[f"orders_{c}"], t.orders_known_channel) for c in CHANNELS},
        **{name: t[name] for name in ("country", "region", "city", "age", "age_band", "gender")},
        **{name: t[name].fill_null(False) for name in ("email_marketing", "sms_marketing", "profiling")},
        "tenure_days": day_diff(as_of, start),
    }
    for name in FEATURE_COLUMNS[FEATURE_COLUMNS.index("product_views_7d") :]:
        cols[name] = t[name].fill_null(0) if name != "browse_to_buy_ratio" else _ratio(orders_90d, views_90d)
    for col in slugs.values():
        cols[col] = _ratio(t[f"cents_{col}"].fill_null(0), t.gross_cents)
    return cols


@overload
def build_features(
    workspace: Workspace,
    engine: str | Engine = ...,
    as_of: DateLike | None = ...,
    time_unit: str = ...,
    *,
    return_frame: Literal[True] = ...,
) -> pd.DataFrame: ...


@overload
def build_features(
    workspace: Workspace,
    engine: str | Engine = ...,
    as_of: DateLike | None = ...,
    time_unit: str = ...,
    *,
    return_frame: Literal[False],
) -> ir.Table: ...


def build_features(
    workspace: Workspace,
    engine: str | Engine = "duckdb",
    as_of: DateLike | None = None,
    time_unit: str = "days",
    *,
    return_frame: bool = True,
) -> pd.DataFrame | ir.Table:
    """Compute the feature table, store it as ``customer_features`` and return it.

    On DuckDB the table is computed and stored inside the workspace file in
    one statement; with ``return_frame=False`` no pandas frame is built at
    all, which keeps a 1M-customer build fast and under 2 GB of memory.

    Parameters
    ----------
    workspace : Workspace
        An open, writable workspace.
    engine : {"duckdb", "spark"} or Engine, default="duckdb"
        Where to compute. The result is always stored in the workspace file.
    as_of : date or str, default=None
        Last day of data used; default the date of the latest order.
    time_unit : {"days", "weeks"}, default="days"
        Unit of ``recency`` and ``T``.
    return_frame : bool, default=True
        Return the table as a pandas DataFrame. ``False`` returns the stored
        table as a lazy Ibis table on the workspace instead.

    Returns
    -------
    pandas.DataFrame or ibis.Table
        Sorted by ``customer_id``; ``df.attrs`` carries ``as_of`` (ISO date),
        ``time_unit`` and ``engine``. The same values are stored in the
        workspace metadata as ``features_as_of``, ``features_time_unit`` and
        ``features_engine``.

    Examples
    --------
    >>> import tempfile, os
    >>> from shopseg.workspace import Workspace
    >>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
    >>> _ = ws.con.execute("INSERT INTO orders (order_id, customer_id, ordered_at) VALUES "
    ...     "('o1', 'c1', '2024-01-01 10:00'), ('o2', 'c1', '2024-01-08 09:00')")
    >>> _ = ws.con.execute("INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) "
    ...     "VALUES ('o1', 1, 'p1', 2, 5.0), ('o2', 1, 'p1', 1, 7.5)")
    >>> df = build_features(ws, as_of="2024-01-15", time_unit="weeks")
    >>> df[["customer_id", "frequency", "recency", "T", "monetary_value", "revenue"]].to_dict("records")
    [{'customer_id': 'c1', 'frequency': 1, 'recency': 1.0, 'T': 2.0, 'monetary_value': 7.5, 'revenue': 17.5}]
    >>> ws.meta("features_time_unit"), ws.meta("features_as_of")
    ('weeks', '2024-01-15')
    >>> ws.close()
    """
    check_time_unit(time_unit)
    # both stamps in one pass over each source table (the order lines are hashed once, not twice)
    totals_stamp, stamp = source_stamps(workspace, [order_totals_spec(), features_spec()])
    fresh = is_fresh(workspace, totals_stamp)
    if not workspace.read_only and not fresh:
        # rows written straight into orders/order_lines since the last ingest
        refresh_order_totals(workspace, totals_stamp)
        fresh = True
    owned = not isinstance(engine, Engine)
    eng = get_engine(workspace, engine) if isinstance(engine, str) else engine
    try:
        window = AsOf.of(resolve_as_of(eng, as_of), time_unit)
        slugs = category_slugs(eng)
        measures = store_measures(workspace)
        expr = _assemble(eng, window, slugs, measures, fresh=fresh)
        # one row per customer of the population, whose ids are never NULL
        df = eng.store(expr, workspace, FEATURES_TABLE, normalize=normalize_features, by_customer=True)
    finally:
        if owned:
            eng.close()
    meta = {
        "as_of": window.date.isoformat(),
        "time_unit": time_unit,
        "engine": eng.name,
        "unavailable": ", ".join(k for k, ok in measures.items() if not ok),
    }
    for key, value in meta.items():
        workspace.set_meta(f"features_{key}", value)
    workspace.set_meta(STAMP_KEY, stamp)  # read back by has_fresh_features
    if not return_frame:
        return workspace.ibis.table(FEATURES_TABLE)
    if df is None:
        df = normalize_features(workspace.ibis.table(FEATURES_TABLE).to_pandas())
    df.attrs.update(meta)
    return df


def normalize_features(df: pd.DataFrame) -> pd.DataFrame:
    """Sort by customer and give every engine's output the same pandas dtypes.

    Timestamps become ``datetime64[us]``; integer columns that hold NULLs
    (customers without purchases) become nullable ``Int64``.
    """
    df = df.sort_values("customer_id", kind="stable").reset_index(drop=True)
    for col in ("first_order_at", "last_order_at"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[us]")
    for col in ("frequency", "days_since_last_order", "age", "tenure_days"):
        df[col] = pd.array(df[col], dtype="Int64")
    for col in ("top_category", "country", "region", "city", "age_band", "gender", "customer_id"):
        df[col] = df[col].astype("string").astype(object).where(df[col].notna(), None)
    return df
