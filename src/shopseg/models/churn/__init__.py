"""Supervised churn: time-based labels, a gradient-boosted classifier, and a backtest against baselines.

>>> from shopseg.models.churn import ChurnModel, churn_labels, churn_backtest
"""

from __future__ import annotations

from shopseg.models.churn.backtest import ChurnBacktest, churn_backtest, reliability_table
from shopseg.models.churn.labels import churn_labels
from shopseg.models.churn.model import CHURN_FEATURES, ChurnModel

__all__ = ["ChurnModel", "CHURN_FEATURES", "churn_labels", "churn_backtest", "ChurnBacktest", "reliability_table"]
