"""ChurnModel: sklearn-style parameters, validation in fit, seeded and reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from shopseg.errors import InvalidParameterError, NotFittedError, SchemaError
from shopseg.models.churn import ChurnModel


def _data(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"days_since_last_order": rng.uniform(0, 300, n), "orders": rng.integers(1, 10, n).astype(float)})
    p = 1 / (1 + np.exp(-(X.days_since_last_order - 150) / 30))
    return X, (rng.uniform(size=n) < p).astype(int)


def test_learns_a_planted_signal():
    """Churn probability rises with days since the last order (logistic truth, slope 1/30 per day)."""
    X, y = _data()
    model = ChurnModel(max_iter=50).fit(X, y)
    probs = model.predict_proba(pd.DataFrame({"days_since_last_order": [10.0, 290.0], "orders": [3.0, 3.0]}))
    assert probs[0] < 0.2 and probs[1] > 0.8
    assert model.features_ == ["orders", "days_since_last_order"]
    assert model.n_samples_ == 400 and 0.3 < model.churn_rate_ < 0.7


def test_seeded_fits_are_identical_and_clone_round_trips():
    X, y = _data()
    a = ChurnModel(max_iter=30, random_state=3).fit(X, y).predict_proba(X)
    b = ChurnModel(max_iter=30, random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    model = ChurnModel(max_iter=30, learning_rate=0.2)
    assert clone(model).get_params() == model.get_params()


def test_bad_input_is_refused_with_the_reason():
    X, y = _data()
    with pytest.raises(
        InvalidParameterError,
        match="The 'learning_rate' parameter of ChurnModel must be a float in the range \\(0, inf\\). Got 0",
    ):
        ChurnModel(learning_rate=0).fit(X, y)
    with pytest.raises(SchemaError, match="both classes"):
        ChurnModel().fit(X, np.zeros(len(X)))
    with pytest.raises(SchemaError, match="'recency'"):
        ChurnModel(features=["recency"]).fit(X, y)
    with pytest.raises(NotFittedError):
        ChurnModel().predict_proba(X)


def test_scoring_in_blocks_equals_scoring_at_once(monkeypatch):
    """predict_proba scores SCORE_ROWS rows at a time (here 7): the same probabilities as the booster's
    own predict_proba on the whole matrix."""
    import shopseg.models.churn.model as module

    X, y = _data()
    model = ChurnModel(max_iter=30, random_state=3).fit(X, y)
    whole = model.estimator_.predict_proba(X[model.features_].to_numpy(dtype=float))[:, 1]
    monkeypatch.setattr(module, "SCORE_ROWS", 7)
    np.testing.assert_array_equal(model.predict_proba(X), whole)
