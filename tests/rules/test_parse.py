"""Text and JSON forms -> one AST; round trips; syntax errors point at the character; fuzzing never crashes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopseg.errors import SegmentError
from shopseg.rules.nodes import (
    And,
    Between,
    Compare,
    Contains,
    Distance,
    Event,
    In,
    IsNull,
    Not,
    Or,
    RelDate,
    Segment,
    SegmentRef,
)
from shopseg.rules.parse import parse_segment
from shopseg.rules.render import render, to_json
from tests.rules.test_properties import rules

README_RULES = [
    "last_order < -90d AND orders >= 3 AND email_marketing = true AND NOT segment('vip')",
    "events(type='product_view', category='shoes', within=-7d).count >= 3 AND events(type='purchase', within=-7d).count = 0",
]


def test_readme_rules_parse_to_the_expected_ast():
    seg = parse_segment(README_RULES[0])
    assert seg.rule == And(
        (
            Compare("last_order", "<", RelDate(-90, "d")),
            Compare("orders", ">=", 3),
            Compare("email_marketing", "=", True),
            Not(SegmentRef("vip")),
        )
    )
    views = Event(
        "events", (("type", "product_view"), ("category", "shoes")), RelDate(-7, "d"), None, "count", None, ">=", 3
    )
    bought = Event("events", (("type", "purchase"),), RelDate(-7, "d"), None, "count", None, "=", 0)
    assert parse_segment(README_RULES[1]).rule == And((views, bought))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("spent BETWEEN 100 AND 500.5", Between("spent", 100, 500.5)),
        ("country in ('DE', \"AT\")", In("country", ("DE", "AT"))),
        ("city CONTAINS 'it\\'s'", Contains("city", "it's")),
        ("age is not null", IsNull("age", True)),
        ("age IS NULL", IsNull("age", False)),
        ("orders <> 2", Compare("orders", "!=", 2)),
        ("TRUE", And(())),
        ("false", Or(())),
        ("distance(52.52, 13.405) < 50km", Distance(52.52, 13.405, "<", 50.0)),
        ("events(type='purchase')", Event("events", (("type", "purchase"),), None, None, "count", None, ">=", 1)),
        (
            "events(type='purchase', between '2024-01-01' and '2024-03-31').sum(value) > 100",
            Event("events", (("type", "purchase"),), None, ("2024-01-01", "2024-03-31"), "sum", "value", ">", 100),
        ),
        ("next_order_date < +7d", Compare("next_order_date", "<", RelDate(7, "d"))),
    ],
)
def test_operators_parse(text, expected):
    assert parse_segment(text).rule == expected


def test_precedence_not_binds_tighter_than_and_than_or():
    rule = parse_segment("a = 1 OR NOT b = 2 AND c = 3").rule
    assert rule == Or((Compare("a", "=", 1), And((Not(Compare("b", "=", 2)), Compare("c", "=", 3)))))
    nested = parse_segment("((((a = 1))) AND ((b = 2 OR (c = 3))))").rule
    assert nested == And((Compare("a", "=", 1), Or((Compare("b", "=", 2), Compare("c", "=", 3)))))


def test_text_and_json_forms_give_one_ast():
    for text in README_RULES:
        seg = parse_segment(text)
        assert parse_segment(to_json(seg)) == seg
        assert parse_segment(json.dumps(to_json(seg))) == seg


_values = st.one_of(
    st.text(max_size=8),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)
_wild_leaves = st.one_of(
    st.builds(
        Compare,
        st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
            lambda s: (
                s
                not in {
                    "and",
                    "or",
                    "not",
                    "in",
                    "is",
                    "null",
                    "true",
                    "false",
                    "between",
                    "contains",
                    "segment",
                    "distance",
                    "events",
                }
            )
        ),
        st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
        _values,
    ),
    st.builds(SegmentRef, st.text(max_size=10)),
    st.builds(In, st.just("country"), st.lists(_values, min_size=1, max_size=3).map(tuple)),
)


@settings(max_examples=200, deadline=None)
@given(rule=st.one_of(rules(), rules(_wild_leaves)))
def test_render_then_parse_is_identity(rule):
    seg = Segment(rule)
    assert parse_segment(render(seg)) == seg
    assert parse_segment(to_json(seg)) == seg
    assert parse_segment(json.dumps(to_json(seg))) == seg


@pytest.mark.parametrize(
    ("text", "where", "caret"),
    [
        ("orders >= 3 AND (spent > 10", "line 1, col 17: '(' is never closed", "                ^"),
        ("orders >= 3)", "line 1, col 12: ')' has no matching '('", "           ^"),
        ("orders >= AND x = 1", "line 1, col 11: unexpected 'AND'", "          ^^^"),
        ("orders >= 3 AND\n  spent >", "line 2, col 10: unexpected end of rule", "         ^"),
        ("country = 'DE", "line 1, col 11: unterminated string", "          ^"),
        ("orders >= 3 ; drop table x", "line 1, col 13: unexpected character ';'", "            ^"),
    ],
)
def test_syntax_errors_point_at_the_character(text, where, caret):
    with pytest.raises(SegmentError) as info:
        parse_segment(text)
    message = str(info.value)
    assert where in message
    assert f"\n  {caret}" in message, message
    assert info.value.issues and info.value.issues[0].code in {"syntax", "unbalanced_parenthesis"}


def test_every_unbalanced_parenthesis_is_reported():
    with pytest.raises(SegmentError) as info:
        parse_segment("(orders > 1 AND (spent > 2) OR (age > 3")
    assert [i.code for i in info.value.issues] == ["unbalanced_parenthesis"] * 2


def test_empty_and_non_text_definitions_are_segment_errors():
    for bad in ["", "   ", 42, None, ["orders > 1"]]:
        with pytest.raises(SegmentError):
            parse_segment(bad)


_TOKENS = [
    "orders",
    "spent",
    "last_order",
    ">=",
    "<",
    "=",
    "!=",
    "3",
    "-2.5",
    "'DE'",
    '"x"',
    "-7d",
    "90d",
    "-3q",
    "AND",
    "OR",
    "NOT",
    "(",
    ")",
    ",",
    ".",
    "IN",
    "BETWEEN",
    "CONTAINS",
    "IS",
    "NULL",
    "true",
    "events(",
    "type='purchase'",
    "within=-7d",
    ").count",
    ".sum(value)",
    "segment('vip')",
    "distance(1, 2)",
    "50km",
    "'",
    "\\",
    "--",
    "/*",
    ";",
]


def _parse_or_segment_error(definition):
    try:
        return parse_segment(definition)
    except SegmentError as exc:
        assert exc.issues, "a SegmentError always lists its issues"
        assert all(i.message for i in exc.issues)
        return None


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=60), st.lists(st.sampled_from(_TOKENS), max_size=14).map(" ".join)))
def test_fuzz_random_text_never_crashes(text):
    _parse_or_segment_error(text)


_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=6),
        st.sampled_from(["and", "or", "not", "field", "op", "value", "events", "segment", "between", "in"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "and",
                    "or",
                    "not",
                    "field",
                    "op",
                    "value",
                    "events",
                    "segment",
                    "distance",
                    "km",
                    "agg",
                    "of",
                    "within",
                    "between",
                    "relative",
                    "type",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(data=_json)
def test_fuzz_random_json_never_crashes(data):
    if isinstance(data, dict):
        _parse_or_segment_error(data)
    _parse_or_segment_error(json.dumps(data))


def test_deep_nesting_is_an_error_not_a_crash():
    _parse_or_segment_error("(" * 5000 + "orders > 1" + ")" * 5000)
    _parse_or_segment_error("NOT " * 5000 + "orders > 1")
    nested: dict = {"field": "orders", "op": ">", "value": 1}
    for _ in range(5000):
        nested = {"not": nested}
    _parse_or_segment_error(nested)


def test_language_reference_is_current_and_its_examples_are_valid():
    from pathlib import Path

    from shopseg.rules.reference import _EXAMPLES, reference_markdown
    from shopseg.rules.validate import validate_segment

    page = Path(__file__).resolve().parents[2] / "docs" / "segment-language.md"
    assert page.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/segment-language.md is stale: regenerate with `python -m shopseg.rules.reference > docs/segment-language.md`"
    )
    for _, text in _EXAMPLES:
        seg = validate_segment(parse_segment(text))
        assert render(seg) == text
