"""Fixtures of the segment tests: hand-built purchase histories and Online Retail on both engines.

``store`` writes purchase histories into a fresh workspace: one order per
(customer, timestamp) with a single line of ``quantity=1, unit_price=10``.
The cross-engine RFM and lifecycle checks live in ``tests/engines/`` with the
shared engine fixtures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest

from shopseg.workspace import Workspace
from tests.segments.segment_store import write_store

StoreFn = Callable[..., Workspace]


@pytest.fixture
def store(workspace: Workspace) -> StoreFn:
    """``store(purchases, prospects=())`` fills the test's fresh workspace and returns it."""

    def fill(purchases: Mapping[str, Sequence[str]], prospects: Sequence[str] = ()) -> Workspace:
        return write_store(workspace, purchases, prospects)

    return fill
