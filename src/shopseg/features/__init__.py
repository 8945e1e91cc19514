"""Per-customer features, as of any date, identical on every engine.

>>> from shopseg.features import feature_expr, build_features, calibration_holdout_split, FEATURE_COLUMNS
>>> FEATURE_COLUMNS[:8]
['customer_id', 'first_order_at', 'last_order_at', 'orders', 'frequency', 'recency', 'T', 'monetary_value']
"""

from __future__ import annotations

from shopseg.features.asof import AsOf
from shopseg.features.build import FEATURE_COLUMNS, FEATURES_TABLE, build_features, feature_expr
from shopseg.features.calibration import CALIBRATION_COLUMNS, calibration_holdout_expr, calibration_holdout_split

__all__ = [
    "AsOf",
    "FEATURE_COLUMNS",
    "FEATURES_TABLE",
    "CALIBRATION_COLUMNS",
    "build_features",
    "feature_expr",
    "calibration_holdout_expr",
    "calibration_holdout_split",
]
