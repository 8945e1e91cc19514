"""The constraint-table validator and the bad-input behaviour shared by every CLV estimator."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
import pytest

from shopseg.errors import DataQualityWarning, InvalidParameterError, SchemaError
from shopseg.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from shopseg.models._validation import Interval, Options, validate_params

PURCHASE_MODELS = [BetaGeoModel, ParetoNBDModel]


def test_interval_wording_and_bounds() -> None:
    closed = Interval(Real, 0, 1, closed="both")
    assert str(closed) == "a float in the range [0, 1]"
    assert closed.is_satisfied_by(0) and closed.is_satisfied_by(1.0)
    assert not closed.is_satisfied_by(float("nan")) and not closed.is_satisfied_by(True)
    assert not Interval(Real, 0, None, closed="neither").is_satisfied_by(0.0)
    assert str(Interval(Integral, 1, None, closed="left")) == "an int in the range [1, inf)"
    assert not Interval(Integral, 1, None, closed="left").is_satisfied_by(2.0)


@pytest.mark.parametrize(
    ("model", "kwargs", "message"),
    [
        (
            BetaGeoModel,
            {"penalizer": -1},
            "The 'penalizer' parameter of BetaGeoModel must be a float in the range [0, inf). Got -1 instead.",
        ),
        (
            ParetoNBDModel,
            {"min_customers": 0},
            "The 'min_customers' parameter of ParetoNBDModel must be an int in the range [1, inf). Got 0 instead.",
        ),
        (
            GammaGammaModel,
            {"fallback": "prior"},
            "The 'fallback' parameter of GammaGammaModel must be a str among {'population', 'raise'}. Got 'prior' instead.",
        ),
        (
            BetaGeoModel,
            {"max_iter": 1.5},
            "The 'max_iter' parameter of BetaGeoModel must be an int in the range [1, inf). Got 1.5 instead.",
        ),
    ],
)
def test_bad_hyperparameters_are_reported_in_sklearn_wording(model: type, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        model(**kwargs).fit(pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0], "monetary_value": [1.0]}))
    assert str(info.value) == message


def test_constructor_stores_verbatim_and_get_set_params_round_trip() -> None:
    model = BetaGeoModel(penalizer=-5)  # no validation before fit
    assert model.get_params() == {"penalizer": -5, "min_customers": 30, "fallback": "raise", "max_iter": 2000}
    assert model.set_params(penalizer=0.1).penalizer == 0.1
    assert "BetaGeoModel(penalizer=0.1" in repr(model)


def test_options_accepts_only_listed_strings() -> None:
    opts = Options(("a", "b"))
    assert opts.is_satisfied_by("a") and not opts.is_satisfied_by("c") and not opts.is_satisfied_by(1)

    class Toy:
        _parameter_constraints = {"mode": [opts, None]}

        def __init__(self, mode: object = None) -> None:
            self.mode = mode

    validate_params(Toy())
    with pytest.raises(InvalidParameterError, match="must be a str among {'a', 'b'} or None. Got 3 instead."):
        validate_params(Toy(3))


@pytest.mark.parametrize("model", PURCHASE_MODELS)
def test_invalid_rows_are_all_listed_with_customer_ids(model: type) -> None:
    data = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "frequency": [1, -1, 0, 2],
            "recency": [5.0, 0.0, 3.0, 9.0],
            "T": [4.0, 5.0, 6.0, 10.0],
        }
    )
    with pytest.raises(SchemaError) as info:
        model().fit(data)
    text = str(info.value)
    assert "1 row (first: c1) have recency outside [0, T]" in text
    assert "1 row (first: c2) have a frequency that is not a non-negative whole number" in text
    assert "1 row (first: c3) have recency > 0 with frequency 0" in text
    assert "Hint: check the calibration_end" in text


@pytest.mark.parametrize("model", PURCHASE_MODELS)
def test_missing_column_suggests_the_fix(model: type) -> None:
    with pytest.raises(SchemaError, match="required column 'T' is missing; found \\['frequency', 'recency'\\]"):
        model().fit(pd.DataFrame({"frequency": [1], "recency": [1.0]}))


@pytest.mark.parametrize("model", PURCHASE_MODELS)
def test_too_few_customers_is_a_clear_error(model: type) -> None:
    with pytest.raises(
        SchemaError, match="only 3 customers; expected at least min_customers=30. Hint: .*fallback='penalized'"
    ):
        model().fit([1, 0, 2], [2.0, 0.0, 3.0], [5.0, 5.0, 5.0])


def _no_repeat_buyers(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"frequency": np.zeros(n), "recency": np.zeros(n), "T": rng.uniform(5, 40, n)})


@pytest.mark.parametrize("model", PURCHASE_MODELS)
def test_no_repeat_buyers_is_a_clear_error(model: type) -> None:
    with pytest.raises(SchemaError, match="none of the 200 customers made a repeat purchase"):
        model().fit(_no_repeat_buyers())


@pytest.mark.filterwarnings("ignore:The Hessian of the log-likelihood is not positive definite")
@pytest.mark.parametrize("model", PURCHASE_MODELS)
def test_fallback_gives_flagged_finite_predictions(model: type) -> None:
    """fallback='penalized': a shrunken fit, a DataQualityWarning, fallback_ set, and no NaN anywhere.

    (Without repeat buyers the BG/NBD's a, b are not identified: its standard errors are NaN with a ConvergenceWarning.)
    """
    data = _no_repeat_buyers()
    with pytest.warns(DataQualityWarning, match="fitted with penalizer=0.1"):
        fitted = model(fallback="penalized").fit(data)
    assert fitted.fallback_.startswith("none of the 200 customers")
    out = fitted.predict(data, horizon=26)
    assert np.isfinite(out.to_numpy()).all()
    assert out.attrs["fallback"] == fitted.fallback_
    assert np.isfinite(list(fitted.params_.values())).all()


@pytest.mark.parametrize("model", [BetaGeoModel, ParetoNBDModel, GammaGammaModel])
def test_sklearn_clone_round_trips_hyperparameters(model: type) -> None:
    """sklearn.base.clone rebuilds the estimator from get_params (constructor stores verbatim, no fitted state)."""
    from sklearn.base import clone

    original = model(penalizer=0.01, min_customers=5, max_iter=100)
    copy = clone(original)
    assert copy.get_params() == original.get_params() and copy is not original
    assert not hasattr(copy, "params_")
