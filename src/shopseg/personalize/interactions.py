"""Customer x product interaction matrices (purchases, product views) as SciPy sparse matrices.

A purchase is a line of a non-cancelled order with ``quantity > 0`` and
``unit_price >= 0`` (the definition of the feature table). Matrices are binary:
a customer either bought (or viewed) a product or did not, however often; this
is what the co-occurrence similarity of :mod:`shopseg.personalize.similarity`
expects. How often and how recently (the buy-again signal of
:mod:`shopseg.personalize.repurchase`) is kept beside them as one entry per
distinct (customer, order, product): its row, column and age in days before the
latest purchase of the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopseg.errors import NotFound
from shopseg.workspace import Workspace

__all__ = ["Interactions", "PURCHASES_SQL", "load_purchases", "load_views", "build_interactions"]

PURCHASES_SQL = """
SELECT o.customer_id, l.product_id, o.order_id, o.ordered_at
FROM order_lines l JOIN orders o USING (order_id)
WHERE o.customer_id IS NOT NULL AND NOT coalesce(o.is_cancelled, false)
  AND l.quantity > 0 AND l.unit_price >= 0 AND NOT coalesce(l.is_return, false)
"""


def load_purchases(ws: Workspace) -> pd.DataFrame:
    """Every purchase line: ``customer_id, product_id, order_id, ordered_at``."""
    return ws.con.execute(PURCHASES_SQL).df()


def load_views(ws: Workspace) -> pd.DataFrame:
    """Distinct ``customer_id, product_id`` pairs of known customers' product views (may be empty)."""
    return ws.con.execute(
        "SELECT DISTINCT customer_id, product_id FROM events "
        "WHERE type = 'product_view' AND customer_id IS NOT NULL AND product_id IS NOT NULL"
    ).df()


@dataclass
class Interactions:
    """Binary customer x product matrices sharing one index of customers and one of products.

    Attributes
    ----------
    customers : numpy.ndarray of str
        Row labels.
    products : numpy.ndarray of str
        Column labels.
    bought : scipy.sparse.csr_matrix
        1 where the customer bought the product.
    viewed : scipy.sparse.csr_matrix
        1 where the customer viewed the product (all zeros without view events).
    order_rows, order_cols : numpy.ndarray of int64
        Row and column of each distinct (customer, order, product) purchase.
    order_age_days : numpy.ndarray of float64
        Its age in days before ``as_of``.
    as_of : pandas.Timestamp or None
        The latest ``ordered_at`` of the purchases (``None`` without order dates).
    """

    customers: np.ndarray
    products: np.ndarray
    bought: sp.csr_matrix
    viewed: sp.csr_matrix
    order_rows: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    order_cols: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    order_age_days: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.float64))
    as_of: pd.Timestamp | None = None

    def order_counts(self, weights: np.ndarray | None = None) -> sp.csr_matrix:
        """Customer x product sums of ``weights`` (default 1) over distinct orders: how often each was bought."""
        w = np.ones(len(self.order_rows), dtype=np.float64) if weights is None else weights
        return sp.csr_matrix((w, (self.order_rows, self.order_cols)), shape=self.bought.shape)

    def row(self, customer_id: str) -> int:
        """Row of ``customer_id``; raises :class:`NotFound` for an unknown customer."""
        pos = np.searchsorted(self.customers, customer_id)
        if pos >= len(self.customers) or self.customers[pos] != customer_id:
            raise NotFound(
                f"customer '{customer_id}': no purchases or product views in the workspace. "
                "Expected a customer_id of the orders or events tables."
            )
        return int(pos)

    def rows(self, customer_ids: np.ndarray | list[str]) -> np.ndarray:
        """Rows of known customers among ``customer_ids`` (unknown ones are dropped)."""
        ids = np.asarray(customer_ids, dtype=object)
        if len(self.customers) == 0 or len(ids) == 0:
            return np.array([], dtype=np.int64)
        pos = np.clip(np.searchsorted(self.customers, ids), 0, len(self.customers) - 1)
        return pos[self.customers[pos] == ids].astype(np.int64)


def _matrix(pairs: pd.DataFrame, customers: np.ndarray, products: np.ndarray) -> sp.csr_matrix:
    if pairs.empty:
        return sp.csr_matrix((len(customers), len(products)), dtype=np.float32)
    r = np.searchsorted(customers, pairs["customer_id"].to_numpy(dtype=object))
    c = np.searchsorted(products, pairs["product_id"].to_numpy(dtype=object))
    m = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(customers), len(products)))
    m.data[:] = 1.0  # duplicates summed by the constructor: back to binary
    return m


def build_interactions(purchases: pd.DataFrame, views: pd.DataFrame | None = None) -> Interactions:
    """Binary matrices from purchase lines and view pairs (``customer_id, product_id`` columns).

    Raises
    ------
    NotFound
        When there is no purchase at all (nothing to learn from).
    """
    if purchases.empty:
        raise NotFound("the workspace has no purchases: recommendations need orders. Hint: `shopseg ingest orders`.")
    views = views if views is not None else pd.DataFrame(columns=["customer_id", "product_id"])
    bought = purchases[["customer_id", "product_id"]].drop_duplicates()
    customers = np.array(sorted(set(bought["customer_id"]) | set(views["customer_id"])), dtype=object)
    products = np.array(sorted(set(bought["product_id"]) | set(views["product_id"])), dtype=object)
    data = Interactions(customers, products, _matrix(bought, customers, products), _matrix(views, customers, products))
    if {"order_id", "ordered_at"} <= set(purchases.columns):
        lines = purchases.drop_duplicates(["customer_id", "order_id", "product_id"])
        when = pd.to_datetime(lines["ordered_at"])
        data.as_of = when.max()
        data.order_rows = np.searchsorted(customers, lines["customer_id"].to_numpy(dtype=object)).astype(np.int64)
        data.order_cols = np.searchsorted(products, lines["product_id"].to_numpy(dtype=object)).astype(np.int64)
        data.order_age_days = ((data.as_of - when).dt.total_seconds() / 86400.0).to_numpy(dtype=np.float64)
    else:  # pairs only: each bought product counts as one order, bought on the day of the data
        data.order_rows, data.order_cols = (a.astype(np.int64) for a in data.bought.nonzero())
        data.order_age_days = np.zeros(len(data.order_rows), dtype=np.float64)
    return data
