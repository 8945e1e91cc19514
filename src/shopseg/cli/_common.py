"""Shared pieces of the CLI: consoles, progress bars, workspace opening, error rendering."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from shopseg.cli._output import emit_error, fit_table, is_json
from shopseg.config import get_setting
from shopseg.errors import InvalidParameterError, ShopsegError, WorkspaceBusyError

if TYPE_CHECKING:
    from shopseg.workspace import Workspace

__all__ = ["console", "err_console", "ShopsegGroup", "open_workspace", "progress", "print_table"]

console = Console()
err_console = Console(stderr=True)


class ShopsegGroup(TyperGroup):
    """Click group that turns ShopsegError into a one-paragraph message and an exit code.

    Data errors exit 1, usage errors 2; ``--debug`` re-raises with the traceback.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # see invoke
        ctx.meta.setdefault("shopseg.argv", list(args))  # the command line, to hand over to a server holding the file
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:  # typer 0.29 types it with its vendored click Context (private)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except WorkspaceBusyError as exc:
            self._busy(ctx, exc)
        except ShopsegError as exc:
            self._fail(ctx, exc)
        except KeyboardInterrupt:
            err_console.print("interrupted")
            ctx.exit(130)
        except Exception as exc:
            if ctx.meta.get("shopseg.debug"):
                raise
            if _out_of_memory(exc):  # the workspace was rolled back
                setting = getattr(exc, "memory_setting", "duckdb_memory_limit")  # set by the step that capped it
                limit = get_setting(setting) or "DuckDB's default"
                message = (
                    f"out of memory: the command needed more than the workspace's memory cap ({limit}, setting "
                    f"{setting}); nothing was changed. Expected it to fit or spill to disk; got: "
                    f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. Hint: raise the cap "
                    f"(SHOPSEG_{setting.upper()}=4GB) and report the command, it should fit the default."
                )
                _report(ctx, exc, 1, "error: ", message)
            else:
                _report(
                    ctx,
                    exc,
                    1,
                    "internal error: ",
                    f"{type(exc).__name__}: {exc}. This is a bug in shopseg; rerun with --debug for the traceback.",
                )
            ctx.exit(1)

    def _busy(self, ctx: typer.Context, exc: WorkspaceBusyError) -> None:
        """A server holds the workspace: hand the command over to it (:mod:`shopseg.cli._remote`) when it can run there."""
        from shopseg.cli import _remote

        if not _remote.can_forward(exc, ctx):
            self._fail(ctx, exc)
        try:
            code = _remote.forward(exc.server or {}, ctx.meta["shopseg.argv"], ctx.invoked_subcommand or "")
        except ShopsegError as failed:
            self._fail(ctx, failed)
        ctx.exit(code)

    def _fail(self, ctx: typer.Context, exc: ShopsegError) -> NoReturn:
        if ctx.meta.get("shopseg.debug"):
            raise exc
        if is_json(ctx):
            emit_error(exc, exc.exit_code)
        else:
            err_console.print(Text("error: ", style="bold red") + Text(str(exc)), soft_wrap=True)
        ctx.exit(exc.exit_code)


def _report(ctx: typer.Context, exc: BaseException, code: int, label: str, message: str) -> None:
    """An error as ``label message`` on stderr, or with ``--json`` as the error document on stdout."""
    if is_json(ctx):
        emit_error(exc, code, message)
    else:
        err_console.print(Text(label, style="bold red") + Text(message), soft_wrap=True)


def _out_of_memory(exc: BaseException) -> bool:
    """MemoryError or DuckDB's OutOfMemoryException (DuckDB is imported only by commands that touch data)."""
    duckdb = sys.modules.get("duckdb")
    return isinstance(exc, MemoryError) or (duckdb is not None and isinstance(exc, duckdb.OutOfMemoryException))


def open_workspace(path: str | None = None, *, read_only: bool = False) -> Workspace:
    """Open the workspace named by ``--workspace`` (or the ``workspace`` setting).

    Inside ``shopseg serve`` (a command handed over by :mod:`shopseg.cli._remote`) this is a cursor of the
    server's open workspace; closing it leaves the server's connection open.
    """
    from shopseg.cli._hosted import hosted, open_hosted

    target = path or get_setting("workspace")
    host = hosted()
    if host is not None:
        return open_hosted(host, target)
    from shopseg.workspace import Workspace

    return Workspace.open(target, read_only=read_only)


@contextmanager
def progress(transient: bool = False) -> Iterator[Progress]:
    """A Rich progress display with a bar, counts and elapsed time."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    ) as bar:
        yield bar


def print_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, caption: str | None = None
) -> None:
    """Print a table that fits the terminal without cutting a word; numbers are right-aligned."""
    console.print(fit_table(title, columns, rows, width=console.width, caption=caption))


def exit_usage(message: str) -> None:
    """Print a usage error and exit 2 (with ``--json``: the error document on stdout)."""
    if is_json():
        emit_error(InvalidParameterError(message), 2)
    else:
        err_console.print(Text("usage error: ", style="bold red") + Text(message))
    raise typer.Exit(2)
