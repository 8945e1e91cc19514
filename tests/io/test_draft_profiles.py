"""Drafting a spec for a profile export (Klaviyo's columns): measures that mention an entity are not its key."""

from __future__ import annotations

import yaml

from shopseg.io.draft import draft_spec
from shopseg.io.profile import is_measure, name_score

KLAVIYO = (
    "Email,First Name,Last Name,Phone Number,City,Country,Klaviyo ID,Created,Last Active,"
    "Email Marketing Consent,Historic Customer Lifetime Value,Historic Number Of Orders,"
    "Predicted Customer Lifetime Value,Expected Date Of Next Order,Churn Probability\n"
    "ann@example.com,Ann,Lee,,Berlin,Germany,01HAB1,2023-01-10 09:00:00,2024-05-01,SUBSCRIBED,174.25,3,80.10,"
    "2024-07-01,0.31\n"
    "bob@example.com,Bob,Ray,,Hamburg,Germany,01HAB2,2023-02-11 10:00:00,2024-04-02,NEVER_SUBSCRIBED,49.00,1,12.00,"
    "2024-09-01,0.72\n"
    "cy@example.com,Cy,Ng,,Munich,Germany,01HAB3,2023-03-12 11:00:00,2024-03-03,SUBSCRIBED,0.00,0,0.00,,0.95\n"
)


def test_a_profile_export_is_drafted_as_customers_keyed_by_its_id(tmp_path):
    path = tmp_path / "klaviyo_profiles.csv"
    path.write_text(KLAVIYO, encoding="utf-8")
    text, _ = draft_spec([path], tmp_path / "k.yaml")
    tables = yaml.safe_load(text)["tables"]
    assert list(tables) == ["customers"]  # "Number Of Orders" and "Next Order" name no order
    assert tables["customers"]["map"]["customer_id"] == "Klaviyo ID"
    assert tables["customers"]["map"]["email"] == "Email"


def test_measures_never_rank_as_keys():
    assert is_measure("Historic Customer Lifetime Value") and is_measure("Total Orders")
    assert not is_measure("Customer ID") and not is_measure("Email")
    assert name_score("customer_id", "Historic Customer Lifetime Value") < name_score("customer_id", "Klaviyo ID")
    assert name_score("order_id", "Total Orders") < 0.5
