"""How large a segment rule may be: characters, nesting depth and node count, checked before the work they bound.

A rule is a tree that the parser's transformer, the validator, the Ibis
compiler, SQL generation and the Python evaluators all walk recursively, and
whose size sets the cost of every preview. Without bounds one saved rule of
1,000 ORs, or 150 nested NOTs, took Python past its recursion limit in every
query that compiled the saved segments together. Three settings
(:data:`shopseg.config.SETTINGS`) bound a rule:

- ``segment_max_rule_chars``: characters of the text form. The text form is
  measured as written, before Lark reads it, and the canonical text a rule is
  saved as is measured too (a JSON rule has no other text form; its JSON text
  may be :data:`JSON_FACTOR` times as long before it is decoded).
- ``segment_max_depth``: a condition is one level; each ``AND``/``OR``/``NOT``
  around it and each ``segment('name')`` it goes through adds one.
- ``segment_max_nodes``: conditions plus ``AND``/``OR``/``NOT`` operators
  (``TRUE``/``FALSE`` count one; an ``IN`` list is one condition, however many
  values it has). ``segment('name')`` counts one plus the nodes of that rule.

Every function here walks iteratively (an explicit stack), so a check itself
cannot hit the recursion limit on any input. Depth and nodes are measured on
Lark's parse tree before it becomes the AST, on a JSON document before it is
read, on an AST built in Python before it is validated, and on a rule with its
``segment('name')`` references inlined before it is compiled.

>>> from shopseg.rules.parse import parse_segment
>>> rule_shape(parse_segment("orders >= 3 AND NOT segment('vip')").rule)
Shape(depth=3, nodes=4)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from shopseg.config import SETTINGS, get_setting
from shopseg.errors import InvalidParameterError, Issue, RuleTooLargeError
from shopseg.rules.issues import summarize
from shopseg.rules.nodes import And, Node, Not, Or, Segment, SegmentRef
from shopseg.rules.render import render

__all__ = [
    "refuse_long_text",
    "refuse_long_canonical",
    "Shape",
    "RuleLimits",
    "JSON_FACTOR",
    "DEPTH_CEILING",
    "rule_shape",
    "lark_shape",
    "json_shape",
    "expanded_shape",
    "length_issue",
    "shape_issues",
    "limits_markdown",
]

#: How much longer than ``segment_max_rule_chars`` a rule's JSON text may be (JSON spells out every key).
JSON_FACTOR = 4
#: The largest ``segment_max_depth`` accepted: the recursive walks (transformer, compiler, Ibis and sqlglot,
#: evaluators) take a few Python frames per level, and 64 levels stay far from Python's 1,000-frame limit.
DEPTH_CEILING = 64
_NODES_CAP = 10**9  # expanded counts can grow exponentially through references; they stop growing here
#: Lark rules (parse.py's GRAMMAR) that become one AST node each, and those of them with sub-rules.
_LARK_NODES = frozenset(
    {
        "or_",
        "and_",
        "not_",
        "true_",
        "false_",
        "compare",
        "between",
        "in_",
        "contains",
        "is_null",
        "is_not_null",
        "event_count",
        "event_agg",
        "event_any",
        "segment_ref",
        "distance",
    }
)
_LARK_BRANCHES = frozenset({"or_", "and_", "not_"})


class Shape(NamedTuple):
    """How deep a rule is nested (a lone condition: 1) and how many nodes it has."""

    depth: int
    nodes: int


@dataclass(frozen=True)
class RuleLimits:
    """The three limits in force (from the settings)."""

    max_chars: int
    max_depth: int
    max_nodes: int

    @classmethod
    def current(cls) -> RuleLimits:
        """The limits of the settings in force; :class:`InvalidParameterError` for a value out of range."""
        ranges = {
            "segment_max_rule_chars": (1, None),
            "segment_max_depth": (1, DEPTH_CEILING),
            "segment_max_nodes": (1, None),
        }
        values = []
        for name, (low, high) in ranges.items():
            value = int(get_setting(name))
            if value < low or (high is not None and value > high):
                bound = f"[{low}, {high}]" if high is not None else f"[{low}, inf)"
                raise InvalidParameterError(
                    f"The '{name}' setting must be an int in the range {bound}. Got {value} instead."
                )
            values.append(value)
        return cls(*values)


def length_issue(
    text: str, *, json_form: bool = False, limits: RuleLimits | None = None, what: str = "the rule"
) -> Issue | None:
    """The issue of a rule text longer than the limit (``json_form``: JSON text, :data:`JSON_FACTOR` times), or None."""
    limits = limits or RuleLimits.current()
    cap = limits.max_chars * (JSON_FACTOR if json_form else 1)
    if len(text) <= cap:
        return None
    what = "the rule's JSON text" if json_form else what
    factor = (
        f" ({JSON_FACTOR} times the setting segment_max_rule_chars)"
        if json_form
        else " (setting segment_max_rule_chars)"
    )
    return Issue(
        "/",
        "too_long",
        f"/: {what} is {len(text):,} characters long. Expected at most {cap:,} characters"
        f"{factor}. Hint: put the values of one field in one IN (...) list, or raise the "
        "setting.",
    )


def shape_issues(shape: Shape, limits: RuleLimits | None = None, *, refs: list[str] | None = None) -> list[Issue]:
    """The issues of a rule over the depth or node limit; ``refs``: measured with these references inlined."""
    limits = limits or RuleLimits.current()
    via = ""
    if refs:
        shown = ", ".join(f"segment('{r}')" for r in refs[:3]) + (", ..." if len(refs) > 3 else "")
        via = f" with the segments it refers to inlined ({shown})"
    out = []
    if shape.depth > limits.max_depth:
        out.append(
            Issue(
                "/",
                "too_deep",
                f"/: the rule is nested {shape.depth:,} levels deep{via}. Expected at most "
                f"{limits.max_depth} levels of AND/OR/NOT and segment() (setting "
                "segment_max_depth).",
            )
        )
    if shape.nodes > limits.max_nodes:
        nodes = f"{shape.nodes:,}" if shape.nodes < _NODES_CAP else f"more than {_NODES_CAP:,}"
        out.append(
            Issue(
                "/",
                "too_many_nodes",
                f"/: the rule has {nodes} conditions and AND/OR/NOT operators{via}. "
                f"Expected at most {limits.max_nodes:,} (setting segment_max_nodes). "
                "Hint: put the values of one field in one IN (...) list.",
            )
        )
    return out


def rule_shape(node: Node) -> Shape:
    """Depth and node count of an AST (``segment('name')`` counted as one condition)."""
    return _summary(node).shape


def lark_shape(tree: Any) -> Shape:
    """Depth and node count of the AST a Lark parse tree of :data:`~shopseg.rules.parse.GRAMMAR` becomes."""
    depth = nodes = 0
    stack: list[tuple[Any, int]] = [(tree, 0)]
    while stack:
        current, level = stack.pop()
        data = getattr(current, "data", None)
        if data is None:  # a token
            continue
        if data in _LARK_NODES:
            level += 1
            nodes += 1
            depth = max(depth, level)
            if data not in _LARK_BRANCHES:
                continue
        stack.extend((child, level) for child in current.children)
    return Shape(depth, nodes)


def json_shape(data: Any) -> Shape:
    """Depth and node count of the AST a JSON-form document becomes (as :func:`~shopseg.rules.parse.parse_json` reads it)."""
    depth = nodes = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        current, level = stack.pop()
        nodes += 1
        depth = max(depth, level)
        if not isinstance(current, Mapping):
            continue
        if "and" in current or "or" in current:
            items = current["and"] if "and" in current else current["or"]
            if isinstance(items, list):
                stack.extend((item, level + 1) for item in items)
        elif "not" in current:
            stack.append((current["not"], level + 1))
    return Shape(depth, nodes)


class _Summary(NamedTuple):
    shape: Shape  # of the rule alone, a reference counted as one condition
    refs: dict[str, tuple[int, int]]  # name -> (how many references, the deepest one's level)


def _summary(node: Node) -> _Summary:
    depth = nodes = 0
    refs: dict[str, tuple[int, int]] = {}
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, level = stack.pop()
        nodes += 1
        depth = max(depth, level)
        if isinstance(current, And | Or):
            stack.extend((item, level + 1) for item in current.items)
        elif isinstance(current, Not):
            stack.append((current.item, level + 1))
        elif isinstance(current, SegmentRef):
            count, deepest = refs.get(current.name, (0, 0))
            refs[current.name] = (count + 1, max(deepest, level))
    return _Summary(Shape(depth, nodes), refs)


def _combine(summary: _Summary, done: Mapping[str, Shape]) -> Shape:
    depth, nodes = summary.shape
    for name, (count, level) in summary.refs.items():
        inner = done.get(name)
        if inner is not None:  # an unknown segment or a cycle: reported by the validator
            depth = max(depth, level + inner.depth)
            nodes = min(nodes + count * inner.nodes, _NODES_CAP)
    return Shape(depth, nodes)


def expanded_shape(rule: Node, segments: Mapping[str, Segment]) -> Shape:
    """Depth and node count of ``rule`` with every ``segment('name')`` replaced by the rule it names.

    A reference counts as one node and one level above the rule it brings in (evaluating it takes a step), so
    a chain of references is as deep as it is long. Each saved rule is summarised once (shared references do
    not multiply the work); counts stop growing at a billion.
    """
    root = _summary(rule)
    summaries: dict[str, _Summary] = {}
    done: dict[str, Shape] = {}
    on_path: set[str] = set()
    stack: list[tuple[str, bool]] = [(name, False) for name in root.refs]
    while stack:
        name, finished = stack.pop()
        if finished:
            on_path.discard(name)
            done[name] = _combine(summaries[name], done)
            continue
        if name in done or name in on_path or name not in segments:
            continue
        on_path.add(name)
        summaries[name] = summary = _summary(segments[name].rule)
        stack.append((name, True))
        stack.extend((ref, False) for ref in summary.refs if ref not in done)
    return _combine(root, done)


def limits_markdown() -> str:
    """The "Limits" section of docs/segment-language.md (the settings' defaults)."""
    chars, depth, nodes = (
        SETTINGS[n].default for n in ("segment_max_rule_chars", "segment_max_depth", "segment_max_nodes")
    )
    return "\n".join(
        [
            "## Limits",
            "",
            "Three settings bound a rule (docs/settings.md); each is checked before the work it bounds, and a rule over",
            "one is refused with a message naming the limit, the value found and the setting (HTTP 413 for the length,",
            "422 for the others; the CLI exits 1):",
            "",
            "| setting | default | what is counted |",
            "|---|---|---|",
            f"| `segment_max_rule_chars` | {chars:,} | characters of the text form, before it is parsed (and of the canonical "
            f"text it is saved as); a JSON rule's JSON text may be {JSON_FACTOR} times as long |",
            f"| `segment_max_depth` | {depth} | nesting: a condition is 1 level, each AND/OR/NOT around it and each "
            f"`segment('name')` it goes through adds 1 (at most {DEPTH_CEILING}) |",
            f"| `segment_max_nodes` | {nodes:,} | conditions plus AND/OR/NOT operators; an IN list is one condition; "
            "`segment('name')` counts 1 plus the nodes of the rule it names |",
            "",
            "Many values of one field fit in one condition: `country IN ('DE', 'AT', ...)` rather than `country = 'DE' OR",
            "country = 'AT' OR ...` (the compiler turns such OR chains into IN lists anyway, and long AND/OR chains into",
            "balanced trees, so no rule within the limits is too deep to compile). A saved segment that no longer fits",
            "(saved by an older version, or after a limit was lowered) is reported by name and left out; every other",
            "segment keeps working. Previews and members pages have a time budget, `preview_timeout_ms`",
            f"(default {SETTINGS['preview_timeout_ms'].default:,} ms): when it runs out their queries are interrupted and",
            "the request answers 503.",
        ]
    )


def refuse_long_text(text: str, limits: RuleLimits, *, json_form: bool = False) -> None:
    """Raise :class:`RuleTooLargeError` (413) when ``text`` is over ``segment_max_rule_chars``, before it is read."""
    issue = length_issue(text, json_form=json_form, limits=limits)
    if issue is not None:
        raise RuleTooLargeError(summarize([issue]), [issue])


def refuse_long_canonical(seg: Segment, limits: RuleLimits) -> Segment:
    """``seg`` once the canonical text it is saved as fits ``segment_max_rule_chars`` (it is read back from that)."""
    issue = length_issue(render(seg.rule), limits=limits, what="the rule's canonical text form")
    if issue is not None:
        raise RuleTooLargeError(summarize([issue]), [issue])
    return seg
