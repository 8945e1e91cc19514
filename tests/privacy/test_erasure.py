"""`forget`: the customer appears in no table and no column afterwards; others are untouched; audit has no PII."""

from __future__ import annotations

import json

import pytest

from shopseg.errors import NotFound, ShopsegError
from shopseg.experiments import assign_experiment, create_experiment
from shopseg.privacy import ERASERS, export_customer_data, forget_customer, record_consent, register_eraser
from shopseg.privacy.erasure import AUDIT_TABLE, customer_tables
from shopseg.segments.definitions import SegmentStore

VICTIM = "c000010"  # 3+ orders and 37 events in the seed-5 store


def _occurrences(ws, needles):
    """Every (table, column) whose text form contains one of ``needles``, over every table and column of the file."""
    hits = []
    cols = ws.con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal").fetchall()
    for table, column in cols:
        for needle in needles:
            n = ws.con.execute(
                f'SELECT count(*) FROM "{table}" WHERE contains(lower(CAST("{column}" AS VARCHAR)), ?)',
                [needle.lower()],
            ).fetchone()[0]
            if n:
                hits.append((table, column, needle, n))
    return hits


@pytest.fixture
def rich_ws(action_ws):
    """The synthetic store plus every derived table kind: snapshots, consent, experiments, a JSON mention."""
    ws = action_ws
    store = SegmentStore(ws)
    from shopseg.engine import get_engine

    store.create("loyal", "orders >= 2")
    store.refresh(get_engine(ws, "duckdb"))
    record_consent(ws, VICTIM, "email_marketing", True)
    create_experiment(ws, "exp1", "loyal", start="2025-01-01")
    assign_experiment(ws, "exp1")
    ws.con.execute(
        "INSERT INTO events (event_id, customer_id, type, occurred_at, properties) VALUES "
        f"('ref1', 'c000001', 'page_view', '2025-01-01', '{{\"referred_by\": \"{VICTIM}\"}}')"
    )
    ws.con.execute("CREATE TABLE campaign_log AS SELECT customer_id, 'sent' AS status FROM customers LIMIT 50")
    return ws


def test_erased_customer_appears_nowhere(rich_ws):
    ws = rich_ws
    email = ws.con.execute("SELECT email FROM customers WHERE customer_id = ?", [VICTIM]).fetchone()[0]
    assert _occurrences(ws, [VICTIM, email]), "the victim is in the workspace before"
    before = {t: ws.con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ws.tables()}
    report = forget_customer(ws, VICTIM, reason="ticket 17")
    assert _occurrences(ws, [VICTIM, email]) == []
    assert {
        "customers",
        "orders",
        "order_lines",
        "events",
        "customer_features",
        "customer_rfm",
        "customer_lifecycle",
        "segment_snapshots",
        "experiment_assignments",
        "consent_events",
        "campaign_log",
    } <= set(report.deleted)
    after = {t: ws.con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ws.tables()}
    for table, n in before.items():  # only the victim's rows went (the meta table gained the audit salt)
        if table == "_shopseg_meta":
            continue
        assert after[table] == n - report.deleted.get(table, 0), table
    assert report.redacted == {"events.properties": 1}
    assert ws.con.execute("SELECT count(*) FROM customers").fetchone()[0] == 1499


def test_audit_entry_has_no_personal_data(rich_ws):
    ws = rich_ws
    email = ws.con.execute("SELECT email FROM customers WHERE customer_id = ?", [VICTIM]).fetchone()[0]
    report = forget_customer(ws, VICTIM)
    rows = ws.con.execute(f'SELECT action, subject_hash, detail FROM "{AUDIT_TABLE}"').fetchall()
    assert [r[0] for r in rows] == ["forget"] and rows[0][1] == report.subject_hash
    text = json.dumps(rows, default=str)
    assert VICTIM not in text and email not in text
    assert json.loads(rows[0][2])["deleted"]["customers"] == 1


def test_registered_stores_forget_too(action_ws):
    forgotten: list[str] = []
    register_eraser("test_live", lambda cid: forgotten.append(cid) or 1)
    try:
        report = forget_customer(action_ws, VICTIM)
        assert forgotten == [VICTIM] and report.external == {"test_live": 1}
        # Only the outside store still knows someone: forget still reaches it.
        assert forget_customer(action_ws, VICTIM).external == {"test_live": 1}
    finally:
        ERASERS.pop("test_live", None)


def test_a_failing_store_is_reported(action_ws):
    def broken(cid: str) -> int:
        raise RuntimeError("live store offline")

    register_eraser("broken", broken)
    try:
        with pytest.raises(ShopsegError, match="broken: RuntimeError: live store offline"):
            forget_customer(action_ws, VICTIM)
    finally:
        ERASERS.pop("broken", None)
    assert action_ws.con.execute("SELECT count(*) FROM customers WHERE customer_id = ?", [VICTIM]).fetchone()[0] == 0


def test_unknown_customer_is_not_found(action_ws):
    with pytest.raises(NotFound, match="customer 'nobody': not found in any table with a customer_id column"):
        forget_customer(action_ws, "nobody")


def test_new_tables_are_discovered_from_the_catalog(action_ws):
    action_ws.con.execute("CREATE TABLE loyalty_points (customer_id VARCHAR, points INTEGER)")
    action_ws.con.execute(f"INSERT INTO loyalty_points VALUES ('{VICTIM}', 10), ('c000001', 5)")
    assert "loyalty_points" in customer_tables(action_ws)
    assert forget_customer(action_ws, VICTIM).deleted["loyalty_points"] == 1
    with pytest.raises(NotFound):
        export_customer_data(action_ws, VICTIM)


def test_a_shared_address_stays_with_the_other_account(workspace):
    workspace.con.execute("INSERT INTO customers (customer_id, email) VALUES ('a', 'same@x.org'), ('b', ' Same@X.org')")
    workspace.con.execute("CREATE TABLE newsletter (email VARCHAR)")
    workspace.con.execute("INSERT INTO newsletter VALUES ('same@x.org'), ('other@x.org')")
    report = forget_customer(workspace, "a")
    assert report.shared_email_accounts == 1 and "newsletter" not in report.deleted
    assert workspace.con.execute("SELECT customer_id FROM customers").fetchall() == [("b",)]


def test_mailing_list_rows_with_the_address_go(workspace):
    workspace.con.execute("INSERT INTO customers (customer_id, email) VALUES ('a', 'me@x.org'), ('b', 'you@x.org')")
    workspace.con.execute("CREATE TABLE newsletter (email VARCHAR, since DATE)")
    workspace.con.execute("INSERT INTO newsletter VALUES (' ME@x.org', '2024-01-01'), ('you@x.org', '2024-01-02')")
    assert forget_customer(workspace, "a").deleted == {"customers": 1, "newsletter": 1}
    assert workspace.con.execute("SELECT email FROM newsletter").fetchall() == [("you@x.org",)]
