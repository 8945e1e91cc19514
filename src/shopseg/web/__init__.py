"""The web dashboard: Jinja2 pages with Plotly charts, mounted on the HTTP API app.

Mount it with ``create_app("store.duckdb", routers=dashboard_routers())`` (what
``shopseg serve`` does); see docs/dashboard.md.
"""

from __future__ import annotations

from shopseg.web.app import dashboard_routers, plotly_js

__all__ = ["dashboard_routers", "plotly_js"]
