"""Shared fixtures: the real datasets in ../shared/data, fresh workspaces, the CLI runner.

Tests that need ../shared/data fail (never skip) when it is missing: CI has it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopseg.workspace import Workspace
from tests.action_fixtures import action_store_path, action_ws, action_ws_path  # noqa: F401  (issue 8 tests)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SHOPSEG_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_file(name: str) -> Path:
    """Path of a file in ../shared/data; fails the test loudly if it is missing."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.fail(
            f"{path} is missing: the real datasets must be in ../shared/data (or SHOPSEG_SHARED_DATA). "
            "These tests never skip.",
            pytrace=False,
        )
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path / "ws.duckdb")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def online_retail_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """UCI Online Retail ingested with the online_retail preset, once per run.

    Shared by every test that reads it (features, engines, segments): tests only add
    derived tables to it, never change the canonical ones.
    """
    from shopseg.io import ingest

    ws = Workspace.init(tmp_path_factory.mktemp("online_retail") / "online_retail.duckdb")
    ingest(ws, "orders", shared_file("online_retail.parquet"), preset="online_retail")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def cdnow_sample_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """CDNOW_sample.txt (the papers' 2,357 customers) ingested with the cdnow_sample preset, once per run."""
    from shopseg.io import ingest

    ws = Workspace.init(tmp_path_factory.mktemp("cdnow") / "cdnow.duckdb")
    ingest(ws, "orders", shared_file("CDNOW_sample.txt"), preset="cdnow_sample")
    yield ws
    ws.close()


@pytest.fixture
def online_retail_path() -> Path:
    return shared_file("online_retail.parquet")


@pytest.fixture
def cdnow_master_path() -> Path:
    return shared_file("CDNOW_master.txt")


@pytest.fixture
def cdnow_sample_path() -> Path:
    return shared_file("CDNOW_sample.txt")


@pytest.fixture
def cdnow_summary_path() -> Path:
    return shared_file("cdnow_customers_summary.csv")
