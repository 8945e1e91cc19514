"""Customer x product interaction matrices (purchases, product views) as SciPy sparse matrices.

A purchase is a line of a non-cancelled order with ``quantity > 0`` and
``unit_price >= 0`` (the definition of the feature table). Matrices are binary:
a customer either bought (or viewed) a product or did not, however often; this
is what the co-occurrence similarity of :mod:`shopseg.personalize.similarity`
expects.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """

    customers: np.ndarray
    products: np.ndarray
    bought: sp.csr_matrix
    viewed: sp.csr_matrix

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
    return Interactions(customers, products, _matrix(bought, customers, products), _matrix(views, customers, products))
