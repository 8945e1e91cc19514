"""Hypothesis: compiled-on-DuckDB membership equals the Python evaluator, and the rule algebra holds.

Random small customer tables (features, RFM, lifecycle, coordinates, events
with JSON properties, NULLs everywhere they can occur) and random rules drawn
from a strategy over the AST. The strategies are imported by test_parse.py
(round trips, fuzzing) and test_compile.py (SQL safety).
"""

from __future__ import annotations

import datetime as dt
import json

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopseg.rules.compile import segment_frame
from shopseg.rules.evaluate import evaluate_segment
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
)
from shopseg.schema import ibis_schema

AS_OF = dt.date(2024, 6, 30)
COUNTRIES = ["DE", "FR", "GB", "Zürich"]
RFM = ["Champions", "Lost", "At risk"]
STAGES = ["new", "active", "lapsed"]
EVENT_TYPES = ["product_view", "purchase", "email_open"]
CATEGORIES = ["shoes", "bags", "it's"]
OPS = ["=", "!=", "<", "<=", ">", ">="]

_reldate = st.builds(RelDate, st.integers(-14, -1), st.sampled_from(["d", "w", "m"]))
_iso = st.dates(AS_OF - dt.timedelta(days=120), AS_OF + dt.timedelta(days=3)).map(dt.date.isoformat)
_num = st.one_of(st.integers(-1, 8), st.integers(-100, 80000).map(lambda c: c / 100))


def _leaves() -> st.SearchStrategy:
    date_value = st.one_of(_reldate, _iso)
    return st.one_of(
        st.builds(
            Compare, st.sampled_from(["orders", "revenue", "spent", "age", "r_score"]), st.sampled_from(OPS), _num
        ),
        st.builds(Compare, st.just("country"), st.sampled_from(OPS), st.sampled_from(COUNTRIES)),
        st.builds(Compare, st.just("email_marketing"), st.sampled_from(["=", "!="]), st.booleans()),
        st.builds(Compare, st.sampled_from(["last_order", "last_order_at"]), st.sampled_from(OPS), date_value),
        st.builds(Compare, st.just("rfm_segment"), st.sampled_from(["=", "!="]), st.sampled_from(RFM)),
        st.builds(Between, st.sampled_from(["orders", "revenue"]), _num, _num),
        st.builds(Between, st.just("last_order"), date_value, date_value),
        st.builds(In, st.just("country"), st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3).map(tuple)),
        st.builds(In, st.just("lifecycle"), st.lists(st.sampled_from(STAGES), min_size=1, max_size=2).map(tuple)),
        st.builds(Contains, st.just("country"), st.sampled_from(["E", "R", "ü", "", "x"])),
        st.builds(IsNull, st.sampled_from(["age", "country", "last_order", "rfm_segment"]), st.booleans()),
        _events(),
        _orders(),
        st.builds(
            Distance,
            st.sampled_from([52.52, 48.85]),
            st.sampled_from([13.4, 2.35]),
            st.sampled_from(["<", ">"]),
            st.sampled_from([10.0, 500.0, 1000.0]),
        ),
    )


def _events() -> st.SearchStrategy:
    filters = st.lists(
        st.one_of(
            st.tuples(st.just("type"), st.sampled_from(EVENT_TYPES)),
            st.tuples(st.just("category"), st.sampled_from(CATEGORIES)),
            st.tuples(st.just("value"), st.sampled_from([3, 12.5])),
        ),
        max_size=2,
        unique_by=lambda kv: kv[0],
    ).map(tuple)
    window = st.one_of(
        st.tuples(st.none(), st.none()),
        st.tuples(_reldate, st.none()),
        st.tuples(st.none(), st.tuples(_iso, _iso).map(sorted).map(tuple)),
    )
    agg = st.one_of(
        st.tuples(st.just("count"), st.none()),
        st.tuples(st.sampled_from(["sum", "avg", "min", "max"]), st.just("value")),
    )
    return st.builds(
        lambda f, w, a, op, v: Event("events", f, w[0], w[1], a[0], a[1], op, v),
        filters,
        window,
        agg,
        st.sampled_from(OPS),
        st.sampled_from([0, 1, 2, 3, 12.5]),
    )


