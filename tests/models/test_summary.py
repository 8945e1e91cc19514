"""Compression of the customer summary to unique rows (models/clv/_summary.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shopseg.models.clv._summary import unique_rows


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from([0.0, 0.5, 1.25]), st.sampled_from([2.0, 3.0])),
        min_size=1,
        max_size=60,
    )
)
def test_unique_rows_reconstruct_the_input(rows: list[tuple[int, float, float]]) -> None:
    """uniques[inverse] gives back every row; counts sum to n; the set of rows equals np.unique(axis=0)."""
    cols = [np.array(c, dtype=float) for c in zip(*rows)]
    uniques, counts, inverse = unique_rows(*cols)
    for u, c in zip(uniques, cols):
        np.testing.assert_array_equal(u[inverse], c)
    assert counts.sum() == len(rows)
    expected = np.unique(np.column_stack(cols), axis=0)
    got = np.unique(np.column_stack(uniques), axis=0)
    np.testing.assert_array_equal(got, expected)
    assert len(uniques[0]) == len(expected)
