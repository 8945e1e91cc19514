"""Live sees every field batch sees (issue 17): on the demo, live_members was 0 for `outdoor_fans` (an interest
field) and `valuable_at_risk` (prediction fields) against 570 and 59 in batch, because live profiles held only
the feature, RFM and lifecycle columns. Here rules over interests, predictions, clusters and custom attributes
are evaluated live and in batch on the same workspace and day."""

from __future__ import annotations

import datetime as dt

from shopseg.engine import get_engine
from shopseg.interests import build_interests
from shopseg.live.clock import ManualClock
from shopseg.live.runtime import LiveEngine
from shopseg.predict import predict_workspace
from shopseg.segments.definitions import SegmentStore
from shopseg.segments.query import SegmentQuery
from shopseg.workspace import Workspace


def test_live_members_equal_batch_on_interest_prediction_and_attribute_fields(action_ws_path):
    with Workspace.open(action_ws_path) as ws:
        build_interests(ws)
        predict_workspace(ws, "duckdb", n_bootstrap=0)
        ws.con.execute("""UPDATE customers SET attributes = CASE WHEN hash(customer_id) % 3 = 0
                          THEN '{"tier": "gold", "points": 700}' ELSE '{"tier": "silver", "points": 120}' END""")
        from shopseg.io.attributes import refresh_attributes

        refresh_attributes(ws.con)
        interest = next(c for c in ws.table("customer_interests", limit=1).columns if c.endswith("_enthusiast"))
        day = dt.date.fromisoformat(ws.meta("features_as_of"))
        rules = {
            "fans": f"{interest} = true AND NOT rfm_segment = 'Lost'",
            "valuable_at_risk": "clv > 100 AND churn_risk = 'high'",
            "alive": "p_alive > 0.5 AND purchases_p90 >= 1",
            "gold": "attr_tier = 'gold' AND attr_points > 500",
        }
        store = SegmentStore(ws)
        for name, rule in rules.items():
            store.create(name, rule, force=True)
        eng = get_engine(ws, "duckdb")
        batch = {}
        for name in rules:
            q = SegmentQuery(store, eng)
            batch[name] = set(q.member_ids(q.saved(name), day))
    live_engine = LiveEngine(
        Workspace.open(action_ws_path), clock=ManualClock(dt.datetime.combine(day, dt.time(12))), tick_ms=60_000
    )
    live_engine.start()
    try:
        live = {name: set(live_engine.evaluator.members.get(name, ())) for name in rules}
    finally:
        live_engine.stop()
        live_engine.workspace.close()
    for name in rules:
        assert batch[name], name  # every rule selects someone: the comparison means something
        assert live[name] == batch[name], (name, len(live[name]), len(batch[name]))
