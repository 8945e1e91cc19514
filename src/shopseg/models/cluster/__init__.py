"""Customer clustering: k-means and Gaussian mixtures on log-standardized features.

>>> from shopseg.models.cluster import ClusterSegmenter, profile_clusters, promote_cluster
"""

from __future__ import annotations

from shopseg.models.cluster.preprocess import DEFAULT_FEATURES, build_preprocessor, resolve_features
from shopseg.models.cluster.profile import name_clusters, profile_clusters
from shopseg.models.cluster.promote import PromotedRule, promote_cluster
from shopseg.models.cluster.segmenter import ClusterSegmenter
from shopseg.models.cluster.select_k import k_curve
from shopseg.models.cluster.stability import bootstrap_stability

__all__ = [
    "DEFAULT_FEATURES",
    "ClusterSegmenter",
    "PromotedRule",
    "bootstrap_stability",
    "build_preprocessor",
    "k_curve",
    "name_clusters",
    "profile_clusters",
    "promote_cluster",
    "resolve_features",
]
