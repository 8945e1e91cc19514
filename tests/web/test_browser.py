"""The dashboard in a real browser: headless Chromium (Debian's, driven by Playwright) against `shopseg serve`.

Every page is loaded and screenshotted into ``test-artifacts/web/``; a segment
is built with a deliberate typo, the inline error checked at its character,
fixed, previewed, saved and exported; a viewer cannot edit or export. Waits use
Playwright's ``expect``/``wait_for_url``, never sleeps. A missing Chromium fails
the run with the install hint (never a skip).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopseg.web.security import PAGE_CSP
from tests.web.conftest import FIXED_RULE, ROOT, TYPO_RULE, DemoStore, has_experiments

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "web"
PAGES = [
    ("/", "Overview", "overview"),
    ("/rfm", "RFM map", "rfm"),
    ("/segments/new", "Segment builder", "builder"),
    ("/segments/loyal", "Segment loyal", "segment"),
    ("/clusters", "Clusters", "clusters"),
    ("/predictions", "Predictions", "predictions"),
    ("/regions", "Regions x categories", "regions"),
    ("/experiments", "A/B tests", "experiments"),
    ("/events", "Live events", "events"),
]


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


def _login(browser, base: str, key: str, next_path: str = "/"):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = browser.new_context(base_url=base, accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(next_path)
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#api-key", key)
    page.click("#login-btn")
    page.wait_for_url(f"{base}{next_path}")
    expect(page.locator("#role")).to_be_visible()
    return context, page


def test_login_refuses_an_unknown_key(browser, live_server: str) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.goto("/rfm")
    page.wait_for_url(re.compile(r"/login\?next=/rfm"))
    page.fill("#api-key", "ss_nope_nope")
    page.click("#login-btn")
    expect(page.locator("#login-error")).to_contain_text("unknown or revoked")
    context.close()


def test_every_page_loads_draws_its_charts_and_stays_on_this_server(
    browser, live_server: str, demo_store: DemoStore
) -> None:
    from playwright.sync_api import expect

    context, page = _login(browser, live_server, demo_store.keys["marketer"])
    foreign: list[str] = []
    errors: list[str] = []
    page.on(
        "request", lambda r: foreign.append(r.url) if not r.url.startswith((live_server, "data:", "blob:")) else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for path, heading, shot in PAGES:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert response.headers["content-security-policy"] == PAGE_CSP, path  # no CSP violation: `errors` below
        assert response.headers["x-frame-options"] == "DENY", path
        expect(page.locator("h1")).to_have_text(heading)
        charts = page.locator(".chart")
        assert not errors, f"{path}: {errors}"
        expect(page.locator(".chart.drawn")).to_have_count(charts.count())
        html = page.content()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), f"{path} links outside the server"
        page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    assert page.locator("#kpi-customers").count() == 0  # last page was events; the KPI check is on the overview
    page.goto("/")
    expect(page.locator("#kpi-customers")).to_have_text(f"{demo_store.expected['customers']:,}")
    page.goto("/experiments")
    if has_experiments():  # results with interval charts
        expect(page.locator("section.experiment h2")).to_have_text("winback_test")
        expect(page.locator("section.experiment .chart.drawn")).to_have_count(2)
    else:  # no experiments module: an empty state, not an error
        expect(page.locator("#experiments-empty")).to_be_visible()
    assert not foreign, f"requests left the server: {foreign[:5]}"
    context.close()


def test_build_a_segment_typo_first_then_fix_preview_save_and_export(
    browser, live_server: str, demo_store: DemoStore
) -> None:
    from playwright.sync_api import expect

    context, page = _login(browser, live_server, demo_store.keys["marketer"], "/segments/new")
    page.fill("#rule", TYPO_RULE)
    page.click("#preview-btn")
    mark = page.locator("#rule-marked mark.err")
    expect(mark).to_have_text("andd")  # the error sits on the mistyped keyword itself
    expect(mark).to_have_attribute("data-col", str(TYPO_RULE.index("andd") + 1))
    expect(page.locator("#rule-errors")).to_contain_text("line 1, col 13: unexpected 'andd'")
    page.screenshot(path=str(ARTIFACTS / "builder-error.png"), full_page=True)

    page.fill("#rule", FIXED_RULE)
    page.click("#preview-btn")
    expect(page.locator("#preview-size")).to_have_text(f"{demo_store.expected['fixed_size']:,}")
    expect(page.locator("#rule-marked")).to_be_hidden()
    expect(page.locator("#preview-sample tbody tr")).to_have_count(min(10, demo_store.expected["fixed_size"]))
    page.screenshot(path=str(ARTIFACTS / "builder-preview.png"), full_page=True)

    page.fill("#seg-name", "web_repeat_buyers")
    page.fill("#seg-desc", "built in the browser test")
    page.click("#save-btn")
    page.wait_for_url(f"{live_server}/segments/web_repeat_buyers")
    expect(page.locator("#segment-rule")).to_have_text("orders >= 3 AND revenue > 100")
    expect(page.locator("#members-info")).to_contain_text(f"{demo_store.expected['fixed_size']:,} members")
    first = page.locator("#members tbody tr").first  # the id links to the customer page; 'explain' explains here
    member = first.locator("a.customer-link").inner_text()
    first.locator(".explain-link").click()
    expect(page.locator("#explain-verdict")).to_have_text(f"{member} is in web_repeat_buyers")
    page.screenshot(path=str(ARTIFACTS / "segment-saved.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#export-btn")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["customer_id"] for r in rows) == demo_store.expected["fixed_consented"]
    assert rows and "@" in rows[0]["email"]
    page.goto("/")
    expect(page.locator("#saved-segments")).to_contain_text("web_repeat_buyers")
    context.close()


def test_viewer_sees_no_edit_or_export_and_the_server_refuses_them(
    browser, live_server: str, demo_store: DemoStore
) -> None:
    from playwright.sync_api import expect

    context, page = _login(browser, live_server, demo_store.keys["viewer"], "/segments/loyal")
    expect(page.locator("#role")).to_have_text("viewer")
    expect(page.locator("#export-btn")).to_have_count(0)
    expect(page.locator("header nav a[href='/segments/new']")).to_have_count(0)
    expect(page.locator("#members-info")).to_contain_text(f"{demo_store.expected['loyal_size']:,} members")
    page.screenshot(path=str(ARTIFACTS / "segment-viewer.png"), full_page=True)
    response = page.goto("/segments/new")
    assert response is not None and response.status == 403
    expect(page.locator("#forbidden")).to_contain_text("marketer")
    # the same cookie, straight at the endpoints: refused server-side
    export = page.request.get("/api/v1/segments/loyal/export.csv")
    assert export.status == 403 and export.json()["status"] == 403
    save = page.request.post(
        "/api/v1/segments", data={"name": "sneaky", "rule": "orders >= 1"}, headers={"Origin": live_server}
    )  # same origin: refused for the role, not the origin
    assert save.status == 403 and save.json()["ok"] is False
    assert "Expected role 'marketer'" in save.json()["error"]
    context.close()


def test_event_feed_pages_back_in_time(browser, live_server: str, demo_store: DemoStore) -> None:
    from playwright.sync_api import expect

    context, page = _login(browser, live_server, demo_store.keys["viewer"], "/events")
    rows = page.locator("#events tbody tr")
    expect(rows).to_have_count(min(50, demo_store.expected["events"]))
    page.click("#events-older")
    expect(rows).to_have_count(min(100, demo_store.expected["events"]))
    context.close()


def test_live_feed_shows_a_segment_entry_as_it_happens(browser, live_server: str, demo_store: DemoStore) -> None:
    """A product view posted to the API now makes its customer enter `browsing_now`; the open page shows it."""
    import datetime as dt

    from playwright.sync_api import expect

    context, page = _login(browser, live_server, demo_store.keys["viewer"], "/events")
    expect(page.locator("#stream-status")).to_have_attribute("data-state", "open")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    doc = {"event_id": "web-live-1", "customer_id": "c000001", "type": "product_view", "occurred_at": now}
    r = page.request.post("/api/v1/events", data=doc, headers={"X-API-Key": demo_store.keys["marketer"]})
    assert r.status in (200, 201, 202), r.text()
    row = page.locator("#notifications tbody tr.entry").first
    expect(row).to_contain_text("browsing_now")
    expect(row).to_contain_text("c000001")
    page.screenshot(path=str(ARTIFACTS / "events-live.png"), full_page=True)
    context.close()


def test_login_never_leaves_the_site_whatever_next_says(browser, live_server: str, demo_store: DemoStore) -> None:
    """/login?next=/<TAB>/evil.example: the browser drops the tab, so a '//' check alone sent it to evil.example."""
    for raw in ("%2F%09%2Fevil.example", "%2F%0A%2Fevil.example", "%2F%5Cevil.example", "https:%2F%2Fevil.example"):
        context = browser.new_context(base_url=live_server)
        page = context.new_page()
        left: list[str] = []
        page.on("request", lambda r, left=left: left.append(r.url) if not r.url.startswith(live_server) else None)
        page.goto(f"/login?next={raw}")
        page.fill("#api-key", demo_store.keys["viewer"])
        page.click("#login-btn")
        page.wait_for_url(f"{live_server}/")
        assert not left, (raw, left)
        context.close()


def test_login_without_script_posts_the_form(browser, live_server: str, demo_store: DemoStore) -> None:
    """With JavaScript off the form posts to /login (never a GET with the key in the URL) and lands on next."""
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto("/login?next=%2Fsegments%2Floyal")
    page.fill("#api-key", demo_store.keys["viewer"])
    with page.expect_request(lambda r: r.url == f"{live_server}/login") as sent:
        page.click("#login-btn")
    assert sent.value.method == "POST" and demo_store.keys["viewer"] not in sent.value.url
    page.wait_for_url(f"{live_server}/segments/loyal")
    context.close()


def test_logout_ends_the_session_and_the_csp_blocks_injected_handlers(
    browser, live_server: str, demo_store: DemoStore
) -> None:
    context, page = _login(browser, live_server, demo_store.keys["viewer"], "/rfm")
    # markup slipped into the page (what an XSS would do): its inline handler must not run
    page.evaluate("""() => {
        window.violations = [];
        document.addEventListener("securitypolicyviolation", (e) => window.violations.push(e.effectiveDirective));
        document.body.insertAdjacentHTML("beforeend", '<img id="x" src="/nope" onerror="window.pwned = 1">');
    }""")
    page.wait_for_function("() => document.getElementById('x').complete && window.violations.length > 0")
    assert page.evaluate("() => window.violations") == ["script-src-attr"]
    assert page.evaluate("() => window.pwned") is None
    cookie = next(c for c in context.cookies() if c["name"] == "shopseg_session")
    page.click("#logout-btn")
    page.wait_for_url(f"{live_server}/login")
    assert not [c for c in context.cookies() if c["name"] == "shopseg_session"]
    context.add_cookies([cookie])  # the old cookie, put back: the session it named has ended
    page.goto("/rfm")
    page.wait_for_url(re.compile(r"/login\?next=/rfm"))
    context.close()
