"""The parameter band's percentiles (``shopseg.predict.bootstrap``); the refits are tested in tests/models/test_weights.py."""

from __future__ import annotations

import numpy as np
import pytest

from shopseg.predict.bootstrap import column_quantiles, draw_interval


@pytest.mark.parametrize("replicates", [1, 2, 5, 30, 31, 200])
def test_column_quantiles_equal_numpy_to_the_bit(replicates: int) -> None:
    """One sort of the columns gives numpy's linear-method quantiles exactly, ties, infinities and NaN
    columns included (numpy is the oracle: the band was numpy's quantile before)."""
    rng = np.random.default_rng(replicates)
    draws = rng.gamma(2.0, 50.0, (replicates, 3_000))
    draws[:, :100] = np.round(draws[:, :100], -1)  # ties
    draws[0, 100:110] = np.inf
    draws[-1, 110:120] = np.nan
    levels = (0.1, 0.5, 0.9)
    with np.errstate(invalid="ignore"):
        expected = np.quantile(draws, levels, axis=0)
    for got, want in zip(column_quantiles(draws, levels), expected):
        np.testing.assert_array_equal(got, want)


def test_draw_interval_holds_the_point_and_maps_rows_back() -> None:
    draws = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])
    lo, hi = draw_interval(np.array([2.5, 50.0, 2.0]), draws, np.array([0, 1, 0]))
    np.testing.assert_allclose(lo, [1.3, 13.0, 1.3])
    np.testing.assert_allclose(hi, [3.7, 50.0, 3.7])
    lo, hi = draw_interval(np.array([5.0]), np.empty((0, 1)))
    assert lo.tolist() == [0.0] and hi.tolist() == [10.0]
