"""analytics.js, a tracking client nobody here wrote, in a real browser against a real `shopseg serve` (issue 19).

Segment's ``@segment/analytics-next`` (installed from npm at the version package-lock.json pins; its UMD bundle,
served by the test storefront on its own loopback origin) runs in headless Chromium on a small test shop
(``tests/web/storefront/``). Its settings are given in the page (``cdnSettings``, the load call
docs/collection.md shows): nothing comes from Segment's CDN. The write key is made as users make it
(``shopseg keys create storefront --role write``) and the live segments with ``shopseg segment create``.

A visitor browses anonymously (home page, product page: Product Viewed, Product Added), signs in at checkout
(identify with an email) and places the order (Order Completed). The customer enters ``cart_abandoners`` at
sign-in (only the stitched anonymous history holds the add to cart), leaves it and enters ``buyers`` (which
needs the anonymous product view) with the order; the entries arrive on ``/api/v1/stream``; the workspace
holds the order once and the anonymous events under the customer. A second test loses the server's answer to
the order on the way back (a proxy closes the connection after the server stored it): analytics.js retries
(``X-Retry-Count``, a header its CORS preflight must be allowed) and the order is still stored once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopseg.cli.main import app as cli
from shopseg.workspace import Workspace
from tests.api.helpers import free_port, start_serve, stop_process, wait_until
from tests.web.shop import BUNDLES, LossyProxy, Storefront, StreamListener
from tests.web.test_browser import browser  # noqa: F401 - the module's Chromium fixture

pytestmark = pytest.mark.browser

ABANDONERS = "events(type='add_to_cart').count >= 1 AND events(type='purchase').count = 0"
BUYERS = "events(type='product_view').count >= 1 AND events(type='purchase').count >= 1"
EMAIL = "kari@example.com"
CUSTOMER = "c-kari"  # the shop's account id for EMAIL (checkout.html)


def _shopseg(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@dataclass
class Shop:
    """A workspace with two live segments, `shopseg serve` over it and keys made with the CLI."""

    path: Path
    url: str
    write_key: str
    admin_key: str
    proc: Any

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    assert (BUNDLES / "index.js").exists(), "analytics.js is not installed: run `make node_modules/.installed`"
    path = tmp_path / "ws.duckdb"
    w = ["-w", str(path)]
    _shopseg("init", str(path))
    write_key = _shopseg(*w, "keys", "create", "storefront", "--role", "write").split()[-1]
    admin_key = _shopseg(*w, "keys", "create", "ops", "--role", "admin").split()[-1]
    _shopseg(*w, "segment", "create", "cart_abandoners", ABANDONERS)
    _shopseg(*w, "segment", "create", "buyers", BUYERS)
    port = free_port()
    proc = start_serve(path, port, tmp_path / "serve.log")
    shop = Shop(path, f"http://127.0.0.1:{port}", write_key, admin_key, proc)
    try:
        yield shop
    finally:
        shop.stop()


def _storefront(collect_url: str, write_key: str) -> Storefront:
    host = collect_url.removeprefix("http://")
    return Storefront({"writeKey": write_key, "apiHost": f"{host}/v1", "protocol": "http", "metricsFlushMs": 500})


def _sent(page: Any, label: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#sent li", has_text=f"{label}: ")).to_have_text(f"{label}: sent", timeout=20_000)


def _shop_as_a_visitor(page: Any, base: str) -> str:
    """Home, product page, add to cart, checkout, sign in; returns the browser's anonymousId."""
    page.goto(f"{base}/")
    _sent(page, "page")
    page.click("#product-link")
    page.wait_for_url(re.compile(r"/product\.html\?id=sku-1$"))
    _sent(page, "Product Viewed")
    page.click("#add-to-cart")
    _sent(page, "Product Added")
    page.click("#checkout-link")
    page.wait_for_url(f"{base}/checkout.html")
    _sent(page, "page")
    anonymous_id = json.loads(page.evaluate("localStorage.getItem('ajs_anonymous_id')"))
    page.fill("#email", EMAIL)
    page.click("#sign-in-btn")
    _sent(page, "identify")
    return str(anonymous_id)


def _place_order(page: Any) -> str:
    page.click("#place-order")
    _sent(page, "Order Completed")
    return str(page.text_content("#order-id"))


def _page_until(page: Any, check: Any, what: str, timeout_ms: int = 20_000) -> None:
    """Wait for ``check`` while Playwright delivers the page's events (its sync API does so only in its calls)."""
    for _ in range(timeout_ms // 50):
        if check():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out waiting for {what}")


def _watch(page: Any, url: str) -> tuple[list[tuple[str, str, int]], list[str]]:
    """``(method, path, status)`` of the page's answered requests to ``url``, and its errors: console errors and
    requests that failed without an answer (a navigation may cut the unread body of an answered one: not an error).
    """
    answers: list[tuple[str, str, int]] = []
    errors: list[str] = []
    answered: set[Any] = set()

    def on_response(r: Any) -> None:
        answered.add(r.request)
        if r.url.startswith(url):
            answers.append((r.request.method, r.url.removeprefix(url), r.status))

    page.on("response", on_response)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: None if r in answered else errors.append(f"{r.url}: {r.failure}"))
    return answers, errors


