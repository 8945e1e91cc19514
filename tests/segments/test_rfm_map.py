"""The named RFM map: exhaustive over the 5x5x5 grid, known cells, Ibis map == Python map."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import ibis
import pandas as pd
import pytest

from shopseg.errors import InvalidParameterError
from shopseg.segments.rfm_map import RFM_CELLS, RFM_SEGMENTS, rfm_segment_table, segment_expr, segment_of_cell

ROOT = Path(__file__).resolve().parents[2]
GRID = list(itertools.product(range(1, 6), repeat=3))


def test_map_covers_every_cell_exactly_once():
    cells = [c for codes in RFM_CELLS.values() for c in codes]
    assert len(cells) == 125 == len(set(cells))
    assert set(cells) == {f"{r}{f}{m}" for r, f, m in GRID}


def test_all_eleven_segments_are_reachable():
    assert RFM_SEGMENTS == (
        "Champions",
        "Loyal",
        "Potential loyalist",
        "New",
        "Promising",
        "Need attention",
        "About to sleep",
        "At risk",
        "Cannot lose them",
        "Hibernating",
        "Lost",
    )
    assert {segment_of_cell(*cell) for cell in GRID} == set(RFM_SEGMENTS)


@pytest.mark.parametrize(
    "cell, segment",
    [
        ("555", "Champions"),
        ("445", "Champions"),
        ("444", "Loyal"),
        ("355", "Loyal"),
        ("551", "Potential loyalist"),
        ("511", "New"),
        ("311", "New"),
        ("515", "Promising"),
        ("535", "Need attention"),
        ("331", "About to sleep"),
        ("255", "At risk"),
        ("155", "Cannot lose them"),
        ("115", "Cannot lose them"),
        ("222", "Hibernating"),
        ("111", "Lost"),
        ("151", "Lost"),
    ],
)
def test_known_cells(cell, segment):
    assert segment_of_cell(*map(int, cell)) == segment


def test_ibis_map_equals_python_map_on_every_cell():
    grid = pd.DataFrame(GRID, columns=["r_score", "f_score", "m_score"])
    t = ibis.memtable(grid)
    out = t.mutate(seg=segment_expr(t, 5)).to_pandas()
    expected = [segment_of_cell(r, f, m) for r, f, m in out[["r_score", "f_score", "m_score"]].itertuples(index=False)]
    assert out["seg"].tolist() == expected


@pytest.mark.parametrize("bins", [2, 3, 4, 7, 9])
def test_other_bins_map_onto_the_five_point_scale(bins):
    grid = pd.DataFrame(itertools.product(range(1, bins + 1), repeat=3), columns=["r_score", "f_score", "m_score"])
    t = ibis.memtable(grid)
    out = t.mutate(seg=segment_expr(t, bins)).to_pandas()
    expected = [
        segment_of_cell(*cell, bins=bins) for cell in out[["r_score", "f_score", "m_score"]].itertuples(index=False)
    ]
    assert out["seg"].tolist() == expected
    assert segment_of_cell(bins, bins, bins, bins=bins) == "Champions"
    assert segment_of_cell(1, 1, 1, bins=bins) == "Lost"


def test_score_out_of_range_rejected():
    with pytest.raises(InvalidParameterError, match=r"The 'f' score must be in \[1, 5\]. Got 6"):
        segment_of_cell(5, 6, 5)


def test_docs_table_matches_the_map():
    """docs/rfm.md lists every segment's codes; keep it in sync with RFM_CELLS."""
    text = (ROOT / "docs" / "rfm.md").read_text(encoding="utf-8")
    for name, codes in RFM_CELLS.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| {name} |")), None)
        assert row is not None, f"docs/rfm.md has no row for {name}"
        assert sorted(re.findall(r"\b[1-5]{3}\b", row)) == sorted(codes), name


def test_segment_table_pandas_and_ibis_agree():
    df = pd.DataFrame(
        {
            "rfm_segment": ["Lost", "Lost", "Champions", "No purchase"],
            "revenue": [10.0, 30.0, 60.0, 0.0],
            "days_since_last_order": [300, 200, 2, None],
            "orders": [1, 1, 9, 0],
        }
    )
    from_pandas = rfm_segment_table(df)
    from_ibis = rfm_segment_table(ibis.memtable(df))
    pd.testing.assert_frame_equal(from_pandas, from_ibis)
    assert from_pandas["segment"].tolist() == [*RFM_SEGMENTS, "No purchase"]
    lost = from_pandas.set_index("segment").loc["Lost"]
    assert (lost["customers"], lost["share"], lost["revenue_share"]) == (2, 0.5, 0.4)
    assert (lost["recency_days"], lost["orders"], lost["monetary"]) == (250.0, 1.0, 20.0)
    assert from_pandas["customers"].sum() == 4 and from_pandas["share"].sum() == pytest.approx(1.0)
