"""`shopseg serve`: the HTTP API (FastAPI on uvicorn) with live segmentation."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from shopseg.cli._common import console

__all__ = ["register", "serve"]


def serve(
    host: Annotated[Optional[str], typer.Option("--host", help="Listen address (setting api_host).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", "-p", help="TCP port (setting api_port).")] = None,
    live: Annotated[bool, typer.Option("--live/--no-live", help="Run live segmentation.")] = True,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
    dashboard: Annotated[bool, typer.Option("--dashboard/--no-dashboard", help="Serve the web dashboard at /.")] = True,
) -> None:
    """Serve the HTTP API of the workspace: events in, live segment entry/exit out (docs at /docs)."""
    import gc

    import uvicorn

    from shopseg.api import create_app
    from shopseg.config import get_setting

    routers = []
    if dashboard:
        from shopseg.web import dashboard_routers

        routers = dashboard_routers()
    app = create_app(get_setting("workspace"), live=live, routers=routers)
    # What start-up built (imported modules, the loaded live profiles) lives as long as the process: move it out
    # of the garbage collector's reach, or every full collection rescans it and stalls the live writer and the
    # notifications for 100-300 ms (measured in bench/bench_live.py).
    gc.collect()
    gc.freeze()
    if dashboard:  # the pages' costly aggregates (order-line scans, the backtest fit), ready before a user asks
        from shopseg.web.cache import RECHECK_S, start_warmup

        start_warmup(app.state.shopseg, recheck_s=RECHECK_S)
    host = host or str(get_setting("api_host"))
    port = port if port is not None else int(get_setting("api_port"))
    console.print(f"shopseg API on http://{host}:{port}/api/v1 · docs http://{host}:{port}/docs", highlight=False)
    if dashboard:
        console.print(f"dashboard on http://{host}:{port}/ (log in with an API key: `shopseg keys create NAME`)",
                      highlight=False)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
