"""A generated store (6 000 customers, seed 3) with its features and planted groups, once per session."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def synthetic_features(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """``customer_features`` of buyers (orders > 0) plus their planted ``group``."""
    from shopseg.datasets import TRUTH_TABLE, generate_store, write_store
    from shopseg.features import build_features
    from shopseg.workspace import Workspace

    with Workspace.init(tmp_path_factory.mktemp("cluster") / "shop.duckdb") as ws:
        write_store(ws, generate_store(6_000, seed=3))
        features = build_features(ws)
        truth = ws.con.execute(f'SELECT customer_id, "group" FROM "{TRUTH_TABLE}"').df()
    df = features.merge(truth, on="customer_id")
    return df[df["orders"] > 0].reset_index(drop=True)
