"""Rules that can never match (``spent > 500 AND spent < 100``) or always match, found without data.

Saving such a rule is refused unless forced; previews list these as warnings.
"""

from __future__ import annotations

from shopseg.errors import Issue
from shopseg.rules.fields import FIELDS, FieldRegistry
from shopseg.rules.nodes import And, Between, Compare, Node, Not, Or, Segment, iso_date, walk

__all__ = ["static_issues"]


# -- static checks (warnings before save) ------------------------------------------------------
_Bound = tuple[object, bool]  # (value, inclusive)


def _bounds(node: Node, fields: FieldRegistry) -> tuple[str, _Bound | None, _Bound | None] | None:
    """``(field, low, high)`` of a numeric or date comparison with literal values, else None."""
    if not isinstance(node, Compare | Between) or node.field not in fields:
        return None
    f = fields.resolve(node.field)
    values = [node.value] if isinstance(node, Compare) else [node.low, node.high]
    if f.type == "timestamp":
        parsed = [iso_date(v) for v in values]
    elif f.type == "number" and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        parsed = list(values)  # type: ignore[arg-type]
    else:
        return None
    if any(v is None for v in parsed):
        return None
    if isinstance(node, Between):
        return f.name, (parsed[0], True), (parsed[1], True)
    v = parsed[0]
    op = node.op
    return {
        "=": (f.name, (v, True), (v, True)),
        "<": (f.name, None, (v, False)),
        "<=": (f.name, None, (v, True)),
        ">": (f.name, (v, False), None),
        ">=": (f.name, (v, True), None),
    }.get(op)


def _empty(low: _Bound | None, high: _Bound | None) -> bool:
    if low is None or high is None:
        return False
    (lo, lo_in), (hi, hi_in) = low, high
    return bool(lo > hi or (lo == hi and not (lo_in and hi_in)))  # type: ignore[operator]


def _tighter(a: _Bound | None, b: _Bound | None, lower: bool) -> _Bound | None:
    if a is None or b is None:
        return a or b
    if a[0] == b[0]:
        return (a[0], a[1] and b[1])
    return max(a, b, key=lambda x: x[0]) if lower else min(a, b, key=lambda x: x[0])  # type: ignore[arg-type,return-value]


def static_issues(seg: Segment, fields: FieldRegistry = FIELDS) -> list[Issue]:
    """Rules that can never match (``spent > 500 AND spent < 100``) or always match, found without data."""
    out: list[Issue] = []
    for path, node in walk(seg.rule):
        if isinstance(node, And):
            ranges: dict[str, tuple[_Bound | None, _Bound | None]] = {}
            label: dict[str, str] = {}
            for item in node.items:
                b = _bounds(item, fields)
                if b is None:
                    continue
                label.setdefault(b[0], item.field)  # type: ignore[union-attr]
                lo, hi = ranges.get(b[0], (None, None))
                ranges[b[0]] = (_tighter(lo, b[1], True), _tighter(hi, b[2], False))
            for name, (lo, hi) in ranges.items():
                if _empty(lo, hi):
                    out.append(
                        Issue(
                            path or "/",
                            "always_empty",
                            f"{path or '/'}: the conditions on '{label[name]}' "
                            "cannot all hold: this part never matches.",
                        )
                    )
        if isinstance(node, And | Or):
            negated = {item.item for item in node.items if isinstance(item, Not)}
            if any(item in negated for item in node.items):
                code, what = (
                    ("always_empty", "never matches") if isinstance(node, And) else ("always_true", "always matches")
                )
                out.append(Issue(path or "/", code, f"{path or '/'}: a condition and its negation: this part {what}."))
    if seg.rule == And(()):
        out.append(Issue("/", "always_true", "/: the rule is TRUE: every customer matches."))
    if seg.rule == Or(()):
        out.append(Issue("/", "always_empty", "/: the rule is FALSE: no customer matches."))
    return out
