"""Assignment: deterministic, independent of order and batch, balanced to the split; bad splits are refused."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopseg.errors import InvalidParameterError
from shopseg.experiments import HOLDOUT, Split, assign_variants, bucket

ids = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=50, unique=True)
names = st.text(min_size=1, max_size=20)


@settings(max_examples=50, deadline=None)
@given(names, ids, st.randoms(use_true_random=False))
def test_assignment_is_stable_and_order_free(experiment, customers, rnd):
    split = Split.parse("control=50,a=30,b=20", holdout=0.1)
    first = dict(zip(customers, assign_variants(experiment, customers, split), strict=True))
    shuffled = list(customers)
    rnd.shuffle(shuffled)
    again = dict(zip(shuffled, assign_variants(experiment, shuffled, split), strict=True))
    alone = {c: assign_variants(experiment, [c], split)[0] for c in customers[:5]}
    assert first == again
    assert all(first[c] == v for c, v in alone.items())


def test_bucket_is_the_documented_sha256_prefix():
    digest = hashlib.sha256(b"spring:c1").digest()
    assert bucket("spring", "c1") == (int.from_bytes(digest[:8], "big") >> 4) / 2**60


@settings(max_examples=25, deadline=None)
@given(names, st.lists(st.integers(1, 9), min_size=2, max_size=4), st.sampled_from([0.0, 0.05, 0.2]))
def test_assignment_is_balanced_to_the_split(experiment, weights, holdout):
    """20,000 customers: every group's share within 5 binomial standard errors of its design."""
    split = Split.parse(",".join(f"v{i}={w}" for i, w in enumerate(weights)), holdout=holdout)
    n = 20_000
    got = np.array(assign_variants(experiment, [f"c{i}" for i in range(n)], split), dtype=object)
    for group, share in split.expected_shares().items():
        observed = (got == group).mean()
        assert abs(observed - share) <= 5 * np.sqrt(share * (1 - share) / n) + 1e-12, (group, observed, share)


def test_experiments_are_independent():
    customers = [f"c{i}" for i in range(4000)]
    split = Split.parse("control,treatment")
    a = np.array(assign_variants("exp-a", customers, split)) == "treatment"
    b = np.array(assign_variants("exp-b", customers, split)) == "treatment"
    assert abs((a & b).mean() - 0.25) < 0.03  # independent halves overlap on a quarter


def test_holdout_comes_first():
    split = Split.parse("control=1,offer=1", holdout=0.3)
    got = assign_variants("h", [f"c{i}" for i in range(2000)], split)
    assert HOLDOUT in got and set(got) == {HOLDOUT, "control", "offer"}


@pytest.mark.parametrize(
    ("text", "holdout", "message"),
    [
        ("control", 0.0, "needs a control and at least one variant"),
        ("control=50,x=-3", 0.0, "every weight must be > 0"),
        ("control=50,x=abc", 0.0, "weight 'abc' of variant 'x' is not a number"),
        ("control,control", 0.0, "variant names must be unique"),
        ("control,holdout", 0.0, "not 'holdout'"),
        ("control,offer", 1.0, r"holdout share must be in \[0, 1\)"),
    ],
)
def test_bad_splits_are_refused(text, holdout, message):
    with pytest.raises(InvalidParameterError, match=message):
        Split.parse(text, holdout=holdout)
