"""Fixtures of the live tests: a workspace with saved segments, a manual clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from shopseg.live.clock import ManualClock
from shopseg.segments.definitions import SegmentStore
from shopseg.workspace import Workspace

DAY1 = dt.datetime(2024, 6, 1, 9, 0)

#: The scripted journey's segments.
ABANDONED_CART = (
    "events(type='add_to_cart', within=-7d).count >= 1 AND events(type='add_to_cart', within=-1d).count = 0 "
    "AND events(type='purchase', within=-7d).count = 0"
)
BROWSING_TODAY = "events(type='product_view', within=-1d).count >= 1"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DAY1)


@pytest.fixture
def make_ws(tmp_path: Path) -> Callable[..., Path]:
    """``make_ws(name=rule, ...)``: a workspace file with those saved segments."""

    def make(**segments: str) -> Path:
        path = tmp_path / "live.duckdb"
        with Workspace.init(path) as ws:
            store = SegmentStore(ws)
            for name, rule in segments.items():
                store.create(name, rule, force=True)
        return path

    return make
