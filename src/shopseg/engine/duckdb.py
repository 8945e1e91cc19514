"""The default engine: Ibis on the workspace's own DuckDB file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import sqlglot as sg
import sqlglot.expressions as sge
from ibis.backends.sql.datatypes import DuckDBType

from shopseg.engine.base import Engine
from shopseg.errors import NotFound, did_you_mean

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

    import ibis.expr.datatypes as dt
    import ibis.expr.schema as sch
    import ibis.expr.types as ir
    import pandas as pd
    import pyarrow as pa

    from shopseg.workspace import Workspace

__all__ = ["DuckDBEngine", "RANGE_CUSTOMERS", "typed_query"]

#: Above this many customers :meth:`DuckDBEngine.store` computes a result sorted by ``customer_id`` in ranges of
#: customer ids of about this many customers each, appending the ranges in order in one transaction.
#: At 10M customers the feature query and the sort of its 44-column rows did not fit the default 1500MB cap
#: together, and a query over 2M customers does. The tables a feature query reads are stored sorted by
#: customer, so each range reads only its share of them, and five sorts of 2M rows cost less than one of 10M.
RANGE_CUSTOMERS = 2_000_000


def _numeric(col: pa.ChunkedArray, dtype: dt.DataType) -> pa.ChunkedArray:
    """A DECIMAL column that Ibis types as an integer or a float, cast in Arrow (a checked cast).

    DuckDB's ``SUM`` of integers is a HUGEINT, which reaches Arrow as ``decimal128(38, 0)``;
    pandas would hold it as a million Python ``Decimal`` objects before Ibis casts them
    (about 1 CPU-s per column of the churn labels' 800k rows at 1M customers).
    """
    import pyarrow as pa
    import pyarrow.types as pat

    if not pat.is_decimal(col.type) or col.null_count:
        return col
    if dtype.is_integer():
        return col.cast(pa.int64())
    if dtype.is_floating():
        return col.cast(pa.float64())
    return col


class DuckDBEngine(Engine):
    """Run expressions in process on the workspace's DuckDB connection."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self._tables: dict[str, tuple[object, str, ir.Table]] = {}
        self._compiled: dict[Hashable, tuple[tuple[tuple[str, str], ...], str]] = {}

    def table(self, name: str) -> ir.Table:
        """The workspace table ``name``, its Ibis schema read once per table definition.

        One catalog query returns every table's ``CREATE`` statement; while a
        table's statement (so its columns and types) is unchanged, the Ibis
        table built for it is reused instead of describing the table again,
        which is most of the cost of building a small expression such as a
        segment rule. A replaced table with other columns is described anew.
        """
        catalog = self.workspace.table_definitions()
        if name not in catalog:
            raise NotFound(f"{self.workspace.path}: no table '{name}'.{did_you_mean(name, sorted(catalog))}")
        backend = self.workspace.ibis
        cached = self._tables.get(name)
        if cached is not None and cached[0] is backend and cached[1] == catalog[name]:
            return cached[2]
        table = backend.table(name)
        self._tables[name] = (backend, catalog[name], table)
        return table

    def execute(self, expr: ir.Table) -> pd.DataFrame:
        """Run an expression and return a pandas DataFrame: the frame Ibis' ``to_pandas`` gives, made faster.

        Ibis 12 turns every Arrow column holding a NULL into a Python list before pandas
        sees it; a float column gets the same float64 with NaN straight from Arrow, without
        the million Python objects (about 2 CPU-s of the churn labels' 800k x 27 frame at
        1M customers). Every other column is converted as Ibis converts it.
        """
        import ibis.expr.types as ir
        import pandas as pd
        import pyarrow.types as pat
        from ibis.backends.duckdb.converter import DuckDBPandasData

        if not isinstance(expr, ir.Table):
            return super().execute(expr)
        # Ibis' own first step of execute (the pinned ibis 12; to_pyarrow would cast the columns first)
        table = self.workspace.ibis._to_duckdb_relation(expr).to_arrow_table()
        schema = expr.schema()
        columns = {
            name: col.to_pylist()
            if pat.is_nested(col.type)
            or pat.is_dictionary(col.type)
            or (col.null_count and not pat.is_floating(col.type))
            else _numeric(col, schema[name]).to_pandas()
            for name, col in zip(table.column_names, table.columns, strict=True)
        }
        return expr.__pandas_result__(DuckDBPandasData.convert_table(pd.DataFrame(columns), schema))

    def scalar(self, expr: ir.Scalar) -> object:
        """Run a scalar expression on the workspace connection and return its value.

        The compiled SQL goes straight to DuckDB and the one value comes back
        as a Python object, without the Arrow table and pandas frame a
        general ``execute`` builds (about 25 ms of a 150 ms rule count).
        """
        return self._fetch_one(str(self.workspace.ibis.compile(expr)))

    def cached_scalar(self, key: Hashable, build: Callable[[], ir.Scalar]) -> object:
        """Run the SQL compiled for ``key`` while no table definition changed since; else build and compile.

        Building and compiling an Ibis expression costs tens of milliseconds;
        a rule counted again (a preview while typing, a dashboard refresh)
        then costs only its query. Any change of any table's columns or types
        (one catalog query) compiles anew. At most 256 queries are kept.
        """
        catalog = tuple(sorted(self.workspace.table_definitions().items()))
        hit = self._compiled.get(key)
        if hit is not None and hit[0] == catalog:
            sql = hit[1]
        else:
            sql = str(self.workspace.ibis.compile(build()))
            if len(self._compiled) >= 256:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[key] = (catalog, sql)
        return self._fetch_one(sql)

    interrupted_errors = (duckdb.InterruptException,)

    def interrupt(self) -> None:
        """Interrupt the query running on the workspace connection (thread-safe; nothing when it is idle)."""
        if self.workspace.is_open:
            self.workspace.con.interrupt()

    def _fetch_one(self, sql: str) -> object:
        row = self.workspace.con.execute(sql).fetchone()
        return None if row is None else row[0]

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
        """Store ``expr`` with ``CREATE OR REPLACE TABLE ... AS`` inside the workspace file.

        The rows never leave DuckDB: no pandas frame is built, so time and
        memory stay those of the query. Every column is cast to the type of
        ``expr``'s schema (DuckDB sums integers into HUGEINT where Ibis
        promises int64) and rows are stored sorted by ``order_by``, as the
        pandas path stores them. Above :data:`RANGE_CUSTOMERS` customers a
        ``by_customer`` result sorted by ``customer_id`` is computed one range
        of customer ids at a time, in one transaction: the same rows in the same
        order, as long as no ``customer_id`` is NULL (a NULL fits no range, and
        a query for the NULLs alone cannot skip any work: the feature query took
        61 CPU-s at 10M to find none). A range's filter reaches the tables
        only through joins and groupings on the customer; a query with a
        window or an aggregate over all customers (e.g. RFM's quantile edges)
        stays correct but computes everything once per range, so pass
        ``by_customer`` only for per-customer queries. Returns ``None``; read
        the table back when a frame is needed. An engine over another
        workspace falls back to the pandas path.
        """
        if workspace is not self.workspace:
            return super().store(expr, workspace, name, normalize=normalize, order_by=order_by)
        bounds = self._range_bounds() if by_customer and order_by == "customer_id" else []
        if not bounds:
            workspace.create_table_as(name, self._typed_sql(expr, order_by))
            return None
        # compiled once (about a quarter of a second for the feature query), filtered per range
        schema, source = expr.schema(), self._source(expr)
        with workspace.transaction() as con:
            for i, (low, high) in enumerate(zip([None, *bounds], [*bounds, None], strict=True)):
                sql = typed_query(schema, source, order_by, where=_key_range(order_by, low, high))
                if i == 0:
                    workspace.create_table_as(name, sql)
                else:
                    con.execute(f'INSERT INTO "{name}" {sql}')
        return None

    def _range_bounds(self) -> list[str]:
        """The customer ids that split the workspace's customers into ranges of about
        :data:`RANGE_CUSTOMERS` (their exact quantiles; none at or below that many customers)."""
        con = self.workspace.con
        try:
            row = con.execute("SELECT count(*) FROM customers").fetchone()  # a count DuckDB keeps: no scan
        except duckdb.CatalogException:
            return []
        ranges = -(-int(row[0]) // RANGE_CUSTOMERS) if row else 0
        if ranges < 2:
            return []
        quantiles = ", ".join(repr(i / ranges) for i in range(1, ranges))
        bounds = con.execute(f"SELECT quantile_disc(customer_id, [{quantiles}]) FROM customers").fetchone()
        return sorted({b for b in bounds[0] if b is not None}) if bounds and bounds[0] else []

    def append(self, expr: ir.Table, name: str, order_by: str = "customer_id") -> int:
        """Insert the rows of ``expr`` into the workspace table ``name`` (columns by name, cast to
        ``expr``'s types, sorted by ``order_by``); return how many."""
        columns = ", ".join(f'"{c}"' for c in expr.schema())
        row = self.workspace.con.execute(
            f'INSERT INTO "{name}" ({columns}) {self._typed_sql(expr, order_by)}'
        ).fetchone()
        return int(row[0]) if row else 0

    def _typed_sql(self, expr: ir.Table, order_by: str | None) -> str:
        return typed_query(expr.schema(), self._source(expr), order_by)

    def _source(self, expr: ir.Table) -> sge.Expr:
        """``expr`` compiled, as the subquery ``_result`` that :func:`typed_query` selects from."""
        inner = sg.parse_one(str(self.workspace.ibis.compile(expr)), dialect=self.dialect)
        assert isinstance(inner, sge.Query), "ibis compiles a table expression to a query"
        return inner.subquery("_result")


def _key_range(key: str, low: str | None, high: str | None) -> sge.Expr:
    """``low <= key < high``, with no bound where None (a NULL key is in no range)."""
    column = sg.column(key, quoted=True)
    if high is None:
        assert low is not None, "a range has a bound"
        return column >= sge.convert(low)
    below = column < sge.convert(high)
    return below if low is None else sge.and_(column >= sge.convert(low), below)


def typed_query(
    schema: sch.Schema,
    source: sge.Expr,
    order_by: str | None,
    column: Callable[[str, dt.DataType], sge.Expr] | None = None,
    *,
    where: sge.Expr | None = None,
) -> str:
    """DuckDB SQL selecting every column of ``schema`` from ``source`` (the rows matching ``where``),
    cast to its type, sorted by ``order_by``.

    ``column(name, dtype)`` is the expression cast for a column (default: the
    column itself). :meth:`DuckDBEngine.store` and the Spark engine's ``store``
    store what this selects.
    """
    columns = [
        sge.Cast(
            this=sg.column(col, quoted=True) if column is None else column(col, dtype), to=DuckDBType.from_ibis(dtype)
        ).as_(col, quoted=True)
        for col, dtype in schema.items()
    ]
    query = sg.select(*columns).from_(source)
    if where is not None:
        query = query.where(where)
    return (query if order_by is None else query.order_by(sg.column(order_by, quoted=True))).sql(dialect="duckdb")
