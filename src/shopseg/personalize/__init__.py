"""Personalisation: buy-again and item-to-item recommendations, offline evaluation, next best action."""

from __future__ import annotations

from shopseg.personalize.baselines import BuyAgainRecommender, PopularityRecommender
from shopseg.personalize.blend import Blend, choose_blend, load_blend
from shopseg.personalize.offline import Evaluation, EvaluationResult, evaluate_recommenders, evaluate_workspace
from shopseg.personalize.recommend import ItemRecommender
from shopseg.personalize.service import fit_workspace, recommend_customers, segment_top_products

__all__ = [
    "Blend",
    "BuyAgainRecommender",
    "Evaluation",
    "EvaluationResult",
    "ItemRecommender",
    "PopularityRecommender",
    "choose_blend",
    "evaluate_recommenders",
    "evaluate_workspace",
    "fit_workspace",
    "load_blend",
    "recommend_customers",
    "segment_top_products",
]
