"""The analyst's review of the report: every money figure says whether it is net of returns or gross, the
headlines compare net with net, partial months are marked, tables label and sort what they hold.

Figures are hand-computed on :func:`tests.reports.tiny_orders.seed_returns` (gross sales 400, net revenue 130).
"""

from __future__ import annotations

import re
from html import unescape

import pandas as pd
import pytest

from shopseg.reports import render_report, summarize_store
from shopseg.reports._format import change
from shopseg.reports.executive import Headline, executive_summary
from shopseg.reports.html import _executive_view
from shopseg.reports.sections import build_sections
from tests.reports.tiny_orders import seed_orders, seed_returns


def _text(html: str) -> str:
    body = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def _report(ws, period_days: int = 30) -> str:
    summary = summarize_store(ws, extended=False)
    return render_report(summary, executive=executive_summary(ws, period_days=period_days))


def test_all_time_kpis_are_net_and_gross_and_net_equals_the_features(workspace):
    from shopseg.features import build_features

    seed_returns(workspace)
    k = summarize_store(workspace, extended=False).kpis
    assert (k["gross_revenue"], k["net_revenue"], k["returns"]) == (400.0, 130.0, 270.0)
    feats = build_features(workspace)
    assert (
        k["net_revenue"] == pytest.approx(feats["revenue"].sum()) and k["gross_revenue"] == feats["gross_revenue"].sum()
    )
    text = _text(_report(workspace))
    assert "Net revenue 130 " in text and "Gross sales (before returns) 400 " in text


def test_headlines_compare_net_with_net(workspace):
    seed_returns(workspace)
    e = executive_summary(workspace, period_days=30)
    heads = {h.key: h for h in e.headlines}
    assert (heads["net_revenue"].value, heads["net_revenue"].previous) == (50.0, 110.0)
    assert (heads["gross_sales"].value, heads["gross_sales"].previous) == (250.0, 140.0)
    assert heads["net_revenue"].label == "Net revenue" and heads["avg_order_value"].label.endswith("(before returns)")
    html = _report(workspace)
    assert 'data-key="net_revenue"><div class="label">Net revenue</div><div class="value">50</div>' in html
    assert "▼ 54.5% vs 110" in html  # 50 against 110, not gross 250 against 140 (▲ 78.6%)


def test_revenue_at_risk_is_net_and_clv_is_not_called_the_revenue_that_leaves(workspace):
    seed_returns(workspace)
    workspace.con.execute(
        """CREATE TABLE customer_predictions AS SELECT * FROM (VALUES ('a', 0.1, 80.0), ('b', 0.9, 12.5),
           ('c', 0.95, 7.5), ('d', 0.2, 1.0)) t(customer_id, churn_probability, clv)"""
    )
    risk = executive_summary(workspace, period_days=30).at_risk
    assert risk is not None
    # b's 200 was cancelled by a credit note, c's 40 returned: nothing net, 240 gross
    assert (risk["net_revenue_last_12_months"], risk["gross_sales_last_12_months"]) == (0.0, 240.0)
    assert risk["customers"] == 2 and risk["predicted_clv"] == 20.0
    text = _text(_report(workspace))
    assert "Revenue at risk 0 last 12 months' net revenue of 2 likely churners" in text
    assert "their predicted value over the next 365 days is 20" in text.lower()
    assert "revenue that leaves" not in text and "lifetime value is" not in text


def test_a_partial_last_month_is_labelled_with_its_days(workspace):
    from shopseg.reports.figures import monthly_chart

    seed_returns(workspace)
    monthly = summarize_store(workspace, extended=False).sections.get("monthly")
    assert monthly is None  # the section needs the features; the frame itself:
    from shopseg.reports.summary import monthly_revenue

    m = monthly_revenue(workspace)
    assert m["days"].tolist() == [31, 29, 20] and m["partial"].tolist() == [False, False, True]
    bar = monthly_chart(m, "GBP").data[0]
    assert list(bar.x) == ["Jan 2024", "Feb 2024", "Mar 2024 (20 days)"]
    assert list(bar.marker.pattern.shape) == ["", "", "/"]
    sections = build_sections({"monthly": m}, "GBP", {})
    assert sections[0].title == "Sales by month (before returns)"
    assert "Mar 2024 has 20 days of data" in sections[0].note


def test_first_time_buyers_zero_against_zero_reads_no_change():
    """CDNOW: every customer's first purchase is in its first quarter, so both periods have 0 new buyers."""
    h = Headline("new_buyers", "First-time buyers", 0, 0, "count")
    assert h.change == 0.0 and change(h.change) == "no change"
    assert Headline("x", "x", 5, 0, "count").change is None  # still "new" when only the earlier one is 0


