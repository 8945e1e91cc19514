"""Defence in depth: a journaled event the workspace refuses is quarantined; the applier, erasure and restarts go on.

The failing entry is real: an ``Order Completed`` whose collection work holds a quantity of 10^30 (what the probe's
``"quantity": 1e30`` became before the route refused it), handed to the live engine past the HTTP validation.
DuckDB refuses it (``ConversionException``: INT128 out of range for INT32), which used to loop the applier, block
every later event, reads and erasure, and stop ``shopseg serve`` from starting again.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from shopseg.api.keys import KeyStore
from shopseg.errors import BadRequestError
from shopseg.live.journal import Journal, read_raw
from shopseg.workspace import Workspace
from tests.api.conftest import START, auth
from tests.api.helpers import free_port, serve_in_thread, start_serve, stop_process, wait_until


def evil_order(event_id: str = "order:evil-1", customer: str = "evil") -> dict[str, Any]:
    line = {"product_id": "p1", "quantity": 10**30, "unit_price": 10.0, "discount": 0.0}
    work = {"order": {"order_id": "evil-1", "value": 10.0, "lines": [line]}}
    return {
        "event_id": event_id,
        "customer_id": customer,
        "anonymous_id": None,
        "type": "purchase",
        "occurred_at": START,
        "product_id": None,
        "properties": {"order_id": "evil-1", "value": 10.0, "_shopseg": work},
    }


def good_order(n: int, customer: str = "c1") -> dict[str, Any]:
    body = {"userId": customer, "event": "Order Completed", "messageId": f"ok-{n}"}
    body["properties"] = {"order_id": f"o-{n}", "products": [{"product_id": "p1", "price": 10, "quantity": 2}]}
    return body


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def scalar(app, sql: str) -> Any:  # type: ignore[no-untyped-def]
    with app.state.shopseg.lock:
        return app.state.shopseg.workspace.con.execute(sql).fetchone()[0]


def test_a_failing_entry_is_quarantined_and_the_applier_goes_on(app, keys, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    state = app.state.shopseg
    write = state.keys.create("storefront", "write").key
    with serve_in_thread(app) as url, caplog.at_level(logging.WARNING, logger="shopseg.live"):
        assert state.live.submit([evil_order()]).result(30) == (1, 0, ["order:evil-1"])  # acknowledged, journaled
        r = httpx.post(f"{url}/v1/track", headers=basic(write), json=good_order(1), timeout=30)
        assert r.status_code == 200, r.text
        wait_until(lambda: scalar(app, "SELECT count(*) FROM orders") == 1, what="the applier to go past the entry")
        assert scalar(app, "SELECT count(*) FROM events WHERE event_id = 'order:evil-1'") == 0
        assert read_raw(state.live.journal.path) == []  # nothing left behind in the journal
        with state.lock:
            [(eid, cid, error, props)] = state.workspace.con.execute(
                "SELECT event_id, customer_id, error, properties FROM live_quarantine"
            ).fetchall()
        assert (eid, cid) == ("order:evil-1", "evil") and error.startswith("ConversionException")
        assert json.loads(props)["_shopseg"]["order"]["lines"][0]["quantity"] == 10**30  # kept for the operator

        listed = httpx.get(f"{url}/api/v1/quarantined-events", headers=auth(keys["admin"]), timeout=30)
        assert listed.status_code == 200, listed.text
        assert listed.json()["count"] == 1 and listed.json()["entries"][0]["event_id"] == "order:evil-1"
        assert httpx.get(f"{url}/api/v1/quarantined-events", headers=auth(keys["viewer"])).status_code == 403
        assert httpx.get(f"{url}/api/v1/health", timeout=30).json()["quarantined"] == 1  # a monitor sees it
        logged = [r.getMessage() for r in caplog.records if "live_quarantine" in r.getMessage()]
        assert logged and "order:evil-1" in logged[0] and "evil," not in logged[0] and "'evil'" not in logged[0]

        r = httpx.post(f"{url}/v1/track", headers=basic(write), json=good_order(2), timeout=30)  # still applied
        assert r.status_code == 200
        for customer in ("evil", "c1"):  # erasure flushes the journal first: it no longer fails
            r = httpx.delete(f"{url}/api/v1/customers/{customer}", headers=auth(keys["admin"]), timeout=60)
            assert r.status_code == 200, r.text
        assert scalar(app, "SELECT count(*) FROM live_quarantine") == 0  # erased with the customer
        assert scalar(app, "SELECT count(*) FROM orders") == 0
    state.live.stop()  # a clean stop: the final flush does not raise


def test_a_request_whose_events_are_not_json_changes_nothing(app) -> None:  # type: ignore[no-untyped-def]
    live = app.state.shopseg.live
    bad = {**evil_order("e-dt", "u9"), "type": "identify", "properties": {"at": dt.datetime(2024, 1, 1)}}
    for _ in range(2):  # a retry with the same id: refused again, counted never
        with pytest.raises(BadRequestError, match="cannot be stored as JSON"):
            live.submit([bad]).result(30)
    assert "u9" not in live.evaluator.profiles and "e-dt" not in live.seen
    assert read_raw(live.journal.path) == []
    assert live.submit([{**bad, "properties": {"at": "2024-01-01"}}]).result(30) == (1, 0, ["e-dt"])
    assert live.evaluator.profiles["u9"].summary()["events_by_type"] == {"identify": 1}


def test_a_journal_holding_a_failing_entry_does_not_stop_serve_from_starting(tmp_path: Path) -> None:
    """The probe's last symptom: ``shopseg serve`` exited 1 at start-up, replaying the journal."""
    ws_path = tmp_path / "ws.duckdb"
    with Workspace.init(ws_path) as ws:
        admin = KeyStore(ws).create("ops", "admin").key
    fine = {**evil_order("e-ok", "c1"), "type": "page_view", "properties": {"name": "Home"}}
    journal = Journal(f"{ws_path}.journal")  # what a killed server leaves: acknowledged, not applied
    journal.append([evil_order(), fine])
    journal.close()
    port = free_port()
    proc = start_serve(ws_path, port, tmp_path / "serve.log")
    try:
        url = f"http://127.0.0.1:{port}"
        listed = httpx.get(f"{url}/api/v1/quarantined-events", headers=auth(admin), timeout=30).json()
        assert listed["count"] == 1 and listed["entries"][0]["event_id"] == "order:evil-1"
        live = httpx.get(f"{url}/api/v1/customers/c1", headers=auth(admin), timeout=30).json()["live"]
        assert live["events_by_type"] == {"page_view": 1}
        assert httpx.delete(f"{url}/api/v1/customers/evil", headers=auth(admin), timeout=60).status_code == 200
    finally:
        stop_process(proc)
    log = (tmp_path / "serve.log").read_text()
    assert proc.returncode in (0, -signal.SIGTERM), log  # uvicorn re-raises the SIGTERM after a clean shutdown
    assert "shutdown failed" not in log and "applying journaled events failed" not in log
    with Workspace.open(ws_path) as ws:
        assert ws.con.execute("SELECT event_id FROM events").fetchall() == [("e-ok",)]
        assert ws.con.execute("SELECT count(*) FROM live_quarantine").fetchone() == (0,)
