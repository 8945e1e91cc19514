"""How the CLI prints a result: ``--json`` for scripts, tables that fit the terminal for people.

One ``--json`` option (:data:`JsonOpt`) serves every command that prints a result. With it:

- the result goes to stdout as one JSON document (:func:`emit_json`) and nothing else does: the shared
  consoles are pointed at stderr for the command's duration, so progress bars, notes and warnings stay visible
  without corrupting the document;
- an error is printed on stdout as ``{"error": {"type", "message", "exit_code", ...}}`` (:func:`error_document`),
  with the exit code it has without ``--json`` (1 data error, 2 usage error).

Tables (:func:`fit_table`) never cut a word: each column is at least as wide as its longest word (short labels
and numbers as wide as their longest value); when even that does not fit the terminal, the rows are printed one
field per line instead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

__all__ = [
    "JsonOpt",
    "is_json",
    "emit_json",
    "jsonable",
    "records",
    "error_document",
    "fit_table",
    "use_stderr",
]

_JSON_KEY = "shopseg.json"
_RIGID_MAX = 20  # a value this short (a segment name, a date, a number) is never wrapped
_FRAME = 3  # per column in Rich's default box: a border and a space either side (plus one closing border)
_GAP = 2  # per column without the frame: a blank separator and one space of padding


_ACTIVE: ContextVar[bool] = ContextVar("shopseg_json", default=False)


def use_stderr(ctx: typer.Context, *consoles: Console) -> None:
    """Point ``consoles`` at stderr until the command ends (so stdout carries only the JSON document)."""
    root = ctx.find_root()
    for con in consoles:
        if con.stderr:
            continue
        con.stderr = True
        root.call_on_close(lambda con=con: setattr(con, "stderr", False))


def _json_callback(ctx: typer.Context, value: bool) -> bool:
    if value:
        from shopseg.cli._common import console

        ctx.meta[_JSON_KEY] = True
        token = _ACTIVE.set(True)
        ctx.find_root().call_on_close(lambda: _ACTIVE.reset(token))
        use_stderr(ctx, console)
    return value


JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the result as one JSON document on stdout (shapes: docs/cli.md); messages go to stderr.",
        callback=_json_callback,
        is_eager=True,
    ),
]


def is_json(ctx: typer.Context | None = None) -> bool:
    """Whether the running command was given ``--json``."""
    return bool(ctx.meta.get(_JSON_KEY)) if ctx is not None else _ACTIVE.get()


def jsonable(value: Any) -> Any:
    """``value`` with numpy/pandas scalars, dates, paths, decimals and NaN turned into plain JSON values.

    Examples
    --------
    >>> import datetime as dt
    >>> jsonable({"as_of": dt.date(2025, 1, 31), "share": float("nan"), "ids": ("a", 1)})
    {'as_of': '2025-01-31', 'share': None, 'ids': ['a', 1]}
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return records(value)
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return jsonable(value.to_pydatetime() if hasattr(value, "to_pydatetime") else str(value))
    if hasattr(value, "item") and not isinstance(value, Sequence):  # numpy / pandas scalar
        try:
            return jsonable(value.item())
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, Sequence | set | frozenset) or hasattr(value, "tolist"):
        return [jsonable(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def records(df: Any) -> list[dict[str, Any]]:
    """A DataFrame as a list of plain-JSON row objects (missing values as null)."""
    return [jsonable(r) for r in df.to_dict("records")]


def emit_json(data: Any) -> None:
    """Print ``data`` as one indented JSON document on stdout."""
    typer.echo(json.dumps(jsonable(data), indent=2, ensure_ascii=False))


def error_document(exc: BaseException, exit_code: int, message: str | None = None) -> dict[str, Any]:
    """The ``{"error": {...}}`` document a command prints with ``--json`` when it fails.

    Examples
    --------
    >>> error_document(LookupError("segment 'vip' not found"), 1)
    {'error': {'type': 'LookupError', 'message': "segment 'vip' not found", 'exit_code': 1}}
    """
    body: dict[str, Any] = {"type": type(exc).__name__, "message": message or str(exc), "exit_code": exit_code}
    issues = getattr(exc, "issues", None)
    if issues:
        body["issues"] = [{"path": i.path, "code": i.code, "message": i.message} for i in issues]
    for attr in ("table", "column"):
        if getattr(exc, attr, None) is not None:
            body[attr] = getattr(exc, attr)
    return {"error": body}


def emit_error(exc: BaseException, exit_code: int, message: str | None = None) -> None:
    """Print :func:`error_document` on stdout (the ``--json`` counterpart of ``error: ...`` on stderr)."""
    emit_json(error_document(exc, exit_code, message))


def _cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


_NUMBER = re.compile(r"[-+]?[\d,]*\.?\d+%?|-|")


def _is_numeric(values: list[Any]) -> bool:
    """Numbers, or strings that are formatted numbers or percentages ("1,234", "17.8%", "-")."""
    return (
        bool(values)
        and all(
            isinstance(v, int | float)
            and not isinstance(v, bool)
            or isinstance(v, str)
            and _NUMBER.fullmatch(v.strip()) is not None
            for v in values
        )
        and any(v not in ("", "-") for v in values)
    )


def _longest_word(text: str) -> int:
    return max((cell_len(w) for w in text.split()), default=0)


def _column_widths(header: list[str], cells: list[list[str]], available: int) -> list[int] | None:
    """Widths that keep every word whole and fit ``available`` cells, or None when none do."""
    mins, fulls = [], []
    for i, head in enumerate(header):
        col = [row[i] for row in cells]
        longest = max((max((cell_len(line) for line in c.splitlines()), default=0) for c in col), default=0)
        full = max(longest, cell_len(head))
        rigid = longest <= _RIGID_MAX or all(" " not in c for c in col)
        lower = longest if rigid else max((_longest_word(c) for c in col), default=0)
        mins.append(max(lower, _longest_word(head), 1))
        fulls.append(max(full, 1))
    if sum(mins) > available:
        return None
    widths = list(mins)
    extra = available - sum(widths)
    for i in sorted(range(len(widths)), key=lambda i: fulls[i] - mins[i]):  # the nearly whole ones first
        step = min(fulls[i] - widths[i], extra)
        widths[i] += step
        extra -= step
    return widths


def fit_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    width: int,
    caption: str | None = None,
    right: Sequence[bool] | None = None,
) -> RenderableType:
    """A Rich table of ``rows`` that fits ``width`` cells without cutting a word (numbers right-aligned).

    Columns get at least their longest word (short values and numbers: their longest value); the rest of the
    width goes to the columns that want more. The table is framed when it fits so, else drawn without the
    frame's borders; when even that does not fit, each row is shown as
    ``column: value`` lines instead, which wrap between words. ``right`` says which columns to right-align
    (default: those whose first value is a number).
    """
    header = [str(c) for c in columns]
    cells = [[_cell_text(v) for v in row] for row in rows]
    numeric = list(right) if right is not None else [_is_numeric([r[i] for r in rows]) for i in range(len(header))]
    n = len(header)
    framed = _column_widths(header, cells, width - _FRAME * n - 1)
    widths = framed or _column_widths(header, cells, width - _GAP * n + 1)
    if widths is None:
        return _stacked(title, header, cells, caption)
    if framed:  # Rich's default box: borders around and between the columns
        table = Table(pad_edge=True)
    else:  # no outer edge, blank separators: two cells between columns
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for head, w, num in zip(header, widths, numeric, strict=True):
        table.add_column(head, justify="right" if num else "left", width=w, overflow="fold")
    for row in cells:
        table.add_row(*row)
    parts: list[RenderableType] = [Text(title, style="table.title"), table]  # the title wraps at the terminal
    if caption:
        parts.append(Text(caption, style="table.caption"))
    return Group(*parts)


def _stacked(title: str, header: list[str], cells: list[list[str]], caption: str | None) -> RenderableType:
    parts: list[RenderableType] = [Text(title, style="table.title")]
    for row in cells:
        for head, value in zip(header, row, strict=True):
            parts.append(Text.assemble((f"{head}: ", "bold"), value))
        parts.append(Text(""))
    if caption:
        parts.append(Text(caption, style="dim"))
    return Group(*parts)
