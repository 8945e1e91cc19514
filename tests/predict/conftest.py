"""A synthetic store with planted groups, features built and predictions stored once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from shopseg.workspace import Workspace


@pytest.fixture(scope="session")
def predicted_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, pd.DataFrame]]:
    from shopseg.datasets import generate_store, write_store
    from shopseg.features import build_features
    from shopseg.predict import predict_workspace

    ws = Workspace.init(tmp_path_factory.mktemp("predict") / "store.duckdb")
    write_store(ws, generate_store(1500, seed=3))
    build_features(ws, return_frame=False)
    out = predict_workspace(ws, n_bootstrap=5, seed=1)
    yield ws, out
    ws.close()
