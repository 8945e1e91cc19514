"""Fixtures of the feature tests: the tiny hand-made store (see tiny_store.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shopseg.workspace import Workspace
from tests.features.tiny_store import load_tiny


@pytest.fixture
def tiny(workspace: Workspace) -> Workspace:
    """The tiny store in a fresh workspace."""
    return load_tiny(workspace)


def shared(name: str) -> Path:
    """A file of ../shared/data (as tests/conftest.py's shared_file, usable at module scope); never skips."""
    root = Path(__file__).resolve().parents[2]
    path = Path(os.environ.get("SHOPSEG_SHARED_DATA", root.parent / "shared" / "data")) / name
    if not path.exists():
        pytest.fail(f"{path} is missing: the real datasets must be in ../shared/data.", pytrace=False)
    return path


@pytest.fixture(scope="module")
def cdnow_sample_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """CDNOW_sample.txt ingested with the cdnow_sample preset (module-scoped, ~1 s)."""
    from shopseg.io import ingest

    ws = Workspace.init(tmp_path_factory.mktemp("cdnow") / "cdnow.duckdb")
    ingest(ws, "orders", shared("CDNOW_sample.txt"), preset="cdnow_sample")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def retail_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """online_retail.parquet ingested with the online_retail preset (session-scoped, ~4 s; tests only add derived tables)."""
    from shopseg.io import ingest

    ws = Workspace.init(tmp_path_factory.mktemp("retail") / "retail.duckdb")
    ingest(ws, "orders", shared("online_retail.parquet"), preset="online_retail")
    yield ws
    ws.close()
