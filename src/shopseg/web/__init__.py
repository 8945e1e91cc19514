"""The web dashboard: Jinja2 pages with Plotly charts, mounted on the HTTP API app.

>>> from shopseg.api import create_app            # doctest: +SKIP
>>> app = create_app("store.duckdb", routers=dashboard_routers())   # doctest: +SKIP
"""

from __future__ import annotations

from shopseg.web.app import dashboard_routers, plotly_js

__all__ = ["dashboard_routers", "plotly_js"]
