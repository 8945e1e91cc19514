"""Reports: the self-contained HTML report and the store summary behind it."""

from __future__ import annotations

from shopseg.reports.html import render_report, write_report
from shopseg.reports.summary import StoreSummary, summarize_store

__all__ = ["StoreSummary", "summarize_store", "render_report", "write_report"]
