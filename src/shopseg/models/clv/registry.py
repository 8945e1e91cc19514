"""Purchase models by name: what ``--model bgnbd|mbgnbd|pareto`` selects.

The default is the MBG/NBD: in the churn backtests of docs/predictions.md its
``1 - P(alive)`` ranks churners far better than the BG/NBD's (AUC 0.79 vs 0.34
on CDNOW master), where every one-time buyer is certainly alive; the
Pareto/NBD ranks a little better still but costs 5-30 times as much to fit
(8.8 s instead of 0.3 s at a million customers, and ``shopseg predict`` refits
it for every bootstrap replicate).
"""

from __future__ import annotations

from typing import Any

from shopseg.errors import InvalidParameterError, did_you_mean
from shopseg.models.clv._purchase import PurchaseModel
from shopseg.models.clv.bgnbd import BetaGeoModel
from shopseg.models.clv.mbgnbd import ModifiedBetaGeoModel
from shopseg.models.clv.pareto_nbd import ParetoNBDModel

__all__ = ["PURCHASE_MODELS", "MODEL_LABELS", "DEFAULT_PURCHASE_MODEL", "make_purchase_model", "model_key"]

PURCHASE_MODELS: dict[str, type[PurchaseModel]] = {
    "bgnbd": BetaGeoModel,
    "mbgnbd": ModifiedBetaGeoModel,
    "pareto": ParetoNBDModel,
}
MODEL_LABELS = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "pareto": "Pareto/NBD"}
DEFAULT_PURCHASE_MODEL = "mbgnbd"


def model_key(name: object) -> str:
    """``name`` checked against :data:`PURCHASE_MODELS` (``InvalidParameterError`` with a suggestion)."""
    if isinstance(name, str) and name in PURCHASE_MODELS:
        return name
    raise InvalidParameterError(
        f"The 'model' parameter must be one of {sorted(PURCHASE_MODELS)}. Got {name!r} instead."
        f"{did_you_mean(str(name), PURCHASE_MODELS)}"
    )


def make_purchase_model(name: str, **params: Any) -> PurchaseModel:
    """A new, unfitted purchase model ``name`` (``bgnbd``, ``mbgnbd`` or ``pareto``) with ``params``."""
    return PURCHASE_MODELS[model_key(name)](**params)
