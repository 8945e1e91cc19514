"""Text form and JSON form of a segment rule -> one AST (:mod:`shopseg.rules.nodes`).

The text form is parsed by a Lark LALR grammar (:data:`~shopseg.rules.grammar.GRAMMAR`); keywords are
case-insensitive, strings take single or double quotes with backslash escapes.
Syntax errors are reported as a :class:`~shopseg.errors.SegmentError` whose
message points at the character (line, column and a caret). Names and values
are checked later by :func:`shopseg.rules.validate.validate_segment`. The JSON
form is read by :func:`shopseg.rules.json_form.parse_json`; :func:`parse_segment`
takes either.

>>> parse_segment("orders >= 3 AND NOT segment('vip')").rule
And(items=(Compare(field='orders', op='>=', value=3), Not(item=SegmentRef(name='vip'))))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError

from shopseg.errors import Issue, SegmentError
from shopseg.rules.grammar import GRAMMAR, paren_issues, syntax_issue
from shopseg.rules.issues import summarize
from shopseg.rules.json_form import parse_json
from shopseg.rules.limits import RuleLimits, lark_shape, refuse_long_canonical, refuse_long_text, shape_issues
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
    Span,
    Value,
    number_of,
    reldate_of,
)

__all__ = ["GRAMMAR", "parse_segment", "parse_text", "parse_json"]


def _span(tok: Token) -> Span:
    return Span(tok.line or 1, tok.column or 1, max(len(str(tok)), 1))


def _unquote(tok: Token) -> str:
    return re.sub(r"\\(.)", r"\1", str(tok)[1:-1], flags=re.S)


def _reldate(tok: Token) -> RelDate:
    return reldate_of(str(tok), _span(tok))


@v_args(inline=True)
class _ToAst(Transformer):
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
        return number_of(str(tok)), _span(tok)

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
        return Distance(float(lat[0]), float(lon[0]), _op(op), abs(float(d.amount)), d.unit.lstrip("?"), pos=_span(km))  # type: ignore[arg-type]

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


def parse_text(text: str) -> Segment:
    """Parse the text form; raise :class:`SegmentError` on a syntax error (with a caret).

    The limits of :mod:`shopseg.rules.limits` hold before any expensive step: the length before Lark
    reads the text, depth and node count before its parse tree becomes the AST (:class:`RuleTooLargeError`,
    or a :class:`SegmentError` with code ``too_deep`` / ``too_many_nodes``).
    """
    limits = RuleLimits.current()
    refuse_long_text(text, limits)
    if not text.strip():
        raise SegmentError(
            "segment: the rule is empty. Expected a condition such as `orders >= 3`.",
            [Issue("/", "empty", "the rule is empty")],
        )
    issues = paren_issues(text)
    if not issues:
        try:
            tree = _parser().parse(text)
        except UnexpectedInput as exc:
            issues = [syntax_issue(text, exc)]
        else:
            issues = shape_issues(lark_shape(tree), limits)
            if not issues:
                try:
                    rule = _ToAst().transform(tree)
                except VisitError as exc:  # pragma: no cover - a transformer bug, reported as a syntax issue
                    issues = [Issue("/", "syntax", f"cannot read the rule: {exc.orig_exc}")]
                else:
                    return refuse_long_canonical(Segment(rule, source=text), limits)
    raise SegmentError(summarize(issues), issues)


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
        return parse_json(definition)
    if not isinstance(definition, str):
        issue = Issue("/", "type", f"a rule must be text or a JSON object; got {type(definition).__name__}")
        raise SegmentError(summarize([issue]), [issue])
    if definition.lstrip().startswith("{"):
        return parse_json(definition)
    return parse_text(definition)
