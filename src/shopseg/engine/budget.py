"""A time budget for interactive queries: when it runs out, the engine's running query is interrupted.

A preview or a members page runs a few queries for one request while the
request holds the workspace; without a budget one expensive rule keeps a core
busy (and every other request waiting) for as long as it takes.
:func:`time_budget` starts a watcher thread: once the budget
(``preview_timeout_ms`` by default) has passed, it calls
:meth:`~shopseg.engine.Engine.interrupt` (DuckDB: ``connection.interrupt()``)
every 50 ms until the block ends, so a query started after the deadline stops
too, and the block ends in a :class:`~shopseg.errors.QueryTimeoutError`
(HTTP 503). The watcher is stopped before the block returns: it never touches
a query of the next request.

>>> from shopseg.workspace import Workspace
>>> from shopseg.engine import get_engine
>>> import os, tempfile
>>> ws = Workspace.init(os.path.join(tempfile.mkdtemp(), "ws.duckdb"))
>>> with time_budget(get_engine(ws, "duckdb"), "count", ms=50):
...     ws.con.execute("SELECT count(*) FROM range(100000000000)").fetchall()
Traceback (most recent call last):
...
shopseg.errors.QueryTimeoutError: count: stopped after 50 ms. Expected to finish within 50 ms (setting preview_timeout_ms); got a query still running. Hint: narrow the rule (fewer event conditions, shorter windows) or raise preview_timeout_ms.
>>> ws.close()
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from shopseg.config import get_setting
from shopseg.errors import QueryTimeoutError

if TYPE_CHECKING:
    from shopseg.engine.base import Engine

__all__ = ["time_budget"]

_REPEAT_S = 0.05  # after the deadline: how often the running query (if any) is interrupted again


def _timeout(what: str, ms: int, setting: str) -> QueryTimeoutError:
    return QueryTimeoutError(
        f"{what}: stopped after {ms:,} ms. Expected to finish within {ms:,} ms (setting {setting}); "
        f"got a query still running. Hint: narrow the rule (fewer event conditions, shorter "
        f"windows) or raise {setting}."
    )


@contextmanager
def time_budget(
    engine: Engine, what: str, *, ms: int | None = None, setting: str = "preview_timeout_ms"
) -> Iterator[None]:
    """Run the block within ``ms`` milliseconds (default the ``setting``; 0: no budget) or raise :class:`QueryTimeoutError`.

    Parameters
    ----------
    engine : Engine
        Whose running query is interrupted when the budget runs out.
    what : str
        Names the work in the message (``"preview"``).
    ms : int, default=None
        The budget; default the value of ``setting``.
    setting : str, default="preview_timeout_ms"
        The setting the message names.

    Raises
    ------
    QueryTimeoutError
        When the budget ran out before the block ended (status 503), whether or not a query was running then.
    """
    budget = int(get_setting(setting)) if ms is None else int(ms)
    if budget <= 0:
        yield
        return
    done, expired = threading.Event(), threading.Event()

    def watch() -> None:
        if done.wait(budget / 1000):
            return
        expired.set()
        while not done.is_set():
            engine.interrupt()
            done.wait(_REPEAT_S)

    watcher = threading.Thread(target=watch, name="shopseg-time-budget", daemon=True)
    watcher.start()
    try:
        yield
    except engine.interrupted_errors:
        done.set()
        watcher.join()
        if expired.is_set():
            raise _timeout(what, budget, setting) from None
        raise
    finally:
        done.set()
        watcher.join()
    if expired.is_set():
        raise _timeout(what, budget, setting)
