"""``shopseg predict``: per-customer predictions stored in the workspace as ``customer_predictions``.

:func:`predict_workspace` computes the customer features as of the features'
as-of date (``features_as_of``, else the latest order date; recency and T in
days), fits a purchase model (``model``: MBG/NBD by default, BG/NBD or
Pareto/NBD) and a :class:`~shopseg.models.GammaGammaModel` on the buyers, and
writes one row per buyer (:data:`PREDICTION_COLUMNS`):

- ``p_alive``; ``expected_purchases`` over ``horizon_days``; ``expected_spend`` per order;
  ``clv``: discounted value of the expected purchases over the horizon in monthly
  steps (``discount_rate`` per month, ``margin``), as :func:`~shopseg.models.customer_lifetime_value`;
- ``purchases_p10/_p90``, ``clv_p10/_p90``: the customer's own 80% predictive
  interval of purchases and of (discounted) value in the horizon
  (:mod:`shopseg.models.clv.predictive`): P(X = k | history) from the purchase
  model, spend from the Gamma-Gamma posterior of her mean order value. It starts at
  her 10th percentile (so ``clv_p10`` is what she brings with 90% probability, given the
  models) and holds 80% of her distribution; ``clv`` need not lie inside (for most
  customers it is the mean of a skewed distribution whose 10th percentile is 0);
- ``expected_purchases_param_p10/_p90``, ``clv_param_p10/_p90``: the *parameter*
  band, an 80% interval of the expected value from a nonparametric bootstrap: the
  buyers are resampled with replacement ``n_bootstrap`` times, both models refitted,
  and each customer's expectation recomputed; the 10th/90th percentiles are kept and
  widened if needed so that ``p10 <= point <= p90``. It measures how well the store's
  data pin the models down (wide for a small store, very narrow for a large one), not
  what one customer will do;
- ``churn_probability``: P(no purchase in the next ``churn_days`` days). From the
  :class:`~shopseg.models.churn.ChurnModel` trained on the previous window
  (features as of ``as_of - churn_days``, labels from ``(as_of - churn_days, as_of]``)
  when that window has at least :data:`MIN_CHURN_ROWS` buyers and
  :data:`MIN_CHURN_CLASS` of each outcome (above :data:`MAX_CHURN_TRAIN` buyers it is trained on a
  seeded hash sample of at most that many, drawn in the query by
  :func:`~shopseg.models.churn.labels.sample_filter`, and scores every buyer); otherwise from the purchase model,
  ``P(X(churn_days) = 0 | history)`` (which is ``1 - p_alive`` plus the chance a live
  customer does not buy in time);
- ``churn_risk``: ``low`` below 0.5, ``medium`` in [0.5, 0.8), ``high`` from 0.8 (:data:`CHURN_THRESHOLDS`);
- ``p_next_order`` (an order within the horizon), ``next_order_date`` and its 80% interval
  ``next_order_p10_date``/``next_order_p90_date``, given an order within the horizon
  (see :mod:`shopseg.models.clv.next_order`);
- ``uncertainty``: ``ok``; ``small_store`` below :data:`SMALL_STORE_BUYERS` buyers
  (predictions made, intervals wide: read them); ``fallback`` when a model could
  not be fitted as such (a shrunken purchase model, population-mean spend, or no bootstrap
  replicate succeeded). Small stores are flagged, never refused.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from shopseg.engine import Engine, get_engine
from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.features import FEATURES_TABLE, feature_expr
from shopseg.features.asof import DateLike, parse_date
from shopseg.features.build import resolve_as_of, store_measures
from shopseg.features.stamp import has_fresh_features
from shopseg.models.churn import CHURN_FEATURES, ChurnModel, churn_labels
from shopseg.models.churn.labels import buyer_summary, check_horizon
from shopseg.models.clv.registry import DEFAULT_PURCHASE_MODEL, model_key
from shopseg.predict.bootstrap import Bootstrap
from shopseg.predict.clv_fit import customer_intervals, fit_purchases, kept_share, purchase_values

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = [
    "predict_workspace",
    "PREDICTIONS_TABLE",
    "PREDICTION_COLUMNS",
    "CHURN_THRESHOLDS",
    "SMALL_STORE_BUYERS",
    "MIN_CHURN_ROWS",
    "MIN_CHURN_CLASS",
    "MAX_CHURN_TRAIN",
]

PREDICTIONS_TABLE = "customer_predictions"
PREDICTION_COLUMNS = [
    "customer_id",
    "p_alive",
    "expected_purchases",
    "purchases_p10",
    "purchases_p90",
    "expected_purchases_param_p10",
    "expected_purchases_param_p90",
    "expected_spend",
    "clv",
    "clv_p10",
    "clv_p90",
    "clv_param_p10",
    "clv_param_p90",
    "churn_probability",
    "churn_risk",
    "p_next_order",
    "next_order_date",
    "next_order_p10_date",
    "next_order_p90_date",
    "uncertainty",
]
CHURN_THRESHOLDS = (0.5, 0.8)
SMALL_STORE_BUYERS = 500
MIN_CHURN_ROWS = 200
MIN_CHURN_CLASS = 20
#: The churn model trains on at most this many buyers of the previous window (a seeded hash sample of
#: the buyers, drawn in the query); gradient boosting gains little from more, and it costs time at 1M buyers.
MAX_CHURN_TRAIN = 200_000
#: Rows per record batch of the stored table (DuckDB inserts batches in parallel, in their order).
_BATCH = 122_880
#: The feature columns a prediction reads: the purchase summary, the order value and the churn inputs.
_FEATURES = list(
    dict.fromkeys(
        [
            "customer_id",
            "orders",
            "frequency",
            "recency",
            "T",
            "monetary_value",
            "avg_order_value",
            "gross_revenue",
            *CHURN_FEATURES,
        ]
    )
)


def _churn_model(
    engine: Engine, as_of: dt.date, churn_days: int, feats: pd.DataFrame, seed: int, fresh: bool | None = None
) -> np.ndarray | None:
    """Churn probabilities from the supervised model trained on the previous window, or None when that
    window is too small or one-sided (the caller then takes the purchase model's).

    ``fresh``: whether the stored order totals are fresh (:func:`_freshness`)."""
    # above MAX_CHURN_TRAIN buyers today, a seeded hash sample of about that many (fewer buyers had bought
    # by the previous window's cutoff): the query computes the sample's features only
    sample = MAX_CHURN_TRAIN / len(feats) if len(feats) > MAX_CHURN_TRAIN else None
    try:
        train = churn_labels(
            engine,
            as_of - dt.timedelta(days=churn_days),
            churn_days,
            columns=CHURN_FEATURES,
            fresh=fresh,
            sample=sample,
            seed=seed,
        )
    except (InvalidParameterError, SchemaError):
        return None
    if (
        len(train) >= MIN_CHURN_ROWS
        and train["churned"].value_counts().min() >= MIN_CHURN_CLASS
        and train["churned"].nunique() == 2
    ):
        model = ChurnModel(random_state=seed).fit(train, train["churned"])
        del train
        return model.predict_proba(feats)
    return None


def _flat_p_alive(p_alive: np.ndarray) -> list[str]:
    """A note when P(alive) is near 1 for nearly every buyer (Online Retail: the fitted dropout runs to ~0),
    where it says nothing about who churns; empty otherwise."""
    share = float(np.mean(p_alive > 0.99)) if len(p_alive) else 0.0
    if share < 0.95:
        return []
    return [
        f"P(alive) is above 0.99 for {share:.0%} of buyers: the model finds almost no dropout in this history, "
        "so p_alive cannot rank who churns here; churn_probability and churn_risk can"
    ]


def churn_risk(probability: np.ndarray) -> np.ndarray:
    """``low`` / ``medium`` / ``high`` at :data:`CHURN_THRESHOLDS`."""
    low, high = CHURN_THRESHOLDS
    return np.where(probability >= high, "high", np.where(probability >= low, "medium", "low"))


def _freshness(ws: Workspace) -> tuple[bool, str | None]:
    """Whether the stored order totals are fresh, and the features' source stamp (None without a feature
    table): both stamps from one scan of each source table (:func:`~shopseg.features.stamp.source_stamps`),
    where checking each alone hashes the orders and order lines twice."""
    from shopseg.features.order_totals import is_fresh, order_totals_spec
    from shopseg.features.stamp import features_spec, source_stamps

    has_features = ws.has_table(FEATURES_TABLE)
    stamps = source_stamps(ws, [order_totals_spec(), *([features_spec()] if has_features else [])])
    return is_fresh(ws, stamps[0]), stamps[1] if has_features else None


def _buyer_features(ws: Workspace, engine: Engine, day: dt.date, stamp: str | None = None) -> pd.DataFrame:
    """The buyers' :data:`_FEATURES` as of ``day``, by ``customer_id``: the stored table when it is fresh, else
    queried. ``stamp``: the features' source stamp when the caller has made it."""
    if has_fresh_features(ws, day, "days", stamp):
        expr = ws.ibis.table(FEATURES_TABLE)
        expr = expr.filter(expr.orders > 0).select(*_FEATURES).order_by("customer_id")
        # through Arrow, a column at a time, each freed as it is converted: 0.5 s and 570 MB of process at 1M
        # buyers, where DuckDB's own frame takes 0.8-1.3 s and peaks at 810 MB (Ibis' to_pandas: 3x the time);
        # every reader coerces dtypes
        table = ws.con.execute(ws.ibis.compile(expr)).to_arrow_table()
        return table.to_pandas(split_blocks=True, self_destruct=True)
    expr = feature_expr(engine, as_of=day, time_unit="days")
    return engine.execute(expr.filter(expr.orders > 0).select(*_FEATURES).order_by("customer_id"))