def test_analytics_js_storefront_flow_enters_live_segments(browser, shop: Shop) -> None:  # noqa: F811
    stream = StreamListener(shop.url, shop.admin_key).start()
    with _storefront(shop.url, shop.write_key) as store:
        context = browser.new_context()
        page = context.new_page()
        answers, errors = _watch(page, shop.url)
        anonymous_id = _shop_as_a_visitor(page, store.url)
        # the add to cart was anonymous: only the stitched history puts the customer in cart_abandoners
        wait_until(lambda: stream.of(CUSTOMER) != [], what="the cart_abandoners entry on the stream")
        assert stream.of(CUSTOMER) == [("cart_abandoners", "entry")]
        order_id = _place_order(page)
        wait_until(lambda: len(stream.of(CUSTOMER)) >= 3, what="the buyers entry on the stream")
        # analytics.js posts its own usage counters to /v1/m (every 500 ms here): answered, not an error
        _page_until(page, lambda: ("POST", "/v1/m", 200) in answers, what="analytics.js's metrics post")
        context.close()
    shop.stop()
    assert stream.of(CUSTOMER)[0] == ("cart_abandoners", "entry")
    assert sorted(stream.of(CUSTOMER)[1:]) == [("buyers", "entry"), ("cart_abandoners", "exit")]
    assert errors == []
    assert {(m, p) for m, p, _ in answers} == {
        ("POST", "/v1/p"),
        ("POST", "/v1/t"),
        ("POST", "/v1/i"),
        ("POST", "/v1/m"),
    }
    assert {s for _, _, s in answers} == {200}
    with Workspace.open(shop.path, read_only=True) as ws:
        con = ws.con
        assert con.execute("SELECT order_id, customer_id, currency FROM orders").fetchall() == [
            (order_id, CUSTOMER, "NOK")
        ]
        assert con.execute("SELECT product_id, quantity, unit_price FROM order_lines").fetchall() == [
            ("sku-1", 1, 89.5)
        ]
        events = con.execute("SELECT type, customer_id, anonymous_id FROM events").fetchall()
        assert sorted(e[0] for e in events) == [
            "add_to_cart",
            "identify",
            "page_view",
            "page_view",
            "page_view",
            "product_view",
            "purchase",
        ]
        assert {(e[1], e[2]) for e in events} == {(CUSTOMER, anonymous_id)}  # the anonymous browsing is theirs now
        assert con.execute("SELECT email FROM customers WHERE customer_id = ?", [CUSTOMER]).fetchall() == [(EMAIL,)]
        assert con.execute("SELECT name, category, price FROM products").fetchall() == [("Trail shoe", "Shoes", 89.5)]


@pytest.mark.parametrize("failure", [502, None], ids=["gateway-502", "connection-closed"])
def test_order_whose_answer_is_lost_is_sent_again_and_stored_once(browser, shop: Shop, failure: int | None) -> None:  # noqa: F811
    """The server stores the order, the answer is lost on the way back, the order comes again: stored once.

    A 502 makes analytics.js retry (``X-Retry-Count: 1``, the same ``messageId``; its CORS preflight must allow
    the header). A connection closed without an answer is re-sent by Chromium's network stack itself (as it
    re-sends a request whose reused connection closed), or by analytics.js: either way the call comes twice.
    """

    def is_order(request: tuple[str, str, dict[str, str], bytes]) -> bool:
        method, path, _, body = request
        return method == "POST" and path == "/v1/t" and b'"Order Completed"' in body

    stream = StreamListener(shop.url, shop.admin_key).start()
    lossy = LossyProxy(shop.url, lambda method, path, body: is_order((method, path, {}, body)), failure)
    with lossy as proxy, _storefront(proxy.url, shop.write_key) as store:
        context = browser.new_context()
        page = context.new_page()
        _shop_as_a_visitor(page, store.url)
        order_id = _place_order(page)
        wait_until(lambda: len(list(filter(is_order, proxy.requests))) >= 2, what="the order sent again")
        wait_until(lambda: ("buyers", "entry") in stream.of(CUSTOMER), what="the buyers entry on the stream")
        context.close()
    shop.stop()
    orders = list(filter(is_order, proxy.requests))
    # at least twice: analytics.js may retry again before the second answer is back (seen once in CI, three
    # sends); what must hold is that every send is the same message and the order is stored once
    assert proxy.lost == 1 and len(orders) >= 2
    assert len({json.loads(o[3])["messageId"] for o in orders}) == 1
    if failure == 502:  # a header the preflight must allow: before it did, this retry never arrived
        assert "x-retry-count" not in orders[0][2] and orders[1][2]["x-retry-count"] == "1"
    assert stream.of(CUSTOMER).count(("buyers", "entry")) == 1
    with Workspace.open(shop.path, read_only=True) as ws:
        con = ws.con
        assert con.execute("SELECT order_id, customer_id FROM orders").fetchall() == [(order_id, CUSTOMER)]
        assert con.execute("SELECT count(*) FROM events WHERE type = 'purchase'").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM order_lines").fetchall() == [(1,)]
