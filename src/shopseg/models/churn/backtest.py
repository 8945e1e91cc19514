"""Time-based backtest of the churn model against two baselines.

With a test cutoff ``c`` and a horizon of ``N`` days:

- **train**: features as of ``c - N``, labels from ``(c - N, c]``;
- **test**: features as of ``c``, labels from ``(c, c + N]`` (never seen in training).

Four scores are compared on the test customers, higher = more likely to churn:

- ``churn_model``: :class:`~shopseg.models.churn.ChurnModel` fitted on the train rows;
- ``p_alive``: ``1 - P(alive)`` from the purchase model (``purchase_model``, default
  the MBG/NBD) fitted on the test customers' own history up to ``c`` (no label is used);
- ``no_purchase``: the same model's ``P(X(N) = 0 | history)``, the probability of the
  labelled event itself (what ``shopseg predict`` uses when no churn model can be trained);
- ``recency``: ``days_since_last_order`` as of ``c``. Its AUC is that of the raw rank;
  its probabilities (for the Brier score and reliability bins) come from an isotonic
  fit of churn on recency in the train rows.

Each gets the ROC AUC (:func:`sklearn.metrics.roc_auc_score`), the Brier score
and 10 equal-width reliability bins (mean predicted vs observed churn rate).
``1 - P(alive)`` is not the probability of "no purchase in N days" (a live
customer may still not buy): its AUC is the fair comparison, its Brier score is
reported but expected to be worse. ``p_alive_auc`` in ``info`` gives the AUC of
``1 - P(alive)`` under each purchase model (BG/NBD, MBG/NBD, Pareto/NBD).
Verdicts carry a paired bootstrap interval of the AUC difference
(:mod:`shopseg.models.compare`).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from shopseg.errors import ConvergenceWarning, DataQualityWarning, SchemaError
from shopseg.features.asof import DateLike, parse_date
from shopseg.models.churn.labels import buyer_summary, churn_labels, latest_order_date
from shopseg.models.churn.model import ChurnModel
from shopseg.models.clv.registry import (
    DEFAULT_PURCHASE_MODEL,
    MODEL_LABELS,
    PURCHASE_MODELS,
    make_purchase_model,
    model_key,
)
from shopseg.models.compare import N_BOOTSTRAP, verdict

if TYPE_CHECKING:
    from shopseg.engine import Engine

__all__ = ["ChurnBacktest", "churn_backtest", "reliability_table"]

SCORES = ("churn_model", "p_alive", "no_purchase", "recency")


@dataclass
class ChurnBacktest:
    """Result of :func:`churn_backtest`.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per score (``churn_model``, ``p_alive``, ``no_purchase``, ``recency``): ``auc``, ``brier``.
    reliability : pandas.DataFrame
        ``score``, ``bin``, ``customers``, ``mean_predicted``, ``observed_rate``.
    predictions : pandas.DataFrame
        Test customers: ``customer_id``, ``churned`` and one column per score.
    info : dict
        Cutoffs, horizon, row counts and churn rates.
    """

    metrics: pd.DataFrame
    reliability: pd.DataFrame
    predictions: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def verdicts(self) -> list[str]:
        """Plain-words comparisons by AUC, each with the 95% bootstrap interval of the difference.

        The churn model against 1 - P(alive) and against recency, then 1 - P(alive) against recency.
        """
        label = MODEL_LABELS[str(self.info.get("purchase_model", DEFAULT_PURCHASE_MODEL))]
        auc = self.metrics["auc"]
        ci = self.info.get("auc_ci", {})
        pairs = [
            ("churn_model", "p_alive", "churn model", f"the {label} 1 - P(alive) baseline"),
            ("churn_model", "recency", "churn model", "the recency-only baseline"),
            ("p_alive", "recency", f"{label} 1 - P(alive)", "the recency-only baseline"),
        ]
        out = []
        for a, b, name, other in pairs:
            interval = ci.get(f"{a}-{b}", (float("nan"), float("nan")))
            out.append(verdict(name, other, "AUC", float(auc[a]), float(auc[b]), interval))
        return out


def reliability_table(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Equal-width reliability bins of ``prob`` in [0, 1]: customers, mean predicted, observed rate (empty bins dropped)."""
    idx = np.minimum((np.asarray(prob) * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": idx, "p": prob, "y": y})
    out = frame.groupby("bin").agg(customers=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
    out.index = [f"{b / bins:.1f}-{(b + 1) / bins:.1f}" for b in out.index]
    return out.rename_axis("bin").reset_index()


def _default_cutoff(engine: Engine, horizon_days: int) -> dt.date:
    return latest_order_date(engine) - dt.timedelta(days=horizon_days)


def _purchase_scores(
    test: pd.DataFrame, horizon_days: int, chosen: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """1 - P(alive) under every purchase model, and P(no purchase in the horizon) under ``chosen``."""
    summary = buyer_summary(test)
    dead, quiet = {}, {}
    for key in PURCHASE_MODELS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)  # standard errors are not used here
            model = make_purchase_model(key, fallback="penalized").fit(summary)
        dead[key] = 1.0 - model.conditional_probability_alive(summary)
        if key == chosen:
            quiet[key] = model.probability_of_purchases(0, float(horizon_days), summary)
    return dead, quiet


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC from average ranks (Mann-Whitney), equal to ``roc_auc_score`` and faster to repeat."""
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = stats.rankdata(score)
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def _auc_intervals(y: np.ndarray, scores: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """95% paired bootstrap intervals of the AUC differences shown in the verdicts."""
    pairs = (("churn_model", "p_alive"), ("churn_model", "recency"), ("p_alive", "recency"))
    rng = np.random.default_rng(0)
    draws: dict[str, list[float]] = {f"{a}-{b}": [] for a, b in pairs}
    for _ in range(N_BOOTSTRAP):
        rows = rng.integers(0, len(y), len(y))
        auc = {k: _auc(y[rows], scores[k][rows]) for k in ("churn_model", "p_alive", "recency")}
        for a, b in pairs:
            if np.isfinite(auc[a] - auc[b]):
                draws[f"{a}-{b}"].append(auc[a] - auc[b])
    out = {}
    for key, values in draws.items():
        lo, hi = np.quantile(values, [0.025, 0.975]) if values else (np.nan, np.nan)
        out[key] = (float(lo), float(hi))
    return out


def churn_backtest(
    engine: Engine,
    cutoff: DateLike | None = None,
    horizon_days: int = 90,
    *,
    model: ChurnModel | None = None,
    purchase_model: str = DEFAULT_PURCHASE_MODEL,
) -> ChurnBacktest:
    """Train on ``(cutoff - N)``, test on ``cutoff`` (see the module docstring).

    Parameters
    ----------
    engine : Engine
        Engine over the workspace.
    cutoff : date or str, default=None
        Test cutoff; default the latest order date minus ``horizon_days``.
    horizon_days : int, default=90
        N: churn means no purchase in the N days after a cutoff.
    model : ChurnModel, default=None
        The classifier to evaluate (default ``ChurnModel()``, seeded).
    purchase_model : {"mbgnbd", "bgnbd", "pareto"}, default="mbgnbd"
        The model behind the ``p_alive`` and ``no_purchase`` scores.

    Returns
    -------
    ChurnBacktest

    Raises
    ------
    InvalidParameterError
        Bad dates or a cutoff too late for its labels.
    SchemaError
        No orders, or a period whose labels are all one class.
    """
    chosen = model_key(purchase_model)
    test_cut = parse_date(cutoff, "cutoff") if cutoff is not None else _default_cutoff(engine, horizon_days)
    train_cut = test_cut - dt.timedelta(days=horizon_days)
    train = churn_labels(engine, train_cut, horizon_days)
    test = churn_labels(engine, test_cut, horizon_days)
    for name, part in (("train", train), ("test", test)):
        if part["churned"].nunique() < 2:
            raise SchemaError(
                f"churn backtest: the {name} period (cutoff {part.attrs['cutoff']}) has {len(part)} buyers, all labelled "
                f"{'churned' if len(part) and part['churned'].iloc[0] else 'active'}. Expected both outcomes. "
                "Hint: choose another --calibration-end or --churn-days.",
                table="orders",
            )
    fitted = (model or ChurnModel()).fit(train, train["churned"])
    y = test["churned"].to_numpy()
    dead, quiet = _purchase_scores(test, horizon_days, chosen)
    scores = {
        "churn_model": fitted.predict_proba(test),
        "p_alive": dead[chosen],
        "no_purchase": quiet[chosen],
        "recency": test["days_since_last_order"].astype(float).to_numpy(),
    }
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(train["days_since_last_order"].astype(float), train["churned"])
    probs = {**scores, "recency": iso.predict(scores["recency"])}
    metrics = pd.DataFrame(
        {
            "auc": [roc_auc_score(y, scores[k]) for k in SCORES],
            "brier": [brier_score_loss(y, np.clip(probs[k], 0, 1)) for k in SCORES],
        },
        index=list(SCORES),
    )
    reliability = pd.concat(
        [reliability_table(y, np.clip(probs[k], 0, 1)).assign(score=k) for k in SCORES], ignore_index=True
    )[["score", "bin", "customers", "mean_predicted", "observed_rate"]]
    predictions = pd.DataFrame({"customer_id": test["customer_id"], "churned": y, **{k: probs[k] for k in SCORES}})
    info: dict[str, Any] = {
        "train_cutoff": train_cut.isoformat(),
        "test_cutoff": test_cut.isoformat(),
        "horizon_days": horizon_days,
        "train_customers": len(train),
        "test_customers": len(test),
        "train_churn_rate": float(train["churned"].mean()),
        "test_churn_rate": float(y.mean()),
        "purchase_model": chosen,
        "p_alive_auc": {k: float(roc_auc_score(y, v)) for k, v in dead.items()},
        "auc_ci": _auc_intervals(y, scores),
    }
    return ChurnBacktest(metrics, reliability, predictions, info)