def test_the_report_says_first_time_buyers_no_change(workspace):
    seed_returns(workspace)
    e = executive_summary(workspace, period_days=30)
    e.headlines = [Headline("new_buyers", "First-time buyers", 0, 0, "count")]
    card = _executive_view(e)["cards"][0]
    assert (card["change"], card["direction"]) == ("no change", "flat")


def test_regions_table_sorted_by_gross_sales_with_total_orders():
    top = pd.DataFrame(
        {
            "segment": ["Champions", "Lost", "Loyal"],
            "region": ["North", "South", "North"],
            "category": ["Toys", "Toys", "Books"],
            "revenue": [500.0, 90.0, 700.0],
            "orders": [40, 3, 12],
            "buyers": [4, 3, 2],
            "aov": [12.5, 30.0, 58.33],
            "repeat_rate": [1.0, 0.0, 1.0],
            "clv": [None, None, None],
            "revenue_index": [0.9, 1.2, 1.1],
        }
    )
    cells = top.groupby(["region", "category"], as_index=False)[["revenue", "revenue_index"]].sum()
    section = build_sections({"region_category": cells, "region_top": top}, "EUR", {})[0]
    assert section.table is not None
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", section.table)
    assert "Orders" in heads and "Gross sales" in heads and "Mean orders per customer" not in heads
    rows = re.findall(r"<tr><td[^>]*>([^<]+)</td>", section.table)
    assert rows == ["Loyal", "Champions", "Lost"]  # most gross sales first, as the caption says
    assert section.charts and "most gross sales" in section.note


def test_regions_without_regions_or_categories_say_so_instead_of_a_one_cell_map(workspace):
    seed_orders(workspace)
    from shopseg.reports.regions import Breakdown, region_performance_many

    cells, top = region_performance_many(
        workspace,
        [Breakdown(("region", "category")), Breakdown(("segment", "region", "category"), limit=20)],
        period="all",
    )
    section = build_sections({"region_category": cells, "region_top": top}, None, {})[0]
    assert not section.charts
    assert "no customer regions and no product categories" in section.note
    assert "<code>shopseg report regions --level country</code>" in section.note
    assert section.table is not None and "Revenue index" not in section.table and ">unknown<" not in section.table


def test_cluster_table_says_median():
    profiles = pd.DataFrame(
        {
            "cluster": [0, 1],
            "cluster_name": ["Frequent", "Lapsed"],
            "customers": [10, 5],
            "share": [0.6667, 0.3333],
            "revenue_share": [0.9, 0.1],
            "orders": [4.0, 1.0],
            "orders_z": [0.5, -1.0],
            "revenue": [120.0, 20.0],
            "revenue_z": [0.4, -0.8],
            "top_category": ["Toys", "(none)"],
            "top_category_mode_share": [0.7, 1.0],
        }
    )
    section = build_sections({"clusters": profiles}, "EUR", {})[0]
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", section.table or "")
    assert heads[5:] == ["Median orders", "Median net revenue", "Most common top category"]
    assert "Mean orders per customer" not in "".join(section.charts)
    assert '"ticktext":["Orders","Net revenue"]' in "".join(section.charts)


def test_rfm_table_columns_keep_their_decimals():
    rfm = pd.DataFrame(
        {
            "segment": ["Champions", "Lost", "No purchase"],
            "customers": [792, 571, 33],
            "share": [0.5, 0.4, 0.1],
            "revenue": [5330154.0, 121041.0, 0.0],
            "revenue_share": [0.9, 0.1, 0.0],
            "recency_days": [10.3, 510.0, None],
            "orders": [12.48, 1.0, 0.0],
            "monetary": [6730.0, 211.98, 0.0],
        }
    )
    section = build_sections({"rfm_segments": rfm}, "GBP", {})[0]
    table = section.table or ""
    cells = re.findall(r'<td class="num">([^<]*)</td>', table)
    assert cells[4:7] == ["10.3", "12.48", "£6,730"] and cells[11:14] == ["510.0", "1.00", "£211.98"]
    assert cells[18:20] == ["-", "0.00"]
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    assert heads[3:] == [
        "Net revenue",
        "Share of net revenue",
        "Mean days since last order",
        "Mean orders per customer",
        "Mean net revenue per customer",
    ]


def test_unknown_countries_and_rfm_score_notes_are_explained(workspace):
    from shopseg.features import build_features
    from shopseg.segments.rfm_map import build_rfm

    seed_returns(workspace)
    build_features(workspace)
    build_rfm(workspace)
    notes = workspace.meta("rfm_notes") or ""
    assert "F uses" in notes  # four buyers cannot fill five frequency scores
    text = _text(_report(workspace))
    assert "The store's data has no customer countries: all 4 customers are under 'unknown'." in text
    assert "Note: F: 4 buyers have too few distinct values" in text and "Top countries by net revenue" in text
