"""A demo store (generated, every table built, saved segments refreshed) shared by the CLI output tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import DemoStore, build_demo_store


@pytest.fixture(scope="session")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    """The 300-customer demo store of the web tests, built once for the CLI tests (they may rebuild tables)."""
    return build_demo_store(Path(tmp_path_factory.mktemp("cli_store")), customers=300)
