"""Text form and JSON form of a segment rule -> one AST (:mod:`shopseg.rules.nodes`).

The text form is parsed by a Lark LALR grammar (:data:`GRAMMAR`); keywords are
case-insensitive, strings take single or double quotes with backslash escapes.
Syntax errors are reported as a :class:`~shopseg.errors.SegmentError` whose
message points at the character (line, column and a caret). Names and values
are checked later by :func:`shopseg.rules.validate.validate_segment`.

>>> parse_segment("orders >= 3 AND NOT segment('vip')").rule
And(items=(Compare(field='orders', op='>=', value=3), Not(item=SegmentRef(name='vip'))))
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from shopseg.errors import Issue, RuleTooLargeError, SegmentError
from shopseg.rules.limits import RuleLimits, json_shape, lark_shape, length_issue, shape_issues
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
    RelDate,
    Segment,
    SegmentRef,
    Span,
    Value,
)
from shopseg.rules.render import render
from shopseg.rules.validate import issue_at, summarize

__all__ = ["GRAMMAR", "parse_segment", "parse_text", "parse_json"]

GRAMMAR = r"""
start: expr
?expr: and_expr (_OR and_expr)+   -> or_
     | and_expr
?and_expr: not_expr (_AND not_expr)+   -> and_
         | not_expr
?not_expr: _NOT not_expr   -> not_
         | atom
?atom: "(" expr ")"
     | TRUE   -> true_
     | FALSE  -> false_
     | NAME OP value                           -> compare
     | NAME _BETWEEN value _AND value          -> between
     | NAME _IN "(" value ("," value)* ")"     -> in_
     | NAME _CONTAINS value                    -> contains
     | NAME _IS NULL                           -> is_null
     | NAME _IS _NOT NULL                      -> is_not_null
     | call "." NAME OP value                  -> event_count
     | call "." NAME "(" NAME ")" OP value     -> event_agg
     | call                                    -> event_any
     | _SEGMENT "(" STRING ")"                 -> segment_ref
     | _DISTANCE "(" number "," number ")" OP DURATION  -> distance
call: SOURCE "(" [arg ("," arg)*] ")"
arg: NAME "=" value        -> arg_eq
   | _BETWEEN STRING _AND STRING  -> arg_between
?value: STRING -> string
      | number
      | DURATION -> duration
      | TRUE -> true_value
      | FALSE -> false_value
