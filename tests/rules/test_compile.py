"""Compiling rules to Ibis: a real workspace on DuckDB and Spark, and no user text outside quoted literals."""

from __future__ import annotations

import json
import re

import ibis
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from shopseg.engine import get_engine
from shopseg.errors import NotFound, SegmentError
from shopseg.features import build_features
from shopseg.rules.compile import segment_frame, segment_members, segment_size
from shopseg.rules.fields import FIELDS
from shopseg.rules.nodes import Compare, Contains, Event, In, Segment, SegmentRef
from shopseg.rules.parse import parse_segment
from shopseg.rules.render import to_json
from shopseg.segments.lifecycle import build_lifecycle
from shopseg.segments.rfm_map import build_rfm
from shopseg.workspace import Workspace
from tests.engines.conftest import engines_for
from tests.rules.test_properties import rules
from tests.segments.segment_store import write_store

AS_OF = "2024-06-30"
PURCHASES = {
    "ann": ["2024-01-05 10:00", "2024-02-01 10:00", "2024-03-01 12:00"],  # 3 orders, last > 90 days ago
    "bob": ["2024-06-20 09:00"],
    "cat": ["2023-06-01 08:00", "2023-07-01 08:00", "2023-08-01 08:00", "2023-09-01 08:00"],
    "dan": ["2024-06-29 18:00", "2024-06-30 18:00"],
}
EVENTS = [
    ("e1", "bob", "product_view", "2024-06-25 10:00", {"category": "shoes", "price": 49.5}),
    ("e2", "bob", "product_view", "2024-06-26 10:00", {"category": "shoes", "price": 19.5}),
    ("e3", "bob", "product_view", "2024-06-27 10:00", {"category": "shoes"}),
    ("e4", "dan", "product_view", "2024-06-28 10:00", {"category": "shoes"}),
    ("e5", "dan", "purchase", "2024-06-29 18:00", {"value": 20}),
    ("e6", "ann", "product_view", "2024-05-01 10:00", {"category": "bags"}),
    ("e7", "ann", "product_view", "2024-07-05 10:00", {"category": "shoes"}),  # after as_of: ignored
]


def make_shop(path) -> Workspace:
    """A five-customer workspace with features, RFM and lifecycle built as of AS_OF (also used by test_store)."""
    ws = Workspace.init(path)
    write_store(ws, PURCHASES, prospects=["eve"])
    ws.con.executemany(
        "INSERT INTO events (event_id, customer_id, type, occurred_at, properties) VALUES (?, ?, ?, ?, ?)",
        [(i, c, t, ts, json.dumps(p)) for i, c, t, ts, p in EVENTS],
    )
    ws.con.execute("UPDATE customers SET email_marketing = customer_id IN ('ann', 'cat'), country = 'DE'")
    ws.con.execute("UPDATE customers SET lat = 52.52, lon = 13.40 WHERE customer_id = 'ann'")  # Berlin
    ws.con.execute("UPDATE customers SET lat = 48.14, lon = 11.58 WHERE customer_id = 'bob'")  # Munich
    build_features(ws, as_of=AS_OF)
    build_rfm(ws)
    build_lifecycle(ws, as_of=AS_OF)
    return ws


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Workspace:
    ws = make_shop(tmp_path_factory.mktemp("segments") / "shop.duckdb")
    yield ws
    ws.close()


