"""IngestReport: summary rows, the log entry."""

from __future__ import annotations

import json

from shopseg.io import IngestReport, ingest
from shopseg.workspace import INGEST_LOG


def test_summary_rows_order_and_content():
    report = IngestReport(
        "orders",
        "a.csv",
        "csv",
        rows_read=10,
        rows_kept=7,
        rows_flagged=4,
        reasons={"cancellation (kept, marked)": 1, "missing customer_id (flagged, not kept)": 3},
        added={"orders": 3, "order_lines": 7},
        elapsed_s=0.123,
    )
    assert report.summary_rows() == [
        ("rows read", 10),
        ("rows kept", 7),
        ("rows flagged", 4),
        ("  missing customer_id (flagged, not kept)", 3),
        ("  cancellation (kept, marked)", 1),
        ("added to orders", 3),
        ("added to order_lines", 7),
        ("seconds", 0.12),
    ]
    assert report.rows_dropped == 3
    assert "a.csv -> orders" in str(report)


def test_report_is_logged_in_the_workspace(workspace, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id\n1\n2\n")
    first = ingest(workspace, "customers", path)
    second = ingest(workspace, "customers", path)
    rows = workspace.con.execute(
        f'SELECT ingest_id, kind, source, format, rows_read, rows_kept, rows_flagged, report FROM "{INGEST_LOG}" ORDER BY 1'
    ).fetchall()
    assert [r[:7] for r in rows] == [
        (1, "customers", "c.csv", "csv", 2, 2, 0),
        (2, "customers", "c.csv", "csv", 2, 2, 0),
    ]
    assert json.loads(rows[0][7]) == first.to_dict()
    assert json.loads(rows[1][7])["updated"] == {"customers": 2} == second.updated
