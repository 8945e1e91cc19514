"""Fixtures of the model tests: the CDNOW sample as the papers used it.

- ``cdnow_summary``: ../shared/data/cdnow_customers_summary.csv (frequency,
  recency, T in weeks; calibration ends 1997-09-30), read directly (fast).
- ``cdnow_split``: CDNOW_sample.txt ingested with the cdnow_sample preset and
  split by :func:`shopseg.features.calibration_holdout_split` (calibration to
  1997-09-30, holdout to 1998-06-30 = weeks 40-78, time in weeks); carries
  ``monetary_value_cal`` for the Gamma-Gamma model (~0.5 s, once per session).

Both fail (never skip) when ../shared/data is missing.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from tests.conftest import shared_file

# Fader, Hardie & Lee (2005), Marketing Science 24(2) (BG/NBD and Pareto/NBD on CDNOW);
# Fader, Hardie & Lee (2005), JMR 42(4) and Fader & Hardie note 025 (Gamma-Gamma).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def assert_sig_figs(actual: dict[str, float], expected: dict[str, float], sig: int = 3) -> None:
    """Equal to ``sig`` significant figures: relative error below half a unit of the last figure."""
    keys = list(expected)
    np.testing.assert_allclose([actual[k] for k in keys], [expected[k] for k in keys], rtol=0.5 * 10.0 ** (1 - sig))


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    return pd.read_csv(shared_file("cdnow_customers_summary.csv"))


@pytest.fixture(scope="session")
def cdnow_split(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pd.DataFrame]:
    from shopseg.engine import get_engine
    from shopseg.features import calibration_holdout_split
    from shopseg.io import ingest
    from shopseg.workspace import Workspace

    ws = Workspace.init(tmp_path_factory.mktemp("cdnow_models") / "cdnow.duckdb")
    try:
        ingest(ws, "orders", shared_file("CDNOW_sample.txt"), preset="cdnow_sample")
        yield calibration_holdout_split(get_engine(ws, "duckdb"), "1997-09-30", "1998-06-30", time_unit="weeks")
    finally:
        ws.close()


@pytest.fixture(scope="session")
def bgnbd(cdnow_summary: pd.DataFrame):  # noqa: ANN201 - fitted estimator
    from shopseg.models import BetaGeoModel

    return BetaGeoModel().fit(cdnow_summary)


@pytest.fixture(scope="session")
def pareto(cdnow_summary: pd.DataFrame):  # noqa: ANN201
    from shopseg.models import ParetoNBDModel

    return ParetoNBDModel().fit(cdnow_summary)


@pytest.fixture(scope="session")
def gamma_gamma(cdnow_split: pd.DataFrame):  # noqa: ANN201
    from shopseg.models import GammaGammaModel

    return GammaGammaModel().fit(cdnow_split)
