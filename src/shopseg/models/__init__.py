"""Estimators with fit/predict: CLV purchase and spend models (``shopseg.models.clv``).

>>> from shopseg.models import BetaGeoModel, ParetoNBDModel, GammaGammaModel, customer_lifetime_value
"""

from __future__ import annotations

from shopseg.models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    customer_lifetime_value,
    predict_customer_value,
)

__all__ = [
    "BetaGeoModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "GammaGammaModel",
    "customer_lifetime_value",
    "predict_customer_value",
]
