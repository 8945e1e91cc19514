"""Entry point of the `shopseg` command.

Each noun lives in its own module exposing ``register(app)``; this file only
wires the global options (workspace, engine, debug) and the nouns together.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from shopseg.cli._common import ShopsegGroup
from shopseg.config import config_context

__all__ = ["app", "main"]

app = typer.Typer(
    name="shopseg",
    cls=ShopsegGroup,
    help="E-commerce customer segmentation: ingest, features, RFM, segments, predictions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# One module per noun; each exposes register(app).
_NOUNS = [
    "workspace",
    "ingest",
    "generate",
    "features",
    "rfm",
    "lifecycle",
    "interests",
    "segment",
    "cluster",
    "predict",
    "demo",
    "report",
    "recommend",
    "nba",
    "export",
    "experiment",
    "privacy",
    "serve",
    "keys",
]


@app.callback()
def _global(
    ctx: typer.Context,
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Workspace file (env SHOPSEG_WORKSPACE).")
    ] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", "-e", help="duckdb (default) or spark (env SHOPSEG_ENGINE).")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    ctx.meta["shopseg.debug"] = debug
    ctx.with_resource(config_context(workspace=workspace, engine=engine))


for _noun in _NOUNS:
    importlib.import_module(f"shopseg.cli.{_noun}").register(app)


def main() -> None:
    """Console-script entry point."""
    app()
