"""Offline evaluation: hold out each customer's last order, recommend from the rest, count hits.

For every customer with at least two orders, the last order (latest
``ordered_at``, ties broken by ``order_id``) is held out; the model learns from
every other purchase (and from product views before that order). A customer is
a **hit** when at least one of their top-``k`` recommendations is in the
held-out order. **Hit rate@k** is the share of hits; **coverage** the share of
the catalogue (products bought in training) recommended to at least one
customer. Both models exclude what the customer bought in training, so neither
can score by repeating a past purchase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopseg.errors import NotFound
from shopseg.personalize.interactions import PURCHASES_SQL, build_interactions
from shopseg.personalize.recommend import ItemRecommender, PopularityRecommender
from shopseg.workspace import Workspace

__all__ = ["EvaluationResult", "holdout_last_order", "evaluate_recommenders", "evaluate_workspace"]


@dataclass(frozen=True)
class EvaluationResult:
    """Figures of one model on the last-order holdout."""

    model: str
    customers: int
    hit_rate: float
    coverage: float
    k: int

    def as_row(self) -> dict[str, object]:
        return {"model": self.model, "customers": self.customers, f"hit_rate@{self.k}": self.hit_rate,
                "coverage": self.coverage}  # fmt: skip


def holdout_last_order(purchases: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split purchase lines into (train, held-out last orders of customers with >= 2 orders)."""
    orders = purchases[["customer_id", "order_id", "ordered_at"]].drop_duplicates("order_id")
    orders = orders.sort_values(["customer_id", "ordered_at", "order_id"])
    n = orders.groupby("customer_id")["order_id"].transform("size")
    last = orders[(n >= 2) & ~orders.duplicated("customer_id", keep="last")]
    held = purchases["order_id"].isin(last["order_id"])
    return purchases[~held], purchases[held]


def _hits(idx: np.ndarray, rows: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    got = truth[rows]
    hit = np.zeros(len(rows), dtype=bool)
    for col in range(idx.shape[1]):  # k columns, not customers
        hit |= np.asarray(got[np.arange(len(rows)), idx[:, col]]).ravel() > 0
    return hit


def evaluate_recommenders(
    purchases: pd.DataFrame,
    views: pd.DataFrame | None = None,
    segments: pd.Series | None = None,
    *,
    k: int = 10,
    model: ItemRecommender | None = None,
) -> list[EvaluationResult]:
    """Hit rate@k and coverage of the item recommender and the global-popularity baseline.

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
    model : ItemRecommender, optional
        Default ``ItemRecommender()``.
    """
    train, test = holdout_last_order(purchases)
    if test.empty:
        raise NotFound("no customer has two orders or more: the last-order holdout needs repeat buyers.")
    if views is not None and not views.empty:
        cut = test.groupby("customer_id")["ordered_at"].min()
        t = views["customer_id"].map(cut)
        views = views[t.isna() | (views["occurred_at"] < t)]
    data = build_interactions(train, views)
    test = test[test["product_id"].isin(data.products)]
    rows = data.rows(np.array(sorted(set(test["customer_id"])), dtype=object))
    truth_pairs = test[["customer_id", "product_id"]].drop_duplicates()
    truth = sp.csr_matrix(
        (np.ones(len(truth_pairs), dtype=np.float32),
         (np.searchsorted(data.customers, truth_pairs["customer_id"].to_numpy(dtype=object)),
          np.searchsorted(data.products, truth_pairs["product_id"].to_numpy(dtype=object)))),
        shape=data.bought.shape,
    )  # fmt: skip
    n_catalogue = int((np.asarray(data.bought.sum(axis=0)).ravel() > 0).sum())
    out = []
    for name, rec in [("item-to-item + segment popularity", (model or ItemRecommender()).fit(data, segments)),
                      ("global popularity (baseline)", PopularityRecommender().fit(data))]:  # fmt: skip
        idx, _ = rec.recommend(rows, n=k)
        hits = _hits(idx, rows, truth)
        coverage = len(np.unique(idx)) / n_catalogue if n_catalogue else 0.0
        out.append(EvaluationResult(name, len(rows), float(hits.mean()) if len(rows) else 0.0, coverage, k))
    return out


def evaluate_workspace(ws: Workspace, *, k: int = 10, model: ItemRecommender | None = None) -> list[EvaluationResult]:
    """:func:`evaluate_recommenders` on a workspace's purchases, views and RFM segments (if built)."""
    from shopseg.personalize.service import workspace_segments

    purchases = ws.con.execute(PURCHASES_SQL).df()
    views = ws.con.execute(
        "SELECT customer_id, product_id, occurred_at FROM events WHERE type = 'product_view' "
        "AND customer_id IS NOT NULL AND product_id IS NOT NULL"
    ).df()
    return evaluate_recommenders(purchases, views, workspace_segments(ws), k=k, model=model)
