"""Compile a rule to one Ibis boolean expression over the customer table; the same code runs on DuckDB and Spark.

The population is the feature table (``customer_features``, one row per
customer). Fields of other tables (``customer_rfm``, ``customer_lifecycle``,
``customers.lat/lon`` for distances) are left-joined on ``customer_id``; every
event condition becomes one conditional aggregate in a single pass over
``events`` grouped by customer (and one over purchase orders for ``orders(...)``). Values enter as Ibis literals and identifiers
only come from the field registry or validated property names, so no user text
reaches the SQL except as a quoted literal. Semantics (NULLs, dates, windows)
are those of :mod:`shopseg.rules.evaluate`.

The one engine-specific piece is the JSON property reader
(:mod:`shopseg.rules.sql_functions`): DuckDB's ``json_extract_string`` and
Spark's ``get_json_object`` (both return the text of a top-level scalar),
declared as Ibis builtin functions.

>>> from shopseg.rules.parse import parse_segment
>>> from shopseg.rules.compile import segment_members   # doctest: +SKIP
>>> segment_members(engine, parse_segment("orders >= 3"), as_of="2011-12-09")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ibis

from shopseg.features import FEATURES_TABLE
from shopseg.features.asof import AsOf, parse_date
from shopseg.features.purchases import purchase_lines, purchase_orders
from shopseg.rules.fields import FIELDS, FieldRegistry
from shopseg.rules.nodes import (
    And,
    Between,
    Compare,
    Contains,
    Distance,
    Event,
    In,
    IsNull,
    Node,
    Not,
    Or,
    RelDate,
    Segment,
    SegmentRef,
    Value,
    iso_date,
    walk,
)
from shopseg.rules.render import render
from shopseg.rules.semantics import EVENT_COLUMNS, event_window, resolve_offset
from shopseg.rules.sql_functions import as_number, haversine_expr, json_text
from shopseg.rules.validate import validate_segment

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shopseg.engine import Engine

__all__ = ["compile_segment", "segment_frame", "segment_members", "segment_size", "segment_flags", "inline_segments"]


def inline_segments(node: Node, segments: Mapping[str, Segment]) -> Node:
    """Replace every ``segment('name')`` by the rule it names (validated: no cycles)."""
    if isinstance(node, SegmentRef):
        return inline_segments(segments[node.name].rule, segments)
    if isinstance(node, And | Or):
        return type(node)(tuple(inline_segments(i, segments) for i in node.items))
    if isinstance(node, Not):
        return Not(inline_segments(node.item, segments))
    return node


class _Compiler:
    def __init__(self, engine: Engine, as_of: dt.date, fields: FieldRegistry) -> None:
        self.engine, self.as_of, self.fields = engine, as_of, fields
        self.events: dict[Event, int] = {}  # event condition -> its aggregate column e__<n>

    # -- the table -------------------------------------------------------------------
    def table(self, rule: Node) -> ir.Table:
        needed: dict[str, set[str]] = {}
        for _, node in walk(rule):
            if isinstance(node, Compare | Between | In | Contains | IsNull):
                f = self.fields.resolve(node.field)
                needed.setdefault(f.table, set()).add(f.column)
            elif isinstance(node, Distance):
                needed.setdefault("customers", set()).update({"lat", "lon"})
            elif isinstance(node, Event) and node not in self.events:
                self.events[node] = len(self.events)
        base = self.engine.table(FEATURES_TABLE)
        t = base.select("customer_id", **{f"c__{c}": base[c] for c in sorted(needed.pop(FEATURES_TABLE, set()))})
        parts = []
        for table, cols in sorted(needed.items()):
            part = self.engine.table(table)
            parts.append(part.select(_k=part.customer_id, **{f"{table}__{c}": part[c] for c in sorted(cols)}))
        for source in ("events", "orders"):
            if any(e.source == source for e in self.events):
                parts.append(self.event_aggregates(source))
        if not parts:
            return t
        # one chain of left joins and one projection at the end (each part's key renamed apart): fewer
        # nested queries than a projection per join, so the expression builds and compiles faster
        columns = ["customer_id", *t.columns[1:]]
        for i, part in enumerate(parts):
            part = part.rename({f"_k{i}": "_k"})
            t = t.left_join(part, t.customer_id == part[f"_k{i}"])
            columns += [c for c in part.columns if c != f"_k{i}"]
        return t.select(*columns)

    def _events(self, nodes: list[Event]) -> ir.Table:
        ev = self.engine.table("events")
        keys = sorted(
            {k for e in nodes for k, _ in e.filters if k not in EVENT_COLUMNS} | {e.prop for e in nodes if e.prop}
        )
        ev = ev.filter(ev.customer_id.notnull(), ev.occurred_at.notnull())
        props = {f"p__{k}": json_text(self.engine, ev.properties, k) for k in keys}
        return ev.mutate(_day=ev.occurred_at.cast("date"), **props)

    def _orders(self) -> ir.Table:
        """Purchase orders (as the features define them) up to the as-of date, with ``value`` in currency."""
        o = purchase_orders(purchase_lines(self.engine, AsOf.of(self.as_of)))
        return o.mutate(
            _day=o.ordered_at.cast("date"),
            p__channel=o.channel,
            p__value=o.cents.cast("float64") / 100.0,
            p__units=o.units.cast("float64"),
        )

    def event_aggregates(self, source: str) -> ir.Table:
        nodes = [e for e in self.events if e.source == source]
        ev = self._events(nodes) if source == "events" else self._orders()
        ev = ev.filter(ev._day <= ibis.literal(self.as_of, type="date"))
        metrics: dict[str, Any] = {}
        for node in nodes:
            where = self.event_filter(ev, node)
            name = f"e__{self.events[node]}"
            if node.agg == "count":
                metrics[name] = ev.count(where=where)
            else:
                raw = ev[f"p__{node.prop}"]
                value = as_number(raw) if source == "events" else raw
                metrics[name] = getattr(value, "mean" if node.agg == "avg" else node.agg)(where=where)
        return ev.group_by(_k=ev.customer_id).aggregate(**metrics)

    def event_filter(self, ev: ir.Table, node: Event) -> ir.BooleanValue:
        after, last = event_window(node, self.as_of)
        conds = [ev._day <= ibis.literal(last, type="date")]
        if after is not None:
            conds.append(ev._day > ibis.literal(after, type="date"))
        for key, want in node.filters:
            text = ev[key] if key in EVENT_COLUMNS and node.source == "events" else ev[f"p__{key}"]
            if isinstance(want, str):
                conds.append(text == ibis.literal(want, type="string"))
            else:
                conds.append(as_number(text) == ibis.literal(float(want), type="float64"))  # type: ignore[arg-type]
        out = conds[0]
        for c in conds[1:]:
            out = out & c
        return out.fill_null(False)

    # -- the predicate -----------------------------------------------------------------
    def predicate(self, t: ir.Table, node: Node) -> ir.BooleanValue:
        if isinstance(node, And | Or):
            if not node.items:
                return ibis.literal(isinstance(node, And))
            items = node.items if isinstance(node, And) else _in_lists(node.items)
            parts = [self.predicate(t, i) for i in items]
            return _balanced(parts, operator.and_ if isinstance(node, And) else operator.or_)
        if isinstance(node, Not):
            # leaves are three-valued (NULL = the value is missing); a missing value never matches, so the
            # operand of NOT is made two-valued first. Elsewhere NULL and FALSE filter alike, and leaving
            # plain comparisons lets the engine push them into the scan (zone maps, no COALESCE).
            return ~self.predicate(t, node.item).fill_null(False)
        if isinstance(node, Event):
            return self.leaf(self.event_value(t, node), node.op, ibis.literal(float(node.value), type="float64"))  # type: ignore[arg-type]
        if isinstance(node, Distance):
            return self.leaf(haversine_expr(t, node), node.op, ibis.literal(node.km, type="float64"))
        f = self.fields.resolve(node.field)  # type: ignore[union-attr]
        col = t[f"c__{f.column}" if f.table == FEATURES_TABLE else f"{f.table}__{f.column}"]
        if f.type == "timestamp":
            col = col.cast("date")
        if isinstance(node, IsNull):
            return col.notnull() if node.negated else col.isnull()
        if isinstance(node, Compare):
            return self.leaf(col, node.op, self.literal(node.value, f.type, col))
        if isinstance(node, Between):
            low, high = self.literal(node.low, f.type, col), self.literal(node.high, f.type, col)
            return (col >= low) & (col <= high)
        if isinstance(node, In):
            return col.isin([self.literal(v, f.type, col) for v in node.values])
        assert isinstance(node, Contains)
        return col.contains(ibis.literal(str(node.value), type="string"))

    def event_value(self, t: ir.Table, node: Event) -> ir.NumericValue:
        col = t[f"e__{self.events[node]}"].cast("float64")
        return col.fill_null(0.0) if node.agg in ("count", "sum") else col

    def literal(self, value: Value, ftype: str, col: ir.Value | None = None) -> ir.Value:
        if ftype == "timestamp":
            day = resolve_offset(value, self.as_of) if isinstance(value, RelDate) else iso_date(value)
            return ibis.literal(day, type="date")
        if ftype == "number":
            number = float(value)  # type: ignore[arg-type]
            if col is not None and col.type().is_integer() and number.is_integer() and abs(number) < 2**53:
                # a whole number against an integer column stays an integer: the same comparison, but the
                # engine compares the stored integers as they are (no cast per row) and can use zone maps
                return ibis.literal(int(number), type="int64")
            # typed: a bare 0.010933494463532971 is a DECIMAL(19,18) to DuckDB, which then compares the DOUBLE column
            # rounded to 18 digits, and live (Python floats) disagreed on the customer holding that very value
            return ibis.literal(repr(number), type="string").cast("float64")
        return ibis.literal(value, type={"string": "string", "boolean": "boolean"}[ftype])

    @staticmethod
    def leaf(col: ir.Value, op: str, lit: ir.Value) -> ir.BooleanValue:
        return {"=": col == lit, "!=": col != lit, "<": col < lit, "<=": col <= lit, ">": col > lit, ">=": col >= lit}[
            op
        ]


def _balanced(parts: list[ir.BooleanValue], op: Callable[[Any, Any], Any]) -> ir.BooleanValue:
    """``parts`` joined by a binary ``op`` as a balanced tree: n parts nest log2(n) deep, not n.

    Ibis (and the SQL it generates) nests every binary AND/OR; a left-deep chain of 1,000 ORs took the
    compiler past Python's recursion limit.
    """
    while len(parts) > 1:
        parts = [op(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


def _in_lists(items: tuple[Node, ...]) -> list[Node]:
    """The items of an OR with every ``field = v`` and ``field IN (...)`` on one field merged into one IN list.

    ``x = a OR x = b`` and ``x IN (a, b)`` select the same customers (NULL when ``x`` is missing, as every
    comparison); the merged list is placed where the field's first condition was.
    """
    merged: dict[str, list[Value]] = {}
    out: list[Node | str] = []
    for item in items:
        if isinstance(item, Compare) and item.op == "=" or isinstance(item, In):
            values = (item.value,) if isinstance(item, Compare) else item.values
            if item.field not in merged:
                merged[item.field] = []
                out.append(item.field)
            merged[item.field].extend(values)
        else:
            out.append(item)
    return [In(x, tuple(merged[x])) if isinstance(x, str) else x for x in out]


def _prepare(
    engine: Engine,
    segment: Segment,
    as_of: dt.date | str,
    fields: FieldRegistry,
    segments: Mapping[str, Segment] | None,
    validated: bool = False,
) -> tuple[_Compiler, ir.Table, ir.BooleanValue]:
    if not validated:
        validate_segment(segment, fields, segments if segments is not None else {})
    day = parse_date(as_of)
    rule = inline_segments(segment.rule, segments or {})
    comp = _Compiler(engine, day, fields)
    t = comp.table(rule)
    return comp, t, comp.predicate(t, rule)


def compile_segment(
    segment: Segment,
    engine: Engine,
    *,
    as_of: dt.date | str,
    fields: FieldRegistry = FIELDS,
    segments: Mapping[str, Segment] | None = None,
    validated: bool = False,
) -> tuple[ir.Table, ir.BooleanValue]:
    """The customer table with the columns ``segment`` reads, and its membership predicate over it.

    Parameters
    ----------
    segment : Segment
        A parsed rule; validated here (unknown ``segment('x')`` references included).
    engine : Engine
        Any engine (``get_engine(ws, "duckdb" | "spark")``).
    as_of : date or str
        Reference date of offsets and windows (the features' ``features_as_of``).
    fields : FieldRegistry, default=FIELDS
    segments : mapping of str to Segment, default=None
        Saved segments, inlined where referenced.

    Returns
    -------
    (ibis.Table, ibis.BooleanValue)
        The predicate is never NULL.

    Raises
    ------
    SegmentError
        When the rule does not validate.

    ``validated=True`` skips the check for a rule the caller already validated
    against the same fields and segments (:meth:`SegmentStore.check`): a request is validated once, at its boundary.
    """
    _, t, pred = _prepare(engine, segment, as_of, fields, segments, validated)
    return t, pred.fill_null(False)


def segment_frame(
    engine: Engine,
    segment: Segment,
    *,
    as_of: dt.date | str,
    fields: FieldRegistry = FIELDS,
    segments: Mapping[str, Segment] | None = None,
    validated: bool = False,
) -> ir.Table:
    """Every customer with a boolean ``member`` column."""
    t, pred = compile_segment(segment, engine, as_of=as_of, fields=fields, segments=segments, validated=validated)
    return t.select("customer_id", member=pred)


def segment_members(
    engine: Engine,
    segment: Segment,
    *,
    as_of: dt.date | str,
    fields: FieldRegistry = FIELDS,
    segments: Mapping[str, Segment] | None = None,
    validated: bool = False,
) -> ir.Table:
    """The ``customer_id`` of every member, as a lazy Ibis table.

    The filter is the three-valued predicate (a NULL filters like FALSE), so plain comparisons reach
    the engine as they are and can be pushed into the scan.
    """
    _, t, pred = _prepare(engine, segment, as_of, fields, segments, validated)
    return t.filter(pred).select("customer_id")


def segment_size(
    engine: Engine,
    segment: Segment,
    *,
    as_of: dt.date | str,
    fields: FieldRegistry = FIELDS,
    segments: Mapping[str, Segment] | None = None,
) -> int:
    """How many customers the rule selects: one count on the engine, only the number comes back.

    The engine may keep the compiled count for the same rule, date, fields and saved segments
    (:meth:`~shopseg.engine.Engine.cached_scalar`), so counting a rule again skips building it.
    """
    day = parse_date(as_of)
    saved = tuple(sorted((name, render(s.rule)) for name, s in (segments or {}).items()))
    key = ("segment_size", render(segment.rule), day, tuple(fields), saved)

    def build() -> ir.Scalar:
        return segment_members(engine, segment, as_of=day, fields=fields, segments=segments).count()

    return int(engine.cached_scalar(key, build))  # type: ignore[call-overload]


def segment_flags(
    engine: Engine,
    segments: Mapping[str, Segment],
    *,
    as_of: dt.date | str,
    fields: FieldRegistry = FIELDS,
    saved: Mapping[str, Segment] | None = None,
    validated: bool = False,
) -> ir.Table:
    """Every customer with one boolean column per segment, in ONE query (one join per table, one events pass).

    Columns are ``customer_id`` then ``s__0``, ``s__1``, ... in the order of
    ``segments`` (names never reach the SQL). This is how :meth:`SegmentStore.refresh`
    evaluates every saved segment at once.
    """
    refs = dict(saved or {})
    for seg in () if validated else segments.values():
        validate_segment(seg, fields, refs)
    day = parse_date(as_of)
    rules = [inline_segments(seg.rule, refs) for seg in segments.values()]
    comp = _Compiler(engine, day, fields)
    t = comp.table(Or(tuple(rules)))
    return t.select(
        "customer_id", **{f"s__{i}": comp.predicate(t, rule).fill_null(False) for i, rule in enumerate(rules)}
    )
