"""Cross-engine suite: one session-wide Spark engine, DuckDB beside it, on the same workspaces.

Fixtures for every engine test (features, RFM, segments, ...):

- ``online_retail_workspace``: UCI Online Retail ingested with the
  ``online_retail`` preset (session-scoped; read it, write only derived tables).
- ``synthetic_workspace``: a small generated store (``generate_store(400,
  seed=7)``) with the columns Online Retail lacks: events, categories,
  channels, discounts, demographics.
- ``duckdb_engine`` / ``spark_engine``: engines over ``online_retail_workspace``;
  ``engines_for(ws)`` gives both over another workspace (Spark shares the one
  process-wide session of :func:`shopseg.engine.spark.get_spark_session`).
- ``compare_engines(build, workspace=None, key="customer_id")``: runs
  ``build(engine)`` (an Ibis table or a DataFrame) on DuckDB and on Spark and
  asserts the results agree (see engine_compare.py); returns both frames. To add RFM:

      def test_rfm_is_identical(compare_engines):
          compare_engines(lambda engine: rfm_table(engine, as_of="2011-12-09"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from shopseg.engine import Engine, get_engine
from shopseg.workspace import Workspace
from tests.engines.engine_compare import as_frame, assert_engines_agree


@pytest.fixture(scope="session")
def synthetic_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    from shopseg.datasets import generate_store, write_store

    ws = Workspace.init(tmp_path_factory.mktemp("engines") / "synthetic.duckdb")
    write_store(ws, generate_store(400, seed=7))
    yield ws
    ws.close()


_ENGINES: dict[tuple[str, str], Engine] = {}


def engines_for(workspace: Workspace) -> tuple[Engine, Engine]:
    """(DuckDB, Spark) engines over ``workspace``, created once per session."""
    out = []
    for name in ("duckdb", "spark"):
        key = (name, str(workspace.path))
        if key not in _ENGINES:
            _ENGINES[key] = get_engine(workspace, name)
        out.append(_ENGINES[key])
    return out[0], out[1]


@pytest.fixture(scope="session", autouse=True)
def _close_engines() -> Iterator[None]:
    yield
    for engine in _ENGINES.values():
        engine.close()
    _ENGINES.clear()


@pytest.fixture(scope="session")
def duckdb_engine(online_retail_workspace: Workspace) -> Engine:
    return engines_for(online_retail_workspace)[0]


@pytest.fixture(scope="session")
def spark_engine(online_retail_workspace: Workspace) -> Engine:
    return engines_for(online_retail_workspace)[1]


@pytest.fixture
def compare_engines(
    online_retail_workspace: Workspace,
) -> Callable[..., tuple[pd.DataFrame, pd.DataFrame]]:
    def run(
        build: Callable[[Engine], Any], workspace: Workspace | None = None, key: str | list[str] = "customer_id"
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        duck, spark = engines_for(workspace or online_retail_workspace)
        left, right = as_frame(build(duck)), as_frame(build(spark))
        assert_engines_agree(left, right, key)
        return left, right

    return run
