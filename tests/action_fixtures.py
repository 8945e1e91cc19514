"""Fixtures of the action tests (personalize, export, experiments, privacy, their CLI).

``action_store_path`` builds once per run a synthetic store (1,500 customers,
seed 5) with its feature table, RFM map and lifecycle stages; ``action_ws`` gives
each test its own writable copy, so erasing or recording consent never leaks
between tests. Import both into a package's conftest.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopseg.workspace import Workspace

__all__ = ["action_store_path", "action_ws", "action_ws_path"]


@pytest.fixture(scope="session")
def action_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shopseg.datasets import generate_store
    from shopseg.datasets.write import write_store
    from shopseg.features import build_features
    from shopseg.segments.lifecycle import build_lifecycle
    from shopseg.segments.rfm_map import build_rfm

    path = tmp_path_factory.mktemp("actions") / "store.duckdb"
    ws = Workspace.init(path)
    write_store(ws, generate_store(1500, seed=5))
    build_features(ws)
    build_rfm(ws)
    build_lifecycle(ws)
    ws.close()
    return path


@pytest.fixture
def action_ws_path(action_store_path: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store.duckdb"
    shutil.copy(action_store_path, target)
    return target


@pytest.fixture
def action_ws(action_ws_path: Path) -> Iterator[Workspace]:
    ws = Workspace.open(action_ws_path)
    yield ws
    ws.close()