def _orders() -> st.SearchStrategy:
    window = st.one_of(
        st.just((None, None)),
        st.tuples(_reldate, st.none()),
        st.tuples(st.none(), st.tuples(_iso, _iso).map(sorted).map(tuple)),
    )
    agg = st.one_of(
        st.just(("count", None)),
        st.tuples(st.sampled_from(["sum", "avg", "min", "max"]), st.sampled_from(["value", "units"])),
    )
    filters = st.sampled_from([(), (("channel", "web"),), (("channel", "app"),)])
    return st.builds(
        lambda f, w, a, op, v: Event("orders", f, w[0], w[1], a[0], a[1], op, v),
        filters,
        window,
        agg,
        st.sampled_from(OPS),
        st.sampled_from([0, 1, 2, 25.5, 60]),
    )


def rules(leaves: st.SearchStrategy | None = None) -> st.SearchStrategy:
    """Random rule trees; AND/OR have 0 or 2-3 items (the canonical forms)."""
    group = st.one_of(st.just(0), st.integers(2, 3))

    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        items = group.flatmap(lambda n: st.lists(children, min_size=n, max_size=n).map(tuple))
        return st.one_of(items.map(And), items.map(Or), children.map(Not))

    return st.recursive(leaves if leaves is not None else _leaves(), extend, max_leaves=6)


