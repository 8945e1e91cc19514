"""Clusters of a real store (UCI Online Retail II, ../shared/data): described, named, and stable.

docs/clusters.md quotes this run: auto k = 6, stability 0.87; the top cluster ("Frequent recent
high spenders", 551 customers) brings 60% of revenue. The data has no events, discounts or
categories, so only purchase behaviour separates customers. Floors below leave room for
library-version noise; they fail if the clusters stop being readable or stable.
"""

from __future__ import annotations

from shopseg.engine import get_engine
from shopseg.features import feature_expr
from shopseg.models.cluster import ClusterSegmenter, bootstrap_stability, profile_clusters


def test_online_retail_clusters_are_described_named_and_stable(online_retail_workspace):
    engine = get_engine(online_retail_workspace, "duckdb")
    frame = engine.execute(feature_expr(engine))
    buyers = frame[frame["orders"] > 0].sort_values("customer_id").reset_index(drop=True)
    assert len(buyers) == 4_339
    seg = ClusterSegmenter("auto", random_state=0).fit(buyers)
    profile = profile_clusters(buyers, seg.labels_, seg.features_)
    assert 4 <= seg.n_clusters_ <= 8 and profile["customers"].sum() == len(buyers)
    assert abs(profile["revenue_share"].sum() - 1) < 1e-9
    names = list(profile["cluster_name"])
    assert all(names) and len(set(names)) == len(names), names
    top = profile.sort_values("revenue_share").iloc[-1]
    assert "high spenders" in top["cluster_name"] and top["revenue_share"] >= 0.4, top[
        ["cluster_name", "revenue_share"]
    ]
    stability = bootstrap_stability(seg, buyers, n_rounds=3, random_state=0)
    assert stability["mean"] >= 0.7
