"""Check a parsed rule against the field registry and the saved segments; collect every issue, raise once.

Checks: unknown fields (with "Did you mean"), predicted fields before
``shopseg predict``, value types per field type, categorical values
(``rfm_segment``, ``lifecycle``), date offsets (``-30d``, ``-4w``, ``-6m``) and
ISO dates, event aggregates and property names, distance units and
coordinates, references to unknown segments and reference cycles.

When the rule came from text, each issue's message starts with ``line L, col C``
and shows the line with a caret under the offending characters (sqlglot style;
:func:`shopseg.rules.issues.issue_at`), and the issue keeps the place as data::

    line 1, col 1: unknown field 'recnecy'. Did you mean 'recency'?
      recnecy < 30 AND orders >= 3
      ^^^^^^^
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from shopseg.errors import Issue, SegmentError, did_you_mean
from shopseg.rules.fields import FIELDS, PREDICT_HINT, Field, FieldRegistry
from shopseg.rules.issues import issue_at, summarize
from shopseg.rules.limits import RuleLimits, expanded_shape, rule_shape, shape_issues
from shopseg.rules.nodes import (
    AGGREGATES,
    COMPARE_OPS,
    DATE_UNITS,
    ORDER_FILTERS,
    ORDER_VALUES,
    SOURCES,
    Between,
    Compare,
    Contains,
    Distance,
    Event,
    In,
    IsNull,
    Node,
    RelDate,
    Segment,
    SegmentRef,
    Span,
    Value,
    iso_date,
    walk,
)

__all__ = [
    "validate_segment",
    "segment_issues",
    "referenced_segments",
]


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EVENT_COLUMNS = ("type", "product_id")


class _Checker:
    def __init__(self, seg: Segment, fields: FieldRegistry, segments: Mapping[str, Segment] | None) -> None:
        self.seg, self.fields, self.segments = seg, fields, segments
        self.issues: list[Issue] = []

    def add(self, path: str, code: str, what: str, span: Span | None) -> None:
        if self.seg.source is not None and span is not None:
            self.issues.append(issue_at(self.seg.source, span, path or "/", code, what))
        else:
            self.issues.append(Issue(path or "/", code, f"{path or '/'}: {what}", what=what))

    # -- fields and values ------------------------------------------------------------
    def field(self, name: str, path: str, span: Span | None) -> Field | None:
        f = self.fields.get(name)
        if f is None:
            hint = did_you_mean(name, self.fields.names())
            self.add(f"{path}/field", "unknown_field", f"unknown field '{name}'.{hint}", span)
            return None
        f = self.fields.resolve(name)
        if not f.available:
            self.add(f"{path}/field", "not_available", f"field '{name}' is {PREDICT_HINT}.", span)
            return None
        return f

    def value(self, f: Field, value: Value, path: str, span: Span | None) -> None:
        vpath = f"{path}/value"
        if isinstance(value, float) and not math.isfinite(value):
            self.add(vpath, "bad_value", f"the number {value} is out of range.", span)
            return
        if isinstance(value, RelDate):
            if f.type != "timestamp":
                self.add(vpath, "type_mismatch", f"'{f.name}' is a {f.type}; a date offset fits only dates.", span)
            else:
                self.reldate(value, vpath, span)
            return
        want = {"number": (int, float), "string": (str,), "boolean": (bool,), "timestamp": (str,)}[f.type]
        if not isinstance(value, want) or (f.type == "number" and isinstance(value, bool)):
            got = _describe(value)
            expected = {"timestamp": "a date like '2024-01-31' or an offset like -30d"}.get(f.type, f"a {f.type}")
            self.add(vpath, "type_mismatch", f"'{f.name}' is a {f.type}. Expected {expected}; got {got}.", span)
        elif f.type == "timestamp" and iso_date(value) is None:
            self.add(vpath, "bad_date", f"bad date {value!r}. Expected YYYY-MM-DD or an offset like -30d.", span)
        elif f.choices and value not in f.choices:
            hint = did_you_mean(str(value), f.choices)
            msg = f"unknown {f.name} {value!r}. Expected one of {list(f.choices)}.{hint}"
            self.add(vpath, "unknown_value", msg, span)

    def reldate(self, value: RelDate, path: str, span: Span | None) -> None:
        unit = value.unit
        text = f"{value.amount}{unit.lstrip('?')}"
        if unit.startswith("?") and unit[1:] in DATE_UNITS:
            self.add(
                path,
                "bad_offset",
                f"date offset '{text}' needs a sign: -{text} is {value.amount} "
                f"{DATE_UNITS[unit[1:]]} before the as-of date, +{text} after.",
                span,
            )
        elif unit not in DATE_UNITS or not isinstance(value.amount, int):
            self.add(
                path,
                "bad_offset",
                f"bad date offset '{text}'. Expected a whole number with d (days), "
                "w (weeks) or m (months), e.g. -30d, -4w, -6m.",
                span,
            )

    # -- nodes ------------------------------------------------------------------------
    def node(self, path: str, node: Node) -> None:
        if isinstance(node, Compare | Between | In | Contains | IsNull):
            self.attribute(path, node)
        elif isinstance(node, Event):
            self.event(path, node)
        elif isinstance(node, Distance):
            self.distance(path, node)
        elif isinstance(node, SegmentRef) and self.segments is not None and node.name not in self.segments:
            hint = did_you_mean(node.name, list(self.segments))
            self.add(f"{path}/segment", "unknown_segment", f"unknown segment '{node.name}'.{hint}", node.pos)

    def attribute(self, path: str, node: Compare | Between | In | Contains | IsNull) -> None:
        span = Span(node.pos.line, node.pos.col, len(node.field)) if node.pos else None
        f = self.field(node.field, path, span)
        if f is None or isinstance(node, IsNull):
            return
        vspan = node.value_pos
        if isinstance(node, Compare):
            if node.op not in COMPARE_OPS:
                self.add(f"{path}/op", "bad_operator", f"unknown operator {node.op!r}.", span)
            elif f.type == "boolean" and node.op not in ("=", "!="):
                self.add(f"{path}/op", "type_mismatch", f"'{f.name}' is a boolean; use = or !=.", span)
            self.value(f, node.value, path, vspan)
        elif isinstance(node, Between):
            if f.type in ("boolean", "string"):
                self.add(
                    f"{path}/op",
                    "type_mismatch",
                    f"BETWEEN needs a number or date field; '{f.name}' is a {f.type}.",
                    span,
                )
            for v in (node.low, node.high):
                self.value(f, v, path, vspan)
        elif isinstance(node, In):
            for v in node.values:
                self.value(f, v, path, vspan)
        elif f.type != "string":
            self.add(f"{path}/op", "type_mismatch", f"CONTAINS needs a text field; '{f.name}' is a {f.type}.", span)
        elif not isinstance(node.value, str):
            self.add(f"{path}/value", "type_mismatch", f"CONTAINS needs text; got {_describe(node.value)}.", vspan)

    def event(self, path: str, node: Event) -> None:
        span = node.pos
        if node.agg not in AGGREGATES:
            hint = did_you_mean(node.agg, AGGREGATES)
            self.add(
                f"{path}/agg",
                "bad_aggregate",
                f"unknown aggregate '{node.agg}'. Expected one of {list(AGGREGATES)}.{hint}",
                span,
            )
        elif (node.agg == "count") != (node.prop is None):
            need = "takes no property: .count" if node.agg == "count" else f"needs a property: .{node.agg}(value)"
            self.add(f"{path}/agg", "bad_aggregate", f"'{node.agg}' {need}.", span)
        if node.source not in SOURCES:
            self.add(f"{path}/source", "bad_source", f"unknown source {node.source!r}. Expected {list(SOURCES)}.", span)
        orders = node.source == "orders"
        if node.prop is not None and not _IDENT.fullmatch(node.prop):
            self.add(f"{path}/of", "bad_property", f"bad property name {node.prop!r}.", span)
        elif orders and node.prop is not None and node.prop not in ORDER_VALUES:
            self.add(
                f"{path}/of",
                "bad_property",
                f"orders have no {node.prop!r}. Expected one of "
                f"{list(ORDER_VALUES)}.{did_you_mean(node.prop, ORDER_VALUES)}",
                span,
            )
        for key, value in node.filters:
            if orders and key not in ORDER_FILTERS:
                self.add(
                    f"{path}/orders/{key}",
                    "bad_property",
                    f"orders can be filtered by {list(ORDER_FILTERS)}; got {key!r}.",
                    span,
                )
            elif orders and not isinstance(value, str):
                self.add(
                    f"{path}/orders/{key}", "type_mismatch", f"filter {key} needs text; got {_describe(value)}.", span
                )
            elif not _IDENT.fullmatch(key):
                self.add(
                    f"{path}/events/{key}",
                    "bad_property",
                    f"bad property name {key!r}. Expected letters, digits and _.",
                    span,
                )
            elif isinstance(value, float) and not math.isfinite(value):
                self.add(f"{path}/events/{key}", "bad_value", f"the number {value} is out of range.", span)
            elif not isinstance(value, str | int | float) or isinstance(value, bool):
                self.add(
                    f"{path}/events/{key}",
                    "type_mismatch",
                    f"filter {key} needs text or a number; got {_describe(value)}.",
                    span,
                )
        self.window(path, node, span)
        if node.op not in COMPARE_OPS:
            self.add(f"{path}/op", "bad_operator", f"unknown operator {node.op!r}.", span)
        if isinstance(node.value, float) and not math.isfinite(node.value):
            self.add(f"{path}/value", "bad_value", f"the number {node.value} is out of range.", node.value_pos)
        elif not isinstance(node.value, int | float) or isinstance(node.value, bool):
            self.add(
                f"{path}/value",
                "type_mismatch",
                f"an event {node.agg} is a number; got {_describe(node.value)}.",
                node.value_pos,
            )

    def window(self, path: str, node: Event, span: Span | None) -> None:
        if node.within is not None:
            if not isinstance(node.within, RelDate):
                self.add(f"{path}/events/within", "bad_offset", "within needs an offset like -30d, -4w or -6m.", span)
            elif node.within.amount > 0 and not node.within.unit.startswith("?"):
                self.add(
                    f"{path}/events/within",
                    "bad_offset",
                    "within looks back: use a negative offset like -30d.",
                    node.within.pos or span,
                )
            else:
                self.reldate(node.within, f"{path}/events/within", node.within.pos or span)
        if node.between is not None:
            start, end = (iso_date(d) for d in node.between)
            if start is None or end is None:
                self.add(
                    f"{path}/events/between", "bad_date", f"bad dates {list(node.between)}. Expected YYYY-MM-DD.", span
                )
            elif start > end:
                self.add(
                    f"{path}/events/between",
                    "bad_date",
                    f"the window ends before it starts: {list(node.between)}.",
                    span,
                )

    def distance(self, path: str, node: Distance) -> None:
        if node.unit != "km":
            self.add(
                f"{path}/km", "bad_unit", f"distance unit '{node.unit}' is unknown. Expected km, e.g. 50km.", node.pos
            )
        if not (math.isfinite(node.km) and node.km >= 0):
            self.add(f"{path}/km", "bad_value", f"distance {node.km} km is out of range.", node.pos)
        if not (-90 <= node.lat <= 90 and -180 <= node.lon <= 180):
            self.add(
                f"{path}/distance", "bad_value", f"({node.lat}, {node.lon}) is not a latitude/longitude.", node.pos
            )
        if node.op not in COMPARE_OPS:
            self.add(f"{path}/op", "bad_operator", f"unknown operator {node.op!r}.", node.pos)


def _describe(value: object) -> str:
    if isinstance(value, RelDate):
        return f"the offset {value.amount}{value.unit.lstrip('?')}"
    return f"{type(value).__name__} {value!r}"


def referenced_segments(seg: Segment) -> list[str]:
    """Names of the segments ``seg`` refers to directly, in order of appearance."""
    out: list[str] = []
    for _, node in walk(seg.rule):
        if isinstance(node, SegmentRef) and node.name not in out:
            out.append(node.name)
    return out


def _cycle(name: str, segments: Mapping[str, Segment]) -> list[str] | None:
    """A reference path from ``name`` back to itself, if any."""
    stack: list[tuple[str, list[str]]] = [(name, [name])]
    seen: set[str] = set()
    while stack:
        current, trail = stack.pop()
        for ref in referenced_segments(segments[current]) if current in segments else []:
            if ref == name:
                return [*trail, ref]
            if ref not in seen:
                seen.add(ref)
                stack.append((ref, [*trail, ref]))
    return None


def segment_issues(
    seg: Segment, fields: FieldRegistry = FIELDS, segments: Mapping[str, Segment] | None = None
) -> list[Issue]:
    """Every issue of ``seg``; an empty list when it is valid.

    A rule over the depth or node limit (:mod:`shopseg.rules.limits`) is reported before anything walks
    it; with ``segments``, the limits also hold for the rule with its references inlined.
    """
    limits = RuleLimits.current()
    over = shape_issues(rule_shape(seg.rule), limits)
    if over:
        return over
    checker = _Checker(seg, fields, segments)
    for path, node in walk(seg.rule):
        checker.node(path, node)
    if segments is not None:
        cycle = _cycle(seg.name, {**segments, seg.name: seg}) if seg.name is not None else None
        if cycle:
            checker.add("/", "cycle", f"segment reference cycle: {' -> '.join(cycle)}.", None)
        refs = referenced_segments(seg)
        if refs and not cycle:
            checker.issues += shape_issues(expanded_shape(seg.rule, segments), limits, refs=refs)
    return checker.issues


def validate_segment(
    seg: Segment, fields: FieldRegistry = FIELDS, segments: Mapping[str, Segment] | None = None
) -> Segment:
    """Check ``seg`` and return it; raise one :class:`SegmentError` listing every issue.

    Parameters
    ----------
    seg : Segment
        From :func:`shopseg.rules.parse.parse_segment`.
    fields : FieldRegistry, default=FIELDS
        Allowed fields.
    segments : mapping of str to Segment, default=None
        Saved segments ``segment('name')`` may refer to; None skips the check.

    Raises
    ------
    SegmentError
        ``issues`` holds every problem; the message shows each with line, column and caret.
    """
    issues = segment_issues(seg, fields, segments)
    if issues:
        raise SegmentError(summarize(issues, seg.name), issues)
    return seg
