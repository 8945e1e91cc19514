"""Fixtures of the feature tests: the tiny hand-made store (see tiny_store.py)."""

from __future__ import annotations

import pytest

from shopseg.workspace import Workspace
from tests.features.tiny_store import load_tiny


@pytest.fixture
def tiny(workspace: Workspace) -> Workspace:
    """The tiny store in a fresh workspace."""
    return load_tiny(workspace)
