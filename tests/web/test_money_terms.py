"""The dashboard says what the report says: net revenue beside gross sales, a partial month marked, the regions
page explains a store without regions or categories, RFM notes and honest column labels (in-process TestClient).

Figures are hand-computed on :func:`tests.reports.tiny_orders.seed_returns` (gross sales 400, net revenue 130).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopseg.api import create_app
from shopseg.web import dashboard_routers
from shopseg.workspace import Workspace
from tests.reports.tiny_orders import seed_returns


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from shopseg.api.keys import KeyStore
    from shopseg.features import build_features
    from shopseg.segments.rfm_map import build_rfm

    path = Path(tmp_path_factory.mktemp("money")) / "ws.duckdb"
    ws = Workspace.init(path)
    seed_returns(ws)
    build_features(ws)
    build_rfm(ws)
    key = KeyStore(ws).create("viewer", "viewer").key
    ws.close()
    app = create_app(path, live=False, routers=dashboard_routers())
    yield TestClient(app, headers={"X-API-Key": key})
    app.state.shopseg.close()  # type: ignore[attr-defined]


def _figure(html: str, chart_id: str) -> dict:
    found = re.search(rf'id="{chart_id}"[^>]*data-figure="([^"]+)"', html)
    assert found, chart_id
    return json.loads(unescape(found.group(1)))


def test_overview_shows_net_revenue_and_gross_sales(client):
    html = client.get("/").text
    assert re.search(r'<div class="label">Net revenue</div><div class="value" id="kpi-net-revenue">130<', html)
    assert re.search(r'Gross sales \(before returns\)</div><div class="value" id="kpi-gross-sales">400<', html)
    assert ">Revenue<" not in html and "Sales by month (before returns)" in html


def test_overview_marks_the_partial_month(client):
    html = client.get("/").text
    bar = _figure(html, "chart-monthly")["data"][0]
    assert bar["x"] == ["Jan 2024", "Feb 2024", "Mar 2024 (20 days)"]
    assert bar["marker"]["pattern"]["shape"] == ["", "", "/"]
    assert "Mar 2024 has 20 days of data" in unescape(html)


def test_regions_page_explains_a_store_without_regions(client):
    html = unescape(client.get("/regions").text)
    assert 'id="chart-regions"' not in html
    assert "no customer regions and no product categories" in html and "--level country" in html
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert "Gross sales" in heads and "Orders" in heads and "Net revenue" not in heads


def test_rfm_page_shows_the_score_note_and_mean_labels(client):
    html = unescape(client.get("/rfm").text)
    assert "Note: F: 4 buyers have too few distinct values" in html
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert "Mean orders per customer" in heads and "Net revenue" in heads
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    champions = [r for r in rows if ">Champions<" in r]
    assert champions  # means with the column's decimals: orders with 2, days with 1
    cells = re.findall(r'<td class="num">([^<]*)</td>', champions[0])
    assert all(re.fullmatch(r"-|\d+\.\d", c) for c in cells[4:5]) and all(
        re.fullmatch(r"-|\d+\.\d\d", c) for c in cells[5:6]
    ), cells
