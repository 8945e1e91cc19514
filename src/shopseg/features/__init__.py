"""Per-customer features, as of any date, identical on every engine.

>>> from shopseg.features import feature_expr, build_features, calibration_holdout_split, FEATURE_COLUMNS
>>> FEATURE_COLUMNS[:8]
['customer_id', 'first_order_at', 'last_order_at', 'orders', 'frequency', 'recency', 'T', 'monetary_value']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopseg._lazy import lazy_attributes

if TYPE_CHECKING:
    from shopseg.features.asof import AsOf
    from shopseg.features.build import FEATURE_COLUMNS, FEATURES_TABLE, build_features, feature_expr
    from shopseg.features.calibration import CALIBRATION_COLUMNS, calibration_holdout_expr, calibration_holdout_split

# imported on first use: an orders ingest reads `features.order_totals` and needs none of the build's pandas
_LAZY = {
    "AsOf": "shopseg.features.asof",
    "FEATURE_COLUMNS": "shopseg.features.build",
    "FEATURES_TABLE": "shopseg.features.build",
    "build_features": "shopseg.features.build",
    "feature_expr": "shopseg.features.build",
    "CALIBRATION_COLUMNS": "shopseg.features.calibration",
    "calibration_holdout_expr": "shopseg.features.calibration",
    "calibration_holdout_split": "shopseg.features.calibration",
}

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

__getattr__ = lazy_attributes(__name__, _LAZY, globals())
