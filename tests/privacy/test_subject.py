"""Subject access export and retention of raw events."""

from __future__ import annotations

import json

import pytest

from shopseg.config import config_context
from shopseg.errors import InvalidParameterError, NotFound
from shopseg.privacy import apply_retention, customer_data_json, export_customer_data


def test_subject_export_holds_every_row_of_the_customer(action_ws):
    cid = "c000007"
    data = export_customer_data(action_ws, cid)
    tables = data["tables"]
    n_orders = action_ws.con.execute("SELECT count(*) FROM orders WHERE customer_id = ?", [cid]).fetchone()[0]
    n_lines = action_ws.con.execute(
        "SELECT count(*) FROM order_lines JOIN orders USING (order_id) WHERE customer_id = ?", [cid]
    ).fetchone()[0]
    assert len(tables["orders"]) == n_orders and len(tables["order_lines"]) == n_lines
    assert tables["customers"][0]["email"] == f"{cid}@example.com"
    assert {"customer_features", "customer_rfm", "customer_lifecycle"} <= set(tables)
    assert json.loads(customer_data_json(action_ws, cid))["customer_id"] == cid
    with pytest.raises(NotFound, match="customer 'ghost'"):
        export_customer_data(action_ws, "ghost")


def test_retention_deletes_only_old_events(action_ws):
    con = action_ws.con
    newest = con.execute("SELECT max(occurred_at) FROM events").fetchone()[0]
    total = con.execute("SELECT count(*) FROM events").fetchone()[0]
    with config_context(event_retention_days=30):
        dry = apply_retention(action_ws, as_of=str(newest), dry_run=True)
    old = con.execute(
        "SELECT count(*) FROM events WHERE occurred_at < ?::TIMESTAMP - INTERVAL 30 DAY", [newest]
    ).fetchone()[0]
    assert dry["deleted"] == old > 0 and con.execute("SELECT count(*) FROM events").fetchone()[0] == total
    res = apply_retention(action_ws, days=30, as_of=str(newest))
    assert res["deleted"] == old and con.execute("SELECT count(*) FROM events").fetchone()[0] == total - old
    assert con.execute("SELECT min(occurred_at) FROM events").fetchone()[0] >= newest.replace(
        microsecond=0
    ) - __import__("datetime").timedelta(days=30)
    assert con.execute("SELECT action FROM privacy_audit").fetchall() == [("retention",)]
    assert apply_retention(action_ws, days=0)["deleted"] == 0
    with pytest.raises(InvalidParameterError, match="must be >= 0"):
        apply_retention(action_ws, days=-1)
