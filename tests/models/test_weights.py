"""Fits with row weights (a bootstrap's resample counts) equal fits on the expanded rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopseg.errors import SchemaError
from shopseg.models import GammaGammaModel
from shopseg.models.clv.registry import make_purchase_model
from shopseg.predict.clv_fit import bootstrap_values


def _summary(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.integers(30, 60, n).astype(float)
    x = rng.poisson(1.5, n).astype(float)
    t_x = np.where(x > 0, np.floor(rng.uniform(0, 1, n) * T), 0.0)
    m = np.where(x > 0, np.round(rng.gamma(4.0, 10.0, n)), 0.0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "monetary_value": m})


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd", "pareto"])
def test_weighted_purchase_fit_equals_expanded_fit(model: str, cdnow_summary: pd.DataFrame) -> None:
    """Weight k on a row is k copies of it (CDNOW, params to 1e-6); weight 0 drops the row."""
    rows = cdnow_summary
    weights = np.random.default_rng(0).integers(0, 4, len(rows)).astype(float)
    expanded = rows.loc[rows.index.repeat(weights.astype(int))].reset_index(drop=True)
    a = make_purchase_model(model).fit(rows, weights=weights).params_
    b = make_purchase_model(model).fit(expanded).params_
    np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], rtol=1e-5, atol=1e-6)


def test_weighted_gamma_gamma_equals_expanded_fit() -> None:
    rows = _summary()
    weights = np.random.default_rng(1).integers(0, 4, len(rows)).astype(float)
    expanded = rows.loc[rows.index.repeat(weights.astype(int))].reset_index(drop=True)
    a, b = GammaGammaModel().fit(rows, weights=weights), GammaGammaModel().fit(expanded)
    np.testing.assert_allclose(list(a.params_.values()), list(b.params_.values()), rtol=1e-6)
    assert a.population_mean_ == pytest.approx(b.population_mean_)


def test_bad_weights_are_refused() -> None:
    with pytest.raises(SchemaError, match="weights must be"):
        make_purchase_model("bgnbd").fit(_summary(), weights=np.full(600, -1.0))


def test_bootstrap_draws_map_back_to_every_buyer() -> None:
    """Draws are per distinct row; ``inverse`` maps them back; seeded replicates repeat exactly."""
    rows = _summary().assign(order_value=40.0)
    e1, c1, inv, n = bootstrap_values(rows, 3, 7, 30.0, 0.01, 1.0, "bgnbd", 0.0)
    e2, _, _, _ = bootstrap_values(rows, 3, 7, 30.0, 0.01, 1.0, "bgnbd", 0.0)
    assert n == 3 and e1.shape == c1.shape == (3, inv.max() + 1) and len(inv) == len(rows)
    np.testing.assert_array_equal(e1, e2)
