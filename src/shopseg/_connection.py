"""Opening a workspace's DuckDB connection: its settings, and who holds a locked file.

:func:`configure` applies the per-connection settings (memory cap, no progress
bar). A running ``shopseg serve`` records itself in a file beside the workspace
(:func:`server_file`); when DuckDB refuses the file's lock, :func:`open_failure`
words who holds it (that server, or another process) and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from shopseg._sql import value_sql
from shopseg.config import get_setting
from shopseg.errors import InvalidParameterError, WorkspaceBusyError, WorkspaceError

__all__ = ["configure", "set_memory_limit", "server_file", "read_server_file", "server_message", "open_failure"]


def configure(con: duckdb.DuckDBPyConnection) -> None:
    """Per-connection DuckDB settings: memory cap (``duckdb_memory_limit``), no progress bar.

    DuckDB's progress bar writes to the terminal from library calls; shopseg
    shows its own progress (Rich in the CLI).
    """
    con.execute("SET enable_progress_bar = false")
    limit = str(get_setting("duckdb_memory_limit")).strip()
    if limit:
        try:
            set_memory_limit(con, limit)
        except duckdb.Error as exc:
            con.close()
            raise InvalidParameterError(
                f"The 'duckdb_memory_limit' setting must be a DuckDB memory size such as '2GB' or '512MB'. "
                f"Got {limit!r} instead."
            ) from exc


def set_memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> None:
    """``SET memory_limit`` to ``limit`` (a DuckDB size such as ``'700MB'``), written as a literal, not a
    bound parameter (why: :func:`shopseg._sql.value_sql`)."""
    con.execute(f"SET memory_limit = {value_sql(limit)}")


def server_file(path: Path) -> Path:
    """Where a running ``shopseg serve`` records itself beside the workspace (pid, url, start time, hand-over address)."""
    return Path(f"{path}.server")


def read_server_file(path: Path) -> dict[str, Any]:
    """The record of the ``shopseg serve`` holding ``path`` (empty when there is none or it cannot be read)."""
    import json

    try:
        info = json.loads(server_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def server_message(path: Path, info: dict[str, Any], what: str = "") -> str:
    """Who holds ``path`` (the server ``info``) and what to do, for a command that cannot run beside it."""
    url = info.get("url", "")
    cannot = f" {what}" if what else ""
    return (
        f"{path}: the workspace is in use by `shopseg serve` (PID {info.get('pid')}, {url}, since "
        f"{str(info.get('started_at', '?'))[:19]}).{cannot} Expected it to be free for this command. Hint: while "
        f"the server runs, use its API ({url}/docs) or dashboard ({url}/), or stop it (Ctrl-C in its "
        "terminal) and run the command again."
    )


def open_failure(path: Path, exc: duckdb.IOException) -> WorkspaceError:
    """Why the workspace cannot be opened, in words: who holds it and what to do (never DuckDB's lock text).

    A lock held by a ``shopseg serve`` gives a :class:`WorkspaceBusyError` carrying the server's record, so
    the CLI can hand the command over to it (:mod:`shopseg.cli._remote`).
    """
    import re

    text = str(exc)
    if "lock" not in text.lower():
        return WorkspaceError(
            f"{path}: cannot open the workspace: {text.splitlines()[0] if text else type(exc).__name__}"
        )
    found = re.search(r"PID (\d+)", text)
    pid = int(found.group(1)) if found else None
    info = read_server_file(path)
    if info and (pid is None or int(info.get("pid", -1)) == pid):
        return WorkspaceBusyError(server_message(path, info), server=info)
    who = f"another process (PID {pid})" if pid else "another process"
    return WorkspaceBusyError(
        f"{path}: the workspace is in use by {who}, which holds its write lock. Expected it to be free for "
        "this command. Hint: wait for that command to finish, or stop it, and run this one again."
    )
