"""Buy-again: a customer's own past products, scored by how often and how recently they bought them.

For customer *u* and product *j*,

.. math::

    \\mathrm{decayed}(u, j) = \\sum_{o \\in \\mathrm{orders}(u) : j \\in o} 2^{-\\mathrm{age}(o) / h}

counts *u*'s orders containing *j*, each halved in weight every *h* days
(``half_life_days``) before the latest purchase of the data, and

.. math:: \\mathrm{rate}(j) = \\frac{\\text{buyers of } j \\text{ in two orders or more} + 1}{\\text{buyers of } j + 2}

is the store-wide share of *j*'s buyers who bought it again (Laplace-smoothed, so
a product bought once by one customer gets 1/3, not 0). The buy-again score is
``decayed(u, j) * rate(j)``, scaled so that each customer's best product scores 1;
products *u* never bought score 0.

The plain **personal popularity** baseline the blend is compared with is
:class:`shopseg.personalize.baselines.BuyAgainRecommender`.

Examples
--------
>>> import pandas as pd
>>> from shopseg.personalize.interactions import build_interactions
>>> p = pd.DataFrame({"customer_id": ["a"] * 3 + ["b"], "product_id": ["x", "x", "y", "y"],
...                   "order_id": ["1", "2", "2", "3"],
...                   "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-08", "2024-01-08"])})
>>> m = buy_again_matrix(build_interactions(p), half_life_days=7.0).toarray()
>>> [round(float(v), 3) for v in m[0]]  # a: x in 2 orders (0.5 + 1) x rate 2/3 = 1; y in 1 (1) x rate 1/4
[1.0, 0.25]
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from shopseg.errors import InvalidParameterError
from shopseg.personalize.interactions import Interactions

__all__ = ["buy_again_matrix", "decayed_counts", "repeat_rate", "scale_sparse_rows"]


def _check_half_life(half_life_days: float) -> None:
    if not (isinstance(half_life_days, int | float) and half_life_days > 0):
        raise InvalidParameterError(
            f"The 'half_life_days' parameter must be a float in the range (0, inf). Got {half_life_days!r} instead."
        )


def decayed_counts(data: Interactions, half_life_days: float) -> sp.csr_matrix:
    """Customer x product sums of ``0.5 ** (age_days / half_life_days)`` over the orders containing the product."""
    _check_half_life(half_life_days)
    return data.order_counts(np.exp2(-data.order_age_days / float(half_life_days)))


def repeat_rate(data: Interactions) -> np.ndarray:
    """Per product, the Laplace-smoothed share of its buyers who bought it in two orders or more."""
    counts = data.order_counts()
    buyers = np.asarray((counts > 0).sum(axis=0)).ravel()
    repeaters = np.asarray((counts >= 2).sum(axis=0)).ravel()
    return ((repeaters + 1.0) / (buyers + 2.0)).astype(np.float64)


def scale_sparse_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """Divide each row by its largest entry (rows without a positive entry stay 0)."""
    m = sp.csr_matrix(m, dtype=np.float64)
    top = m.max(axis=1).toarray().ravel()
    inv = np.divide(1.0, top, out=np.zeros_like(top), where=top > 0)
    return sp.csr_matrix(sp.diags(inv) @ m)


def buy_again_matrix(data: Interactions, half_life_days: float = 90.0) -> sp.csr_matrix:
    """The buy-again score of every (customer, product): decayed order count x store repeat rate, rows scaled to [0, 1].

    Parameters
    ----------
    data : Interactions
        Purchases with their orders and ages.
    half_life_days : float, default=90.0
        An order's weight halves every this many days before the latest purchase.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_customers, n_products)
        Non-zero only where the customer bought the product.
    """
    decayed = decayed_counts(data, half_life_days)
    return scale_sparse_rows(decayed @ sp.diags(repeat_rate(data)))
