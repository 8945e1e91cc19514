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


def load_cluster_frame(
    ws: Workspace, include_prospects: bool = False, engine: str = "duckdb", features: list[str] | None = None
) -> pd.DataFrame:
    """The stored feature table (built first when absent), buyers only unless ``include_prospects``.

    Only the columns clustering and profiling read are loaded: ``customer_id``,
    ``orders``, ``revenue`` and ``features`` (the default features present when None;
    every column when none of them is, as :func:`resolve_features` does).
    """
    from shopseg.features import FEATURES_TABLE, build_features
    from shopseg.models.cluster.preprocess import DEFAULT_FEATURES

    if not ws.has_table(FEATURES_TABLE):
        frame = build_features(ws, engine=engine)
        return frame if include_prospects else frame[frame["orders"] > 0].reset_index(drop=True)
    columns = [str(r[0]) for r in ws.con.execute(f'DESCRIBE "{FEATURES_TABLE}"').fetchall()]
    wanted = list(features) if features is not None else [f for f in DEFAULT_FEATURES if f in columns]
    # an unknown requested feature is left for resolve_features to report; no default present: every column
    chosen = [c for c in dict.fromkeys(["customer_id", "orders", "revenue", *wanted]) if c in columns]
    select = ", ".join(f'"{c}"' for c in chosen) if wanted else "*"
    where = "" if include_prospects else "WHERE orders > 0"
    return ws.con.execute(f'SELECT {select} FROM "{FEATURES_TABLE}" {where} ORDER BY customer_id').df()


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
    frame = load_cluster_frame(ws, include_prospects, engine, features)
    seg = ClusterSegmenter(n_clusters, method=method, features=features, random_state=random_state).fit(frame)
    profile = profile_clusters(frame, seg.labels_, seg.features_)
    names = dict(zip(profile["cluster"], profile["cluster_name"], strict=True))
    out = pd.DataFrame({"customer_id": frame["customer_id"].astype(str), "cluster": seg.labels_})
    # the name is looked up inside DuckDB: a million Python strings of a few names cost 0.8 s to scan at 1M
    ws.write_table(
        CLUSTERS_TABLE,
        out,
        select="customer_id, cluster, list_extract(?::VARCHAR[], cluster + 1) AS cluster_name",
        params=[[names[c] for c in range(seg.n_clusters_)]],
    )
    out["cluster_name"] = out["cluster"].map(names)
    ws.write_table(PROFILES_TABLE, profile)
    return ClusteredWorkspace(seg, frame, out, profile)
