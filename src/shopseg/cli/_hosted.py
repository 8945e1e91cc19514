"""Run a CLI command inside `shopseg serve`, for a `shopseg` process that found the workspace held by it.

The client (:mod:`shopseg.cli._remote`) sends its argv, working directory and
``SHOPSEG_*`` settings to the server's admin route (``POST /api/v1/admin/cli``,
:mod:`shopseg.api.routers.admin`), which calls :func:`run_command`. The command
runs as the same Typer command it would have been, with these differences:

- :func:`shopseg.cli._common.open_workspace` hands it a cursor of the server's
  open workspace (its own DuckDB connection on the same database) instead of
  opening the file, which the server holds;
- it runs under the server's workspace lock (API and dashboard requests that
  read the store wait for it; posted events are still journaled and
  acknowledged, and applied to the tables after it), in the client's working
  directory, one forwarded command at a time;
- what it prints to stdout and stderr goes back to the client, line by line;
- afterwards the server picks up what it changed: the saved segments (always;
  a segment created from the CLI is live at once), the live profiles (after any
  command that may change data: features, RFM, lifecycle, interests,
  predictions, clusters, an ingest, an erasure...), the API keys, and the
  dashboard's cached results.

``shopseg forget`` and ``shopseg privacy compact`` take the server's own path
(:meth:`shopseg.live.runtime.LiveEngine.erase`, the workspace's ``compact``),
which handles the live journal and waits for readers. ``serve``, ``init`` and
``demo`` are never forwarded: they need the file itself.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopseg.errors import WorkspaceError

if TYPE_CHECKING:
    from shopseg.api.deps import AppState
    from shopseg.workspace import Workspace

__all__ = [
    "Host",
    "hosted",
    "open_hosted",
    "run_command",
    "command_path",
    "forget_hosted",
    "compact_hosted",
    "NOT_FORWARDED",
    "READ_ONLY",
]

#: Commands that need the workspace file itself, not a server's connection to it.
NOT_FORWARDED = frozenset({"serve", "init", "demo"})
#: ``(noun, verb)`` of commands that only read: the server reloads nothing after them but the segments (cheap).
READ_ONLY = frozenset(
    {
        ("status", ""),
        ("export", ""),
        ("report", ""),
        ("report", "html"),
        ("report", "regions"),
        ("features", "show"),
        ("predict", "backtest"),
        ("recommend", "customer"),
        ("recommend", "segment"),
        ("nba", "playbook"),
        ("nba", "customer"),
        ("experiment", "power"),
        ("experiment", "analyze"),
        ("privacy", "export"),
        ("keys", "list"),
    }
)
#: Commands whose effects are on the saved segments and their snapshots only.
SEGMENT_NOUNS = frozenset({"segment"})

_RUN_LOCK = threading.Lock()  # one forwarded command at a time: they change the process's working directory
_host: ContextVar[Host | None] = ContextVar("shopseg_cli_host", default=None)


@dataclass
class Host:
    """The server a forwarded command runs in."""

    state: AppState

    @property
    def path(self) -> Path:
        return self.state.workspace.path.resolve()


def hosted() -> Host | None:
    """The server this command was forwarded to, or ``None`` when it runs in its own process."""
    return _host.get()


def open_hosted(host: Host, target: str | os.PathLike[str]) -> Workspace:
    """A cursor of the server's workspace for a command asking for ``target`` (closing it leaves the server's open).

    Raises
    ------
    WorkspaceError
        ``target`` is another file than the one the server holds.
    """
    path = Path(target).resolve()
    if path != host.path:
        raise WorkspaceError(
            f"{path}: this command was handed to the `shopseg serve` holding {host.path}, which does not serve "
            f"this file. Expected the workspace {host.path}. Hint: pass --workspace {host.path}, or run the "
            "command where no server holds its workspace."
        )
    cursor = host.state.workspace.cursor()
    cursor.path = Path(target)  # as the command named it (relative to its directory): its output says the same
    return cursor


# -- the command line ----------------------------------------------------------------------
def command_path(group: Any, argv: Sequence[str]) -> tuple[str, str]:
    """``(noun, verb)`` named by ``argv`` (``verb`` empty for a one-word command); global options are skipped."""
    from typer.core import TyperGroup

    def rest(ctx: Any) -> list[str]:  # the tokens left after the group's own options (the first is protected)
        return [*getattr(ctx, "_protected_args", []), *ctx.args]

    ctx = group.make_context("shopseg", list(argv), resilient_parsing=True)
    tokens = rest(ctx)
    if not tokens:
        return "", ""
    noun = tokens[0]
    sub = group.get_command(ctx, noun)
    if isinstance(sub, TyperGroup):
        tail = rest(sub.make_context(noun, tokens[1:], parent=ctx, resilient_parsing=True))
        return noun, tail[0] if tail else ""
    return noun, ""


# -- output --------------------------------------------------------------------------------
def _check_text(text: object) -> None:
    """A text stream takes ``str`` only: click asks ``write(b"")`` to tell a binary stream from a text one, and a
    stream that took the bytes would be wrapped as binary, its output then reaching the client as bytes."""
    if not isinstance(text, str):
        raise TypeError(f"write() argument must be str, not {type(text).__name__}")


class _ThreadStream(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` while forwarded commands run: a thread with a sink writes there, others through."""

    def __init__(self, original: Any, sinks: threading.local, name: str) -> None:
        self.original, self.sinks, self.name = original, sinks, name

    def _target(self) -> Any:
        sink = getattr(self.sinks, self.name, None)
        return sink if sink is not None else self.original

    def write(self, text: str) -> int:
        _check_text(text)
        self._target().write(text)
        return len(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return bool(self._target().isatty())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.original, "encoding", None) or "utf-8")

    def fileno(self) -> int:
        if getattr(self.sinks, self.name, None) is not None:
            raise io.UnsupportedOperation("a forwarded command's output has no file descriptor")
        return int(self.original.fileno())