def _as_of(ws: Workspace, engine: Engine, as_of: DateLike | None) -> dt.date:
    if as_of is None and ws.has_table(FEATURES_TABLE):
        as_of = ws.meta("features_as_of")
    return resolve_as_of(engine, parse_date(as_of, "as_of") if as_of is not None else None)


def predict_workspace(
    ws: Workspace,
    engine: str | Engine = "duckdb",
    horizon_days: int = 365,
    *,
    as_of: DateLike | None = None,
    churn_days: int = 90,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    n_bootstrap: int = 30,
    seed: int = 0,
    store: bool = True,
    model: str = DEFAULT_PURCHASE_MODEL,
    penalizer: float = 0.0,
) -> pd.DataFrame:
    """Predict every buyer's value, churn and next order; store ``customer_predictions`` (module docstring).

    Parameters
    ----------
    ws : Workspace
        An open workspace (writable when ``store``).
    engine : {"duckdb", "spark"} or Engine, default="duckdb"
    horizon_days : int, default=365
        Horizon of ``expected_purchases``, ``clv`` and the next order.
    as_of : date or str, default=None
        Default: ``features_as_of`` when a feature table exists, else the latest order date.
    churn_days : int, default=90
        Churn means no purchase in this many days.
    discount_rate : float, default=0.01
        Per month (1% a month is about 12.7% a year).
    margin : float, default=1.0
        Profit margin applied to spend.
    n_bootstrap : int, default=30
        Bootstrap refits behind the ``_param_p10``/``_param_p90`` columns (0: no parameter band,
        p10 = 0 and p90 = 2 x point, flagged ``fallback``).
    seed : int, default=0
        Seed of the bootstrap and of the churn model.
    store : bool, default=True
        Write the table and the ``predictions_*`` workspace meta.
    model : {"mbgnbd", "bgnbd", "pareto"}, default="mbgnbd"
        Purchase model behind ``p_alive``, purchases, CLV and the next order
        (``shopseg predict run --model``; see docs/predictions.md for the backtests behind the default).
    penalizer : float, default=0.0
        L2 penalty of the purchase and spend fits (``--penalizer``); > 0 shrinks a fit that runs to a boundary.

    Returns
    -------
    pandas.DataFrame
        :data:`PREDICTION_COLUMNS`, one row per buyer, sorted by ``customer_id``;
        ``attrs``: ``as_of``, ``horizon_days``, ``churn_days``, ``churn_source``,
        ``uncertainty``, ``fallback`` (reasons), ``bootstrap_replicates``, ``warnings`` (the
        fit's convergence warnings, e.g. a Hessian that is not positive definite), ``model``, ``params``.

    Raises
    ------
    InvalidParameterError
        Bad horizon, dates or rates.
    SchemaError
        No orders, or no buyer on the as-of date.
    """
    horizon_days, churn_days = check_horizon(horizon_days), check_horizon(churn_days)
    model = model_key(model)
    if not (discount_rate >= 0 and margin > 0 and isinstance(n_bootstrap, int) and n_bootstrap >= 0 and penalizer >= 0):
        raise InvalidParameterError(
            "predict_workspace: expected discount_rate >= 0, margin > 0, n_bootstrap an int >= 0 and penalizer >= 0. "
            f"Got {discount_rate!r}, {margin!r}, {n_bootstrap!r}, {penalizer!r} instead."
        )
    eng = get_engine(ws, engine) if isinstance(engine, str) else engine
    day = _as_of(ws, eng, as_of)
    fresh, stamp = _freshness(ws)
    feats = _buyer_features(ws, eng, day, stamp)
    if feats.empty:
        raise SchemaError(
            f"{ws.path}: no customer has a purchase on or before {day}; nothing to predict.", table="orders"
        )
    summary = buyer_summary(feats)
    summary["order_value"] = pd.to_numeric(feats["avg_order_value"], errors="coerce").fillna(0.0).to_numpy()
    kept = kept_share(feats)  # the spend model learns what buyers keep: values net of their returns
    summary["monetary_value"] *= kept
    summary["order_value"] *= kept
    # The churn model (a DuckDB query, then scikit-learn's booster: both release the GIL) runs in a
    # second thread beside the purchase model's fits and intervals (NumPy); it is the only user of the
    # workspace connection until it is joined. Once the churn model has scored the buyers, that thread
    # takes bootstrap replicates too, then half the blocks of the parameter band.
    with ThreadPoolExecutor(1, thread_name_prefix="shopseg-churn") as pool:
        churned = pool.submit(_churn_model, eng, day, churn_days, feats, seed, fresh)
        del feats  # the worker holds the feature frame until it has scored it
        fit = fit_purchases(summary, model, penalizer)
        horizon = float(horizon_days)
        boot = Bootstrap(summary, n_bootstrap, seed, horizon, discount_rate, model, penalizer, start=fit)
        pool.submit(boot.help)
        try:
            point = fit.bg.predict(summary, horizon=horizon, interval=(0.1, 0.9))
            expected, clv = purchase_values(fit, summary, horizon, discount_rate, margin)
            p_lo, p_hi, v_lo, v_hi = customer_intervals(fit, summary, horizon, expected, clv, margin)
            draws = boot.run()
        finally:
            boot.close()
        # the band's blocks on both threads once the churn model is done (else all here, rather than wait)
        e_lo, e_hi, c_lo, c_hi = draws.intervals(summary, expected, clv, margin, pool=pool if churned.done() else None)
        churn_p = churned.result()
    churn_source = "churn_model"
    if churn_p is None:
        churn_p, churn_source = fit.bg.probability_of_purchases(0, float(churn_days), summary), str(fit.model)
    replicates = draws.replicates
    del draws  # (replicates x distinct rows) twice: freed before the output frame is built
    base = pd.Timestamp(day)

    def date(days: pd.Series) -> pd.Series:
        return (base + pd.to_timedelta(np.round(days.to_numpy()), unit="D")).astype("datetime64[us]")

    fallback = [*fit.fallback, *([] if replicates else ["no bootstrap replicate could be fitted"])]
    flag = "fallback" if fallback else ("small_store" if len(summary) < SMALL_STORE_BUYERS else "ok")
    out = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].astype(str),
            "p_alive": point["p_alive"].to_numpy(),
            "expected_purchases": expected,
            "purchases_p10": p_lo,
            "purchases_p90": p_hi,
            "expected_purchases_param_p10": e_lo,
            "expected_purchases_param_p90": e_hi,
            "expected_spend": fit.spend(summary),
            "clv": clv,
            "clv_p10": v_lo,
            "clv_p90": v_hi,
            "clv_param_p10": c_lo,
            "clv_param_p90": c_hi,
            "churn_probability": np.clip(churn_p, 0.0, 1.0),
            "churn_risk": churn_risk(churn_p),
            "p_next_order": point["p_next_order"].to_numpy(),
            "next_order_date": date(point["next_order_expected"]),
            "next_order_p10_date": date(point["next_order_lower"]),
            "next_order_p90_date": date(point["next_order_upper"]),
            "uncertainty": flag,
        }
    )[PREDICTION_COLUMNS]
    unavailable = "" if store_measures(ws)["prices"] else "spend and CLV: the store has no prices"
    if unavailable:  # unavailable, not zero (issue 15): purchases, P(alive), churn and next order still hold
        out[[c for c in PREDICTION_COLUMNS if c.startswith(("clv", "expected_spend"))]] = np.nan
    out.attrs.update(
        {
            "as_of": day.isoformat(),
            "horizon_days": horizon_days,
            "churn_days": churn_days,
            "churn_source": churn_source,
            "uncertainty": flag,
            "fallback": "; ".join(fallback),
            "bootstrap_replicates": replicates,
            "warnings": "; ".join([*fit.notes, *_flat_p_alive(out["p_alive"].to_numpy())]),
            "params": dict(fit.bg.params_),
            "buyers": len(out),
            "model": model,
            "unavailable": unavailable,
        }
    )
    if store:
        _store(ws, out)
    return out


def _store(ws: Workspace, out: pd.DataFrame) -> None:
    import pyarrow as pa

    # DuckDB reads an Arrow table faster than it scans a pandas frame (same types, NaN stored as NULL alike),
    # and one in several record batches on every thread (0.7 s at 1M buyers where one batch takes 1.1 s)
    whole = pa.Table.from_pandas(out, preserve_index=False)
    table = pa.Table.from_batches(whole.to_batches(max_chunksize=_BATCH), schema=whole.schema)
    with ws.transaction():
        ws.write_table(PREDICTIONS_TABLE, table)
        keys = (
            "as_of",
            "horizon_days",
            "churn_days",
            "churn_source",
            "uncertainty",
            "fallback",
            "bootstrap_replicates",
            "warnings",
            "model",
        )
        for key in keys:
            ws.set_meta(f"predictions_{key}", str(out.attrs[key]))
        ws.set_meta("predictions_created_at", dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat())
