"""Item-to-item similarity from co-occurrence: cosine with shrinkage, top-k neighbours per item.

For a binary customer x product matrix :math:`X`, the co-occurrence count of
products *i* and *j* is :math:`C = X^T X`; their similarity is

.. math:: s_{ij} = \\frac{c_{ij}}{\\sqrt{c_{ii} c_{jj}} + \\lambda}

(cosine, shrunk towards 0 by :math:`\\lambda` for rarely bought products), with
:math:`s_{ii} = 0`. Only the ``n_neighbors`` largest similarities of each product
are kept, so the matrix stays sparse (Sarwar et al. 2001, "Item-based
collaborative filtering recommendation algorithms", WWW '01; Linden, Smith &
York 2003, "Amazon.com recommendations: item-to-item collaborative filtering").

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=np.float32))
>>> S = item_similarity(X, n_neighbors=2, shrink=0.0).toarray()
>>> float(S[0, 1]), float(S[0, 2]), float(S[0, 0])
(1.0, 0.0, 0.0)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from shopseg.errors import InvalidParameterError

__all__ = ["item_similarity", "top_k_rows"]

_CHUNK = 512


def _check(n_neighbors: int, shrink: float) -> None:
    if not isinstance(n_neighbors, int | np.integer) or n_neighbors < 1:
        raise InvalidParameterError(
            f"The 'n_neighbors' parameter must be an int in the range [1, inf). Got {n_neighbors!r} instead."
        )
    if not shrink >= 0:
        raise InvalidParameterError(f"The 'shrink' parameter must be a float >= 0. Got {shrink!r} instead.")


def top_k_rows(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest positive entries of each row (row blocks made dense, ``argpartition``)."""
    n_rows, n_cols = m.shape
    k = min(k, n_cols)
    rows, cols, vals = [], [], []
    for start in range(0, n_rows, _CHUNK):
        block = m[start : start + _CHUNK].toarray()
        idx = (
            np.argpartition(-block, k - 1, axis=1)[:, :k] if k < n_cols else np.tile(np.arange(n_cols), (len(block), 1))
        )
        v = np.take_along_axis(block, idx, axis=1)
        keep = v > 0
        r = np.repeat(np.arange(start, start + len(block)), k).reshape(len(block), k)
        rows.append(r[keep])
        cols.append(idx[keep])
        vals.append(v[keep])
    if not rows:
        return sp.csr_matrix(m.shape, dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))), shape=m.shape
    )


def item_similarity(x: sp.csr_matrix, *, n_neighbors: int = 50, shrink: float = 5.0) -> sp.csr_matrix:
    """Shrunk cosine similarity between the columns of a binary matrix, top ``n_neighbors`` per row.

    Parameters
    ----------
    x : scipy.sparse.csr_matrix of shape (n_customers, n_products)
        Binary interactions.
    n_neighbors : int, default=50
        Neighbours kept per product.
    shrink : float, default=5.0
        :math:`\\lambda` in the formula above.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_products, n_products)
        Row *i* holds the neighbours of product *i*; ``S[i, j]`` is the score
        product *j* gets from a customer who has *i*.
    """
    _check(n_neighbors, shrink)
    xc = sp.csc_matrix(x, dtype=np.float32)
    co = (xc.T @ xc).tocsr()
    counts = np.asarray(co.diagonal(), dtype=np.float64)
    co.setdiag(0)
    co.eliminate_zeros()
    norm = np.sqrt(counts)
    coo = co.tocoo()
    data = coo.data / (norm[coo.row] * norm[coo.col] + shrink)
    sim = sp.csr_matrix((data.astype(np.float32), (coo.row, coo.col)), shape=co.shape)
    return top_k_rows(sim, n_neighbors)
