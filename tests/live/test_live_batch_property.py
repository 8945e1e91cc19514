"""Live = batch over the WHOLE field registry (issue 17).

On one real workspace with every kind of field built (features, RFM, lifecycle, interests, predictions, clusters,
custom attributes), rules are drawn by hypothesis over every field :class:`~shopseg.segments.definitions.SegmentStore`
offers, with values the data really holds; the live evaluator (profiles read as ``shopseg serve`` reads them) and
the compiled batch query (DuckDB) must select the same customers. A sweep over every field makes sure none is
left out, whatever hypothesis draws; before clusters were registry fields, ``cluster`` rules were refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopseg.datasets import generate_store
from shopseg.datasets.write import write_store
from shopseg.engine import get_engine
from shopseg.features import build_features
from shopseg.interests import build_interests
from shopseg.io.attributes import refresh_attributes
from shopseg.live import storage
from shopseg.live.evaluator import LiveEvaluator
from shopseg.models.cluster.workspace import cluster_workspace
from shopseg.predict import predict_workspace
from shopseg.rules.fields import Field
from shopseg.rules.nodes import And, Between, Compare, Contains, In, IsNull, Not, Or, RelDate, Segment
from shopseg.segments.definitions import SegmentStore
from shopseg.segments.lifecycle import build_lifecycle
from shopseg.segments.query import SegmentQuery
from shopseg.segments.rfm_map import build_rfm
from shopseg.workspace import Workspace

#: Every kind of table the registry draws fields from; the test fails if one is missing (it would cover less).
KINDS = {
    "customer_features",
    "customer_rfm",
    "customer_lifecycle",
    "customer_interests",
    "customer_predictions",
    "customer_clusters",
    "customer_attributes",
}
OPS = ["=", "!=", "<", "<=", ">", ">="]


class World:
    """The workspace, its registry, the batch store and the live profiles, built once."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.store = SegmentStore(ws)
        self.fields = self.store.fields
        self.engine = get_engine(ws, "duckdb")
        self.day = dt.date.fromisoformat(str(ws.meta("features_as_of")))
        self.profiles = list(storage.load_profiles(ws, None, self.fields).values())
        self.values = {f.name: self._values(f) for f in self.fields if f.available}

    def _values(self, f: Field) -> list[Any]:
        rows = self.ws.con.execute(
            f'SELECT DISTINCT "{f.column}" FROM "{f.table}" WHERE "{f.column}" IS NOT NULL ORDER BY 1 LIMIT 12'
        ).fetchall()
        if f.type == "timestamp":
            return [r[0].date().isoformat() for r in rows]
        return [r[0].item() if hasattr(r[0], "item") else r[0] for r in rows]

    def batch(self, rule: Any) -> set[str]:
        return set(SegmentQuery(self.store, self.engine).member_ids(Segment(rule), self.day))

    def live(self, rule: Any) -> set[str]:
        evaluator = LiveEvaluator({"rule": Segment(rule)}, self.fields)
        evaluator.load(self.profiles, self.day)
        return set(evaluator.members["rule"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("live-batch") / "ws.duckdb"
    ws = Workspace.init(path)
    write_store(ws, generate_store(400, seed=9, end_date="2025-06-30"))
    build_features(ws)
    build_rfm(ws)
    build_lifecycle(ws)
    build_interests(ws)
    predict_workspace(ws, "duckdb", n_bootstrap=0)
    cluster_workspace(ws, 3, random_state=0)
    ws.con.execute("""UPDATE customers SET attributes = CASE WHEN hash(customer_id) % 3 = 0
                      THEN '{"tier": "gold", "points": 700, "vip": true}'
                      ELSE '{"tier": "silver", "points": 120, "vip": false}' END""")
    refresh_attributes(ws.con)
    yield World(ws)
    ws.close()


def _leaf(world: World, name: str) -> st.SearchStrategy[Any]:
    f = world.fields.resolve(name)
    values = world.values[name]
    present = st.sampled_from(values) if values else st.none()
    options: list[st.SearchStrategy[Any]] = [st.builds(IsNull, st.just(name), st.booleans())]
    if not values:
        return st.one_of(options)
    if f.type == "boolean":
        options.append(st.builds(Compare, st.just(name), st.sampled_from(["=", "!="]), st.booleans()))
    elif f.type == "string":
        options += [
            st.builds(Compare, st.just(name), st.sampled_from(["=", "!="]), present),
            st.builds(In, st.just(name), st.lists(present, min_size=1, max_size=3).map(tuple)),
            st.builds(Contains, st.just(name), present.map(lambda v: str(v)[1:3])),
        ]
    elif f.type == "timestamp":
        date = st.one_of(present, st.builds(RelDate, st.integers(-400, -1), st.just("d")))
        options += [
            st.builds(Compare, st.just(name), st.sampled_from(OPS), date),
            st.builds(Between, st.just(name), date, date),
        ]
    else:
        options += [
            st.builds(Compare, st.just(name), st.sampled_from(OPS), present),
            st.builds(Between, st.just(name), present, present),
            st.builds(In, st.just(name), st.lists(present, min_size=1, max_size=3).map(tuple)),
        ]
    return st.one_of(options)


def _rules(world: World) -> st.SearchStrategy[Any]:
    leaves = st.sampled_from(sorted(world.values)).flatmap(lambda name: _leaf(world, name))

    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        pair = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(pair.map(And), pair.map(Or), children.map(Not))

    return st.recursive(leaves, extend, max_leaves=4)


def test_the_registry_offers_every_kind_of_field(world: World) -> None:
    tables = {f.table for f in world.fields if f.available}
    assert KINDS <= tables, KINDS - tables
    assert {"cluster", "cluster_name", "attr_tier", "attr_points", "churn_risk", "lifecycle_stage"} <= set(world.values)


def test_every_registry_field_selects_the_same_customers_live_and_in_batch(world: World) -> None:
    for name, values in sorted(world.values.items()):
        rules = [IsNull(name, True)]
        if values:
            f = world.fields.resolve(name)
            pick = values[len(values) // 2]
            rules.append(Compare(name, "=" if f.type in ("string", "boolean") else ">=", pick))
        for rule in rules:
            assert world.live(rule) == world.batch(rule), (name, rule)


def test_random_rules_over_the_whole_registry_live_equals_batch(world: World) -> None:
    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(rule=_rules(world))
    def check(rule: Any) -> None:
        assert world.live(rule) == world.batch(rule), rule

    check()
