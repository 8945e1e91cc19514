"""Saved segments: versions, references, static checks, preview, diff, snapshots, history, RFM migration."""

from __future__ import annotations

import pandas as pd
import pytest

from shopseg.engine import get_engine
from shopseg.errors import InvalidParameterError, NotFound, SegmentError
from shopseg.features import build_features
from shopseg.rules.parse import parse_segment
from shopseg.rules.static_checks import static_issues
from shopseg.segments.customer_view import customer_profile
from shopseg.segments.definitions import SegmentStore
from shopseg.segments.query import SegmentQuery
from shopseg.segments.rfm_map import build_rfm
from tests.rules.test_compile import AS_OF, make_shop


@pytest.fixture
def shop(tmp_path):
    ws = make_shop(tmp_path / "shop.duckdb")
    yield ws
    ws.close()


def test_versions_are_kept_and_the_rule_is_stored_canonically(shop):
    store = SegmentStore(shop)
    assert store.create("loyal", "orders>=3  and email_marketing=TRUE").version == 1
    with pytest.raises(InvalidParameterError, match="already exists .* --replace"):
        store.create("loyal", "orders >= 4")
    assert store.create("loyal", "orders >= 4", replace=True).version == 2
    assert store.get("loyal", version=1).definition == "orders >= 3 AND email_marketing = true"
    assert [(s.name, s.version) for s in store.list()] == [("loyal", 2)]
    with pytest.raises(NotFound, match="Did you mean 'loyal'"):
        store.get("loyl")
    with pytest.raises(InvalidParameterError, match="segment name"):
        store.create("bad name!", "orders > 1")


def test_references_must_exist_and_cycles_are_rejected(shop):
    store = SegmentStore(shop)
    store.create("vip", "orders >= 3")
    store.create("vip_de", "segment('vip') AND country = 'DE'")
    with pytest.raises(SegmentError, match="unknown segment 'gold'"):
        store.create("x", "segment('gold')")
    with pytest.raises(SegmentError, match="cycle: vip -> vip_de -> vip"):
        store.create("vip", "segment('vip_de')", replace=True)
    with pytest.raises(SegmentError, match="used by \\['vip_de'\\]"):
        store.delete("vip")
    store.delete("vip_de")
    store.delete("vip")
    assert store.list() == []


def test_rules_that_never_match_are_refused_unless_forced(shop):
    store = SegmentStore(shop)
    with pytest.raises(SegmentError, match="(?s)1 problem.*conditions on 'spent' cannot all hold.*--force"):
        store.create("empty", "orders >= 1 AND spent > 500 AND spent < 100")
    assert store.create("empty", "orders >= 1 AND spent > 500 AND spent < 100", force=True).version == 1


def test_static_checks_flag_rules_that_cannot_match():
    messages = [i.code for i in static_issues(parse_segment("spent > 500 AND spent < 100"))]
    assert messages == ["always_empty"]
    assert static_issues(parse_segment("orders >= 3 AND orders <= 3")) == []
    assert [i.code for i in static_issues(parse_segment("orders > 1 OR NOT orders > 1"))] == ["always_true"]


def test_preview_diff_and_overlap(shop):
    store = SegmentStore(shop)
    engine = get_engine(shop, "duckdb")
    store.create("vip", "orders >= 3")
    q = SegmentQuery(store, engine)
    info = q.preview(q.rule("orders >= 2 AND spent > 500 AND spent < 100"))
    assert info["size"] == 0 and "never matches" in info["warnings"][0]
    info = q.preview(q.rule("orders >= 3"))
    assert (info["size"], info["customers"], info["as_of"]) == (2, 5, AS_OF)
    assert info["revenue_share"] == pytest.approx(70 / 100)  # ann 30 + cat 40 of 100 (10 per order)
    assert [r["customer_id"] for r in info["sample"]] == ["ann", "cat"]
    assert info["overlap"] == {"vip": 2}
    d = q.diff("vip", q.rule("orders >= 2", "vip"))
    assert (d["before"], d["after"], d["enter"], d["exit"], d["stay"]) == (2, 3, ["dan"], [], 2)


