"""ClusterSegmenter: truth check on planted groups, reproducibility, auto-k, validation, sklearn contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from shopseg.errors import InvalidParameterError, NotFittedError
from shopseg.models.cluster import ClusterSegmenter


def test_kmeans_recovers_planted_groups(synthetic_features):
    """k = 8 k-means on the default features against the 8 planted groups (6 000 customers, seed 3).

    Measured ARI 0.46 on buyers (0.49 with prospects included; 10 000 customers seed 3:
    0.46). The groups overlap by design (new vs one-time buyers differ only in dates, category
    enthusiasts only in the category mix), so 0.40 is the floor asserted.
    """
    df = synthetic_features
    labels = ClusterSegmenter(8).fit(df).labels_
    assert adjusted_rand_score(df["group"], labels) >= 0.40


def test_category_mix_feature_raises_agreement(synthetic_features):
    """Adding share_outdoor (the enthusiasts' signature) lifts ARI to a measured 0.55; floor 0.50."""
    from shopseg.models.cluster import DEFAULT_FEATURES

    df = synthetic_features
    seg = ClusterSegmenter(8, features=[*DEFAULT_FEATURES, "share_outdoor"]).fit(df)
    assert adjusted_rand_score(df["group"], seg.labels_) >= 0.50


def test_gmm_recovers_planted_groups(synthetic_features):
    """Diagonal Gaussian mixture, k = 8: measured ARI 0.43 on 10 000 customers; floor 0.30."""
    df = synthetic_features
    labels = ClusterSegmenter(8, method="gmm").fit(df).labels_
    assert adjusted_rand_score(df["group"], labels) >= 0.30


def test_auto_k_is_near_the_planted_count(synthetic_features):
    """The BIC knee lands at 5-7 for 8 planted groups (two pairs overlap); the silhouette alone peaks at 4-5."""
    seg = ClusterSegmenter("auto").fit(synthetic_features)
    assert 5 <= seg.n_clusters_ <= 9
    assert list(seg.k_curve_["k"]) == list(range(2, 13))
    assert seg.k_curve_["bic"].iloc[-1] < seg.k_curve_["bic"].iloc[0]


def test_same_seed_same_labels_and_largest_cluster_first(synthetic_features):
    a = ClusterSegmenter(6, random_state=7).fit(synthetic_features).labels_
    b = ClusterSegmenter(6, random_state=7).fit(synthetic_features).labels_
    np.testing.assert_array_equal(a, b)
    sizes = np.bincount(a)
    assert list(sizes) == sorted(sizes, reverse=True)


def test_predict_matches_labels_on_training_data(synthetic_features):
    seg = ClusterSegmenter(5).fit(synthetic_features)
    np.testing.assert_array_equal(seg.predict(synthetic_features), seg.labels_)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"n_clusters": 1},
            "The 'n_clusters' parameter of ClusterSegmenter must be an int in the range [2, inf) or a str among {'auto'}. Got 1 instead.",
        ),
        (
            {"method": "dbscan"},
            "The 'method' parameter of ClusterSegmenter must be a str among {'gmm', 'kmeans'}. Got 'dbscan' instead.",
        ),
        ({"n_clusters": 50}, "must be at most the number of customers (20). Got 50 instead."),
        (
            {"features": ["orderz"]},
            "unknown feature 'orderz'. Expected a column of the feature table; got 'orderz'. Did you mean 'orders'?",
        ),
        ({"k_range": (1, 4)}, "The 'k_range' parameter of ClusterSegmenter must be a pair (low, high)"),
    ],
)
def test_bad_parameters_raise_with_sklearn_style_message(params, message):
    X = pd.DataFrame({"orders": np.arange(20), "revenue": np.arange(20) * 3.0})
    with pytest.raises(InvalidParameterError) as info:
        ClusterSegmenter(**params).fit(X)
    assert message in str(info.value)


def test_too_few_customers():
    with pytest.raises(InvalidParameterError, match="too few customers to cluster. Expected at least 3; got 2"):
        ClusterSegmenter(2).fit(pd.DataFrame({"orders": [1, 2]}))


def test_predict_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ClusterSegmenter().predict(pd.DataFrame({"orders": [1, 2, 3]}))


