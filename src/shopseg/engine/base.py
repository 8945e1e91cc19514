"""The Engine protocol and the engine registry.

An engine turns workspace table names into Ibis table expressions and executes
expressions built on them. Features and segments are written once against
:meth:`Engine.table` and run unchanged on every engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from shopseg.config import SETTINGS, get_setting
from shopseg.errors import InvalidParameterError, did_you_mean

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

    import ibis.expr.types as ir
    import pandas as pd

    from shopseg.workspace import Workspace

__all__ = ["Engine", "get_engine", "ENGINES"]

ENGINES = SETTINGS["engine"].choices


class Engine(ABC):
    """Where Ibis expressions over a workspace run."""

    name: str

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    @abstractmethod
    def table(self, name: str) -> ir.Table:
        """The workspace table ``name`` as an Ibis expression on this engine."""

    def execute(self, expr: ir.Table) -> pd.DataFrame:
        """Run an expression and return a pandas DataFrame."""
        return expr.to_pandas()

    def scalar(self, expr: ir.Scalar) -> object:
        """Run a scalar expression (a count, a sum) and return its Python value."""
        return expr.execute()

    def cached_scalar(self, key: Hashable, build: Callable[[], ir.Scalar]) -> object:
        """``scalar(build())``; an engine may keep the compiled query under ``key`` and skip ``build``.

        ``key`` must name everything the expression depends on except the
        workspace's table definitions (engines that cache check those). This
        default builds every time.
        """
        return self.scalar(build())

    def store(
        self,
        expr: ir.Table,
        workspace: Workspace,
        name: str,
        *,
        normalize: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
        order_by: str = "customer_id",
        by_customer: bool = False,
    ) -> pd.DataFrame | None:
        """Run ``expr`` and store the result in ``workspace`` as the derived table ``name``.

        This default executes to pandas, applies ``normalize`` (which sorts by
        ``order_by``) and writes the frame into the workspace file; it returns
        that frame. DuckDB (inside the workspace file) and Spark (through
        Parquet files) override it to store the result without a round trip
        through Python, cast to ``expr``'s schema and sorted by ``order_by``,
        and return ``None``. ``by_customer``: the caller's promise that every
        row has a ``customer_id`` (never NULL), so an engine may compute the
        rows one range of customers at a time (DuckDB does, at 10M customers).
        """
        df = self.execute(expr)
        if normalize is not None:
            df = normalize(df)
        workspace.write_table(name, df)
        return df

    def to_sql(self, expr: ir.Table) -> str:
        """The SQL this engine runs for ``expr``."""
        import ibis

        return str(ibis.to_sql(expr, dialect=self.dialect))

    @property
    @abstractmethod
    def dialect(self) -> str:
        """The sqlglot dialect name of this engine."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release engine resources (the workspace stays open)."""

    #: Exceptions a query stopped by :meth:`interrupt` raises (none here: this default cannot stop one).
    interrupted_errors: tuple[type[BaseException], ...] = ()

    def interrupt(self) -> None:  # noqa: B027 - optional hook
        """Stop the query running now, from another thread (:func:`shopseg.engine.budget.time_budget`).

        This default cannot: the query runs to its end, and the budget is checked then.
        """


def get_engine(workspace: Workspace, name: str | None = None) -> Engine:
    """Return the engine ``name`` (default: the ``engine`` setting) over ``workspace``."""
    name = name or get_setting("engine")
    if name == "duckdb":
        from shopseg.engine.duckdb import DuckDBEngine

        return DuckDBEngine(workspace)
    if name == "spark":
        from shopseg.engine.spark import SparkEngine

        return SparkEngine(workspace)
    raise InvalidParameterError(
        f"The 'engine' parameter must be one of {list(ENGINES)}. Got {name!r} instead.{did_you_mean(name, ENGINES)}"
    )
