"""Workspace predictions (``shopseg predict``) and backtests on the store's own data.

>>> from shopseg.predict import predict_workspace, purchase_backtest, PREDICTIONS_TABLE
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopseg._lazy import lazy_attributes

if TYPE_CHECKING:
    from shopseg.predict.backtest import PurchaseBacktest, default_calibration_end, purchase_backtest
    from shopseg.predict.run import CHURN_THRESHOLDS, PREDICTION_COLUMNS, PREDICTIONS_TABLE, predict_workspace

# imported on first use: `predict run` needs none of the backtests' scikit-learn and SciPy statistics
_LAZY = {
    "predict_workspace": "shopseg.predict.run",
    "PREDICTIONS_TABLE": "shopseg.predict.run",
    "PREDICTION_COLUMNS": "shopseg.predict.run",
    "CHURN_THRESHOLDS": "shopseg.predict.run",
    "purchase_backtest": "shopseg.predict.backtest",
    "PurchaseBacktest": "shopseg.predict.backtest",
    "default_calibration_end": "shopseg.predict.backtest",
}

__all__ = [
    "predict_workspace",
    "purchase_backtest",
    "PurchaseBacktest",
    "default_calibration_end",
    "PREDICTIONS_TABLE",
    "PREDICTION_COLUMNS",
    "CHURN_THRESHOLDS",
]

__getattr__ = lazy_attributes(__name__, _LAZY, globals())
