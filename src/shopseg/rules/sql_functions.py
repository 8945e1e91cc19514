"""The Ibis expressions the rule compiler builds from: JSON property text per engine, numbers in text, distances.

DuckDB's ``json_extract_string`` and Spark's ``get_json_object`` (both return
the text of a top-level scalar) are declared as Ibis builtin functions; the
rest is plain Ibis, the same on every engine, with the meaning of
:mod:`shopseg.rules.semantics`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import ibis

from shopseg.rules.nodes import Distance
from shopseg.rules.semantics import EARTH_RADIUS_KM, NUMERIC_TEXT

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine

__all__ = ["as_number", "haversine_expr", "json_text"]


@ibis.udf.scalar.builtin(name="json_extract_string")
def _duckdb_json_text(doc: str, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB: text of a JSON value."""


@ibis.udf.scalar.builtin(name="get_json_object")
def _spark_json_text(doc: str, path: str) -> str:  # type: ignore[empty-body]
    """Spark: text of a JSON value."""


@ibis.udf.scalar.builtin(name="json_valid")
def _duckdb_json_valid(doc: str) -> bool:  # type: ignore[empty-body]
    """DuckDB: is the text valid JSON."""


def json_text(engine: Engine, doc: ir.StringValue, key: str) -> ir.StringValue:
    """Text of a top-level property; NULL when absent or when ``doc`` is not valid JSON (as in evaluate.py)."""
    if engine.dialect == "pyspark":
        return _spark_json_text(doc, f"$.{key}")  # NULL on malformed JSON already
    return ibis.ifelse(_duckdb_json_valid(doc), _duckdb_json_text(doc, f"$.{key}"), ibis.null("string"))


def as_number(text: ir.StringValue) -> ir.FloatingValue:
    """The number a property's text holds (:data:`NUMERIC_TEXT`), else NULL."""
    return ibis.ifelse(text.re_search(NUMERIC_TEXT), text.cast("float64"), ibis.null("float64"))


def haversine_expr(t: ir.Table, node: Distance) -> ir.FloatingValue:
    """Great-circle km from the customer's ``lat``/``lon`` to the condition's point (as :func:`haversine_km`)."""
    lat, lon = t["customers__lat"].cast("float64"), t["customers__lon"].cast("float64")
    p1 = lat * (math.pi / 180)
    p2 = math.radians(node.lat)
    dp = (ibis.literal(node.lat, type="float64") - lat) * (math.pi / 180)
    dl = (ibis.literal(node.lon, type="float64") - lon) * (math.pi / 180)
    a = (dp / 2).sin() ** 2 + p1.cos() * math.cos(p2) * (dl / 2).sin() ** 2
    clamped = ibis.ifelse(a > 1.0, 1.0, a)  # LEAST would skip a NULL
    return clamped.sqrt().asin() * (2 * EARTH_RADIUS_KM)
