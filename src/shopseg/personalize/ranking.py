"""The last-order holdout and the ranking metrics of one list of recommendations per customer.

For every customer with at least two orders the last order (latest
``ordered_at``, ties broken by ``order_id``) is held out. With ``truth`` the
products of that order and ``idx`` the top-*k* recommendations:

- **hit@k** is 1 when at least one recommendation is in the order, else 0;
- **NDCG@k** (Järvelin & Kekäläinen 2002, binary relevance) is
  :math:`\\sum_{i \\le k} rel_i / \\log_2(i + 1)` divided by its best possible
  value :math:`\\sum_{i \\le \\min(k, |truth|)} 1 / \\log_2(i + 1)`.

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> truth = sp.csr_matrix(np.array([[0, 1, 1, 0], [1, 0, 0, 0]], dtype=np.float32))
>>> hit, ndcg = rank_metrics(np.array([[1, 3], [2, 3]]), np.array([0, 1]), truth)
>>> hit.tolist(), [round(float(v), 3) for v in ndcg]
([True, False], [0.613, 0.0])
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopseg.personalize.baselines import block_size
from shopseg.personalize.interactions import Interactions

__all__ = ["block_metrics", "holdout_last_order", "rank_metrics", "truth_matrix", "views_before"]


def holdout_last_order(purchases: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split purchase lines into (train, held-out last orders of customers with >= 2 orders)."""
    orders = purchases[["customer_id", "order_id", "ordered_at"]].drop_duplicates("order_id")
    orders = orders.sort_values(["customer_id", "ordered_at", "order_id"])
    n = orders.groupby("customer_id")["order_id"].transform("size")
    last = orders[(n >= 2) & ~orders.duplicated("customer_id", keep="last")]
    held = purchases["order_id"].isin(last["order_id"])
    return purchases[~held], purchases[held]


def views_before(views: pd.DataFrame | None, test: pd.DataFrame) -> pd.DataFrame | None:
    """Product views, less those a customer made at or after the start of their held-out order."""
    if views is None or views.empty:
        return views
    cut = test.groupby("customer_id")["ordered_at"].min()
    t = views["customer_id"].map(cut)
    return views[t.isna() | (views["occurred_at"] < t)]


def truth_matrix(test: pd.DataFrame, data: Interactions) -> tuple[np.ndarray, sp.csr_matrix]:
    """Rows of the evaluated customers and the customer x product matrix of their held-out products.

    Held-out products unknown to ``data`` (never bought in training) cannot be
    recommended and are left out, as are customers left with none.
    """
    test = test[test["product_id"].isin(data.products) & test["customer_id"].isin(data.customers)]
    pairs = test[["customer_id", "product_id"]].drop_duplicates()
    truth = sp.csr_matrix(
        (
            np.ones(len(pairs), dtype=np.float32),
            (
                np.searchsorted(data.customers, pairs["customer_id"].to_numpy(dtype=object)),
                np.searchsorted(data.products, pairs["product_id"].to_numpy(dtype=object)),
            ),
        ),
        shape=data.bought.shape,
    )
    rows = data.rows(np.array(sorted(set(pairs["customer_id"])), dtype=object))
    return rows, truth


def rank_metrics(idx: np.ndarray, rows: np.ndarray, truth: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: hit@k (bool) and NDCG@k (float) of the recommendations ``idx`` (one row per ``rows``)."""
    hit = np.zeros(len(rows), dtype=bool)
    ndcg = np.zeros(len(rows), dtype=np.float64)
    step = block_size(truth.shape[1])
    for start in range(0, len(rows), step):
        part = slice(start, start + step)
        hit[part], ndcg[part] = block_metrics(idx[part], truth[rows[part]])
    return hit, ndcg


def block_metrics(idx: np.ndarray, got: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rank_metrics` for one block: ``got`` holds the held-out products of the block's customers.

    Index -1 in ``idx`` (no recommendation) is never a hit.
    """
    k = idx.shape[1]
    rel = (np.take_along_axis(got.toarray() > 0, np.maximum(idx, 0), axis=1) & (idx >= 0)).astype(np.float64)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[np.minimum(np.diff(got.indptr), k)]
    dcg = rel @ discount
    ndcg = np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)
    return np.asarray(rel.any(axis=1)), ndcg