VIP = {"vip": parse_segment("orders >= 3")}
CASES = [
    ("last_order < -90d AND orders >= 3 AND email_marketing = true AND NOT segment('vip')", []),
    ("last_order < -90d AND orders >= 3 AND email_marketing = true", ["ann", "cat"]),
    (
        "events(type='product_view', category='shoes', within=-7d).count >= 3 "
        "AND events(type='purchase', within=-7d).count = 0",
        ["bob"],
    ),
    ("events(type='product_view', category='shoes', within=-7d).count >= 1", ["bob", "dan"]),
    ("events(type='product_view').max(price) > 40", ["bob"]),
    ("events(type='product_view', between '2024-04-01' and '2024-05-31')", ["ann"]),
    ("distance(52.52, 13.405) < 50km", ["ann"]),
    ("distance(52.52, 13.405) < 600km", ["ann", "bob"]),
    ("segment('vip') AND spent > 35", ["cat"]),
    ("orders = 0", ["eve"]),
    ("last_order IS NULL OR last_order > '2024-06-29'", ["dan", "eve"]),
    ("rfm_segment IS NOT NULL AND lifecycle = 'prospect'", ["eve"]),
    ("orders(within=-30d).count >= 1", ["bob", "dan"]),
    ("orders().sum(value) > 35 OR orders(between '2024-06-30' and '2024-06-30').max(units) = 1", ["cat", "dan"]),
    ("orders(channel='web')", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_rules_select_the_expected_customers_on_duckdb(shop, text, expected):
    engine = get_engine(shop, "duckdb")
    got = segment_members(engine, parse_segment(text), as_of=AS_OF, segments=VIP).to_pandas()
    assert sorted(got["customer_id"]) == expected
    assert segment_size(engine, parse_segment(text), as_of=AS_OF, segments=VIP) == len(expected)


@pytest.mark.spark
def test_duckdb_and_spark_agree_on_every_case(shop):
    duck, spark = engines_for(shop)
    rule = parse_segment(" OR ".join(f"({text})" for text, _ in CASES[1:]))
    for engine_rules in ([parse_segment(t) for t, _ in CASES[1:]], [rule]):
        for seg in engine_rules:
            frames = [
                segment_frame(e, seg, as_of=AS_OF, segments=VIP).to_pandas().sort_values("customer_id")
                for e in (duck, spark)
            ]
            assert list(frames[0]["member"]) == list(frames[1]["member"]), seg
            sizes = {e.name: segment_size(e, seg, as_of=AS_OF, segments=VIP) for e in (duck, spark)}
            assert sizes["duckdb"] == sizes["spark"] == int(frames[0]["member"].sum()), seg


def test_invalid_rules_never_reach_the_engine(shop):
    with pytest.raises(SegmentError, match="unknown segment 'gold'"):
        segment_members(get_engine(shop, "duckdb"), parse_segment("segment('gold')"), as_of=AS_OF, segments=VIP)
    bad = Segment(Event("events", (("x') OR 1=1 --", "a"),), None, None, "count", None, ">", 0))
    with pytest.raises(SegmentError, match="bad property name"):
        segment_members(get_engine(shop, "duckdb"), bad, as_of=AS_OF)


# -- no injection ----------------------------------------------------------------------------
class SchemaEngine:
    """Unbound Ibis tables with the registry's columns: compile without a database."""

    dialect = "duckdb"
    _TYPES = {"number": "float64", "string": "string", "boolean": "boolean", "timestamp": "timestamp"}

    def table(self, name: str) -> ibis.Table:
        if name == "events":
            return ibis.table(
                {
                    "customer_id": "string",
                    "type": "string",
                    "occurred_at": "timestamp",
                    "product_id": "string",
                    "properties": "string",
                },
                name=name,
            )
        cols = {f.column: self._TYPES[f.type] for f in FIELDS if f.table == name}
        if name == "customers":
            cols = {"lat": "float64", "lon": "float64"}
        return ibis.table({"customer_id": "string", **cols}, name=name)


_nasty = st.text(alphabet=st.sampled_from("ab'\";-()/* \\\n%$DROPselect"), min_size=3, max_size=12).filter(
    lambda s: re.search(r"['\";()*\\-]", s) is not None
)
_hostile = st.one_of(
    st.builds(Compare, st.just("country"), st.just("="), _nasty),
    st.builds(Contains, st.just("city"), _nasty),
    st.builds(In, st.just("gender"), st.lists(_nasty, min_size=1, max_size=2).map(tuple)),
    st.builds(lambda v: Event("events", (("type", v), ("category", v)), None, None, "count", None, ">=", 1), _nasty),
)
_ALLOWED = re.compile(r"^(t\d+|_k|_day|member|customer_id|[cp]__\w+|e__\d+|\w+__\w+|\w+)$")


def _user_strings(data) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in (*_user_strings(k), *_user_strings(v))]
    if isinstance(data, list):
        return [s for v in data for s in _user_strings(v)]
    return []


@settings(max_examples=150, deadline=None)
@given(rule=rules(_hostile))
def test_compiled_sql_has_user_text_only_inside_quoted_literals(rule):
    table = segment_frame(SchemaEngine(), Segment(rule), as_of=AS_OF)
    sql = ibis.to_sql(table, dialect="duckdb")
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    names = {i.name for i in tree.find_all(exp.Identifier)}
    assert all(_ALLOWED.match(n) for n in names), names
    stripped = tree.transform(lambda n: exp.Literal.string("") if isinstance(n, exp.Literal) and n.is_string else n)
    bare = stripped.sql(dialect="duckdb")
    for text in _user_strings(to_json(rule)):
        # punctuation alone (' ("') can coincide with the SQL's own syntax; an injection needs words
        if re.search(r"['\";()*\\-]", text) and re.search(r"[A-Za-z0-9]", text):
            assert text not in bare


def test_unknown_fields_and_segments_cannot_be_compiled():
    with pytest.raises(SegmentError, match="unknown field"):
        segment_frame(SchemaEngine(), Segment(Compare("orders; DROP TABLE x", "=", 1)), as_of=AS_OF)
    with pytest.raises(SegmentError, match="unknown segment"):
        segment_frame(SchemaEngine(), Segment(SegmentRef("x")), as_of=AS_OF, segments={})


def test_many_segments_evaluate_in_one_query(shop):
    from shopseg.rules.compile import segment_flags

    engine = get_engine(shop, "duckdb")
    segs = {text: parse_segment(text) for text, _ in CASES}
    flags = segment_flags(engine, segs, as_of=AS_OF, saved=VIP).to_pandas().sort_values("customer_id")
    for i, (_, expected) in enumerate(CASES):
        assert sorted(flags.loc[flags[f"s__{i}"], "customer_id"]) == expected


def test_whole_numbers_against_integer_fields_compile_to_integer_literals(shop):
    engine = get_engine(shop, "duckdb")
    sql = engine.to_sql(segment_members(engine, parse_segment("orders >= 3 AND spent > 35"), as_of=AS_OF))
    assert re.search(r'"orders" >= 3(?![.\d])', sql), sql  # integer column: no cast of every row to double
    assert re.search(r'"revenue" > (35\.0|CAST\(\'35\.0\' AS DOUBLE\))', sql), (
        sql
    )  # a float literal (Ibis may spell it as a cast of the literal)
    # a fractional threshold on an integer column is still compared as a number
    for text, expected in [
        ("orders > 2.5", ["ann", "cat"]),
        ("orders BETWEEN 1.5 AND 3", ["ann", "dan"]),
        ("orders IN (1, 2.0)", ["bob", "dan"]),
        ("orders < 0.5", ["eve"]),
    ]:
        got = segment_members(engine, parse_segment(text), as_of=AS_OF).to_pandas()
        assert sorted(got["customer_id"]) == expected, text


def test_engine_describes_a_replaced_table_again(tmp_path):
    ws = Workspace.init(tmp_path / "ws.duckdb")
    engine = get_engine(ws, "duckdb")
    ws.con.execute("CREATE TABLE scratch AS SELECT 1 AS a")
    first = engine.table("scratch")
    assert engine.table("scratch") is first  # same definition: the described table is reused
    ws.con.execute("CREATE OR REPLACE TABLE scratch AS SELECT 'x' AS a, 2.5 AS b")
    again = engine.table("scratch")
    assert list(again.columns) == ["a", "b"] and again.schema()["a"].is_string()
    assert again.to_pandas().to_dict("records") == [{"a": "x", "b": 2.5}]
    ws.con.execute("DROP TABLE scratch")
    with pytest.raises(NotFound, match="no table 'scratch'"):
        engine.table("scratch")
    ws.close()


def test_a_rule_counted_again_reuses_its_query_but_sees_new_data_and_new_columns(tmp_path):
    ws = make_shop(tmp_path / "shop.duckdb")
    engine = get_engine(ws, "duckdb")
    rule = parse_segment("orders >= 3")
    assert segment_size(engine, rule, as_of=AS_OF) == 2  # ann, cat
    assert len(engine._compiled) == 1
    assert segment_size(engine, parse_segment("orders  >=  3"), as_of=AS_OF) == 2  # same rule: the kept query
    assert len(engine._compiled) == 1
    ws.con.execute("UPDATE customer_features SET orders = 5 WHERE customer_id = 'bob'")  # new data, same columns
    assert segment_size(engine, rule, as_of=AS_OF) == 3
    ws.con.execute("ALTER TABLE customer_features ADD COLUMN extra INTEGER")  # new definition: compiled anew
    ws.con.execute("UPDATE customer_features SET orders = 0 WHERE customer_id = 'ann'")
    assert segment_size(engine, rule, as_of=AS_OF) == 2
    assert segment_size(engine, rule, as_of="2024-01-01") == 2 and len(engine._compiled) == 2  # the date is in the key
    vip = {"vip": parse_segment("orders >= 5")}
    assert segment_size(engine, parse_segment("segment('vip')"), as_of=AS_OF, segments=vip) == 1  # bob
    vip = {"vip": parse_segment("orders >= 4")}  # an edited saved segment is a new key: bob, cat
    assert segment_size(engine, parse_segment("segment('vip')"), as_of=AS_OF, segments=vip) == 2
    ws.con.execute("UPDATE customer_features SET orders = 4 WHERE customer_id = 'dan'")
    assert segment_size(engine, parse_segment("segment('vip')"), as_of=AS_OF, segments=vip) == 3
    ws.close()
