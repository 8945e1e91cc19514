"""Estimators with fit/predict: CLV purchase and spend models (``shopseg.models.clv``).

>>> from shopseg.models import BetaGeoModel, ParetoNBDModel
"""

from __future__ import annotations

from shopseg.models.clv import BetaGeoModel, ParetoNBDModel

__all__ = ["BetaGeoModel", "ParetoNBDModel"]
