"""AST -> canonical text form and JSON form; ``parse_segment(render(x)) == x`` for both.

>>> from shopseg.rules.parse import parse_segment
>>> render(parse_segment("orders>=3 and (country in ('DE','AT') or NOT spent < 10)"))
"orders >= 3 AND (country IN ('DE', 'AT') OR NOT spent < 10)"
"""

from __future__ import annotations

from typing import Any

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
)

__all__ = ["render", "render_node", "render_value", "to_json"]


def render_value(value: Value) -> str:
    """One literal in text form: quoted string, number, true/false or offset."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, RelDate):
        sign = "" if value.unit.startswith("?") else ("-" if value.amount < 0 else "+")
        return f"{sign}{abs(value.amount)}{value.unit.lstrip('?')}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _group(node: Node) -> str:
    text = render_node(node)
    return f"({text})" if isinstance(node, And | Or) and node.items else text


def _event(node: Event) -> str:
    args = [f"{k}={render_value(v)}" for k, v in node.filters]
    if node.within is not None:
        args.append(f"within={render_value(node.within)}")
    if node.between is not None:
        args.append(f"between {render_value(node.between[0])} and {render_value(node.between[1])}")
    agg = node.agg if node.prop is None else f"{node.agg}({node.prop})"
    return f"{node.source}({', '.join(args)}).{agg} {node.op} {render_value(node.value)}"


def render_node(node: Node) -> str:
    """The text form of one node (children of AND/OR that are AND/OR get parentheses)."""
    if isinstance(node, And | Or):
        if not node.items:
            return "TRUE" if isinstance(node, And) else "FALSE"
        joiner = " AND " if isinstance(node, And) else " OR "
        return joiner.join(_group(item) for item in node.items)
    if isinstance(node, Not):
        return f"NOT {_group(node.item)}"
    if isinstance(node, Compare):
        return f"{node.field} {node.op} {render_value(node.value)}"
    if isinstance(node, Between):
        return f"{node.field} BETWEEN {render_value(node.low)} AND {render_value(node.high)}"
    if isinstance(node, In):
        return f"{node.field} IN ({', '.join(render_value(v) for v in node.values)})"
    if isinstance(node, Contains):
        return f"{node.field} CONTAINS {render_value(node.value)}"
    if isinstance(node, IsNull):
        return f"{node.field} IS {'NOT ' if node.negated else ''}NULL"
    if isinstance(node, Event):
        return _event(node)
    if isinstance(node, SegmentRef):
        return f"segment({render_value(node.name)})"
    if isinstance(node, Distance):
        km = str(int(node.km)) if node.km.is_integer() and abs(node.km) < 1e15 else repr(node.km)
        return f"distance({node.lat!r}, {node.lon!r}) {node.op} {km}{node.unit}"
    raise TypeError(f"not a segment node: {node!r}")


def render(segment: Segment | Node) -> str:
    """The canonical text form of a rule."""
    return render_node(segment.rule if isinstance(segment, Segment) else segment)


def _json_value(value: Value) -> Any:
    if isinstance(value, RelDate):
        return {"relative": render_value(value)}
    return value


def _node_json(node: Node) -> Any:
    if isinstance(node, And | Or):
        if not node.items:
            return isinstance(node, And)
        return {"and" if isinstance(node, And) else "or": [_node_json(i) for i in node.items]}
    if isinstance(node, Not):
        return {"not": _node_json(node.item)}
    if isinstance(node, Compare):
        return {"field": node.field, "op": node.op, "value": _json_value(node.value)}
    if isinstance(node, Between):
        return {"field": node.field, "op": "between", "value": [_json_value(node.low), _json_value(node.high)]}
    if isinstance(node, In):
        return {"field": node.field, "op": "in", "value": [_json_value(v) for v in node.values]}
    if isinstance(node, Contains):
        return {"field": node.field, "op": "contains", "value": _json_value(node.value)}
    if isinstance(node, IsNull):
        return {"field": node.field, "op": "is not null" if node.negated else "is null"}
    if isinstance(node, SegmentRef):
        return {"segment": node.name}
    if isinstance(node, Distance):
        return {"distance": [node.lat, node.lon], "op": node.op, "km": node.km}
    if isinstance(node, Event):
        spec: dict[str, Any] = {k: _json_value(v) for k, v in node.filters}
        if node.within is not None:
            spec["within"] = render_value(node.within)
        if node.between is not None:
            spec["between"] = list(node.between)
        out: dict[str, Any] = {node.source: spec, "agg": node.agg}
        if node.prop is not None:
            out["of"] = node.prop
        return {**out, "op": node.op, "value": _json_value(node.value)}
    raise TypeError(f"not a segment node: {node!r}")


def to_json(segment: Segment | Node) -> Any:
    """The JSON form of a rule (plain dicts, lists and scalars)."""
    return _node_json(segment.rule if isinstance(segment, Segment) else segment)
