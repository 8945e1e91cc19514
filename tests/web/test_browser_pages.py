"""Issue 20 items 2 and 7: every dashboard page on a desktop and on a phone, checked by axe-core.

One test, parametrised over (page x viewport): the page loads (200), its charts
are drawn, the page is no wider than the window (``scrollWidth <= innerWidth``:
wide tables scroll inside their cards), axe-core (``node_modules/axe-core``, the
version pinned in ``package-lock.json``) finds no serious or critical violation,
and a full-page screenshot lands in ``test-artifacts/web/pages/``.

The list of pages is the app's own: the nav (:data:`shopseg.web.pages.NAV`),
the login page and one example of each page with a path parameter; a test holds
it equal to the GET routes of :data:`shopseg.web.pages.router`, so a new page
cannot be left out. One Chromium for the module, one logged-in context per
viewport, against the session's real ``shopseg serve`` (``live_server``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shopseg.web.pages import NAV, router
from tests.web.conftest import ROOT, DemoStore
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ARTIFACTS / "pages"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# routes with a path parameter, and the example each is checked with (a saved segment, a demo customer)
EXAMPLES = {"/segments/{name}": "/segments/loyal", "/customers/{customer_id}": "/customers/c000001"}
PAGES = ["/login", *(href for href, _ in NAV), *EXAMPLES.values()]
_BLOCKING = ("serious", "critical")


def test_the_page_list_is_every_page_route_of_the_app() -> None:
    """Every GET route of the pages router is checked below, and nothing else: a new page cannot be forgotten."""
    routes = {r.path for r in router.routes if "GET" in getattr(r, "methods", ())}
    checked = {next((t for t, p in EXAMPLES.items() if p == page), page) for page in PAGES}
    assert checked == routes


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `make chromium`.", pytrace=False)
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: install the browser-side test packages with `make node_modules/.installed`.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def contexts(browser: Any, live_server: str, demo_store: DemoStore) -> Iterator[dict[str, Any]]:
    """One context per viewport, logged in as a marketer (who sees every control). The page's CSP is bypassed
    only so that axe's script can be injected; the CSP itself is tested in ``test_browser.py``."""
    out = {}
    for name, size in VIEWPORTS.items():
        ctx = browser.new_context(base_url=live_server, viewport=size, bypass_csp=True)
        r = ctx.request.post(
            "/api/v1/dashboard/session", data={"api_key": demo_store.keys["marketer"]}, headers={"Origin": live_server}
        )
        assert r.ok, r.text()
        out[name] = ctx
    yield out
    for ctx in out.values():
        ctx.close()


def _axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in _BLOCKING]


def _describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {"rule": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:4]]}
            for v in violations
        ],
        indent=1,
    )


def _ready(page: Any, path: str) -> None:
    """Wait until what the page loads after its HTML is there: charts drawn, members, segment KPIs."""
    from playwright.sync_api import expect

    charts = page.locator(".chart")
    expect(page.locator(".chart.drawn")).to_have_count(charts.count())
    if path.startswith("/segments/") and path != "/segments/new":
        expect(page.locator("#members tbody tr").first).to_be_visible()
        expect(page.locator("#kpi-size")).not_to_have_text("…")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("path", PAGES)
def test_page_fits_the_viewport_and_passes_axe(contexts: dict[str, Any], path: str, viewport: str) -> None:
    page = contexts[viewport].new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert page.url.endswith(path), f"{path} redirected to {page.url}"
        _ready(page, path)
        SHOTS.mkdir(parents=True, exist_ok=True)
        name = path.strip("/").replace("/", "-") or "overview"
        page.screenshot(path=str(SHOTS / f"{name}-{viewport}.png"), full_page=True)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (
            f"{path} at {viewport}: the page is {widths[0]} px wide in a {widths[1]} px window"
        )
        violations = _axe(page)
        assert not violations, f"{path} at {viewport}:\n{_describe(violations)}"
        assert not errors, f"{path}: {errors}"
    finally:
        page.close()
