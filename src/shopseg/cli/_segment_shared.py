"""The `shopseg segment` Typer app and the helpers its command modules share.

The commands are in :mod:`shopseg.cli.segment` (write, check, save, preview,
diff, delete) and :mod:`shopseg.cli._segment_members` (snapshots, history,
migration, explain, breakdown).
"""

from __future__ import annotations

from typing import Annotated

import typer

from shopseg.cli._common import console, open_workspace

__all__ = ["segment_app", "AsOf", "store_of", "engine_of", "warn", "rule_or_name"]

segment_app = typer.Typer(
    help="Rule-based segments: the segment language, saved versions, snapshots.", no_args_is_help=True
)

AsOf = Annotated[str | None, typer.Option("--as-of", help="Reference date (default: the features' as-of date).")]


def store_of(read_only: bool = False):
    from shopseg.segments.definitions import SegmentStore

    ws = open_workspace(read_only=read_only)
    return ws, SegmentStore(ws)


def engine_of(ws):
    from shopseg.config import get_setting
    from shopseg.engine import get_engine

    return get_engine(ws, get_setting("engine"))


def warn(messages: list[str]) -> None:
    for m in messages:
        console.print(f"[yellow]warning:[/] {m}", highlight=False)


def rule_or_name(store, rule: str):
    names = {s.name for s in store.list()}
    return store.get(rule).segment if rule in names else store.check(rule)
