"""The two baselines every recommender here is measured against, and the top-n machinery they share.

- :class:`PopularityRecommender`, **global popularity**: the store's most-bought
  products (by distinct buyers), the same list for everyone.
- :class:`BuyAgainRecommender`, **personal popularity** (buy again): a customer's
  own products by how many of their orders contained them, ties and the places
  after them filled by global popularity.

Scores are computed densely over blocks of customers (at most 16M scores at
once), never in a Python loop over customers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from shopseg.errors import InvalidParameterError, NotFittedError
from shopseg.personalize.interactions import Interactions

__all__ = ["BuyAgainRecommender", "PopularityRecommender", "block_size", "scale_rows", "top_n"]

_CELLS = 16_000_000  # scores held at once (64 MB of float32): customers per block = this / products


def block_size(n_products: int) -> int:
    """Customers scored at once so that a block holds at most 16M scores."""
    return max(16, min(4096, _CELLS // max(n_products, 1)))


def scale_rows(m: np.ndarray) -> np.ndarray:
    """Divide each row of a dense array by its maximum (rows without a positive entry stay 0)."""
    top = m.max(axis=1, keepdims=True)
    return np.divide(m, top, out=np.zeros_like(m), where=top > 0)


def top_n(scores: np.ndarray, bought: sp.csr_matrix | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and scores of the ``n`` best per row, best first; ``bought`` entries excluded when given.

    A row with fewer than ``n`` products left (a customer who bought nearly the
    whole catalogue) is padded with index -1 and score ``-inf``: no recommendation.
    """
    if bought is not None:
        scores = scores.copy()
        r, c = bought.nonzero()
        scores[r, c] = -np.inf
    n = min(n, scores.shape[1])
    idx = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    val = np.take_along_axis(scores, idx, axis=1)
    order = np.argsort(-val, axis=1, kind="stable")
    idx, val = np.take_along_axis(idx, order, axis=1), np.take_along_axis(val, order, axis=1)
    idx[np.isneginf(val)] = -1
    return idx, val


class PopularityRecommender:
    """The global-popularity baseline: the store's most-bought products (by distinct buyers).

    Parameters
    ----------
    include_bought : bool, default=False
        Whether products the customer already bought may be recommended.
    """

    def __init__(self, *, include_bought: bool = False) -> None:
        self.include_bought = include_bought

    def fit(self, data: Interactions) -> PopularityRecommender:
        self.data_ = data
        pop = np.asarray(data.bought.sum(axis=0)).ravel()
        self.popularity_ = (pop / pop.max() if pop.max() > 0 else pop).astype(np.float32)
        return self

    def scores(self, rows: np.ndarray) -> np.ndarray:
        return np.tile(self.popularity_, (len(rows), 1))

    def recommend(self, rows: Sequence[int] | np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` product indices and scores for customer rows (past purchases excluded unless ``include_bought``).

        Index -1 (score ``-inf``) pads a row when fewer than ``n`` products can be recommended.
        """
        if not hasattr(self, "data_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' first.")
        rows = np.asarray(rows, dtype=np.int64)
        if not isinstance(n, int | np.integer) or n < 1:
            raise InvalidParameterError(f"The 'n' parameter must be an int in the range [1, inf). Got {n!r} instead.")
        idx, val = [], []
        step = block_size(self.data_.bought.shape[1])
        for start in range(0, len(rows), step):
            block = rows[start : start + step]
            i, v = top_n(self.scores(block), None if self.include_bought else self.data_.bought[block], n)
            idx.append(i)
            val.append(v)
        if not idx:
            return np.empty((0, n), dtype=np.int64), np.empty((0, n))
        return np.vstack(idx), np.vstack(val)


class BuyAgainRecommender(PopularityRecommender):
    """Personal popularity (the buy-again baseline): a customer's products by how many of their orders held them.

    Ties between the customer's products, and the places after them, go to the
    store's most popular products. Past purchases are recommended by design.

    Examples
    --------
    >>> import pandas as pd
    >>> from shopseg.personalize.interactions import build_interactions
    >>> p = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "c"], "product_id": ["x", "y", "y", "x", "x"],
    ...                   "order_id": ["1", "2", "3", "4", "5"], "ordered_at": pd.to_datetime(["2024-01-01"] * 5)})
    >>> data = build_interactions(p)
    >>> idx, _ = BuyAgainRecommender().fit(data).recommend([data.row("a")], n=2)
    >>> [str(p) for p in data.products[idx[0]]]  # y in two of a's orders, x in one
    ['y', 'x']
    """

    def __init__(self) -> None:
        super().__init__(include_bought=True)

    def fit(self, data: Interactions) -> BuyAgainRecommender:
        super().fit(data)
        self.order_counts_ = data.order_counts().astype(np.float32)
        return self

    def scores(self, rows: np.ndarray) -> np.ndarray:
        # counts are >= 1 where bought; 0.5 * popularity (<= 0.5) only orders ties and the places after them
        return np.asarray(self.order_counts_[rows].todense()) + 0.5 * self.popularity_
