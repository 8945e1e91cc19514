"""The JSON form of a segment rule -> the AST (:mod:`shopseg.rules.nodes`), every problem collected with its path.

>>> parse_json({"and": [{"field": "orders", "op": ">=", "value": 3}, {"not": {"segment": "vip"}}]}).rule
And(items=(Compare(field='orders', op='>=', value=3), Not(item=SegmentRef(name='vip'))))
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shopseg.errors import Issue, SegmentError
from shopseg.rules.issues import summarize
from shopseg.rules.limits import RuleLimits, json_shape, refuse_long_canonical, refuse_long_text, shape_issues
from shopseg.rules.nodes import (
    COMPARE_OPS,
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
    Segment,
    SegmentRef,
    Value,
    reldate_of,
)

__all__ = ["parse_json"]


def parse_json(data: Mapping[str, Any] | bool | str) -> Segment:
    """Parse the JSON form (a dict or a JSON string).

    ``{"and": [...]}``, ``{"or": [...]}``, ``{"not": {...}}``, ``true``/``false``;
    ``{"field": "orders", "op": ">=", "value": 3}`` (``op`` also ``between``,
    ``in``, ``contains``, ``is null``, ``is not null``; a relative date is
    ``{"relative": "-90d"}``); ``{"events": {"type": "purchase", "within": "-7d"},
    "agg": "count", "op": "=", "value": 0}`` (``"of": "value"`` for sum/avg/min/max,
    ``"between": ["2024-01-01", "2024-03-31"]`` for an absolute window);
    ``{"segment": "vip"}``; ``{"distance": [52.5, 13.4], "op": "<", "km": 50}``.
    """
    limits = RuleLimits.current()
    if isinstance(data, str):
        refuse_long_text(data, limits, json_form=True)
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, RecursionError) as exc:  # the C decoder recurses per level: very deep JSON
            where = f"line {exc.lineno}, col {exc.colno}: " if isinstance(exc, json.JSONDecodeError) else ""
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            issue = Issue("/", "syntax", f"{where}invalid JSON: {msg}.")
            raise SegmentError(summarize([issue]), [issue]) from None
    issues: list[Issue] = shape_issues(json_shape(data), limits)
    if issues:
        raise SegmentError(summarize(issues), issues)
    rule = _json_node(data, "", issues)
    if issues:
        raise SegmentError(summarize(issues), issues)
    return refuse_long_canonical(Segment(rule), limits)


_JSON_OPS = {"between", "in", "contains", "is null", "is not null"}


def _json_value(raw: Any, path: str, issues: list[Issue]) -> Value:
    if isinstance(raw, bool | int | float | str) and not (isinstance(raw, float) and raw != raw):
        return raw
    if isinstance(raw, Mapping) and set(raw) == {"relative"} and isinstance(raw["relative"], str):
        return reldate_of(raw["relative"])
    issues.append(
        Issue(
            path,
            "bad_value",
            f"{path or '/'}: expected a string, number, boolean or "
            f'{{"relative": "-30d"}}; got {json.dumps(raw, default=str)[:60]}.',
        )
    )
    return 0


def _json_node(data: Any, path: str, issues: list[Issue]) -> Node:
    if data is True or data is False:
        return And(()) if data else Or(())
    if not isinstance(data, Mapping):
        issues.append(
            Issue(path, "bad_node", f"{path or '/'}: expected a condition object; got {type(data).__name__}.")
        )
        return And(())
    for key, cls in (("and", And), ("or", Or)):
        if key in data:
            items = data[key]
            if not isinstance(items, list):
                issues.append(Issue(f"{path}/{key}", "bad_node", f"{path}/{key}: expected a list of conditions."))
                return cls(())
            return cls(tuple(_json_node(x, f"{path}/{key}/{i}", issues) for i, x in enumerate(items)))
    if "not" in data:
        return Not(_json_node(data["not"], f"{path}/not", issues))
    if "segment" in data:
        if not isinstance(data["segment"], str):
            issues.append(Issue(f"{path}/segment", "bad_value", f"{path}/segment: expected a segment name."))
            return SegmentRef("")
        return SegmentRef(data["segment"])
    if "events" in data or "orders" in data:
        return _json_event(data, path, issues)
    if "distance" in data:
        return _json_distance(data, path, issues)
    if "field" in data:
        return _json_field(data, path, issues)
    issues.append(
        Issue(
            path,
            "bad_node",
            f"{path or '/'}: expected one of the keys and, or, not, field, "
            f"events, segment, distance; got {sorted(map(str, data))[:6]}.",
        )
    )
    return And(())


def _json_op(data: Mapping[str, Any], path: str, issues: list[Issue], extra: set[str] | None = None) -> str:
    if extra is None:
        extra = set()
    op = data.get("op")
    if not isinstance(op, str) or (op not in COMPARE_OPS and op.lower() not in extra):
        allowed = [*COMPARE_OPS, *sorted(extra)]
        issues.append(
            Issue(f"{path}/op", "bad_operator", f"{path}/op: unknown operator {op!r}. Expected one of {allowed}.")
        )
        return "="
    return op.lower()


def _json_field(data: Mapping[str, Any], path: str, issues: list[Issue]) -> Node:
    name = data["field"]
    if not isinstance(name, str):
        issues.append(Issue(f"{path}/field", "bad_value", f"{path}/field: expected a field name."))
        name = ""
    op = _json_op(data, path, issues, _JSON_OPS)
    if op in ("is null", "is not null"):
        return IsNull(name, op == "is not null")
    raw, vpath = data.get("value"), f"{path}/value"
    if op in ("between", "in"):
        if not isinstance(raw, list) or (op == "between" and len(raw) != 2) or not raw:
            issues.append(
                Issue(
                    vpath,
                    "bad_value",
                    f"{vpath}: '{op}' needs a list of {'two values' if op == 'between' else 'values'}.",
                )
            )
            return Compare(name, "=", 0)
        values = tuple(_json_value(v, f"{vpath}/{i}", issues) for i, v in enumerate(raw))
        return Between(name, values[0], values[1]) if op == "between" else In(name, values)
    value = _json_value(raw, vpath, issues)
    return Contains(name, value) if op == "contains" else Compare(name, op, value)


def _json_event(data: Mapping[str, Any], path: str, issues: list[Issue]) -> Event:
    source = "events" if "events" in data else "orders"
    spec = data[source]
    if not isinstance(spec, Mapping):
        issues.append(Issue(f"{path}/{source}", "bad_value", f"{path}/{source}: expected an object of filters."))
        spec = {}
    filters: list[tuple[str, Value]] = []
    within: Any = None
    between: Any = None
    for key, raw in spec.items():
        kpath = f"{path}/{source}/{key}"
        if key == "within":
            within = reldate_of(raw) if isinstance(raw, str) else _json_value(raw, kpath, issues)
        elif key == "between":
            if isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, str) for x in raw):
                between = (raw[0], raw[1])
            else:
                issues.append(Issue(kpath, "bad_value", f"{kpath}: expected two ISO dates."))
        else:
            filters.append((str(key), _json_value(raw, kpath, issues)))
    agg, prop = data.get("agg", "count"), data.get("of")
    if not isinstance(agg, str) or not (prop is None or isinstance(prop, str)):
        issues.append(Issue(f"{path}/agg", "bad_value", f"{path}/agg: expected an aggregate name and a property."))
        agg, prop = "count", None
    op = _json_op(data, path, issues) if "op" in data else ">="
    value = _json_value(data.get("value", 1), f"{path}/value", issues)
    return Event(source, tuple(filters), within, between, agg, prop, op, value)


def _json_distance(data: Mapping[str, Any], path: str, issues: list[Issue]) -> Distance:
    point, km = data["distance"], data.get("km")
    ok = isinstance(point, list) and len(point) == 2 and all(_is_num(x) for x in point) and _is_num(km)
    if not ok:
        issues.append(
            Issue(f"{path}/distance", "bad_value", f"{path}/distance: expected [lat, lon] and a number 'km'.")
        )
        return Distance(0.0, 0.0, "<", 0.0)
    return Distance(float(point[0]), float(point[1]), _json_op(data, path, issues), float(km))  # type: ignore[arg-type]


def _is_num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)