number: NUMBER
OP: "<=" | ">=" | "!=" | "<>" | "=" | "<" | ">"
_AND.2: /and\b/i
_OR.2: /or\b/i
_NOT.2: /not\b/i
_BETWEEN.2: /between\b/i
_IN.2: /in\b/i
_CONTAINS.2: /contains\b/i
_IS.2: /is\b/i
NULL.2: /null\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
_SEGMENT.2: /segment\b/i
_DISTANCE.2: /distance\b/i
SOURCE.2: /(events|orders)(?=\s*\()/
DURATION.3: /[+-]?\d+(\.\d+)?(?![eE][+-]?\d)[A-Za-z_]\w*/
NUMBER: /[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/
STRING: /'(?:[^'\\]|\\.)*'/s | /"(?:[^"\\]|\\.)*"/s
NAME: /[A-Za-z_][A-Za-z0-9_]*/
%import common.WS
%ignore WS
"""

_DURATION = re.compile(r"([+-]?)(\d+(?:\.\d+)?)([A-Za-z_]\w*)")


def _span(tok: Token) -> Span:
    return Span(tok.line or 1, tok.column or 1, max(len(str(tok)), 1))


def _unquote(tok: Token) -> str:
    return re.sub(r"\\(.)", r"\1", str(tok)[1:-1], flags=re.S)


def _number(text: str) -> int | float:
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    return float(text)


def _reldate(tok: Token) -> RelDate:
    return reldate_of(str(tok), _span(tok))


def reldate_of(text: str, pos: Span | None = None) -> RelDate:
    """``"-90d"`` -> ``RelDate(-90, "d")``; an unsigned offset gets unit ``"?d"`` (validation asks for a sign)."""
    m = _DURATION.fullmatch(text.strip())
    if m is None:
        return RelDate(0, f"?{text}", pos=pos)
    sign, digits, unit = m.groups()
    amount = _number(digits) * (-1 if sign == "-" else 1)
    return RelDate(amount, unit if sign else f"?{unit}", pos=pos)


@v_args(inline=True)
class _ToAst(Transformer):  # type: ignore[type-arg]
    def start(self, node: Node) -> Node:
        return node

    def or_(self, *items: Node) -> Or:
        return Or(tuple(items))

    def and_(self, *items: Node) -> And:
        return And(tuple(items))

    def not_(self, item: Node) -> Not:
        return Not(item)

    def true_(self, _: Token) -> And:
        return And(())

    def false_(self, _: Token) -> Or:
        return Or(())

    def string(self, tok: Token) -> tuple[Value, Span]:
        return _unquote(tok), _span(tok)

    def number(self, tok: Token) -> tuple[Value, Span]:
        return _number(str(tok)), _span(tok)

    def duration(self, tok: Token) -> tuple[Value, Span]:
        return _reldate(tok), _span(tok)

    def true_value(self, tok: Token) -> tuple[Value, Span]:
        return True, _span(tok)

    def false_value(self, tok: Token) -> tuple[Value, Span]:
        return False, _span(tok)

    def compare(self, name: Token, op: Token, value: tuple[Value, Span]) -> Compare:
        return Compare(str(name), _op(op), value[0], pos=_span(name), value_pos=value[1])

    def between(self, name: Token, low: tuple[Value, Span], high: tuple[Value, Span]) -> Between:
        return Between(str(name), low[0], high[0], pos=_span(name), value_pos=low[1])

    def in_(self, name: Token, *values: tuple[Value, Span]) -> In:
        first, last = values[0][1], values[-1][1]
        length = last.col + last.length - first.col if last.line == first.line else first.length
        return In(
            str(name), tuple(v for v, _ in values), pos=_span(name), value_pos=Span(first.line, first.col, length)
        )

    def contains(self, name: Token, value: tuple[Value, Span]) -> Contains:
        return Contains(str(name), value[0], pos=_span(name), value_pos=value[1])

    def is_null(self, name: Token, _null: Token) -> IsNull:
        return IsNull(str(name), False, pos=_span(name))

    def is_not_null(self, name: Token, _null: Token) -> IsNull:
        return IsNull(str(name), True, pos=_span(name))

    def segment_ref(self, name: Token) -> SegmentRef:
        return SegmentRef(_unquote(name), pos=_span(name))

    def distance(self, lat: tuple[Value, Span], lon: tuple[Value, Span], op: Token, km: Token) -> Distance:
        d = _reldate(km)
        return Distance(float(lat[0]), float(lon[0]), _op(op), abs(float(d.amount)), d.unit.lstrip("?"), pos=_span(km))

    def arg_eq(self, name: Token, value: tuple[Value, Span]) -> tuple[str, Any, Span]:
        return str(name), value[0], _span(name)

    def arg_between(self, low: Token, high: Token) -> tuple[str, Any, Span]:
        return "between", (_unquote(low), _unquote(high)), _span(low)

    def call(self, source: Token, *args: tuple[str, Any, Span] | None) -> tuple[list[tuple[str, Any, Span]], str]:
        return [a for a in args if a is not None], str(source)

    def event_count(self, call: Any, agg: Token, op: Token, value: tuple[Value, Span]) -> Event:
        return _event(call, str(agg), None, _op(op), value, _span(agg))

    def event_agg(self, call: Any, agg: Token, prop: Token, op: Token, value: tuple[Value, Span]) -> Event:
        return _event(call, str(agg), str(prop), _op(op), value, _span(agg))

    def event_any(self, call: Any) -> Event:
        return _event(call, "count", None, ">=", (1, None), None)


def _op(tok: Token) -> str:
    return "!=" if str(tok) == "<>" else str(tok)


def _event(call: Any, agg: str, prop: str | None, op: str, value: Any, pos: Any) -> Event:
    args, source = call
    filters: list[tuple[str, Value]] = []
    within: Any = None
    between: Any = None
    for key, val, _ in args:
        if key == "within":
            within = val
        elif key == "between":
            between = val
        else:
            filters.append((key, val))
    return Event(source, tuple(filters), within, between, agg, prop, op, value[0], pos=pos, value_pos=value[1])


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


_FRIENDLY = {
    "RPAR": "')'",
    "LPAR": "'('",
    "COMMA": "','",
    "DOT": "'.'",
    "NAME": "a field name",
    "OP": "a comparison (=, <, >=, ...)",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "DURATION": "a date offset like -30d",
    "$END": "the end of the rule",
    "_AND": "AND",
    "_OR": "OR",
    "_NOT": "NOT",
    "_IN": "IN",
    "_IS": "IS",
    "NULL": "NULL",
    "_BETWEEN": "BETWEEN",
    "_CONTAINS": "CONTAINS",
    "TRUE": "true",
    "FALSE": "false",
    "SOURCE": "events(...) or orders(...)",
    "_SEGMENT": "segment(...)",
    "_DISTANCE": "distance(...)",
    "EQUAL": "'='",
}


def _expected(names: set[str]) -> str:
    shown = sorted({_FRIENDLY.get(n, n) for n in names})
    return ", ".join(shown[:8]) + (", ..." if len(shown) > 8 else "")


def _paren_issues(text: str) -> list[Issue]:
    """Every unbalanced parenthesis outside strings, with its position."""
    stack: list[tuple[int, int]] = []
    issues: list[Issue] = []
    line, col, quote, escaped = 1, 0, "", False
    for ch in text:
        col += 1
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            stack.append((line, col))
        elif ch == ")":
            if stack:
                stack.pop()
            else:
                issues.append(issue_at(text, Span(line, col), "/", "unbalanced_parenthesis", "')' has no matching '('"))
        if ch == "\n":
            line, col = line + 1, 0
    for ln, cl in stack:
        issues.append(issue_at(text, Span(ln, cl), "/", "unbalanced_parenthesis", "'(' is never closed"))
    return issues


def _syntax_issue(text: str, exc: UnexpectedInput) -> Issue:
    line, col = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedCharacters):
        what = (
            f"unexpected character {text[exc.pos_in_stream]!r}" if exc.pos_in_stream < len(text) else "unexpected input"
        )
        if text[exc.pos_in_stream : exc.pos_in_stream + 1] in "'\"":
            what = "unterminated string"
        return issue_at(text, Span(line, col), "/", "syntax", what + ".")
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        tok = exc.token
        msg = f"unexpected {str(tok)!r}. Expected {_expected(set(exc.expected))}."
        return issue_at(text, Span(line, col, max(len(str(tok)), 1)), "/", "syntax", msg)
    expected = set(getattr(exc, "expected", ()) or ())
    end = _end_span(text)
    return issue_at(text, end, "/", "syntax", f"unexpected end of rule. Expected {_expected(expected)}.")


def _end_span(text: str) -> Span:
    lines = text.rstrip().split("\n") or [""]
    return Span(len(lines), len(lines[-1]) + 1)


def parse_text(text: str) -> Segment:
    """Parse the text form; raise :class:`SegmentError` on a syntax error (with a caret).

    The limits of :mod:`shopseg.rules.limits` hold before any expensive step: the length before Lark
    reads the text, depth and node count before its parse tree becomes the AST (:class:`RuleTooLargeError`,
    or a :class:`SegmentError` with code ``too_deep`` / ``too_many_nodes``).
    """
    limits = RuleLimits.current()
    _check_length(text, limits)
    if not text.strip():
        raise SegmentError(
            "segment: the rule is empty. Expected a condition such as `orders >= 3`.",
            [Issue("/", "empty", "the rule is empty")],
        )
    issues = _paren_issues(text)
    if not issues:
        try:
            tree = _parser().parse(text)
        except UnexpectedInput as exc:
            issues = [_syntax_issue(text, exc)]
        else:
            issues = shape_issues(lark_shape(tree), limits)
            if not issues:
                try:
                    rule = _ToAst().transform(tree)
                except VisitError as exc:  # pragma: no cover - a transformer bug, reported as a syntax issue
                    issues = [Issue("/", "syntax", f"cannot read the rule: {exc.orig_exc}")]
                else:
                    return _fits(Segment(rule, source=text), limits)
    raise SegmentError(_summary(issues), issues)


def _check_length(text: str, limits: RuleLimits, *, json_form: bool = False) -> None:
    issue = length_issue(text, json_form=json_form, limits=limits)
    if issue is not None:
        raise RuleTooLargeError(_summary([issue]), [issue])


def _fits(seg: Segment, limits: RuleLimits) -> Segment:
    """``seg`` once the canonical text it is saved as fits ``segment_max_rule_chars`` (it is read back from that)."""
    issue = length_issue(render(seg.rule), limits=limits, what="the rule's canonical text form")
    if issue is not None:
        raise RuleTooLargeError(_summary([issue]), [issue])
    return seg


def _summary(issues: list[Issue]) -> str:
    return summarize(issues)


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
        _check_length(data, limits, json_form=True)
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, RecursionError) as exc:  # the C decoder recurses per level: very deep JSON
            where = f"line {exc.lineno}, col {exc.colno}: " if isinstance(exc, json.JSONDecodeError) else ""
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            issue = Issue("/", "syntax", f"{where}invalid JSON: {msg}.")
            raise SegmentError(_summary([issue]), [issue]) from None
    issues: list[Issue] = shape_issues(json_shape(data), limits)
    if issues:
        raise SegmentError(_summary(issues), issues)
    rule = _json_node(data, "", issues)
    if issues:
        raise SegmentError(_summary(issues), issues)
    return _fits(Segment(rule), limits)


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
    return Distance(float(point[0]), float(point[1]), _json_op(data, path, issues), float(km))


def _is_num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def parse_segment(definition: str | Mapping[str, Any] | Segment) -> Segment:
    """Parse a rule in text form, or JSON form (a dict, or a string starting with ``{``).

    Parameters
    ----------
    definition : str or dict or Segment
        ``"orders >= 3 AND last_order < -90d"`` or ``{"and": [...]}``.

    Returns
    -------
    Segment

    Raises
    ------
    SegmentError
        With ``issues`` and a message pointing at the character.
    """
    if isinstance(definition, Segment):
        return definition
    if isinstance(definition, Mapping | bool):
        return parse_json(definition)  # type: ignore[arg-type]
    if not isinstance(definition, str):
        issue = Issue("/", "type", f"a rule must be text or a JSON object; got {type(definition).__name__}")
        raise SegmentError(_summary([issue]), [issue])
    if definition.lstrip().startswith("{"):
        return parse_json(definition)
    return parse_text(definition)
