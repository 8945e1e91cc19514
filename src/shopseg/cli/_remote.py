"""Hand a CLI command over to the `shopseg serve` holding its workspace.

DuckDB lets one process write a database file. While ``shopseg serve`` runs, it
writes ``<workspace>.server`` (mode 0600: only its user can read it) with its
PID, URL, a loopback address of its admin route and a token made for this run.
A command that cannot open the workspace because that server holds it sends
its argv, working directory, terminal width and ``SHOPSEG_*`` settings to
``POST <admin_url>/api/v1/admin/cli`` with the token; the server runs it
in-process (:mod:`shopseg.cli._hosted`) and streams back its output, one JSON
object a line (``{"stream": "stdout", "data": "..."}``, last ``{"exit": 0}``),
which is printed here as it comes. The user sees the command's usual output and
exit code. Standard input is not forwarded: confirmations are asked here first, once.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

import typer

from shopseg.errors import WorkspaceBusyError, WorkspaceError

__all__ = ["ADMIN_ROUTE", "TOKEN_HEADER", "can_forward", "confirmed_here", "forward"]

ADMIN_ROUTE = "/api/v1/admin/cli"
TOKEN_HEADER = "X-Shopseg-Admin-Token"


def can_forward(exc: WorkspaceBusyError, ctx: typer.Context) -> bool:
    """May this command run inside the server named by ``exc``? (It has a hand-over address; the command is not
    one needing the file itself; this process is not already the server.)"""
    from shopseg.cli._hosted import NOT_FORWARDED, hosted

    server = exc.server or {}
    return (
        bool(server.get("admin_url") and server.get("token"))
        and hosted() is None
        and (ctx.invoked_subcommand not in NOT_FORWARDED)
    )


def _settings() -> dict[str, str]:
    from shopseg.config import SETTINGS, env_var

    return {name: os.environ[env_var(name)] for name in SETTINGS if env_var(name) in os.environ}


def _with_yes(args: list[str]) -> None:
    """Add ``--yes`` to the command line ``args`` (before a ``--``, after which it would be an argument)."""
    if not {"--yes", "-y"} & set(args[: args.index("--")] if "--" in args else args):
        args.insert(args.index("--") if "--" in args else len(args), "--yes")


def confirmed_here(ctx: typer.Context) -> None:
    """The command asked its confirmation in this process (before it tried the workspace): a hand-over of it to
    the server passes ``--yes`` rather than asking a second time."""
    argv = ctx.meta.get("shopseg.argv")  # the shared command line (shopseg.cli._common.ShopsegGroup)
    if isinstance(argv, list):
        _with_yes(argv)


def _confirmed(argv: Sequence[str], noun: str) -> list[str]:
    """``forget`` asks before erasing: ask here (the server has no terminal), then pass ``--yes``; once only, if
    the command asked already (:func:`confirmed_here`) its command line has ``--yes``."""
    args = list(argv)
    before_dashes = args[: args.index("--")] if "--" in args else args
    if noun == "forget" and "forget" in args and not {"--yes", "-y"} & set(before_dashes):
        at = args.index("forget")
        customer = next((a for a in args[at + 1 :] if not a.startswith("-")), "?")
        typer.confirm(f"Erase customer {customer} everywhere? This cannot be undone", abort=True)
        _with_yes(args)
    return args


def forward(server: Mapping[str, Any], argv: Sequence[str], noun: str = "") -> int:
    """Run ``shopseg <argv>`` in the server ``server`` (its ``<workspace>.server`` record); return its exit code.

    Raises
    ------
    WorkspaceError
        The server cannot be reached or refused the hand-over (the message names it and says what to do).
    """
    from shopseg.cli._common import console

    body = {
        "argv": _confirmed(argv, noun),
        "cwd": os.getcwd(),
        "settings": _settings(),
        "columns": console.width,
    }
    request = urllib.request.Request(
        f"{server['admin_url']}{ADMIN_ROUTE}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", TOKEN_HEADER: str(server["token"])},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    try:
        with opener.open(request, timeout=None) as response:
            return _relay(response)
    except urllib.error.HTTPError as exc:
        detail = _detail(exc)
        raise WorkspaceError(
            f"the workspace is held by `shopseg serve` (PID {server.get('pid')}, {server.get('url')}), which refused "
            f"to run this command for the CLI: HTTP {exc.code} {detail}. Expected it to accept commands from its "
            "own user on this machine. Hint: stop the server (Ctrl-C in its terminal) and run the command again."
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WorkspaceError(
            f"the workspace is held by `shopseg serve` (PID {server.get('pid')}, {server.get('url')}), but its "
            f"admin address {server['admin_url']} does not answer ({reason}). Expected a running server. Hint: "
            "if the server is stopping, wait a moment and run the command again; if it hangs, stop it."
        ) from None


def _relay(response: Any) -> int:
    code = 1
    for raw in response:
        if not raw.strip():
            continue
        message = json.loads(raw)
        if "exit" in message:
            code = int(message["exit"])
            continue
        stream = sys.stderr if message.get("stream") == "stderr" else sys.stdout
        stream.write(str(message.get("data", "")))
        stream.flush()
    return code


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read() or b"{}")
    except ValueError:
        return str(exc.reason)
    return str(payload.get("error") or exc.reason) if isinstance(payload, dict) else str(exc.reason)
