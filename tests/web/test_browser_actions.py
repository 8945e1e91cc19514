"""Issue 20 items 3 and 4 in a real browser: the guiding builder and the segment, customer and A/B actions.

One Chromium (Debian's, driven by Playwright) for the module, against a real
`shopseg serve` over a private copy of the demo store (these tests save, delete
and start things). Every figure the page shows is compared with SQL run on the
pristine copy before the server opened its own. Screenshots go to
``test-artifacts/web/``. Waits use ``expect``/``wait_for_url``, never sleeps.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.web.conftest import DemoStore, running_server
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. "
            "Install it with `apt-get install -y chromium` (or `make chromium`).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def store(demo_store: DemoStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert demo_store.copy is not None
    path = Path(tmp_path_factory.mktemp("browser_actions")) / "store.duckdb"
    shutil.copyfile(demo_store.copy, path)
    return path


def _sql(demo_store: DemoStore, query: str, params: list | None = None) -> list[tuple]:
    assert demo_store.copy is not None
    with duckdb.connect(str(demo_store.copy), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[str]:
    with running_server(store) as url:
        yield url


@pytest.fixture()
def page(browser, server: str, demo_store: DemoStore) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A marketer logged in; fails the test on any script error or CSP violation."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=server, accept_downloads=True, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # a refused request (the 422 of a bad rule, a 404 page) is part of the flow; script errors and CSP refusals are not
    pg.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None
        ),
    )
    pg.goto("/login")
    pg.fill("#api-key", demo_store.keys["marketer"])
    pg.click("#login-btn")
    pg.wait_for_url(f"{server}/")
    yield pg
    context.close()
    assert not errors, errors


def test_field_search_inserts_p_alive_and_the_count_follows_the_typing(page, demo_store: DemoStore) -> None:
    from playwright.sync_api import expect

    page.goto("/segments/new")
    page.fill("#field-search", "still active")  # searches the meaning too
    visible = page.locator("#field-list tr.field:visible")
    expect(visible).to_have_count(1)
    expect(visible.locator("button.field-insert")).to_have_text("p_alive")
    page.click("#field-list tr[data-name='p_alive'] button.field-insert")
    expect(page.locator("#rule")).to_have_value("p_alive")
    page.locator("#rule").press_sequentially(" > 0.5")  # no Preview click: the live count runs as one types
    n = _sql(demo_store, "SELECT count(*) FROM customer_predictions WHERE p_alive > 0.5")[0][0]
    expect(page.locator("#live-count")).to_have_text(re.compile(rf"^{n:,} customers match"))
    expect(page.locator("#preview-size")).to_have_text(f"{n:,}")
    page.screenshot(path=str(ARTIFACTS / "builder-field-search.png"), full_page=True)


def test_value_picker_inserts_a_country_from_the_data(page, demo_store: DemoStore) -> None:
    from playwright.sync_api import expect

    page.goto("/segments/new")
    page.click("#field-list button.value-btn[data-field='country']")
    top = _sql(demo_store, "SELECT country, count(*) FROM customer_features GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")[0]
    chip = page.locator("#picker-values .value-pick").first
    expect(chip).to_have_attribute("data-value", top[0])  # the most common value of the data comes first
    expect(chip).to_contain_text(f"{top[1]:,}")
    page.screenshot(path=str(ARTIFACTS / "builder-value-picker.png"), full_page=True)
    page.click("#picker-values .value-pick[data-value='Germany']")
    expect(page.locator("#rule")).to_have_value("country = 'Germany'")
    n = _sql(demo_store, "SELECT count(*) FROM customer_features WHERE country = 'Germany'")[0][0]
    expect(page.locator("#preview-size")).to_have_text(f"{n:,}")


def test_two_errors_are_shown_at_once_each_at_its_place(page) -> None:
    from playwright.sync_api import expect

    page.goto("/segments/new")
    rule = "recnecy < 30 AND ordrs > 2"
    page.fill("#rule", rule)
    marks = page.locator("#rule-marked mark.err")
    expect(marks).to_have_count(2)
    expect(marks.nth(0)).to_have_text("recnecy")
    expect(marks.nth(1)).to_have_text("ordrs")
    expect(marks.nth(1)).to_have_attribute("data-col", str(rule.index("ordrs") + 1))
    expect(page.locator("#rule-errors li")).to_have_count(2)
    expect(page.locator("#rule-errors")).to_contain_text("Did you mean 'recency'?")
    expect(page.locator("#rule-errors")).to_contain_text("Did you mean 'orders'?")
    expect(page.locator("#live-count")).to_have_text("2 problems to fix")
    page.screenshot(path=str(ARTIFACTS / "builder-two-errors.png"), full_page=True)


def test_save_sort_search_export_message_duplicate_and_delete(page, server: str, demo_store: DemoStore) -> None:
    from playwright.sync_api import expect

    page.goto("/segments/new")
    page.fill("#rule", "orders >= 30")
    page.fill("#seg-name", "web_tiny")
    page.click("#save-btn")
    page.wait_for_url(f"{server}/segments/web_tiny")
    members = _sql(demo_store, "SELECT customer_id, revenue FROM customer_features WHERE orders >= 30")
    expect(page.locator("#kpi-size")).to_have_text(f"{len(members):,}")
    # members: sorted by revenue (largest first), then searched
    page.click("#members th[data-sort='revenue'] button")
    richest = max(members, key=lambda r: (r[1], r[0]))[0]
    expect(page.locator("#members tbody tr").first.locator("a.customer-link")).to_have_text(richest)
    page.fill("#members-search", richest)
    expect(page.locator("#members tbody tr")).to_have_count(1)
    expect(page.locator("#members-info")).to_contain_text(f"1 of {len(members):,} members match")
    # export below the minimum: a message on the page, no file
    consented = _sql(
        demo_store,
        "SELECT count(*) FROM customer_features f JOIN customers c USING (customer_id) "
        "WHERE f.orders >= 30 AND c.email_marketing",
    )[0][0]
    downloads: list[object] = []
    page.on("download", lambda d: downloads.append(d))
    page.click("#export-btn")
    expect(page.locator("#action-msg")).to_have_text(
        f"Export refused: export: segment 'web_tiny' has {consented:,} consented members; expected at least 100 "
        "(setting export_min_segment_size)."
    )
    assert downloads == []
    page.screenshot(path=str(ARTIFACTS / "segment-export-refused.png"), full_page=True)
    # duplicate: the builder, filled with the rule and a new name
    page.click("#duplicate-btn")
    expect(page.locator("#rule")).to_have_value("orders >= 30")
    expect(page.locator("#seg-name")).to_have_value("web_tiny_copy")
    page.click("#save-btn")
    page.wait_for_url(f"{server}/segments/web_tiny_copy")
    expect(page.locator("#segment-rule")).to_have_text("orders >= 30")
    # delete, after a confirmation
    page.click("#delete-btn")
    page.click("#delete-yes")
    expect(page.locator("#action-msg")).to_have_text("Deleted web_tiny_copy (version 1); its history is kept.")
    response = page.goto("/segments/web_tiny_copy")
    assert response is not None and response.status == 404
    page.goto("/segments/web_tiny")
    page.click("#edit-btn")  # edit: the same name, a new version
    expect(page.locator("#seg-replace")).to_be_checked()
    page.fill("#rule", "orders >= 31")
    page.click("#save-btn")
    page.wait_for_url(f"{server}/segments/web_tiny")
    expect(page.locator("#segment-detail")).to_contain_text("version 2")


def test_promote_an_rfm_segment(page, server: str, demo_store: DemoStore) -> None:
    from playwright.sync_api import expect

    page.goto("/rfm")
    page.click("#promote-rfm a.promote-btn[data-rule=\"rfm_segment = 'Champions'\"]")
    page.wait_for_url(re.compile(r"/segments/new\?"))
    expect(page.locator("#rule")).to_have_value("rfm_segment = 'Champions'")
    expect(page.locator("#seg-name")).to_have_value("rfm_champions")
    n = _sql(demo_store, "SELECT count(*) FROM customer_rfm WHERE rfm_segment = 'Champions'")[0][0]
    expect(page.locator("#preview-size")).to_have_text(f"{n:,}")  # counted at once, before any typing
    page.click("#save-btn")
    page.wait_for_url(f"{server}/segments/rfm_champions")
    expect(page.locator("#kpi-size")).to_have_text(f"{n:,}")
    page.screenshot(path=str(ARTIFACTS / "segment-promoted.png"), full_page=True)


def test_customer_page_from_the_members_list(page, server: str, demo_store: DemoStore) -> None:
    from playwright.sync_api import expect

    page.goto("/segments/loyal")
    link = page.locator("#members a.customer-link").first
    cid = link.inner_text()
    link.click()
    page.wait_for_url(f"{server}/customers/{cid}")
    expect(page.locator("h1")).to_have_text(f"Customer {cid}")
    orders = _sql(demo_store, "SELECT count(*) FROM orders WHERE customer_id = ?", [cid])[0][0]
    expect(page.locator("#customer-orders tbody tr")).to_have_count(min(orders, 100))
    expect(page.locator("#customer-segments tr[data-segment='loyal'] td").nth(1)).to_have_text("member")
    page.click("#nba-btn")
    expect(page.locator("#nba-action")).to_be_visible()
    page.click("#customer-segments tr[data-segment='loyal'] .explain-seg")
    expect(page.locator("#explain-verdict")).to_have_text(f"{cid} is in loyal")
    page.screenshot(path=str(ARTIFACTS / "customer.png"), full_page=True)
    response = page.goto("/customers/nobody-here")
    assert response is not None and response.status == 404
    expect(page.locator("main")).to_contain_text("No customer with id 'nobody-here'.")


def test_create_start_and_analyse_an_ab_test(page, server: str, demo_store: DemoStore) -> None:
    from playwright.sync_api import expect

    page.goto("/experiments")
    page.fill("#exp-name", "web_ab")
    page.select_option("#exp-segment", "lapsing")
    page.click("#exp-create-btn")
    row = page.locator("#experiment-list tr[data-experiment='web_ab']")
    expect(row).to_contain_text("lapsing")
    row.locator(".exp-start").click()
    n = _sql(demo_store, "SELECT count(*) FROM customer_features WHERE days_since_last_order > 180 AND orders >= 2")[0][
        0
    ]
    expect(page.locator("#exp-list-msg")).to_contain_text(f"Started web_ab: {n:,} customers assigned")
    row.locator(".exp-analyse").click()
    expect(page.locator("#exp-analysis-table tbody tr")).to_have_count(2)
    expect(page.locator("#exp-analysis-srm")).to_contain_text("Sample ratio")
    page.screenshot(path=str(ARTIFACTS / "experiment-create.png"), full_page=True)
