"""Consent with history: events override the profile flag, unsubscribes withdraw email, newest wins."""

from __future__ import annotations

import datetime as dt

import pytest

from shopseg.errors import InvalidParameterError, NotFound
from shopseg.privacy import consent_history, effective_consent, record_consent


def _granted(ws, purpose):
    return effective_consent(ws, purpose).set_index("customer_id")[["granted", "basis"]].to_dict("index")


def test_precedence_event_then_unsubscribe_then_profile(workspace):
    ws = workspace
    ws.con.execute(
        "INSERT INTO customers (customer_id, email_marketing, profiling) VALUES "
        "('a', true, true), ('b', false, NULL), ('c', true, false), ('d', NULL, NULL)"
    )
    t0 = dt.datetime(2024, 1, 1)
    record_consent(ws, "b", "email_marketing", True, at=t0)
    record_consent(ws, "c", "email_marketing", True, at=t0)
    ws.con.execute(
        "INSERT INTO events (event_id, customer_id, type, occurred_at) VALUES "
        "('e1', 'c', 'unsubscribe', '2024-02-01'), ('e2', 'a', 'unsubscribe', '2023-01-01')"
    )
    record_consent(ws, "a", "email_marketing", True, at=dt.datetime(2023, 6, 1))  # re-subscribed after the unsubscribe
    got = _granted(ws, "email_marketing")
    assert got["a"] == {"granted": True, "basis": "consent event"}
    assert got["b"] == {"granted": True, "basis": "consent event"}
    assert got["c"] == {"granted": False, "basis": "unsubscribe event"}
    assert got["d"] == {"granted": False, "basis": "default"}
    ads = _granted(ws, "ad_audiences")  # falls back to the profiling flag
    assert [ads[c]["granted"] for c in "abcd"] == [True, False, False, False]


def test_history_keeps_every_change_and_the_newest_wins(workspace):
    workspace.con.execute("INSERT INTO customers (customer_id) VALUES ('a')")
    for day, granted in [(1, True), (5, False), (9, True)]:
        record_consent(workspace, "a", "sms_marketing", granted, source=f"form {day}", at=dt.datetime(2024, 3, day))
    hist = consent_history(workspace, "a")
    assert hist["granted"].tolist() == [True, False, True] and hist["source"].tolist() == ["form 1", "form 5", "form 9"]
    assert _granted(workspace, "sms_marketing")["a"]["granted"] is True


def test_bad_purpose_and_unknown_customer(workspace):
    workspace.con.execute("INSERT INTO customers (customer_id) VALUES ('a')")
    with pytest.raises(
        InvalidParameterError, match="unknown purpose 'emial_marketing'.*Did you mean 'email_marketing'"
    ):
        record_consent(workspace, "a", "emial_marketing", True)
    with pytest.raises(NotFound, match="customer 'zz': not in the customers table"):
        record_consent(workspace, "zz", "profiling", True)
