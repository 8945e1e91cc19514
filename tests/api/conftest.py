"""Fixtures of the API tests: a workspace file, an app on a manual clock, one key per role, a client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopseg.api import create_app
from shopseg.live.clock import ManualClock
from shopseg.workspace import Workspace

START = dt.datetime(2024, 6, 1, 9, 0)


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    path = tmp_path / "ws.duckdb"
    Workspace.init(path).close()
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def app(ws_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    app = create_app(ws_path, clock=clock)
    yield app
    app.state.shopseg.close()


@pytest.fixture
def keys(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """``role -> secret`` for one key of each role."""
    return {role: app.state.shopseg.keys.create(f"test-{role}", role).key for role in ("viewer", "marketer", "admin")}


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