class _Sink(io.TextIOBase):
    """Hands each write to ``emit(stream, text)``."""

    def __init__(self, emit: Callable[[str, str], None], stream: str) -> None:
        self.emit, self.stream = emit, stream

    def write(self, text: str) -> int:
        _check_text(text)
        if text:
            self.emit(self.stream, text)
        return len(text)

    def isatty(self) -> bool:
        return False


_SINKS = threading.local()


def _install_streams() -> None:
    if not isinstance(sys.stdout, _ThreadStream):
        sys.stdout = _ThreadStream(sys.stdout, _SINKS, "stdout")
    if not isinstance(sys.stderr, _ThreadStream):
        sys.stderr = _ThreadStream(sys.stderr, _SINKS, "stderr")


@contextmanager
def _captured(emit: Callable[[str, str], None], columns: int) -> Iterator[None]:
    from shopseg.cli._common import console, err_console

    _install_streams()
    _SINKS.stdout, _SINKS.stderr = _Sink(emit, "stdout"), _Sink(emit, "stderr")
    widths = console._width, err_console._width  # noqa: SLF001 - Rich keeps the set width there (None: ask the terminal)
    console.width = err_console.width = max(40, min(int(columns or 100), 400))
    try:
        yield
    finally:
        _SINKS.stdout = _SINKS.stderr = None
        console._width, err_console._width = widths  # noqa: SLF001


@contextmanager
def _in_directory(cwd: str) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)


