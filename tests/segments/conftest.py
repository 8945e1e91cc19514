"""Fixtures of the segment tests: hand-built purchase histories and Online Retail on both engines.

``store`` writes purchase histories into a fresh workspace: one order per
(customer, timestamp) with a single line of ``quantity=1, unit_price=10``.
``retail_workspace`` loads UCI Online Retail once per session (through
``shopseg.io.ingest`` when the ingest module is installed, otherwise with a
minimal SQL mapping that mirrors its ``online_retail`` preset).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from shopseg.engine import get_engine
from shopseg.workspace import Workspace

SHARED_DATA = Path(os.environ.get("SHOPSEG_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))

StoreFn = Callable[..., Workspace]


def write_store(
    ws: Workspace,
    purchases: Mapping[str, Sequence[str]],
    prospects: Sequence[str] = (),
    price: float = 10.0,
) -> Workspace:
    """Insert orders ``{customer_id: [timestamp, ...]}`` and prospects (customers without orders)."""
    orders, lines = [], []
    for cid, stamps in purchases.items():
        for i, ts in enumerate(stamps):
            oid = f"{cid}-{i}"
            orders.append((oid, cid, ts))
            lines.append((oid, 1, "p1", 1, price))
    if orders:
        ws.con.executemany("INSERT INTO orders (order_id, customer_id, ordered_at) VALUES (?, ?, ?)", orders)
        ws.con.executemany(
            "INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price) VALUES (?, ?, ?, ?, ?)",
            lines,
        )
    customers = sorted(set(purchases) | set(prospects))
    if customers:
        ws.con.executemany("INSERT INTO customers (customer_id) VALUES (?)", [(c,) for c in customers])
    return ws


@pytest.fixture
def store(workspace: Workspace) -> StoreFn:
    """``store(purchases, prospects=())`` fills the test's fresh workspace and returns it."""

    def fill(purchases: Mapping[str, Sequence[str]], prospects: Sequence[str] = ()) -> Workspace:
        return write_store(workspace, purchases, prospects)

    return fill


_RETAIL_SQL = """
CREATE TEMP TABLE _retail AS
SELECT CAST(InvoiceNo AS VARCHAR) AS order_id,
       regexp_replace(CAST(CustomerID AS VARCHAR), '\\.0+$', '') AS customer_id,
       CAST(InvoiceDate AS TIMESTAMP) AS ordered_at,
       CAST(StockCode AS VARCHAR) AS product_id,
       CAST(Quantity AS INTEGER) AS quantity,
       UnitPrice AS unit_price,
       Country AS country,
       starts_with(upper(CAST(InvoiceNo AS VARCHAR)), 'C') AS is_cancelled,
       row_number() OVER (PARTITION BY InvoiceNo ORDER BY StockCode, Quantity, UnitPrice) AS line_number
FROM read_parquet(?)
WHERE CustomerID IS NOT NULL;
INSERT INTO orders (order_id, customer_id, ordered_at, country, currency, is_cancelled)
SELECT order_id, any_value(customer_id), min(ordered_at), any_value(country), 'GBP', bool_or(is_cancelled)
FROM _retail GROUP BY order_id;
INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price, is_return)
SELECT order_id, line_number, product_id, quantity, unit_price, is_cancelled OR quantity < 0 FROM _retail;
DROP TABLE _retail;
"""


def _load_retail(ws: Workspace, path: Path) -> None:
    if importlib.util.find_spec("shopseg.io") is not None:
        io = importlib.import_module("shopseg.io")
        if hasattr(io, "ingest"):
            io.ingest(ws, "orders", path, preset="online_retail")
            return
    for stmt in filter(str.strip, _RETAIL_SQL.split(";")):
        ws.con.execute(stmt, [str(path)] if "read_parquet" in stmt else [])


@pytest.fixture(scope="session")
def retail_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Online Retail in a session-wide workspace, with ``customer_features`` built on DuckDB."""
    from shopseg.features import build_features

    path = SHARED_DATA / "online_retail.parquet"
    if not path.exists():  # the real datasets are part of CI: fail, never skip (tests/conftest.py)
        pytest.fail(f"{path} is missing: put the real datasets in ../shared/data.", pytrace=False)
    ws = Workspace.init(tmp_path_factory.mktemp("retail") / "retail.duckdb")
    _load_retail(ws, path)
    build_features(ws, engine="duckdb")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def retail_engines(retail_workspace: Workspace) -> Iterator[dict[str, object]]:
    """DuckDB and Spark engines over the Online Retail workspace (one shared Spark session)."""
    engines = {name: get_engine(retail_workspace, name) for name in ("duckdb", "spark")}
    yield engines
    for engine in engines.values():
        engine.close()
