"""Validation collects every issue, raises once, and points at the character."""

from __future__ import annotations

import pytest

from shopseg.errors import SegmentError
from shopseg.rules.fields import FIELDS
from shopseg.rules.parse import parse_segment
from shopseg.rules.validate import segment_issues, validate_segment


def _error(text, **kw) -> SegmentError:
    with pytest.raises(SegmentError) as info:
        validate_segment(parse_segment(text), **kw)
    return info.value


def test_unknown_field_suggests_the_closest_with_a_caret():
    err = _error("orders >= 3 AND recnecy < 30")
    assert str(err) == (
        "segment: 1 problem\n"
        "line 1, col 17: unknown field 'recnecy'. Did you mean 'recency'?\n"
        "  orders >= 3 AND recnecy < 30\n"
        "                  ^^^^^^^"
    )
    [issue] = err.issues
    assert (issue.path, issue.code) == ("/and/1/field", "unknown_field")


def test_every_problem_is_collected_and_raised_once():
    err = _error("last_order < -90x AND\n  rfm_segment = 'Champion' AND clv > 3 AND email_marketing = 1 AND spnt > 2")
    assert [i.code for i in err.issues] == [
        "bad_offset",
        "unknown_value",
        "not_available",
        "type_mismatch",
        "unknown_field",
    ]
    assert str(err).startswith("segment: 5 problems\n")
    assert "line 2, col 17: unknown rfm_segment 'Champion'" in str(err) and "Did you mean 'Champions'?" in str(err)
    assert "field 'clv' is not available until `shopseg predict` has run" in str(err)
    assert "Did you mean 'spent'?" in str(err)


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [
        ("orders > 'three'", "type_mismatch", "'orders' is a number. Expected a number; got str 'three'"),
        ("country = 3", "type_mismatch", "'country' is a string"),
        ("email_marketing > true", "type_mismatch", "use = or !="),
        ("orders < -30d", "type_mismatch", "a date offset fits only dates"),
        ("last_order < 30", "type_mismatch", "Expected a date like '2024-01-31' or an offset like -30d"),
        ("last_order < '2024-02-30'", "bad_date", "bad date '2024-02-30'"),
        ("last_order < 90d", "bad_offset", "needs a sign: -90d is 90 days before the as-of date"),
        ("last_order < -3q", "bad_offset", "bad date offset '-3q'"),
        ("last_order < -1.5m", "bad_offset", "bad date offset"),
        ("country CONTAINS 3", "type_mismatch", "CONTAINS needs text"),
        ("orders CONTAINS 'x'", "type_mismatch", "CONTAINS needs a text field"),
        ("lifecycle IN ('new', 'lapsng')", "unknown_value", "Did you mean 'lapsing'?"),
        ("events(type='view').cnt > 1", "bad_aggregate", "unknown aggregate 'cnt'. Expected one of"),
        ("events(type='view').sum > 1", "bad_aggregate", "'sum' needs a property: .sum(value)"),
        ("events(type='view', within=+7d).count > 1", "bad_offset", "within looks back"),
        ("events(within=-7x).count > 1", "bad_offset", "bad date offset '-7x'"),
        ("events(between '2024-03-01' and '2024-01-01').count > 1", "bad_date", "ends before it starts"),
        ("events(type='view').count > 'many'", "type_mismatch", "an event count is a number"),
        ("distance(52.5, 13.4) < 50mi", "bad_unit", "Expected km"),
        ("distance(152.5, 13.4) < 50km", "bad_value", "is not a latitude/longitude"),
        ("next_order_date < +7d", "not_available", "not available until `shopseg predict`"),
        ("spent > 1e999", "bad_value", "the number inf is out of range"),
        ("events().count > -1e999", "bad_value", "the number -inf is out of range"),
    ],
)
def test_each_kind_of_issue(text, code, fragment):
    err = _error(text)
    assert code in [i.code for i in err.issues]
    assert fragment in str(err), str(err)
    assert "line 1, col " in str(err) and "^" in str(err)


def test_type_mismatch_caret_points_at_the_value():
    err = _error("orders > 'three'")
    assert str(err).endswith("  orders > 'three'\n           ^^^^^^^")
    err = _error("lifecycle IN ('new', 'lapsng')")
    assert str(err).endswith("  lifecycle IN ('new', 'lapsng')\n                ^^^^^^^^^^^^^^^")


def test_json_form_issues_carry_their_path():
    issues = segment_issues(
        parse_segment(
            {"and": [{"field": "orders", "op": ">", "value": 1}, {"not": {"field": "recnecy", "op": "<", "value": 3}}]}
        )
    )
    assert [(i.path, i.code) for i in issues] == [("/and/1/not/field", "unknown_field")]
    assert issues[0].message == "/and/1/not/field: unknown field 'recnecy'. Did you mean 'recency'?"


def test_json_form_structural_issues_are_collected():
    with pytest.raises(SegmentError) as info:
        parse_segment({"and": [{"field": "orders", "op": "~", "value": 1}, {"field": "x", "op": "in", "value": 3}, 7]})
    assert [(i.path, i.code) for i in info.value.issues] == [
        ("/and/0/op", "bad_operator"),
        ("/and/1/value", "bad_value"),
        ("/and/2", "bad_node"),
    ]


def test_unknown_segment_reference_and_cycles():
    vip = parse_segment("orders > 10 AND NOT segment('lapsed')")
    lapsed = parse_segment("segment('churners') OR last_order < -90d")
    churners = parse_segment("segment('vip')")
    saved = {"vip": vip, "lapsed": lapsed, "churners": churners}
    err = _error("segment('vpi')", segments=saved)
    assert "unknown segment 'vpi'. Did you mean 'vip'?" in str(err)
    named = parse_segment("segment('vip')")
    object.__setattr__(named, "name", "churners")
    with pytest.raises(SegmentError, match="segment reference cycle: churners -> vip -> lapsed -> churners"):
        validate_segment(named, segments=saved)


def test_aliases_and_registry():
    assert FIELDS.resolve("spent").name == "revenue"
    assert FIELDS.resolve("lifecycle").column == "stage"
    assert FIELDS.resolve("rfm_segment").table == "customer_rfm"
    assert not FIELDS.resolve("churn_risk").available
    assert validate_segment(parse_segment("spent > 100 AND lifecycle = 'lapsing' AND rfm_segment = 'Champions'"))