# -- running -------------------------------------------------------------------------------
def run_command(
    state: AppState,
    argv: Sequence[str],
    *,
    cwd: str,
    settings: Mapping[str, str] | None = None,
    columns: int = 100,
    emit: Callable[[str, str], None],
) -> int:
    """Run ``shopseg <argv>`` against the server's open workspace; its output goes to ``emit``; return its exit code.

    Parameters
    ----------
    state : AppState
        The server's state (workspace, lock, live engine, keys).
    argv : sequence of str
        The command line after ``shopseg``, as the client got it.
    cwd : str
        The client's working directory: relative paths in ``argv`` (and default output files) resolve there.
    settings : mapping, default=None
        ``setting name -> raw value`` of the client's ``SHOPSEG_*`` environment.
    columns : int, default=100
        Width of the client's terminal (Rich tables wrap to it).
    emit : callable
        ``emit(stream, text)`` with ``stream`` ``"stdout"`` or ``"stderr"``.
    """
    import typer.main

    from shopseg.cli.main import app
    from shopseg.config import SETTINGS, config_context

    group = typer.main.get_command(app)
    noun, verb = command_path(group, argv)
    if noun in NOT_FORWARDED:
        emit("stderr", f"error: `shopseg {noun}` needs the workspace file itself and cannot run inside the server.\n")
        return 1
    known = {k: v for k, v in (settings or {}).items() if k in SETTINGS}
    own_locks = (noun, verb) in {("forget", ""), ("privacy", "compact")}
    with _RUN_LOCK, _captured(emit, columns), _in_directory(cwd), config_context(**known):
        token = _host.set(Host(state))
        try:
            if own_locks:
                code = _invoke(group, argv)
            else:
                with state.lock:
                    if state.live is not None:
                        state.live.flush()  # the events acknowledged so far are in the tables the command reads
                    code = _invoke(group, argv)
        finally:
            _host.reset(token)
        _refresh(state, noun, verb)
    return code


def _invoke(group: Any, argv: Sequence[str]) -> int:
    """Run the command as ``shopseg`` would (usage errors, aborts and exits printed and turned into a code)."""
    try:
        group.main(args=list(argv), prog_name="shopseg", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if not isinstance(code, int):
            sys.stderr.write(f"{code}\n")
            return 1
        return code
    return 0


def _refresh(state: AppState, noun: str, verb: str) -> None:
    """Make the server see what the command changed: segments always; profiles, keys and caches after writes."""
    from shopseg.api.keys import KeyStore

    if (noun, verb) in READ_ONLY:
        return
    with state.lock:
        state.extra.pop("dashboard_cache", None)
        if noun == "keys":
            state.keys = KeyStore(state.workspace, state.lock)
    if state.live is None:
        return
    if noun in SEGMENT_NOUNS:
        state.segments_changed()
    else:
        state.live.reload_profiles()


# -- erasure inside the server -------------------------------------------------------------
def forget_hosted(host: Host, customer_id: str, reason: str, compact: bool | None) -> tuple[dict[str, int], bool]:
    """``shopseg forget`` inside the server: the live engine's erasure (journal, live state, dead letters too).

    Returns the rows removed per store and whether the file was rewritten (no erased byte left in it).
    """
    from shopseg.config import config_context, get_setting
    from shopseg.errors import NotFound
    from shopseg.privacy import forget_customer

    state = host.state
    with config_context(erasure_compact=None if compact is None else ("now" if compact else "later")):
        if state.live is not None:
            rows = state.live.erase(customer_id, reason=reason)
        else:
            with state.lock:
                rows = dict(forget_customer(state.workspace, customer_id, reason=reason, compact=False).deleted)
            if get_setting("erasure_compact") == "now":
                state.workspace.compact(lock=state.lock)
    if not rows:
        raise NotFound(f"customer '{customer_id}' is not known: nothing to erase. Expected an existing customer_id.")
    with state.lock:
        return rows, not state.workspace.compact_pending


def compact_hosted(host: Host) -> bool:
    """``shopseg privacy compact`` inside the server: rewrite the file, readers waited for; was there one to do?"""
    from shopseg.privacy.audit import record_audit

    state = host.state
    with state.lock:
        if not state.workspace.compact_pending:
            return False
    state.workspace.compact(lock=state.lock)
    with state.lock:
        record_audit(state.workspace, "compact", None, {})
    return True
