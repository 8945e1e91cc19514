"""Rule limits, broken saved segments and the preview time budget through a real `shopseg serve` (issue 14, defect 2).

Before: a saved rule of 1,000 ORs (or 150 NOTs) was accepted by ``POST /api/v1/segments`` and from then on
every preview and dashboard members page answered 500 (RecursionError), and a preview could run for as long
as its rule took.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from shopseg.api.keys import KeyStore
from shopseg.engine import get_engine
from shopseg.segments.definitions import SegmentStore
from tests.api.helpers import free_port, start_serve, stop_process
from tests.rules.test_compile import make_shop
from tests.segments.test_broken_saved import BAD, GOOD, insert_bad


@contextmanager
def serve(ws_path: Path, log: Path, **settings: str) -> Iterator[str]:
    """`shopseg serve` (live mode) on a free loopback port with ``SHOPSEG_<SETTING>`` variables; yields its URL."""
    port = free_port()
    proc = start_serve(ws_path, port, log, **settings)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def make_server_shop(path: Path, *, bad: bool) -> dict[str, str]:
    """The five-customer shop with two good saved segments (and, with ``bad``, the bad ones inserted as an
    older version could have saved them); returns one key per role."""
    with make_shop(path) as ws:
        store = SegmentStore(ws)
        for name, rule in GOOD.items():
            store.create(name, rule)
        if bad:
            insert_bad(ws)
        store.refresh(get_engine(ws, "duckdb"))
        return {role: KeyStore(ws).create(f"t-{role}", role).key for role in ("viewer", "marketer")}


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "shop.duckdb"
    return path, make_server_shop(path, bad=True)


def _is_error(r: httpx.Response, status: int) -> dict:
    body = r.json()
    assert r.status_code == status, r.text
    assert set(body) == {"ok", "error", "errors", "status"} and body["ok"] is False and body["status"] == status
    assert body["errors"] and all(e["message"] for e in body["errors"])
    return body


def test_one_bad_segment_never_breaks_the_server(shop, tmp_path: Path) -> None:
    path, keys = shop
    log = tmp_path / "serve.log"
    with serve(path, log) as url, httpx.Client(base_url=url, timeout=60) as c:
        viewer, marketer = ({"Authorization": f"Bearer {keys[r]}"} for r in ("viewer", "marketer"))
        listed = {s["name"]: s for s in c.get("/api/v1/segments", headers=viewer).json()}
        assert sorted(listed) == sorted([*GOOD, *BAD])
        assert all(listed[n]["error"] is None and listed[n]["json_form"] for n in GOOD)
        assert all(listed[n]["error"].startswith(f"segment '{n}' cannot be used: ") for n in BAD)
        assert listed["deep_nots"]["live_members"] == 0 and listed["vip"]["live_members"] == 2

        r = c.post("/api/v1/segments/preview", headers=viewer, json={"definition": "orders >= 1"})
        assert r.status_code == 200, r.text
        assert r.json()["size"] == 4 and r.json()["overlap"] == {"recent": 2, "vip": 2}
        assert sorted(w.split("'")[1] for w in r.json()["warnings"] if w.startswith("overlap: ")) == sorted(BAD)

        body = _is_error(
            c.post("/api/v1/segments", headers=marketer, json={"name": "ors", "definition": BAD["thousand_ors"]}), 422
        )
        assert body["errors"][0]["code"] == "too_many_nodes" and "(setting segment_max_nodes)" in body["error"]
        body = _is_error(
            c.post("/api/v1/segments", headers=marketer, json={"name": "nots", "definition": BAD["deep_nots"]}), 422
        )
        assert body["errors"][0]["code"] == "too_deep" and "nested 151 levels deep" in body["error"]
        huge = "orders >= 1 OR " * 2000 + "orders >= 1"
        body = _is_error(c.post("/api/v1/segments/preview", headers=viewer, json={"definition": huge}), 413)
        assert (
            "the rule is 30,011 characters long. Expected at most 20,000 characters (setting segment_max_rule_chars)"
            in body["error"]
        )
        _is_error(c.post("/api/v1/segments/preview", headers=viewer, json={"rule": huge}), 413)
        assert (
            c.post(
                "/api/v1/segments", headers=marketer, json={"name": "two_plus", "definition": "orders >= 2"}
            ).status_code
            == 201
        )

        page = c.get("/api/v1/segments/vip/customers", headers=viewer)
        assert page.status_code == 200 and page.json()["total"] == 2
        body = _is_error(c.get("/api/v1/segments/thousand_ors/customers", headers=viewer), 422)
        assert body["error"].startswith("segment 'thousand_ors' /: the rule has 1,001 conditions")
        overview = c.get("/api/v1/dashboard/overview", headers=viewer)
        assert overview.status_code == 200, overview.text
        saved = {s["name"]: s for s in overview.json()["saved"]}
        assert all(saved[n]["error"] is None for n in GOOD) and saved["vip"]["size"] == 2
        assert all(saved[n]["error"].startswith(f"segment '{n}' cannot be used: ") for n in BAD)
        page = c.get("/", headers=viewer)
        assert (
            page.status_code == 200
            and "segment &#39;deep_nots&#39; cannot be used: the rule is nested 151" in page.text
        )
    logged = log.read_text()
    assert "Traceback" not in logged and "RecursionError" not in logged, logged[logged.find("Traceback") - 300 :][:4000]
    for name in BAD:
        assert f"segment '{name}' cannot be used and is left out" in logged, logged


def test_previews_and_members_pages_stop_at_the_time_budget(tmp_path: Path) -> None:
    path = tmp_path / "shop.duckdb"
    keys = make_server_shop(path, bad=False)
    viewer = {"Authorization": f"Bearer {keys['viewer']}"}
    with (
        serve(path, tmp_path / "serve.log", preview_timeout_ms="1") as url,
        httpx.Client(base_url=url, timeout=60) as c,
    ):
        for r in (
            c.post("/api/v1/segments/preview", headers=viewer, json={"definition": "orders >= 1"}),
            c.post("/api/v1/segments/preview", headers=viewer, json={"rule": "orders >= 1"}),
            c.get("/api/v1/segments/vip/customers", headers=viewer),
        ):
            body = _is_error(r, 503)
            assert "stopped after 1 ms. Expected to finish within 1 ms (setting preview_timeout_ms)" in body["error"]
        assert c.get("/api/v1/segments/vip", headers=viewer).status_code == 200  # the rest of the API is unaffected
    with serve(path, tmp_path / "serve2.log") as url, httpx.Client(base_url=url, timeout=60) as c:
        r = c.post("/api/v1/segments/preview", headers=viewer, json={"definition": "orders >= 1"})
        assert r.status_code == 200 and r.json()["size"] == 4, r.text  # the default budget: the same preview runs
