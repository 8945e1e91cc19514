"""Sample sizes against Evan Miller's calculator and Kohavi et al.'s rule of thumb."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopseg.errors import InvalidParameterError
from shopseg.experiments import sample_size_means, sample_size_proportions


def test_sample_size_matches_evan_miller_calculator():
    """evanmiller.org/ab-testing/sample-size.html default: baseline 20%, MDE 5% absolute, alpha 0.05,
    power 80% -> 1,030 per variation (exact integer match)."""
    assert sample_size_proportions(0.20, 0.05) == 1030
    assert sample_size_proportions(0.20, 0.25, relative=True) == 1030


def test_sample_size_means_matches_kohavi_rule_of_thumb():
    """Kohavi, Tang & Xu (2020), Trustworthy Online Controlled Experiments, ch. 17: n = 16 sigma^2 / delta^2
    per variant at alpha 0.05 and 80% power; the exact normal formula is 15.7 sigma^2 / delta^2 (within 2%)."""
    n = sample_size_means(sd=30.0, mde=2.0)
    assert n == pytest.approx(16 * 30.0**2 / 2.0**2, rel=0.02)


@given(st.floats(0.01, 0.5), st.floats(0.005, 0.2))
def test_smaller_effects_need_more_customers(p, mde):
    if p + 2 * mde >= 1:
        return
    assert sample_size_proportions(p, mde / 2) >= sample_size_proportions(p, mde)
    assert sample_size_proportions(p, mde, power=0.9) >= sample_size_proportions(p, mde, power=0.8)


def test_bad_inputs():
    with pytest.raises(InvalidParameterError, match="The 'baseline' parameter must be a rate in"):
        sample_size_proportions(1.2, 0.05)
    with pytest.raises(InvalidParameterError, match="keep the treated rate in"):
        sample_size_proportions(0.98, 0.05)
    with pytest.raises(InvalidParameterError, match="The 'power' parameter"):
        sample_size_means(sd=1.0, mde=1.0, power=1.0)