# Declared gaps: sklearn's checks fit with n_clusters=1, which our constraint table refuses (a single
# cluster is no segmentation), and predict-before-fit raises shopseg's NotFittedError
# (ValueError, AttributeError), not sklearn's class.
_N_CLUSTERS_1 = "the check sets n_clusters=1; refused by the constraint table"
_KNOWN_GAPS = {
    **{
        name: _N_CLUSTERS_1
        for name in (
            "check_dont_overwrite_parameters",
            "check_methods_subset_invariance",
            "check_fit2d_1sample",
            "check_fit2d_1feature",
            "check_fit2d_predict1d",
        )
    },
    "check_estimators_unfitted": "raises shopseg.errors.NotFittedError, not sklearn.exceptions.NotFittedError",
}


def _checks():  # type: ignore[no-untyped-def]
    """sklearn's checks, without check_array_api_input: it only runs under SCIPY_ARRAY_API and is
    otherwise a skip; ClusterSegmenter takes pandas/NumPy input, not the array API."""
    marker = parametrize_with_checks([ClusterSegmenter(3, n_init=1)], expected_failed_checks=lambda est: _KNOWN_GAPS)
    names, params = marker.args
    kept = [p for p in params if "check_array_api_input" not in marker.kwargs["ids"](getattr(p, "values", p)[1])]
    assert len(kept) == len(params) - 1, "sklearn renamed check_array_api_input: revisit this filter"
    return pytest.mark.parametrize(names, kept, **marker.kwargs)


@_checks()
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_large_stores_fit_on_a_sample_and_assign_everyone():
    """Issue 18 (5): above fit_sample rows, k and the centroids come from a seeded sample; every row gets a label
    and the planted groups are found as well as by a fit on all rows (adjusted Rand index)."""
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(4)
    n = 6_000
    truth = rng.integers(0, 3, n)
    X = pd.DataFrame(
        {
            "orders": rng.poisson(np.array([1, 6, 25])[truth]),
            "revenue": rng.gamma(2.0, np.array([15.0, 120.0, 900.0])[truth]),
        }
    )
    full = ClusterSegmenter(3, fit_sample=10_000, random_state=1).fit(X)
    sampled = ClusterSegmenter(3, fit_sample=500, random_state=1).fit(X)
    assert len(sampled.labels_) == n and set(sampled.labels_) == {0, 1, 2}
    assert adjusted_rand_score(truth, sampled.labels_) >= adjusted_rand_score(truth, full.labels_) - 0.02
    assert adjusted_rand_score(full.labels_, sampled.labels_) > 0.95
    again = ClusterSegmenter(3, fit_sample=500, random_state=1).fit(X)
    assert (again.labels_ == sampled.labels_).all()  # the sample is seeded


def test_auto_draws_the_k_curve_on_a_smaller_sample_and_finds_the_same_k(synthetic_features):
    """Issue 18 (5): the k curve is drawn on ``curve_sample`` customers (a fit per k is the cost), the chosen k
    fitted on the whole fit sample. On the 6 000-customer store the knee is the same from 2 000 customers
    as from all of them, and the BIC of the curve is that of the smaller sample (it grows with n)."""
    full = ClusterSegmenter("auto", curve_sample=100_000).fit(synthetic_features)
    small = ClusterSegmenter("auto", curve_sample=2_000).fit(synthetic_features)
    assert small.n_clusters_ == full.n_clusters_
    assert len(small.labels_) == len(synthetic_features)
    assert (small.k_curve_["bic"] < 0.5 * full.k_curve_["bic"]).all()  # 2 000 rows, not 5 000+


def test_stability_scored_on_a_sample_estimates_the_whole_store(synthetic_features):
    """Refits compared on a seeded sample of customers give nearly the ARI of comparing on every customer."""
    from shopseg.models.cluster import bootstrap_stability

    seg = ClusterSegmenter(6, random_state=2).fit(synthetic_features)
    everyone = bootstrap_stability(seg, synthetic_features, n_rounds=3, sample_size=3_000, score_size=None)
    same = bootstrap_stability(
        seg, synthetic_features, n_rounds=3, sample_size=3_000, score_size=len(synthetic_features)
    )
    sampled = bootstrap_stability(seg, synthetic_features, n_rounds=3, sample_size=3_000, score_size=2_000)
    assert same == everyone
    assert abs(sampled["mean"] - everyone["mean"]) < 0.05
    assert sampled["scores"] != everyone["scores"]  # it really scored a sample
