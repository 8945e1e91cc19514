"""A segment saved in the dashboard is live at once, in a real browser against a real `shopseg serve` (issue 17):
the marketer saves a rule in the builder, opens the live events page, an event matching the rule is posted to
/api/v1/events and the page shows the customer's entry into the new segment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopseg.api.keys import KeyStore
from shopseg.cli.main import app as cli
from shopseg.workspace import Workspace
from tests.web.conftest import running_server
from tests.web.test_browser import _login, browser  # noqa: F401 - the module's Chromium fixture

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`shopseg serve` with the dashboard over a small generated store with features; a marketer key."""
    path: Path = tmp_path_factory.mktemp("live-save") / "ws.duckdb"
    for args in (
        ["init", str(path)],
        ["-w", str(path), "generate", "-n", "200"],
        ["-w", str(path), "features", "build"],
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    with Workspace.open(path) as ws:
        key = KeyStore(ws).create("browser", "marketer").key
    with running_server(path) as url:
        yield url, key


def test_segment_saved_in_the_dashboard_enters_on_the_next_matching_event(browser, small_server) -> None:  # noqa: F811
    from playwright.sync_api import expect

    url, key = small_server
    context, page = _login(browser, url, key, "/segments/new")
    page.fill("#rule", "events(type='web_probe').count >= 1")
    page.click("#preview-btn")
    expect(page.locator("#preview-size")).to_have_text("0")
    page.fill("#seg-name", "web_probe")
    page.click("#save-btn")
    page.wait_for_url(f"{url}/segments/web_probe")

    page.goto("/events")
    expect(page.locator("#stream-status")).to_have_attribute("data-state", "open")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    doc = {"event_id": "web-probe-1", "customer_id": "c000003", "type": "web_probe", "occurred_at": now}
    r = page.request.post("/api/v1/events", data=doc, headers={"X-API-Key": key})
    assert r.status in (200, 201, 202), r.text()
    row = page.locator("#notifications tbody tr.entry").first
    expect(row).to_contain_text("web_probe")
    expect(row).to_contain_text("c000003")
    context.close()
