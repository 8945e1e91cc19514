"""Customer-lifetime-value models: BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma, discounted CLV, next-order date.

>>> from shopseg.models.clv import BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, GammaGammaModel
"""

from __future__ import annotations

from shopseg.models.clv.bgnbd import BetaGeoModel
from shopseg.models.clv.clv import customer_lifetime_value, predict_customer_value
from shopseg.models.clv.gamma_gamma import GammaGammaModel
from shopseg.models.clv.mbgnbd import ModifiedBetaGeoModel
from shopseg.models.clv.pareto_nbd import ParetoNBDModel
from shopseg.models.clv.registry import DEFAULT_PURCHASE_MODEL, MODEL_LABELS, PURCHASE_MODELS, make_purchase_model

__all__ = [
    "BetaGeoModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "PURCHASE_MODELS",
    "MODEL_LABELS",
    "DEFAULT_PURCHASE_MODEL",
    "make_purchase_model",
    "GammaGammaModel",
    "customer_lifetime_value",
    "predict_customer_value",
]
