"""A synthetic store with known churners: ``generate_store(3000, seed=7)`` (lapsed and one-time groups stop buying)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shopseg.workspace import Workspace


@pytest.fixture(scope="session")
def churn_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    from shopseg.datasets import generate_store, write_store

    ws = Workspace.init(tmp_path_factory.mktemp("churn") / "store.duckdb")
    write_store(ws, generate_store(3000, seed=7))
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def churn_result(churn_ws: Workspace):  # noqa: ANN201 - ChurnBacktest
    from shopseg.engine import get_engine
    from shopseg.models.churn import churn_backtest

    return churn_backtest(get_engine(churn_ws, "duckdb"), horizon_days=90)
