"""Supervised churn: time-based labels, a gradient-boosted classifier, and a backtest against baselines.

>>> from shopseg.models.churn import ChurnModel, churn_labels, churn_backtest
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopseg._lazy import lazy_attributes
from shopseg.models.churn.labels import churn_labels
from shopseg.models.churn.model import CHURN_FEATURES, ChurnModel

if TYPE_CHECKING:
    from shopseg.models.churn.backtest import ChurnBacktest, churn_backtest, reliability_table

# the backtest (scikit-learn's metrics and isotonic fit, SciPy's statistics) is imported on first use:
# `predict run` trains and scores the model without it
_LAZY = {name: "shopseg.models.churn.backtest" for name in ("ChurnBacktest", "churn_backtest", "reliability_table")}

__all__ = ["ChurnModel", "CHURN_FEATURES", "churn_labels", "churn_backtest", "ChurnBacktest", "reliability_table"]

__getattr__ = lazy_attributes(__name__, _LAZY, globals())
