"""Customer-lifetime-value models: BG/NBD, Pareto/NBD, Gamma-Gamma, discounted CLV, next-order date.

>>> from shopseg.models.clv import BetaGeoModel, ParetoNBDModel, GammaGammaModel, customer_lifetime_value
"""

from __future__ import annotations

from shopseg.models.clv.bgnbd import BetaGeoModel
from shopseg.models.clv.clv import customer_lifetime_value, predict_customer_value
from shopseg.models.clv.gamma_gamma import GammaGammaModel
from shopseg.models.clv.pareto_nbd import ParetoNBDModel

__all__ = ["BetaGeoModel", "ParetoNBDModel", "GammaGammaModel", "customer_lifetime_value", "predict_customer_value"]
