"""Workspace predictions (``shopseg predict``) and backtests on the store's own data.

>>> from shopseg.predict import predict_workspace, purchase_backtest, PREDICTIONS_TABLE
"""

from __future__ import annotations

from shopseg.predict.backtest import PurchaseBacktest, default_calibration_end, purchase_backtest
from shopseg.predict.run import CHURN_THRESHOLDS, PREDICTION_COLUMNS, PREDICTIONS_TABLE, predict_workspace

__all__ = [
    "predict_workspace",
    "purchase_backtest",
    "PurchaseBacktest",
    "default_calibration_end",
    "PREDICTIONS_TABLE",
    "PREDICTION_COLUMNS",
    "CHURN_THRESHOLDS",
]
