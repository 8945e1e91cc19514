"""The purchase models' shared parts (``shopseg.models.clv._purchase``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from shopseg.models.clv._purchase import nbinom_pmf, nbinom_sf


@pytest.mark.parametrize("k", [0, 1, 2, 7, 40, 300])
def test_negative_binomial_equals_scipy_stats(k: int) -> None:
    """The log-gamma pmf and the incomplete-beta survival equal scipy.stats.nbinom (the oracle) over the
    shapes and probabilities a purchase model gives them, including p = 1 (no time left) and tiny n."""
    rng = np.random.default_rng(k)
    n = np.concatenate([rng.uniform(0.01, 60.0, 20_000), [1e-6, 0.5, 3.0]])
    p = np.concatenate([rng.uniform(0.0, 1.0, 20_000), [1.0, 1.0, 1e-9]])
    np.testing.assert_allclose(nbinom_pmf(k, n, p), stats.nbinom.pmf(k, n, p), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(nbinom_sf(k, n, p), stats.nbinom.sf(k, n, p), rtol=1e-6, atol=1e-12)


def test_negative_binomial_outside_the_support() -> None:
    n, p = np.array([2.0, 5.0]), np.array([0.3, 0.9])
    np.testing.assert_array_equal(nbinom_pmf(-1, n, p), [0.0, 0.0])
    np.testing.assert_array_equal(nbinom_sf(-1, n, p), [1.0, 1.0])
