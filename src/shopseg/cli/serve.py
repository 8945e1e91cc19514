"""`shopseg serve`: the HTTP API (FastAPI on uvicorn) with live segmentation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shopseg.cli._common import console

if TYPE_CHECKING:
    from shopseg.api.deps import AppState

__all__ = ["register", "serve"]


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Listen address (setting api_host).")] = None,
    port: Annotated[int | None, typer.Option("--port", "-p", help="TCP port (setting api_port).")] = None,
    live: Annotated[bool, typer.Option("--live/--no-live", help="Run live segmentation.")] = True,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
    dashboard: Annotated[bool, typer.Option("--dashboard/--no-dashboard", help="Serve the web dashboard at /.")] = True,
) -> None:
    """Serve the HTTP API of the workspace: events in, live segment entry/exit out (docs at /docs)."""
    import uvicorn

    from shopseg.api import create_app
    from shopseg.config import get_setting

    routers = []
    if dashboard:
        from shopseg.web import dashboard_routers

        routers = dashboard_routers()
    # absolute: a command handed over by the CLI runs in the client's working directory (shopseg.cli._hosted)
    app = create_app(Path(get_setting("workspace")).resolve(), live=live, routers=routers)
    host = host or str(get_setting("api_host"))
    port = port if port is not None else int(get_setting("api_port"))
    # X-Forwarded-Proto/-For are believed only from the proxies named in api_forwarded_allow_ips (none by default)
    proxies = str(get_setting("api_forwarded_allow_ips")).strip()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )
    config.load()  # imports the event loop and the HTTP protocol now, before the freeze below
    _freeze_startup(full=True)
    if app.state.shopseg.live is not None:
        _keep_live_state_frozen(app.state.shopseg)
    # A thread woken by I/O (the event loop, the live writer) waits for the interpreter lock until the thread
    # holding it lets go, by default after 5 ms: a few such hand-offs are on the way of every notification.
    sys.setswitchinterval(0.001)
    if dashboard:  # the pages' costly aggregates (order-line scans, the backtest fit), ready before a user asks
        from shopseg.web.cache import RECHECK_S, start_warmup

        start_warmup(app.state.shopseg, recheck_s=RECHECK_S, after_first_pass=_freeze_startup)
    console.print(f"shopseg API on http://{host}:{port}/api/v1 · docs http://{host}:{port}/docs", highlight=False)
    if dashboard:
        console.print(
            f"dashboard on http://{host}:{port}/ (log in with an API key: `shopseg keys create NAME`)", highlight=False
        )
    server = uvicorn.Server(config)
    marker = _announce(app.state.shopseg, host, port)
    # removed at the app's shutdown: uvicorn re-raises a caught SIGTERM after it, before any `finally` here
    app.state.shopseg.closers.append(lambda: marker.unlink(missing_ok=True))
    try:
        server.run()
    finally:
        marker.unlink(missing_ok=True)
    if not server.started:  # as uvicorn.run: the port was taken, or the app failed to start
        raise typer.Exit(3)


def _announce(state: AppState, host: str, port: int) -> Path:
    """Record beside the workspace that this server holds it (mode 0600), so other commands can say so, and, when
    it listens on a loopback address, where and with which token the CLI hands commands over (shopseg.cli._remote)."""
    import datetime as dt
    import json
    import os

    from shopseg._connection import server_file
    from shopseg.api.routers.admin import new_token

    marker = server_file(state.workspace.path)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    record = {"pid": os.getpid(), "url": f"http://{host}:{port}", "started_at": started}
    loopback = _loopback(host)
    if loopback is not None:
        record |= {"admin_url": f"http://{loopback}:{port}", "token": new_token(state)}
    record["workspace"] = str(state.workspace.path)
    partial = marker.with_name(f"{marker.name}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)  # also when an old file was there with other rights
        fh.write(json.dumps(record))
    os.replace(partial, marker)
    return marker


def _loopback(host: str) -> str | None:
    """The loopback address reaching a server listening on ``host`` (None: it does not listen on loopback)."""
    import ipaddress

    if host in ("", "0.0.0.0", "localhost"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_loopback:
        return None
    return f"[{address}]" if address.version == 6 else str(address)


def _freeze_startup(full: bool = False) -> None:
    """Move what start-up built out of the garbage collector's reach: it lives as long as the process.

    Imported modules (the app's, uvicorn's, and those the dashboard warm-up imports on its first pass:
    ibis compilers, sqlglot dialects, scikit-learn) and the loaded live profiles would otherwise be rescanned by
    every full collection, which stalls every thread (the live writer, the event loop, the notifications) for
    50-300 ms (measured in bench/bench_live.py). ``full``: a full collection first (at start-up, before serving);
    after the warm-up pass only the young generations are collected, so the server does not stall while it serves
    (what survived there is frozen as it is).
    """
    import gc

    gc.collect(2 if full else 1)
    gc.freeze()


FREEZE_EVERY_S = 1.0
FULL_COLLECTION_EVERY_S = 3600.0


def _keep_live_state_frozen(
    state: AppState, every_s: float = FREEZE_EVERY_S, full_every_s: float = FULL_COLLECTION_EVERY_S
) -> None:
    """Every ``every_s``: collect the young generations, then ``gc.freeze()``, so the live profiles made meanwhile
    are out of every later collection's reach; every ``full_every_s``, and when the live state is replaced, one
    full collection of everything first.

    The live engine makes one profile object per new customer; left to the collector they are all rescanned by
    each full collection, which stalls every thread: 230 ms with 300,000 customers (measured on this machine),
    what a 60 s run at 5,000 new customers a second builds, and growing with the store. Collecting the young
    generations first (a millisecond or two) frees the garbage cycles of the requests served meanwhile; frozen
    objects are still freed when their last reference goes (an erased customer's profile); only a reference
    cycle among objects that outlived a freeze waits for the next full collection: hourly, and when the segments
    or the profiles are reloaded (the old evaluator, a whole swapped live state, holds cycles): one full pause
    then, as at start-up.
    """
    import gc
    import threading
    import time

    def loop() -> None:
        live = state.live
        seen = id(live.evaluator) if live is not None else None
        full_at = time.monotonic() + full_every_s
        while state.live is not None:
            time.sleep(every_s)
            current = id(state.live.evaluator) if state.live is not None else None
            if current != seen or time.monotonic() >= full_at:
                gc.unfreeze()
                gc.collect()
                seen, full_at = current, time.monotonic() + full_every_s
            else:
                gc.collect(1)
            gc.freeze()

    threading.Thread(target=loop, name="shopseg-gc-freeze", daemon=True).start()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
