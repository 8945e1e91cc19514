"""Cluster a workspace's customers and store the result: ``customer_clusters`` and ``cluster_profiles``.

The one place that reads the feature table, fits :class:`ClusterSegmenter`,
profiles and names the clusters and writes both tables; ``shopseg cluster``
and ``shopseg demo`` call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from shopseg.models.cluster.profile import profile_clusters
from shopseg.models.cluster.segmenter import ClusterSegmenter

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["CLUSTERS_TABLE", "PROFILES_TABLE", "ClusteredWorkspace", "cluster_workspace", "load_cluster_frame"]

CLUSTERS_TABLE = "customer_clusters"
PROFILES_TABLE = "cluster_profiles"


@dataclass
class ClusteredWorkspace:
    """What :func:`cluster_workspace` fitted and stored."""

    segmenter: ClusterSegmenter
    frame: pd.DataFrame  #: the clustered customers' features
    assignments: pd.DataFrame  #: customer_id, cluster, cluster_name (as stored)
    profile: pd.DataFrame  #: one row per cluster (as stored)


def load_cluster_frame(ws: Workspace, include_prospects: bool = False, engine: str = "duckdb") -> pd.DataFrame:
    """The stored feature table (built first when absent), buyers only unless ``include_prospects``."""
    from shopseg.features import FEATURES_TABLE, build_features

    if ws.has_table(FEATURES_TABLE):
        frame = ws.con.execute(f'SELECT * FROM "{FEATURES_TABLE}" ORDER BY customer_id').df()
    else:
        frame = build_features(ws, engine=engine)
    return frame if include_prospects else frame[frame["orders"] > 0].reset_index(drop=True)


def cluster_workspace(
    ws: Workspace,
    n_clusters: int | str = "auto",
    *,
    method: str = "kmeans",
    features: list[str] | None = None,
    random_state: int = 0,
    include_prospects: bool = False,
    engine: str = "duckdb",
) -> ClusteredWorkspace:
    """Fit, profile and name clusters of the workspace's customers; store both tables."""
    frame = load_cluster_frame(ws, include_prospects, engine)
    seg = ClusterSegmenter(n_clusters, method=method, features=features, random_state=random_state).fit(frame)
    profile = profile_clusters(frame, seg.labels_, seg.features_)
    names = dict(zip(profile["cluster"], profile["cluster_name"], strict=True))
    out = pd.DataFrame({"customer_id": frame["customer_id"].astype(str), "cluster": seg.labels_})
    out["cluster_name"] = out["cluster"].map(names)
    ws.write_table(CLUSTERS_TABLE, out)
    ws.write_table(PROFILES_TABLE, profile)
    return ClusteredWorkspace(seg, frame, out, profile)