def test_refresh_history_movement_and_rfm_migration(shop):
    store = SegmentStore(shop)
    store.create("recent", "last_order > -30d")
    with pytest.raises(InvalidParameterError, match="features are as of 2024-06-30"):
        store.refresh(get_engine(shop, "duckdb"), "2024-06-25")
    for day in ("2024-06-25", "2024-06-30"):
        build_features(shop, as_of=day)
        build_rfm(shop)
        store.refresh(get_engine(shop, "duckdb"))
    hist = store.history("recent")
    assert [d.isoformat() for d in hist["as_of"]] == ["2024-06-25", "2024-06-30"]
    assert list(hist["size"]) == [1, 2] and list(hist["entered"]) == [1, 1] and list(hist["left"]) == [0, 0]
    assert store.movement("recent", "2024-06-25", "2024-06-30") == {"entered": ["dan"], "left": []}
    m = store.migration("2024-06-25", "2024-06-30")
    assert int(m.to_numpy().sum()) == 5  # every customer once
    assert m.loc["No purchase"].sum() == 2 and m.loc["No purchase", "No purchase"] == 1  # dan bought on 06-29


def test_explain_profile_reads_every_table(shop):
    store = SegmentStore(shop)
    profile, events, orders = customer_profile(store, "bob")
    assert profile["orders"] == 1 and profile["lat"] == pytest.approx(48.14) and profile["lifecycle_stage"]
    assert len(events) == 3
    assert [(o["value"], o["units"]) for o in orders] == [(10.0, 1)]
    with pytest.raises(NotFound):
        customer_profile(store, "nobody")
    assert store.as_of().isoformat() == AS_OF


def test_predicted_fields_become_available_once_predictions_are_stored(shop):
    with pytest.raises(SegmentError, match="'clv' is not available until `shopseg predict`"):
        SegmentStore(shop).create("valuable", "clv > 100")
    shop.con.execute(
        "CREATE TABLE customer_predictions AS SELECT customer_id, orders * 50.0 AS clv FROM customer_features"
    )
    store = SegmentStore(shop)
    store.create("valuable", "clv > 100")
    with pytest.raises(SegmentError, match="churn_risk"):
        store.create("risky", "churn_risk > 0.5")
    q = SegmentQuery(store, get_engine(shop, "duckdb"))
    info = q.preview(q.rule("clv > 100"))
    assert [r["customer_id"] for r in info["sample"]] == ["ann", "cat"]


def test_a_refresh_with_no_member_is_a_snapshot_of_zero(shop):
    """A refreshed segment with 0 members showed as never snapshotted (members and as-of empty). Now its latest
    snapshot has size 0 and the refresh day, history lists that day, and a segment that empties shows who left."""
    store = SegmentStore(shop)
    store.create("nobody", "country IN ('ZZ')")
    store.create("recent", "last_order > -30d")
    assert store.latest_snapshots().empty  # never refreshed: no snapshot, not a snapshot of 0
    build_features(shop, as_of="2024-06-25")
    assert store.refresh(get_engine(shop, "duckdb")) == {"nobody": 0, "recent": 1}
    store.create("recent", "orders > 1000", replace=True)  # version 2 matches nobody
    build_features(shop, as_of="2024-06-30")
    assert store.refresh(get_engine(shop, "duckdb")) == {"nobody": 0, "recent": 0}
    latest = store.latest_snapshots()
    assert latest.to_dict("records") == [
        {"name": "nobody", "version": 1, "as_of": pd.Timestamp("2024-06-30"), "size": 0},
        {"name": "recent", "version": 2, "as_of": pd.Timestamp("2024-06-30"), "size": 0},
    ]
    hist = store.history("nobody")
    assert [d.isoformat() for d in hist["as_of"]] == ["2024-06-25", "2024-06-30"] and list(hist["size"]) == [0, 0]
    recent = store.history("recent")
    assert list(recent["size"]) == [1, 0] and list(recent["left"]) == [0, 1] and list(recent["version"]) == [1, 2]
