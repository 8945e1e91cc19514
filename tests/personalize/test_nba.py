"""Next best action: first matching rule per customer, editable playbook files, clear errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from shopseg.errors import InvalidParameterError, SegmentError
from shopseg.personalize.interactions import load_purchases
from shopseg.personalize.nba import next_best_actions
from shopseg.personalize.playbook import default_playbook, load_playbook, playbook_text

WIN_BACK = {"At risk", "Cannot lose them", "About to sleep", "Hibernating"}


def _oracle(ws) -> pd.Series:
    """The default playbook written out in pandas over the stored tables (first match wins)."""
    f = ws.con.execute("SELECT customer_id, orders, abandoned_checkouts_90d FROM customer_features").df()
    f = f.merge(ws.con.execute("SELECT customer_id, rfm_segment FROM customer_rfm").df(), on="customer_id", how="left")
    f = f.merge(ws.con.execute("SELECT customer_id, stage FROM customer_lifecycle").df(), on="customer_id", how="left")

    def pick(r) -> str:
        if r.abandoned_checkouts_90d >= 1:
            return "cart_recovery"
        if r.rfm_segment == "Champions":
            return "vip_reward"
        if r.rfm_segment in WIN_BACK:
            return "win_back"
        if r.stage == "new":
            return "onboarding"
        return "cross_sell" if r.orders == 1 else "none"

    return f.set_index("customer_id").apply(pick, axis=1).sort_index()


def test_every_customer_gets_the_first_matching_rule(action_ws):
    got = next_best_actions(action_ws, store=True).set_index("customer_id")["action_name"].sort_index()
    pd.testing.assert_series_equal(got, _oracle(action_ws), check_names=False)
    assert set(got) == {"cart_recovery", "vip_reward", "win_back", "onboarding", "cross_sell", "none"}
    assert action_ws.has_table("customer_next_actions")


def test_products_are_recommendations_not_past_purchases(action_ws):
    table = next_best_actions(action_ws).set_index("customer_id")
    bought = load_purchases(action_ws).groupby("customer_id")["product_id"].agg(set)
    acted = table[table["action_name"] != "none"]
    assert (acted["products"].str.count(",") + 1 == acted["action_name"].map({"cross_sell": 5}).fillna(3)).all()
    for cid, products in acted["products"].head(200).items():
        assert not set(products.split(",")) & bought.get(cid, set())
    assert (table.loc[table["action_name"] == "none", "products"] == "").all()


def test_an_edited_yaml_playbook_is_used(action_ws, tmp_path):
    data = yaml.safe_load(playbook_text())
    data["rules"] = [
        {"name": "big", "when": "revenue >= 500", "action": "Send the catalogue", "reason": "spent 500+", "products": 0}
    ]
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    table = next_best_actions(action_ws, playbook=load_playbook(path))
    rich = set(
        action_ws.con.execute("SELECT customer_id FROM customer_features WHERE revenue >= 500").df()["customer_id"]
    )
    assert set(table.loc[table["action_name"] == "big", "customer_id"]) == rich
    assert (table["products"] == "").all()


def test_json_round_trip_of_the_default():
    assert load_playbook_text(playbook_text(fmt="json")) == default_playbook()


def load_playbook_text(text: str):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "p.json"
    path.write_text(text, encoding="utf-8")
    return load_playbook(path)


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("rules: [", ".yaml", "not valid YAML"),
        (
            json.dumps({"rules": [{"name": "x", "when": "orders >=", "action": "a", "reason": "r"}]}),
            ".json",
            r"/rules/0/when: Value error, not a valid segment rule",
        ),
        (
            json.dumps({"rules": [{"name": "x", "when": "orders = 1", "action": "a"}]}),
            ".json",
            r"/rules/0/reason: Field required",
        ),
        (
            json.dumps({"rules": [{"name": "x", "when": "orders = 1", "action": "a", "reason": "r", "colour": 1}]}),
            ".json",
            r"/rules/0/colour: Extra inputs are not permitted",
        ),
        (json.dumps({"rules": []}), ".json", r"/rules: List should have at least 1 item"),
    ],
)
def test_bad_playbook_files_name_the_file_and_the_place(tmp_path, content, suffix, message):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidParameterError, match=message) as info:
        load_playbook(path)
    assert str(path) in str(info.value)


def test_unknown_field_in_a_rule_is_reported_with_the_rule_name(action_ws, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"rules": [{"name": "lapsed", "when": "recnecy > 90", "action": "a", "reason": "r"}]}))
    with pytest.raises(
        SegmentError, match="(?s)playbook .default., rule .when. of segment .lapsed.: 1 problem.*recnecy"
    ):
        next_best_actions(action_ws, playbook=load_playbook(path))
    with pytest.raises(InvalidParameterError, match="no playbook file here"):
        load_playbook(tmp_path / "missing.yaml")
