"""Issue 20 item 5, the numbers dashboard.js writes: money in the store's currency, shares, times, chart legends.

A second ``shopseg serve`` runs over a copy of the demo store with the setting
``report_currency`` (``SHOPSEG_REPORT_CURRENCY``) set to a currency the store's
orders do not mostly use, so the pages' currency comes from the setting. The
members table and the builder's live preview (filled in by ``dashboard.js``) must
show that currency's symbol, thousands separators and cents as the pages'
``money`` filter does, percentages with one decimal and times in UTC; the figures
are compared with the workspace. At 390 px every chart legend sits under its plot
(and under the x axis labels and title), clear of the mode bar, and every money
axis title names the currency.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.web.conftest import DemoStore, running_server
from tests.web.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

_SYMBOLS = {"GBP": "£", "EUR": "€"}
PCT = re.compile(r"^\d{1,3}\.\d%$")
UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$")
CHART_PAGES = ["/", "/rfm", "/segments/loyal", "/clusters", "/predictions", "/regions", "/experiments"]


def money_pattern(symbol: str) -> re.Pattern[str]:
    """The pages' money: whole units with thousands separators from 1,000, cents below."""
    return re.compile(rf"^-?{re.escape(symbol)}(\d{{1,3}}(,\d{{3}})+|\d{{1,3}}\.\d{{2}})$")


def amount(text: str, symbol: str) -> float:
    return float(text.replace(symbol, "").replace(",", ""))


class Store:
    """The copy's server, its currency and the figures the pages must show."""

    def __init__(self, url: str, currency: str, keys: dict[str, str], truth: dict[str, float]) -> None:
        self.url, self.currency, self.keys, self.truth = url, currency, keys, truth
        self.symbol = _SYMBOLS[currency]
        self.money = money_pattern(self.symbol)


