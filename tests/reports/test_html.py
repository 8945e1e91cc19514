from __future__ import annotations

import re

import pytest

from shopseg.reports import summarize_store, write_report
from tests.reports.tiny_orders import seed_orders


def test_kpis_count_only_purchases(workspace):
    """Hand-computed: revenue = 20 + 5.5 - 0.5 + 10 + 12 = 47 (cancelled o4 and the return line excluded)."""
    seed_orders(workspace)
    k = summarize_store(workspace).kpis
    assert k["orders"] == 3
    assert k["buyers"] == 2
    assert abs(k["revenue"] - 47.0) < 1e-9
    assert k["first_order"] == "2024-01-05" and k["last_order"] == "2024-02-03"


def test_report_is_self_contained(workspace, tmp_path):
    seed_orders(workspace)
    path = write_report(workspace, tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    assert '<div class="label">Gross sales (before returns)</div><div class="value">47</div>' in text
    assert '<div class="label">Net revenue</div><div class="value">43</div>' in text  # o3's return line of 4
    # plotly.js is inlined, nothing is loaded from the network
    assert "Plotly" in text and len(text) > 1_000_000
    assert not re.search(r'<script[^>]+src=["\']https?:', text)


def test_report_adds_saved_segments_predictions_clusters_and_regions(tmp_path):
    """A demo store with every table built: each extended section is in the file, with its chart."""
    from tests.web.conftest import build_demo_store

    store = build_demo_store(tmp_path, customers=300)
    from shopseg.workspace import Workspace

    with Workspace.open(store.path, read_only=True) as ws:
        text = write_report(ws, tmp_path / "full.html").read_text(encoding="utf-8")
    for section in ("saved-segments", "predictions", "clusters", "regions"):
        assert f'<section id="{section}">' in text, section
    assert "loyal" in text and "Revenue index" in text and "total CLV" in text
    assert not re.search(r'<script[^>]+src=["\']https?:', text)


def test_predictions_of_a_tiny_store_carry_their_flag_into_the_report(workspace, tmp_path):
    """Two buyers: `predict run` falls back and says so; the report repeats it beside the figures."""
    from shopseg.features import build_features
    from shopseg.predict import predict_workspace

    seed_orders(workspace)
    build_features(workspace)
    out = predict_workspace(workspace, n_bootstrap=2)
    assert out.attrs["uncertainty"] == "fallback" and "only 2 customers" in out.attrs["fallback"]
    text = write_report(workspace, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "flagged, read with care: " in text
    assert "only 2 customers; expected at least min_customers=30" in text


def test_a_refreshed_segment_with_no_member_has_a_size_of_zero(tmp_path):
    """The report's saved-segments table reads the recorded refreshes: 0 members on its day, not '-'."""
    from shopseg.datasets import generate_store, write_store
    from shopseg.engine import get_engine
    from shopseg.features import build_features
    from shopseg.reports.aggregates import saved_segment_sizes
    from shopseg.segments.definitions import SegmentStore
    from shopseg.workspace import Workspace

    with Workspace.init(tmp_path / "s.duckdb") as ws:
        write_store(ws, generate_store(300, seed=2))
        build_features(ws)
        store = SegmentStore(ws)
        store.create("nobody", "orders >= 10000")
        store.create("buyers", "orders >= 1")
        store.refresh(get_engine(ws, "duckdb"))
        sizes = saved_segment_sizes(ws).set_index("name")
        as_of = ws.meta("features_as_of")
    assert (sizes.loc["nobody", "size"], sizes.loc["nobody", "as_of"], sizes.loc["nobody", "revenue_share"]) == (
        0,
        as_of,
        0.0,
    )
    assert sizes.loc["buyers", "size"] > 0 and sizes.loc["buyers", "revenue_share"] == pytest.approx(1.0)
