"""Fixtures of the feature tests: the tiny hand-made store (see tiny_store.py)."""

from __future__ import annotations

import pytest
from tiny_store import load_tiny

from shopseg.workspace import Workspace


@pytest.fixture
def tiny(workspace: Workspace) -> Workspace:
    """The tiny store in a fresh workspace."""
    return load_tiny(workspace)