# -- data ---------------------------------------------------------------------------------
def _ts(days: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(AS_OF, dt.time(hour)) + dt.timedelta(days=days)


_customer = st.fixed_dictionaries(
    {
        "orders": st.one_of(st.none(), st.integers(0, 6)),
        "revenue": st.one_of(st.none(), st.integers(0, 80000).map(lambda c: c / 100)),
        "age": st.one_of(st.none(), st.integers(18, 80)),
        "country": st.one_of(st.none(), st.sampled_from(COUNTRIES)),
        "email_marketing": st.booleans(),
        "last_order_at": st.one_of(st.none(), st.builds(_ts, st.integers(-130, 2), st.integers(0, 23))),
        "rfm_segment": st.one_of(st.none(), st.sampled_from(RFM)),
        "r_score": st.one_of(st.none(), st.integers(1, 5)),
        "lifecycle_stage": st.one_of(st.none(), st.sampled_from(STAGES)),
        "lat": st.one_of(st.none(), st.sampled_from([52.5, 48.9, 51.5])),
        "lon": st.one_of(st.none(), st.sampled_from([13.4, 2.3, -0.1])),
    }
)
_props = st.fixed_dictionaries(
    {}, optional={"category": st.sampled_from(CATEGORIES), "value": st.sampled_from([3, 12.5, "7", "x"])}
)
_event = st.fixed_dictionaries(
    {
        "type": st.sampled_from(EVENT_TYPES),
        "occurred_at": st.builds(_ts, st.integers(-130, 3), st.integers(0, 23)),
        "properties": st.one_of(_props, _props, st.sampled_from(["{not json", "[1, 2]", "null"])),
    }
)
_order = st.fixed_dictionaries(
    {
        "ordered_at": st.builds(_ts, st.integers(-130, 3), st.integers(0, 23)),
        "quantity": st.integers(1, 3),
        "cents": st.integers(0, 5000),
        "channel": st.sampled_from([" Web", "app", "store", None]),
        "is_cancelled": st.sampled_from([False, False, True, None]),
    }
)
stores = st.lists(
    st.tuples(_customer, st.lists(_event, max_size=4), st.lists(_order, max_size=3)), min_size=1, max_size=5
)

_SCHEMAS = {
    "customer_features": {
        "customer_id": "string",
        "orders": "int64",
        "revenue": "float64",
        "age": "int64",
        "country": "string",
        "email_marketing": "boolean",
        "last_order_at": "timestamp",
    },
    "customer_rfm": {"customer_id": "string", "rfm_segment": "string", "r_score": "int64"},
    "customer_lifecycle": {"customer_id": "string", "stage": "string"},
    "customers": {"customer_id": "string", "lat": "float64", "lon": "float64"},
    "orders": dict(ibis_schema("orders").items()),
    "order_lines": dict(ibis_schema("order_lines").items()),
    "events": {
        "event_id": "string",
        "customer_id": "string",
        "type": "string",
        "occurred_at": "timestamp",
        "product_id": "string",
        "properties": "string",
    },
}


class MemoryEngine:
    """The two things compile.py needs of an engine, over an in-memory DuckDB."""

    dialect = "duckdb"

    def __init__(self) -> None:
        self.con = ibis.duckdb.connect()

    def table(self, name: str) -> ibis.Table:
        return self.con.table(name)

    def load(self, store: list[tuple[dict, list[dict], list[dict]]]) -> None:
        rows: dict[str, list[dict]] = {name: [] for name in _SCHEMAS}
        for i, (c, events, orders) in enumerate(store):
            for j, o in enumerate(orders):
                oid = f"c{i}-o{j}"
                rows["orders"].append(
                    {
                        "order_id": oid,
                        "customer_id": f"c{i}",
                        "ordered_at": o["ordered_at"],
                        "channel": o["channel"],
                        "is_cancelled": o["is_cancelled"],
                    }
                )
                rows["order_lines"].append(
                    {
                        "order_id": oid,
                        "line_number": 1,
                        "product_id": "p",
                        "quantity": o["quantity"],
                        "unit_price": o["cents"] / 100,
                    }
                )
            cid = f"c{i}"
            rows["customer_features"].append(
                {"customer_id": cid, **{k: c[k] for k in _SCHEMAS["customer_features"] if k in c}}
            )
            rows["customer_rfm"].append({"customer_id": cid, "rfm_segment": c["rfm_segment"], "r_score": c["r_score"]})
            rows["customer_lifecycle"].append({"customer_id": cid, "stage": c["lifecycle_stage"]})
            rows["customers"].append({"customer_id": cid, "lat": c["lat"], "lon": c["lon"]})
            for j, e in enumerate(events):
                rows["events"].append(
                    {
                        "event_id": f"{cid}-{j}",
                        "customer_id": cid,
                        "type": e["type"],
                        "occurred_at": e["occurred_at"],
                        "product_id": None,
                        "properties": _text(e["properties"]),
                    }
                )
        rows["events"].append(
            {
                "event_id": "anon",
                "customer_id": None,
                "type": "purchase",
                "occurred_at": _ts(0, 1),
                "product_id": None,
                "properties": "{}",
            }
        )
        for name, schema in _SCHEMAS.items():
            df = pd.DataFrame(rows[name], columns=list(schema)).reindex(columns=list(schema))
            self.con.create_table(name, ibis.memtable(df, schema=ibis.schema(schema)), overwrite=True)


def _text(props: dict | str) -> str:
    return props if isinstance(props, str) else json.dumps(props)


@pytest.fixture(scope="module")
def memory_engine() -> MemoryEngine:
    return MemoryEngine()


def _purchase_orders(orders: list[dict]) -> list[dict]:
    """The purchase orders the features (and compile.py) see: not cancelled; value = quantity x price."""
    return [
        {
            "ordered_at": o["ordered_at"],
            "value": o["quantity"] * o["cents"] / 100,
            "units": o["quantity"],
            "channel": o["channel"].strip().lower() if o["channel"] is not None else None,
        }
        for o in orders
        if not o["is_cancelled"] and o["ordered_at"] < _ts(1, 0)
    ]


def _python_members(seg: Segment, store: list[tuple[dict, list[dict], list[dict]]]) -> list[bool]:
    return [
        evaluate_segment(seg, c, events, as_of=AS_OF, orders=_purchase_orders(orders)) for c, events, orders in store
    ]


def _sql_members(engine: MemoryEngine, seg: Segment) -> list[bool]:
    df = segment_frame(engine, seg, as_of=AS_OF).to_pandas()
    member = dict(zip(df["customer_id"], df["member"], strict=True))
    return [bool(member[f"c{i}"]) for i in range(len(member))]


_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(store=stores, rule=rules())
def test_compiled_duckdb_membership_equals_python_evaluation(memory_engine, store, rule):
    memory_engine.load(store)
    seg = Segment(rule)
    assert _sql_members(memory_engine, seg) == _python_members(seg, store)


@settings(max_examples=100, deadline=None)
@given(store=stores, a=rules(), b=rules())
def test_rule_algebra_holds_on_data(store, a, b):
    """Unomi identities: and([]) true, or([]) false, not not x == x, De Morgan."""

    def members(node):
        return _python_members(Segment(node), store)

    everyone = [True] * len(store)
    assert members(And(())) == everyone
    assert members(Or(())) == [False] * len(store)
    assert members(Not(Not(a))) == members(a)
    assert members(Not(And((a, b)))) == members(Or((Not(a), Not(b))))
    assert members(Not(Or((a, b)))) == members(And((Not(a), Not(b))))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(store=stores, a=rules(), b=rules())
def test_de_morgan_holds_in_sql(memory_engine, store, a, b):
    memory_engine.load(store)
    left = _sql_members(memory_engine, Segment(Not(And((a, b)))))
    assert left == _sql_members(memory_engine, Segment(Or((Not(a), Not(b)))))
    assert _sql_members(memory_engine, Segment(Not(Not(a)))) == _sql_members(memory_engine, Segment(a))
