"""Time-based churn labels: features as of a cutoff, outcome in the days after it.

For a cutoff date ``c`` and a horizon of ``N`` days, every customer with a
purchase on or before ``c`` gets one row: the customer features as of ``c``
(the values of :func:`shopseg.features.feature_expr`, recency and T in days, computed for the
buyers only by :func:`~shopseg.features.build.buyer_feature_expr`) and

- ``purchases_after``: purchase days in ``(c, c + N]`` (the holdout count of
  :func:`shopseg.features.calibration_holdout_split`, so a purchase is what the
  features call a purchase);
- ``churned``: 1 when ``purchases_after == 0``, else 0.

Nothing after ``c`` leaks into the features; the label needs the data to reach
``c + N`` (the latest order date), otherwise a quiet customer would look
churned only because the data stop: that raises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from shopseg.errors import InvalidParameterError
from shopseg.features.asof import AsOf, DateLike, parse_date
from shopseg.features.build import buyer_feature_expr, resolve_as_of
from shopseg.features.purchases import purchase_base

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine

__all__ = ["churn_labels", "latest_order_date", "buyer_summary", "sample_filter", "check_horizon", "MIN_T_DAYS"]

#: T of a customer whose first purchase is on the as-of date (0 days) is floored at half a day.
MIN_T_DAYS = 0.5


def latest_order_date(engine: Engine) -> dt.date:
    """Date of the latest order (``SchemaError`` when there is none)."""
    return resolve_as_of(engine, None)


def churn_labels(
    engine: Engine,
    cutoff: DateLike,
    horizon_days: int = 90,
    *,
    columns: Sequence[str] | None = None,
    fresh: bool | None = None,
    sample: float | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Buyers' features as of ``cutoff`` with the label "no purchase in (cutoff, cutoff + horizon_days]".

    Parameters
    ----------
    engine : Engine
        Engine over the workspace (``get_engine(ws, "duckdb")``).
    cutoff : date or str
        Last day the features may see.
    horizon_days : int, default=90
        Length of the outcome window in days.
    columns : list of str, default=None
        Feature columns to compute (``customer_id`` and ``orders`` always come); None: all of them.
        Fewer columns make a smaller, faster query at a million customers.
    fresh : bool, default=None
        Whether the stored ``order_totals`` are fresh, when the caller has checked
        (:func:`~shopseg.features.order_totals.is_fresh`); None: checked here.
    sample : float, default=None
        Keep each buyer with this probability (0 < sample <= 1), chosen by a hash of ``customer_id`` and
        ``seed`` (:func:`sample_filter`): the same buyers on every run. The filter is applied to the
        purchases the query starts from, so the engine computes the features of the sample only.
        None: every buyer.
    seed : int, default=0
        Seed of ``sample``.

    Returns
    -------
    pandas.DataFrame
        The feature columns of the buyers (``orders > 0``), then
        ``purchases_after`` and ``churned`` (0/1), sorted by ``customer_id``;
        ``attrs`` hold ``cutoff``, ``label_end`` and ``horizon_days``.

    Raises
    ------
    InvalidParameterError
        ``horizon_days`` < 1, a bad date, or ``cutoff + horizon_days`` after the latest order date.
    SchemaError
        The workspace has no orders.
    """
    horizon_days = check_horizon(horizon_days)
    start = parse_date(cutoff, "cutoff")
    end = start + dt.timedelta(days=horizon_days)
    last = latest_order_date(engine)
    if end > last:
        raise InvalidParameterError(
            f"The 'cutoff' parameter must leave {horizon_days} days of data after it (the data end on {last}). "
            f"Got {start} instead. Hint: use a cutoff on or before {last - dt.timedelta(days=horizon_days)}."
        )
    # The purchases up to the label window's end, read once (one freshness check of the stored
    # order_totals and purchase_days); the features see the part on or before the cutoff.
    cut = AsOf.of(start, "days")
    orders, days = purchase_base(engine, AsOf.of(end, "days"), fresh)
    if sample is not None:
        orders, days = (
            orders.filter(sample_filter(orders.customer_id, sample, seed)),
            days.filter(sample_filter(days.customer_id, sample, seed)),
        )
    base = orders.filter(orders.ordered_at < cut.cutoff_lit()), days.filter(days.day <= cut.date_lit())
    expr = buyer_feature_expr(engine, cut, base)  # the buyers of feature_expr, without its population
    if columns is not None:
        expr = expr.select(*dict.fromkeys(["customer_id", "orders", *columns]))
    # purchase days in (cutoff, end]: calibration_holdout_split's frequency_holdout
    later = days.filter(days.day > cut.date_lit())
    later = later.group_by("customer_id").aggregate(_after=later.count()).rename(_key="customer_id")
    joined = expr.left_join(later, expr.customer_id == later._key)
    after = joined._after.fill_null(0).cast("int64")
    labelled = joined.select(*expr.columns, purchases_after=after, churned=(after == 0).cast("int64"))
    # one query: features, holdout counts and the join, sorted by the engine (no pandas merge of 1M rows)
    out = engine.execute(labelled.order_by("customer_id"))
    out.attrs.update({"cutoff": start.isoformat(), "label_end": end.isoformat(), "horizon_days": horizon_days})
    return out


#: The hash of a sampled key is taken modulo this prime; a buyer is kept when the remainder is below
#: ``sample x _SAMPLE_MODULUS`` (so fractions are resolved to about 1e-6).
_SAMPLE_MODULUS = 1_000_003


def sample_filter(key: ir.Column, fraction: float, seed: int) -> ir.BooleanColumn:
    """True for a seeded pseudo-random ``fraction`` of the values of ``key``: the engine's hash of
    ``"<key>:<seed>"`` modulo a prime, below ``fraction`` of it. Deterministic (the same keys on every run
    of the same engine), and a filter the engine can push down to its scans."""
    if not 0 < fraction <= 1 or isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidParameterError(
            f"The 'sample' parameter must be in (0, 1] and 'seed' an int. Got {fraction!r} and {seed!r} instead."
        )
    hashed = (key.cast("string") + f":{seed}").hash()
    return (hashed % _SAMPLE_MODULUS).abs() < round(fraction * _SAMPLE_MODULUS)


def buyer_summary(features: pd.DataFrame, days_per_unit: float = 1.0) -> pd.DataFrame:
    """``customer_id, frequency, recency, T, monetary_value`` of the buyers in a feature frame, as floats.

    ``T`` is floored at :data:`MIN_T_DAYS` (in ``days_per_unit`` units): a customer
    who first bought on the as-of date has ``T = 0``, which the purchase models
    cannot take; half a day of history is what she has. ``monetary_value`` is 0
    for one-order customers (the spend model ignores it when frequency is 0).
    """
    buyers = features[features["orders"] > 0]
    out = pd.DataFrame({"customer_id": buyers["customer_id"].to_numpy()})
    for col in ("frequency", "recency", "T", "monetary_value"):
        out[col] = pd.to_numeric(buyers[col], errors="coerce").astype("float64").fillna(0.0).to_numpy()
    out["T"] = out["T"].clip(lower=MIN_T_DAYS / days_per_unit)
    out["recency"] = out[["recency", "T"]].min(axis=1)
    return out


def check_horizon(horizon_days: object) -> int:
    """``horizon_days`` as an int >= 1, or ``InvalidParameterError``."""
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise InvalidParameterError(f"The 'horizon_days' parameter must be an int >= 1. Got {horizon_days!r} instead.")
    return horizon_days
