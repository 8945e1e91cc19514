"""Lifecycle stages: hand-built histories for every stage, thresholds from a known gap distribution, overrides."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopseg.engine import get_engine
from shopseg.errors import InvalidParameterError, SchemaError
from shopseg.segments.lifecycle import (
    LIFECYCLE_STAGES,
    LIFECYCLE_TABLE,
    build_lifecycle,
    lifecycle_stages,
    lifecycle_thresholds,
    stage_counts,
)
from shopseg.workspace import Workspace
from tests.segments.segment_store import write_store

# As of 2024-12-31 with new_days=10, active_days=30, lapsed_days=60. Each customer's
# stage follows from the rules in docs/lifecycle.md, first match wins:
HISTORIES = {
    "new1": ["2024-12-26 10:00"],  # first purchase 5 days ago <= 10 -> new
    "new2": ["2024-12-22 09:00", "2024-12-28 09:00"],  # two days, first 9 days ago -> still new
    "act": ["2024-12-11 12:00"],  # one purchase 20 days ago: 20 > new, <= active -> active
    "act30": ["2024-12-01 12:00"],  # exactly 30 days: <= active -> active (boundary)
    "rep": ["2024-11-01 08:00", "2024-12-01 08:00", "2024-12-21 08:00"],  # 10 days ago, gap 20 -> repeat
    "rep60": ["2024-10-22 08:00", "2024-12-21 08:00"],  # came back after exactly 60 days: not > 60 -> repeat
    "react": ["2024-06-01 08:00", "2024-12-20 08:00"],  # came back after 202 days > 60 -> reactivated
    "ing": ["2024-10-01 08:00", "2024-11-16 08:00"],  # last 45 days ago: > 30, <= 60 -> lapsing
    "ing31": ["2024-11-30 23:59"],  # 31 days ago -> lapsing (boundary)
    "sed": ["2024-09-01 08:00"],  # 121 days ago > 60 -> lapsed
    "sed61": ["2024-10-01 08:00", "2024-10-31 07:00", "2024-10-31 18:00"],  # two orders one day, 61 days -> lapsed
    "late": ["2024-12-31 23:59"],  # last instant of the as-of day -> new (0 days)
    "after": ["2025-01-01 00:00"],  # after the as-of date: not seen yet -> prospect (known customer)
}
PROSPECTS = ["pro"]
EXPECTED = {
    "new1": "new",
    "new2": "new",
    "act": "active",
    "act30": "active",
    "rep": "repeat",
    "rep60": "repeat",
    "react": "reactivated",
    "ing": "lapsing",
    "ing31": "lapsing",
    "sed": "lapsed",
    "sed61": "lapsed",
    "late": "new",
    "after": "prospect",
    "pro": "prospect",
}
FIXED = {"new_days": 10, "active_days": 30, "lapsed_days": 60}


@pytest.fixture
def histories(store):
    return store(HISTORIES, PROSPECTS)


def _stages(ws, **kwargs) -> dict[str, str]:
    engine = get_engine(ws, "duckdb")
    df = engine.execute(lifecycle_stages(engine, as_of="2024-12-31", **kwargs))
    return dict(zip(df["customer_id"], df["stage"]))


def test_every_stage_from_hand_built_histories(histories):
    assert _stages(histories, **FIXED) == EXPECTED
    assert set(EXPECTED.values()) == set(LIFECYCLE_STAGES)


def test_overrides_take_effect(histories):
    # a wider active window turns the 45-day lapsing customer back into a repeat buyer
    stages = _stages(histories, **{**FIXED, "active_days": 50})
    assert stages["ing"] == "repeat" and stages["ing31"] == "active"
    # a shorter lapsed threshold makes the 60-day gap a reactivation, and 45 days lapsed
    stages = _stages(histories, **{**FIXED, "lapsed_days": 40})
    assert stages["rep60"] == "reactivated" and stages["ing"] == "lapsed"
    # new_days=0: only first purchases made on the as-of day are new
    stages = _stages(histories, **{**FIXED, "new_days": 0})
    assert stages["late"] == "new" and stages["new1"] == "active" and stages["new2"] == "repeat"


def test_stage_columns_and_previous_gap(histories):
    engine = get_engine(histories, "duckdb")
    df = engine.execute(lifecycle_stages(engine, as_of="2024-12-31", **FIXED)).set_index("customer_id")
    assert list(df.columns) == [
        "first_purchase_day",
        "last_purchase_day",
        "purchase_days",
        "days_since_first_purchase",
        "days_since_last_purchase",
        "previous_gap_days",
        "stage",
    ]
    assert df.loc["react", "previous_gap_days"] == 202
    assert df.loc["sed61", "purchase_days"] == 2 and df.loc["sed61", "previous_gap_days"] == 30
    assert pd.isna(df.loc["act", "previous_gap_days"]) and df.loc["pro", "purchase_days"] == 0


def _gap_store(store):
    # customer k buys on days whose gaps are 1, 2, ..., 10; s buys once; d buys twice on one day.
    start = dt.date(2024, 1, 1)
    days, day = [start], start
    for gap in range(1, 11):
        day = day + dt.timedelta(days=gap)
        days.append(day)
    return store(
        {
            "k": [f"{d} 12:00" for d in days],
            "s": ["2024-01-20 08:00"],
            "d": ["2024-02-01 08:00", "2024-02-01 20:00"],
        }
    )


def test_thresholds_are_nearest_rank_percentiles_of_the_gaps(store):
    ws = _gap_store(store)
    th = lifecycle_thresholds(get_engine(ws, "duckdb"))
    # 10 gaps 1..10: p50 is the 5th smallest (5), p90 the 9th (9); lapsed = 2 x 9
    assert (th.new_days, th.active_days, th.lapsed_days, th.n_gaps) == (5, 9, 18, 10)
    assert th.as_of == dt.date(2024, 2, 25)  # k's last purchase, the latest order
    assert th.derivation == {
        "new_days": "p50 of 10 gaps between purchase days",
        "active_days": "p90 of 10 gaps between purchase days",
        "lapsed_days": "2 x active_days",
    }
    th = lifecycle_thresholds(get_engine(ws, "duckdb"), active_pct=1.0, new_pct=0.1, lapsed_multiple=3)
    assert (th.new_days, th.active_days, th.lapsed_days) == (1, 10, 30)


def test_given_thresholds_replace_the_derivation(store):
    ws = _gap_store(store)
    th = lifecycle_thresholds(get_engine(ws, "duckdb"), active_days=20)
    assert (th.new_days, th.active_days, th.lapsed_days) == (5, 20, 40)
    assert th.derivation["active_days"] == "given" and th.derivation["lapsed_days"] == "2 x active_days"
    frame = th.to_frame()
    assert frame["days"].tolist() == [5, 20, 40] and frame["derivation"].iloc[1] == "given"


def test_no_repeat_purchase_needs_explicit_thresholds(store):
    ws = store({"a": ["2024-01-01 10:00"], "b": ["2024-01-05 10:00", "2024-01-05 11:00"]})
    engine = get_engine(ws, "duckdb")
    with pytest.raises(SchemaError) as err:  # every underivable threshold at once (issue 16)
        lifecycle_thresholds(engine)
    assert str(err.value) == (
        "lifecycle: cannot derive 'new_days', 'active_days' and 'lapsed_days': no customer has two purchase days on "
        "or before 2024-01-05. Expected at least one repeat purchase; got 0. Hint: pass --new-days N --active-days N "
        "--lapsed-days N, or --default-thresholds for the documented defaults (new 30 days, active 90 days, lapsed "
        "180 days), flagged as defaults."
    )
    with pytest.raises(
        SchemaError,
        match=r"^lifecycle: cannot derive 'active_days' and 'lapsed_days': .* pass "
        r"--active-days N --lapsed-days N, or",
    ):
        lifecycle_thresholds(engine, new_days=7)
    th = lifecycle_thresholds(engine, new_days=1, active_days=2)
    assert (th.active_days, th.lapsed_days, th.n_gaps) == (2, 4, 0)
    th = lifecycle_thresholds(engine, new_days=10, fallback=True)
    assert (th.new_days, th.active_days, th.lapsed_days) == (10, 90, 180)
    assert th.derivation == {
        "new_days": "given",
        "active_days": "default: no repeat purchase to derive it from",
        "lapsed_days": "default: no repeat purchase to derive it from",
    }


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"active_days": 30, "lapsed_days": 30}, "'lapsed_days' must be greater than 'active_days'"),
        ({"active_days": -1}, "The 'active_days' parameter must be an int >= 0"),
        ({"new_days": 2.5}, "The 'new_days' parameter must be an int >= 0"),
        ({"active_pct": 0}, r"The 'active_pct' parameter must be a float in the range \(0, 1\]"),
    ],
)
def test_bad_thresholds_rejected(histories, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        lifecycle_thresholds(get_engine(histories, "duckdb"), **kwargs)


def test_thresholds_and_overrides_are_exclusive(histories):
    engine = get_engine(histories, "duckdb")
    th = lifecycle_thresholds(engine, "2024-12-31", **FIXED)
    with pytest.raises(InvalidParameterError, match="either 'thresholds' or"):
        lifecycle_stages(engine, th, active_days=3)


def test_build_lifecycle_stores_table_and_thresholds(histories):
    df = build_lifecycle(histories, as_of="2024-12-31", **FIXED)
    assert dict(zip(df["customer_id"], df["stage"])) == EXPECTED
    assert df["customer_id"].tolist() == sorted(EXPECTED)
    assert histories.has_table(LIFECYCLE_TABLE)
    stored = histories.con.execute(f"SELECT customer_id, stage FROM {LIFECYCLE_TABLE} ORDER BY 1").fetchall()
    assert dict(stored) == EXPECTED
    meta = json.loads(histories.meta("lifecycle_thresholds"))
    assert (meta["as_of"], meta["active_days"], meta["derivation"]["active_days"]) == ("2024-12-31", 30, "given")
    counts = stage_counts(df)
    assert counts["stage"].tolist() == list(LIFECYCLE_STAGES)
    assert dict(zip(counts["stage"], counts["customers"])) == {
        "new": 3,
        "active": 2,
        "repeat": 2,
        "reactivated": 1,
        "lapsing": 2,
        "lapsed": 2,
        "prospect": 2,
    }


def reference_stage(days: list[dt.date], as_of: dt.date, new: int, active: int, lapsed: int) -> str:
    """Slow, obviously-correct oracle of the stage rules in docs/lifecycle.md."""
    seen = sorted({d for d in days if d <= as_of})
    if not seen:
        return "prospect"
    since_last, since_first = (as_of - seen[-1]).days, (as_of - seen[0]).days
    previous_gap = (seen[-1] - seen[-2]).days if len(seen) > 1 else None
    if since_last > lapsed:
        return "lapsed"
    if since_last > active:
        return "lapsing"
    if previous_gap is not None and previous_gap > lapsed:
        return "reactivated"
    if since_first <= new:
        return "new"
    return "repeat" if len(seen) > 1 else "active"


histories_strategy = st.dictionaries(
    keys=st.sampled_from([f"c{i}" for i in range(12)]),
    values=st.lists(st.integers(0, 120), min_size=0, max_size=6),  # purchase days after 2024-01-01
    min_size=1,
    max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories_strategy, st.integers(0, 20), st.integers(1, 40), st.integers(1, 60), st.integers(60, 130))
def test_stages_match_reference_oracle(tmp_path_factory, histories, new, active, extra, as_of_day):
    start = dt.date(2024, 1, 1)
    as_of = start + dt.timedelta(days=as_of_day)
    purchases = {c: [f"{start + dt.timedelta(days=d)} 10:00" for d in ds] for c, ds in histories.items() if ds}
    prospects = [c for c, ds in histories.items() if not ds]
    with Workspace.init(tmp_path_factory.mktemp("oracle") / "ws.duckdb") as ws:
        write_store(ws, purchases, prospects)
        if not purchases:
            return
        engine = get_engine(ws, "duckdb")
        got = _stages_as_of(engine, as_of, new, active, active + extra)
    expected = {
        c: reference_stage([start + dt.timedelta(days=d) for d in ds], as_of, new, active, active + extra)
        for c, ds in histories.items()
    }
    assert got == expected


def _stages_as_of(engine, as_of: dt.date, new: int, active: int, lapsed: int) -> dict[str, str]:
    expr = lifecycle_stages(engine, as_of=as_of, new_days=new, active_days=active, lapsed_days=lapsed)
    df = engine.execute(expr)
    return dict(zip(df["customer_id"], df["stage"]))


def test_stored_without_a_frame_is_the_same_table(histories):
    """return_frame=False (what `shopseg lifecycle` uses): computed and stored inside DuckDB, the same rows and
    column types as the pandas path, and the stage counts returned."""
    build_lifecycle(histories, as_of="2024-12-31", **FIXED)
    by_pandas = histories.con.execute(f"SELECT * FROM {LIFECYCLE_TABLE} ORDER BY customer_id").df()
    types = histories.con.execute(f"DESCRIBE {LIFECYCLE_TABLE}").fetchall()
    counts = build_lifecycle(histories, as_of="2024-12-31", return_frame=False, **FIXED)
    pd.testing.assert_frame_equal(
        histories.con.execute(f"SELECT * FROM {LIFECYCLE_TABLE} ORDER BY customer_id").df(), by_pandas
    )
    assert histories.con.execute(f"DESCRIBE {LIFECYCLE_TABLE}").fetchall() == types
    pd.testing.assert_frame_equal(counts, stage_counts(by_pandas))
    assert counts.attrs["thresholds"].active_days == 30
