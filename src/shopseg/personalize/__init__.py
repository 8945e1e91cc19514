"""Personalisation: item-to-item recommendations, offline evaluation, next best action."""

from __future__ import annotations

from shopseg.personalize.evaluate import EvaluationResult, evaluate_recommenders, evaluate_workspace
from shopseg.personalize.recommend import ItemRecommender, PopularityRecommender
from shopseg.personalize.service import fit_workspace, recommend_customers, segment_top_products

__all__ = [
    "EvaluationResult",
    "ItemRecommender",
    "PopularityRecommender",
    "evaluate_recommenders",
    "evaluate_workspace",
    "fit_workspace",
    "recommend_customers",
    "segment_top_products",
]
