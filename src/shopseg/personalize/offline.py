"""Offline evaluation: hold out each customer's last order, recommend from the rest, compare with two baselines.

For every customer with at least two orders, the last order is held out (the
**test holdout**, :func:`shopseg.personalize.ranking.holdout_last_order`); the
models learn from every other purchase (and from product views before that
order). The blend's weights are chosen on a validation split of the training
purchases only (:func:`shopseg.personalize.blend.choose_blend`), never on the
test holdout. Three models are then scored on the same customers:

- the **recommender** with the chosen blend;
- **global popularity**: the store's best sellers, past purchases included or
  excluded as the chosen blend does;
- **buy again** (personal popularity): the customer's own products by how many
  of their orders held them, then the best sellers.

Per model: hit rate@k, NDCG@k (:mod:`shopseg.personalize.ranking`), each with a
95% bootstrap interval over customers (1,000 seeded resamples), and coverage
(the share of the training catalogue recommended to at least one customer).
Against each baseline, the paired bootstrap interval of the difference gives the
verdict: beats, loses or no significant difference
(:mod:`shopseg.personalize.significance`).

Some stores cannot be evaluated this way: when the training catalogue holds no
more than ``k`` products (CDNOW has one) every list can hold the whole catalogue,
and when every model's top-k holds every customer's held-out products there is
nothing left to rank. :attr:`Evaluation.cannot_compare` then says why, and
:meth:`Evaluation.verdict_lines` says "cannot tell the models apart" instead of a
verdict; :func:`evaluate_workspace` does not store a blend chosen on such data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from shopseg.errors import NotFound
from shopseg.personalize.baselines import BuyAgainRecommender, PopularityRecommender
from shopseg.personalize.blend import Blend, choose_blend
from shopseg.personalize.interactions import PURCHASES_SQL, build_interactions
from shopseg.personalize.ranking import holdout_last_order, rank_metrics, truth_matrix, views_before
from shopseg.personalize.significance import Comparison, bootstrap, paired_interval
from shopseg.workspace import Workspace

__all__ = ["Evaluation", "EvaluationResult", "holdout_last_order", "evaluate_recommenders", "evaluate_workspace"]

MODEL = "recommender (chosen blend)"
GLOBAL = "global popularity"
BUY_AGAIN = "buy again (personal popularity)"


@dataclass(frozen=True)
class EvaluationResult:
    """Figures of one model on the last-order holdout, with 95% bootstrap intervals over customers."""

    model: str
    customers: int
    hit_rate: float
    coverage: float
    k: int
    ndcg: float = float("nan")
    hit_rate_ci: tuple[float, float] = (float("nan"), float("nan"))
    ndcg_ci: tuple[float, float] = (float("nan"), float("nan"))

    def as_row(self) -> dict[str, object]:
        return {
            "model": self.model,
            "customers": self.customers,
            f"hit_rate@{self.k}": self.hit_rate,
            f"hit_rate@{self.k}_ci": self.hit_rate_ci,
            f"ndcg@{self.k}": self.ndcg,
            f"ndcg@{self.k}_ci": self.ndcg_ci,
            "coverage": self.coverage,
        }


@dataclass(frozen=True)
class Evaluation:
    """The three models' figures, the model's comparisons with each baseline, and the blend it used."""

    results: list[EvaluationResult]
    comparisons: list[Comparison]
    blend: Blend
    purchases: int = 0
    n_boot: int = 1000
    seed: int = 0
    cannot_compare: str = ""

    def verdict_lines(self) -> list[str]:
        """One sentence per (metric, baseline), e.g. ``hit rate@10: beats global popularity (+9.5 points, ...)``;
        only ``"cannot tell the models apart: <why>"`` when :attr:`cannot_compare` is set."""
        if self.cannot_compare:
            return [f"cannot tell the models apart: {self.cannot_compare}"]
        return [c.line() for c in self.comparisons]

    def result(self, model: str) -> EvaluationResult:
        return next(r for r in self.results if r.model == model)


def _split(
    purchases: pd.DataFrame, views: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    train, test = holdout_last_order(purchases)
    if test.empty:
        raise NotFound("no customer has two orders or more: the last-order holdout needs repeat buyers.")
    return train, test, views_before(views, test)


def _cannot_compare(n_catalogue: int, k: int, hits: list[np.ndarray]) -> str:
    """Why top-``k`` lists cannot tell the models apart on this data, or ``""`` when they can."""
    if n_catalogue <= k:
        products = "1 product" if n_catalogue == 1 else f"{n_catalogue:,} products"
        return f"the store has {products}, and a top-{k} list holds the whole catalogue"
    if hits and all(len(h) and bool(h.all()) for h in hits):
        return f"every customer's held-out order is in every model's top-{k} (hit rate 100% for all of them)"
    return ""


def _compare(
    values: dict[str, dict[str, np.ndarray]], k: int, n_boot: int, seed: int
) -> tuple[dict[str, dict[str, tuple[float, float]]], list[Comparison]]:
    intervals, comparisons = {}, []
    for metric in (f"hit rate@{k}", f"NDCG@{k}"):
        per_model = {name: v[metric] for name, v in values.items()}
        intervals[metric], means = bootstrap(per_model, n_boot=n_boot, seed=seed)
        names = list(per_model)
        for baseline in (GLOBAL, BUY_AGAIN):
            low, high = paired_interval(means, names.index(MODEL), names.index(baseline))
            diff = float(per_model[MODEL].mean() - per_model[baseline].mean())
            comparisons.append(Comparison(metric, baseline, diff, low, high))
    return intervals, comparisons


def evaluate_recommenders(
    purchases: pd.DataFrame,
    views: pd.DataFrame | None = None,
    segments: pd.Series | None = None,
    *,
    k: int = 10,
    blend: Blend | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Evaluation:
    """Hit rate@k, NDCG@k and coverage of the blend and of both baselines, with intervals and verdicts.

    Parameters
    ----------
    purchases : pandas.DataFrame
        ``customer_id, product_id, order_id, ordered_at`` purchase lines.
    views : pandas.DataFrame, optional
        ``customer_id, product_id, occurred_at`` product views; only those before a
        customer's held-out order are used.
    segments : pandas.Series, optional
        Segment label per customer_id, for the segment-popularity term.
    k : int, default=10
    blend : Blend, optional
        Skip the validation grid and evaluate this blend (default: choose one
        with :func:`shopseg.personalize.blend.choose_blend` on the training part).
    n_boot : int, default=1000
        Bootstrap resamples of the customers.
    seed : int, default=0
        Seed of the bootstrap (and of the validation sample).
    """
    train, test, views = _split(purchases, views)
    chosen = blend if blend is not None else choose_blend(train, views, segments, k=k, seed=seed)
    data = build_interactions(train, views)
    rows, truth = truth_matrix(test, data)
    n_catalogue = int((np.asarray(data.bought.sum(axis=0)).ravel() > 0).sum())
    models = {
        MODEL: chosen.model().fit(data, segments),
        GLOBAL: PopularityRecommender(include_bought=chosen.include_bought).fit(data),
        BUY_AGAIN: BuyAgainRecommender().fit(data),
    }
    values, coverage = {}, {}
    for name, rec in models.items():
        idx, _ = rec.recommend(rows, n=k)
        hit, ndcg = rank_metrics(idx, rows, truth)
        values[name] = {f"hit rate@{k}": hit.astype(np.float64), f"NDCG@{k}": ndcg}
        coverage[name] = len(np.unique(idx[idx >= 0])) / n_catalogue if n_catalogue else 0.0
    intervals, comparisons = _compare(values, k, n_boot, seed)
    results = [
        EvaluationResult(
            name,
            len(rows),
            float(v[f"hit rate@{k}"].mean()) if len(rows) else 0.0,
            coverage[name],
            k,
            float(v[f"NDCG@{k}"].mean()) if len(rows) else 0.0,
            intervals[f"hit rate@{k}"][name],
            intervals[f"NDCG@{k}"][name],
        )
        for name, v in values.items()
    ]
    why = _cannot_compare(n_catalogue, k, [v[f"hit rate@{k}"] for v in values.values()])
    return Evaluation(
        results, comparisons, chosen, purchases=len(purchases), n_boot=n_boot, seed=seed, cannot_compare=why
    )


def evaluate_workspace(
    ws: Workspace, *, k: int = 10, blend: Blend | None = None, store: bool = False, n_boot: int = 1000, seed: int = 0
) -> Evaluation:
    """:func:`evaluate_recommenders` on a workspace's purchases, views and RFM segments (if built).

    With ``store=True`` the chosen blend is saved in the workspace
    (:func:`shopseg.personalize.blend.save_blend`) for later recommendations, unless the
    evaluation cannot tell the models apart (:attr:`Evaluation.cannot_compare`).
    """
    from shopseg.personalize.blend import save_blend
    from shopseg.personalize.service import workspace_segments

    purchases = ws.con.execute(PURCHASES_SQL).df()
    views = ws.con.execute(
        "SELECT customer_id, product_id, occurred_at FROM events WHERE type = 'product_view' "
        "AND customer_id IS NOT NULL AND product_id IS NOT NULL"
    ).df()
    ev = evaluate_recommenders(purchases, views, workspace_segments(ws), k=k, blend=blend, n_boot=n_boot, seed=seed)
    if store and not ev.cannot_compare:
        ev = replace(ev, blend=save_blend(ws, ev.blend, purchases=len(purchases)))
    return ev