@pytest.fixture(scope="module")
def store(demo_store: DemoStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    assert demo_store.copy is not None
    path = tmp_path_factory.mktemp("numbers") / "numbers.duckdb"
    shutil.copyfile(demo_store.copy, path)
    with duckdb.connect(str(path), read_only=True) as con:
        most = con.execute("SELECT currency FROM orders GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()
        features = "SELECT {} FROM customer_features WHERE orders >= {}"
        truth = {
            "loyal_top_revenue": con.execute(features.format("max(revenue)", 4)).fetchone()[0],
            "buyers_revenue": con.execute(features.format("sum(revenue)", 1)).fetchone()[0],
        }
    currency = "EUR" if most and most[0] == "GBP" else "GBP"  # not the orders' own: the setting decides
    with running_server(Path(path), env={"SHOPSEG_REPORT_CURRENCY": currency}) as url:
        yield Store(url, currency, demo_store.keys, {k: float(v) for k, v in truth.items()})


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `make chromium`.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def _page(browser: Any, store: Store, width: int = 1280) -> Any:
    ctx = browser.new_context(base_url=store.url, viewport={"width": width, "height": 844})
    r = ctx.request.post(
        "/api/v1/dashboard/session", data={"api_key": store.keys["marketer"]}, headers={"Origin": store.url}
    )
    assert r.ok, r.text()
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


def test_members_table_shows_money_in_the_store_currency(browser: Any, store: Store) -> None:
    from playwright.sync_api import expect

    page = _page(browser, store)
    page.goto("/segments/loyal")
    expect(page.locator("body")).to_have_attribute("data-currency", store.currency)
    page.click("#members th[data-sort=revenue] button")  # biggest first: a revenue above 1,000
    expect(page.locator("#members th[data-sort=revenue]")).to_have_attribute("aria-sort", "descending")
    # the header flips before the sorted page arrives: wait for the rows themselves (the top revenue is >= 1,000)
    expect(page.locator("#members tbody tr td:nth-child(3)").first).to_contain_text(",")
    revenue = page.locator("#members tbody tr td:nth-child(3)").all_inner_texts()
    assert revenue and all(store.money.match(t) for t in revenue), revenue
    top = store.truth["loyal_top_revenue"]
    assert top >= 1000 and "," in revenue[0], revenue[0]
    assert abs(amount(revenue[0], store.symbol) - top) <= 0.5, (revenue[0], top)
    last_order = page.locator("#members tbody tr td:nth-child(4)").all_inner_texts()
    assert all(UTC_TIME.match(t) for t in last_order), last_order
    expect(page.locator("#kpi-revenue-share")).to_have_text(PCT)
    expect(page.locator("#kpi-share")).to_have_text(re.compile(r"^\d{1,3}\.\d% of [\d,]+ customers$"))
    expect(page.locator("#kpi-revenue")).to_have_text(re.compile(rf"^{re.escape(store.symbol)}[\d,]+ of net revenue$"))
    assert not page.errors
    page.context.close()


def test_builder_preview_shows_money_in_the_store_currency(browser: Any, store: Store) -> None:
    from playwright.sync_api import expect

    page = _page(browser, store)
    page.goto("/segments/new")
    page.fill("#rule", "orders >= 1")
    expect(page.locator("#preview")).to_be_visible()
    total = page.locator("#preview-revenue-total").inner_text()
    assert store.money.match(total) and "," in total, total
    assert abs(amount(total, store.symbol) - store.truth["buyers_revenue"]) <= 0.5, total
    expect(page.locator("#preview-revenue")).to_have_text(PCT)
    expect(page.locator("#preview-share")).to_have_text(PCT)
    expect(page.locator("#live-count")).to_have_text(re.compile(r"^[\d,]+ customers match \(\d{1,3}\.\d%\)$"))
    heads = page.locator("#preview-sample thead th").all_inner_texts()
    column = heads.index("revenue") + 1
    sample = page.locator(f"#preview-sample tbody tr td:nth-child({column})").all_inner_texts()
    assert sample and all(store.money.match(t) for t in sample), sample
    assert not page.errors
    page.context.close()


_CHARTS = """() => Array.from(document.querySelectorAll('.chart.drawn')).map((el) => {
  const rect = (n) => { if (!n) return null; const r = n.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  const labels = Array.from(el.querySelectorAll('.xtick text, .g-xtitle text')).map((n) => n.getBoundingClientRect().bottom);
  const axes = Object.keys(el.layout).filter((k) => /^[xy]axis\\d*$/.test(k)).map((k) => el.layout[k].title && el.layout[k].title.text);
  const bars = el.data.map((t) => t.colorbar && t.colorbar.title && t.colorbar.title.text);
  return {id: el.id, legend: rect(el.querySelector('.legend')), plot: rect(el.querySelector('.nsewdrag')),
          labels: labels.length ? Math.max(...labels) : null, orientation: (el.layout.legend || {}).orientation,
          titles: axes.concat(bars).filter(Boolean)};
})"""
_MODEBAR = """(id) => {
  const rect = (n) => { const r = n.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  const bar = document.querySelector('#' + id + ' .modebar');
  const seen = bar && getComputedStyle(bar).display !== 'none' && bar.getBoundingClientRect().width > 0;
  return {modebar: seen ? rect(bar) : null, legend: rect(document.querySelector('#' + id + ' .legend'))};
}"""
_MONEY_WORDS = re.compile(r"revenue|sales|\bclv\b|order value", re.IGNORECASE)
_NOT_MONEY = re.compile(r"index|share|%", re.IGNORECASE)


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def test_on_a_phone_legends_sit_under_the_plot_and_money_axes_name_the_currency(browser: Any, store: Store) -> None:
    from playwright.sync_api import expect

    page = _page(browser, store, width=390)
    legends, money_titles = [], []
    for path in CHART_PAGES:
        page.goto(path)
        expect(page.locator(".chart.drawn")).to_have_count(page.locator(".chart").count())
        for chart in page.evaluate(_CHARTS):
            money_titles += [(path, t) for t in chart["titles"] if _MONEY_WORDS.search(t) and not _NOT_MONEY.search(t)]
            if chart["legend"] is None:  # one series: no legend
                continue
            where = f"{path} #{chart['id']}"
            legends.append(where)
            assert chart["orientation"] == "h", where
            assert chart["legend"]["top"] >= chart["plot"]["bottom"], (where, chart)
            assert chart["labels"] is None or chart["legend"]["top"] >= chart["labels"] - 0.5, (where, chart)
            page.locator(f"#{chart['id']}").hover()  # the mode bar shows on hover: it must not cover the legend
            shown = page.evaluate(_MODEBAR, chart["id"])
            if shown["modebar"] is not None:
                assert not _overlap(shown["modebar"], shown["legend"]), (where, shown)
    assert len(legends) >= 3, legends  # share of customers and revenue, size over time, clusters, backtest...
    unnamed = [(p, t) for p, t in money_titles if f"({store.currency}" not in t]
    assert money_titles and not unnamed, f"money axis titles without {store.currency}: {unnamed}"
    assert ("/", f"Gross sales ({store.currency})") in money_titles, money_titles  # the monthly chart, before returns
    assert not page.errors
    page.context.close()
