"""Item-to-item similarity against a dense NumPy oracle."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from shopseg.errors import InvalidParameterError
from shopseg.personalize.similarity import item_similarity, top_k_rows


def _oracle(x: np.ndarray, shrink: float) -> np.ndarray:
    """Shrunk cosine of the columns, written out densely (Sarwar et al. 2001, eq. for cosine similarity)."""
    co = x.T @ x
    n = np.sqrt(np.diag(co))
    den = np.outer(n, n) + shrink
    s = np.divide(co, den, out=np.zeros_like(co), where=den > 0)
    np.fill_diagonal(s, 0)
    return s


@pytest.mark.parametrize("shrink", [0.0, 5.0])
def test_similarity_matches_dense_oracle(shrink):
    rng = np.random.default_rng(0)
    x = (rng.random((300, 40)) < 0.1).astype(np.float32)
    x[:, 7] = 0  # a product nobody bought
    got = item_similarity(sp.csr_matrix(x), n_neighbors=40, shrink=shrink).toarray()
    np.testing.assert_allclose(got, _oracle(x.astype(float), shrink), rtol=1e-5, atol=1e-6)


def test_top_k_keeps_the_k_largest_of_each_row():
    rng = np.random.default_rng(1)
    m = rng.random((1100, 30)).astype(np.float32)  # more rows than one block
    got = top_k_rows(sp.csr_matrix(m), 4).toarray()
    assert ((got > 0).sum(axis=1) == 4).all()
    np.testing.assert_allclose(np.sort(got, axis=1)[:, -4:], np.sort(m, axis=1)[:, -4:])


def test_bad_neighbours_is_rejected():
    with pytest.raises(InvalidParameterError, match="The 'n_neighbors' parameter must be an int in the range"):
        item_similarity(sp.csr_matrix(np.eye(3, dtype=np.float32)), n_neighbors=0)
