"""The report a marketing lead forwards: executive summary first, figures equal to independent SQL, the store's
currency, human labels, a print stylesheet, and no element wider than the page at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopseg.cli.main import app
from shopseg.reports import write_report
from shopseg.reports._format import money
from shopseg.reports.executive import executive_summary
from shopseg.workspace import Workspace
from tests.web.conftest import ROOT, build_demo_store
from tests.web.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts" / "web"
runner = CliRunner()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The demo-sized store with two snapshot dates (90 days apart), and its report."""
    folder = tmp_path_factory.mktemp("report")
    store = build_demo_store(folder, customers=600)
    w = ["-w", str(store.path)]
    with Workspace.open(store.path, read_only=True) as ws:
        as_of = dt.date.fromisoformat(ws.meta("features_as_of"))
    earlier = (as_of - dt.timedelta(days=90)).isoformat()
    for args in (
        ["features", "build", "--as-of", earlier],
        ["rfm"],
        ["segment", "refresh"],
        ["features", "build"],
        ["rfm"],
        ["segment", "refresh"],
    ):
        result = runner.invoke(app, [*w, *args])
        assert result.exit_code == 0, result.output
    with Workspace.open(store.path, read_only=True) as ws:
        path = write_report(ws, folder / "report.html")
    yield store.path, path


def _independent(ws: Workspace) -> dict[str, float]:
    """Last 90 days of purchases and likely churners, in plain SQL (not the report's code). Purchases as the features
    define them: lines with a positive quantity, a price of at least zero and no return flag, each line's net value
    rounded to cents and never below zero."""
    con = ws.con
    last = con.execute("SELECT max(ordered_at)::DATE FROM orders WHERE NOT coalesce(is_cancelled, false)").fetchone()[0]
    start = last - dt.timedelta(days=89)
    revenue, orders = con.execute(
        """SELECT sum(round(greatest(l.quantity * l.unit_price - coalesce(l.discount, 0), 0), 2)),
                  count(DISTINCT o.order_id)
           FROM orders o JOIN order_lines l USING (order_id)
           WHERE NOT coalesce(o.is_cancelled, false) AND l.quantity > 0 AND l.unit_price >= 0
             AND NOT coalesce(l.is_return, false)
             AND o.ordered_at::DATE BETWEEN ? AND ?""",
        [start, last],
    ).fetchone()
    churners = con.execute("SELECT count(*) FROM customer_predictions WHERE churn_probability >= 0.8").fetchone()[0]
    currency = con.execute("SELECT currency FROM orders GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
    return {"revenue": revenue, "orders": orders, "churners": churners, "currency": currency}


def test_summary_comes_first_with_the_headline_numbers(report):
    store, path = report
    text = path.read_text(encoding="utf-8")
    with Workspace.open(store, read_only=True) as ws:
        truth = _independent(ws)
        e = executive_summary(ws)
    heads = {h.key: h for h in e.headlines}
    assert heads["gross_sales"].value == pytest.approx(truth["revenue"]) and heads["orders"].value == truth["orders"]
    assert 0 < heads["net_revenue"].value <= heads["gross_sales"].value  # returns taken off
    assert e.currency == truth["currency"] and e.at_risk and e.at_risk["customers"] == truth["churners"]
    body = text[text.index("<main>") :]
    assert body.index('<section id="summary">') < body.index("<section id=", body.index('id="summary"') + 1)
    summary = body[body.index('<section id="summary">') : body.index("</section>", body.index('id="summary"'))]
    revenue_card = re.search(
        r'data-key="gross_sales"><div class="label">Gross sales \(before returns\)</div><div class="value">([^<]+)<',
        summary,
    )
    assert revenue_card and revenue_card.group(1) == money(truth["revenue"], truth["currency"])
    assert f'data-key="orders"><div class="label">Orders</div><div class="value">{truth["orders"]:,}<' in summary
    assert "Revenue at risk" in summary and f"{truth['churners']:,} likely churners" in summary
    assert len(e.movements) == 3 and summary.count("<tr><td>") >= 3 + 1  # three movements, at least one action
    assert e.actions and all(a["customers"] > 0 for a in e.actions)
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(truth["currency"], truth["currency"])
    assert symbol in summary and re.search(r"\d,\d{3}", summary)  # the currency, thousands separators


def test_labels_are_for_people(report):
    _, path = report
    text = path.read_text(encoding="utf-8")
    visible = re.sub(r"<script.*?</script>|<style.*?</style>", "", text, flags=re.S)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", visible)
    assert headers and not [h for h in headers if "_" in h], headers  # no snake_case headers
    assert "`" not in re.sub(r"<[^>]+>", "", visible)  # no literal backticks
    assert "as_of:" not in visible and "time_unit" not in visible and "mean_churn" not in visible
    assert "Churn window" in visible and "CLV horizon" in visible and 'id="methodology"' in visible
    assert "@page { size: A4" in text and "@media print" in text
    titles = re.findall(r'"title":\{"text":"([^"]+)"', text)
    assert len(titles) >= 8, titles  # every chart titled
    assert all('"yaxis":{"title":{"text":"' in c for c in re.findall(r"Plotly.newPlot\(.*?\)\s*};", text, re.S))


@pytest.mark.parametrize("width", [1280, 390])
def test_nothing_is_wider_than_the_page(report, width):
    _, path = report
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`.", pytrace=False)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(path.as_uri())
        page.wait_for_selector("#summary .kpi")
        page.wait_for_function("document.querySelectorAll('.plotly-graph-div .main-svg').length > 0")
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        wide = page.evaluate(
            """() => [...document.querySelectorAll('main *')].filter(el => {
                 if (el.closest('.table-wrap') && !el.classList.contains('table-wrap')) return false;
                 return el.getBoundingClientRect().right > window.innerWidth + 1;
               }).slice(0, 5).map(el => el.tagName + '.' + el.className)"""
        )
        page.screenshot(path=str(ARTIFACTS / f"report-{width}.png"), full_page=True)
        page.emulate_media(media="print")
        page.pdf(path=str(ARTIFACTS / "report-a4.pdf"), format="A4") if width == 1280 else None
        browser.close()
    assert scroll <= inner, (scroll, inner, wide)
    assert not wide, wide
