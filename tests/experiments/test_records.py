"""Experiments end to end: create on a segment, assign, plant outcomes as orders, analyse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from shopseg.errors import InvalidParameterError, NotFound, WorkspaceError
from shopseg.experiments import analyze_experiment, assign_experiment, create_experiment, experiment_outcomes
from shopseg.experiments.records import ASSIGNMENTS_TABLE
from shopseg.segments.audience import segment_customer_ids

START = "2026-01-01"


def _plant(ws, rate: dict[str, float], value: dict[str, float]) -> pd.DataFrame:
    """One order after START for a deterministic share of each variant, worth ``value`` per variant."""
    a = ws.con.execute(f'SELECT customer_id, variant FROM "{ASSIGNMENTS_TABLE}" ORDER BY customer_id').df()
    rng = np.random.default_rng(11)
    a["buy"] = rng.random(len(a)) < a["variant"].map(rate)
    buyers = a[a["buy"]].reset_index(drop=True)
    orders = [(f"x{i}", c, "2026-01-15") for i, c in enumerate(buyers["customer_id"])]
    lines = [(f"x{i}", 1, "p0001", 1, float(value[v])) for i, v in enumerate(buyers["variant"])]
    ws.con.executemany("INSERT INTO orders (order_id, customer_id, ordered_at) VALUES (?, ?, ?)", orders)
    ws.con.executemany(
        "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES (?, ?, ?, ?, ?)",
        lines,
    )
    return a


def test_end_to_end_lifts_match_the_planted_outcomes(action_ws):
    members, _ = segment_customer_ids(action_ws, "repeat")
    create_experiment(action_ws, "reorder", "repeat", split="control=50,offer=50", holdout=0.1, start=START)
    counts = assign_experiment(action_ws, "reorder")
    assert sum(counts.values()) == len(members) and set(counts) == {"control", "offer", "holdout"}
    assert assign_experiment(action_ws, "reorder") == counts  # idempotent
    truth = _plant(
        action_ws, {"control": 0.2, "offer": 0.4, "holdout": 0.1}, {"control": 50, "offer": 60, "holdout": 50}
    )
    rep = analyze_experiment(action_ws, "reorder", n_boot=300)
    overall = rep.table[rep.table["segment"] == "(all)"].set_index("variant")
    conv = truth.groupby("variant")["buy"].mean()
    np.testing.assert_allclose(overall.loc[["control", "offer"], "conversion"], conv[["control", "offer"]])
    c, t = truth[truth["variant"] == "control"], truth[truth["variant"] == "offer"]
    ref = sps.ttest_ind(np.where(t["buy"], 60.0, 0.0), np.where(c["buy"], 50.0, 0.0), equal_var=False)
    assert overall.loc["offer", "revenue_p"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert overall.loc["offer", "conversion_lift"] == pytest.approx(conv["offer"] - conv["control"])
    x = truth.groupby("variant")["buy"].agg(["sum", "size"])
    a_c, b_c = 1 + x.loc["control", "sum"], 1 + x.loc["control", "size"] - x.loc["control", "sum"]
    a_t, b_t = 1 + x.loc["offer", "sum"], 1 + x.loc["offer", "size"] - x.loc["offer", "sum"]
    draws = np.random.default_rng(0).beta([a_t, a_c], [b_t, b_c], size=(400_000, 2))
    assert overall.loc["offer", "prob_beat_control"] == pytest.approx((draws[:, 0] > draws[:, 1]).mean(), abs=0.003)
    assert overall.loc["offer", "prob_beat_control"] > 0.9 and overall.loc["holdout", "prob_beat_control"] < 0.5
    assert not rep.srm.mismatch
    assert set(rep.table["segment"]) > {"(all)"}  # per RFM segment too


def test_outcomes_ignore_orders_before_the_start(action_ws):
    create_experiment(action_ws, "late", "repeat", start="2099-01-01")
    assign_experiment(action_ws, "late")
    out = experiment_outcomes(action_ws, "late")
    assert not out["converted"].any() and (out["revenue"] == 0).all()


def test_clear_errors(action_ws):
    with pytest.raises(NotFound, match="segment 'nope'"):
        create_experiment(action_ws, "e1", "nope")
    with pytest.raises(InvalidParameterError, match="every weight must be > 0"):
        create_experiment(action_ws, "e1", "repeat", split="control=1,b=0")
    create_experiment(action_ws, "e1", "repeat")
    with pytest.raises(WorkspaceError, match="already exists"):
        create_experiment(action_ws, "e1", "repeat")
    with pytest.raises(NotFound, match="experiment 'e2': no such experiment. Known: e1"):
        assign_experiment(action_ws, "e2")
    with pytest.raises(NotFound, match="nobody is assigned yet"):
        experiment_outcomes(action_ws, "e1")
    with pytest.raises(InvalidParameterError, match="the end .* must be after the start"):
        create_experiment(action_ws, "e3", "repeat", start="2025-01-02", end="2025-01-01")


def test_segments_are_taken_at_assignment_not_after(action_ws):
    create_experiment(action_ws, "pre", "repeat", start=START)
    assign_experiment(action_ws, "pre")
    before = experiment_outcomes(action_ws, "pre").set_index("customer_id")["rfm_segment"]
    action_ws.con.execute("UPDATE customer_rfm SET rfm_segment = 'Champions'")  # the map moves after the treatment
    rep = analyze_experiment(action_ws, "pre", n_boot=100)
    per = rep.table[rep.table["segment"] != "(all)"].groupby("segment")["customers"].sum()
    assert per.to_dict() == before.value_counts().to_dict()


def test_outcomes_take_refunds_back_however_the_export_signs_them(action_ws):
    """A sale of 100 then a refund written as a negative price, a negative quantity, or both (point-of-sale
    exports use all three): each customer's revenue in the experiment is 100 - 40 = 60, as the features count
    it (shopseg.features.purchases); a cancelled order's sale is void."""
    create_experiment(action_ws, "refunds", "repeat", start=START)
    assign_experiment(action_ws, "refunds")
    who = action_ws.con.execute(f'SELECT customer_id FROM "{ASSIGNMENTS_TABLE}" ORDER BY 1 LIMIT 4').fetchall()
    signs = [(1, -40.0, True), (-1, 40.0, True), (-1, -40.0, True)]
    for i, ((cid,), (qty, price, ret)) in enumerate(zip(who, signs, strict=False)):
        action_ws.con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at) VALUES (?, ?, '2026-01-10')", [f"s{i}", cid]
        )
        action_ws.con.execute("INSERT INTO order_lines VALUES (?, 1, 'p0001', 1, 100.0, NULL, false)", [f"s{i}"])
        action_ws.con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at) VALUES (?, ?, '2026-01-12')", [f"r{i}", cid]
        )
        action_ws.con.execute(
            "INSERT INTO order_lines VALUES (?, 1, 'p0001', ?, ?, NULL, ?)", [f"r{i}", qty, price, ret]
        )
    cancelled = who[3][0]
    action_ws.con.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at, is_cancelled) VALUES ('v', ?, '2026-01-10', true)",
        [cancelled],
    )
    action_ws.con.execute("INSERT INTO order_lines VALUES ('v', 1, 'p0001', 1, 100.0, NULL, true)")
    out = experiment_outcomes(action_ws, "refunds").set_index("customer_id")
    assert [out.loc[c, "revenue"] for (c,) in who[:3]] == [60.0, 60.0, 60.0]
    assert [out.loc[c, "orders"] for (c,) in who[:3]] == [1, 1, 1]
    assert out.loc[cancelled, "revenue"] == 0 and not out.loc[cancelled, "converted"]
