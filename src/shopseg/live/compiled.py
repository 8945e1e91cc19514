"""The saved segments compiled, for one as-of day, into checks of one live profile.

:func:`~shopseg.rules.evaluate.evaluate_node` walks the AST for every
evaluation: a dictionary dispatch per node, an evaluator object per customer,
and for every ``events(...)`` condition a look-up of its window and store slot.
On the live path (every event re-evaluates the segments it touches) that
walk was most of the cost. :class:`CompiledSegments` does the walk once per
segment set and day: each node becomes a closure, and an ``events(...)``
condition becomes two binary searches on the customer's store with its slot
and window (day ordinals) bound in (a ``count``), or the store's aggregate
(:meth:`~shopseg.live.aggregates.ConditionCatalogue.value`, the others).
Everything else (profile fields, distance, ``orders(...)``) is handed to the
batch evaluator's own step for that node, so there is one definition of each
condition; a ``segment('...')`` reference is evaluated once per profile and
check, as the batch evaluator does. The Hypothesis test of
``tests/live/test_aggregates.py`` holds the memberships equal to a full
rescan by the batch evaluator.

>>> import datetime as dt
>>> from shopseg.live.aggregates import ConditionCatalogue
>>> from shopseg.live.evaluator import LiveProfile
>>> from shopseg.rules.parse import parse_segment
>>> seg = parse_segment("events(type='ping', within=-1d).count >= 2")
>>> cat = ConditionCatalogue({"twice": [seg.rule]})
>>> prof = LiveProfile("c1")
>>> for day in (1, 2, 2):
...     _ = cat.add(prof.series, {"type": "ping", "occurred_at": dt.datetime(2024, 6, day, 9)})
>>> checks = CompiledSegments({"twice": seg}, cat, as_of=dt.date(2024, 6, 2))
>>> checks.check("twice", prof, {})
True
"""

from __future__ import annotations

import datetime as dt
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from shopseg.rules.evaluate import customer_evaluator
from shopseg.rules.fields import FIELDS, FieldRegistry
from shopseg.rules.nodes import And, Event, Node, Not, Or, Segment, SegmentRef

if TYPE_CHECKING:
    from shopseg.live.aggregates import ConditionCatalogue
    from shopseg.live.evaluator import LiveProfile

__all__ = ["CompiledSegments", "Check"]

#: ``(profile, memo) -> bool``; ``memo`` holds the outcomes of the segments already checked on that profile
#: (``segment('...')`` references), and the batch evaluator of the profile under the key None once made.
Check = Callable[["LiveProfile", dict[Any, Any]], bool]
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class CompiledSegments:
    """Every saved segment as a :data:`Check` of one live profile on ``as_of``.

    Parameters
    ----------
    segments : mapping of str to Segment
        The saved (validated) segments; ``segment('...')`` refers to them.
    catalogue : ConditionCatalogue
        The store layout of the profiles' incremental aggregates.
    fields : FieldRegistry, default=FIELDS
    as_of : date
        The day windows and relative dates are resolved on.
    """

    def __init__(
        self,
        segments: Mapping[str, Segment],
        catalogue: ConditionCatalogue,
        fields: FieldRegistry = FIELDS,
        *,
        as_of: dt.date,
    ) -> None:
        self.segments, self.catalogue, self.fields, self.as_of = segments, catalogue, fields, as_of
        self.checks: dict[str, Check] = {name: self._compile(seg.rule) for name, seg in segments.items()}

    def check(self, name: str, profile: LiveProfile, memo: dict[Any, Any]) -> bool:
        """Is ``profile`` in segment ``name``? (``memo``: shared by the checks of one profile, start with ``{}``.)"""
        held = memo.get(name)
        if held is None:
            held = memo[name] = self.checks[name](profile, memo)
        return held

    def _batch(self, profile: LiveProfile, memo: dict[Any, Any]) -> Callable[[Node], bool]:
        """The batch evaluator of one profile (made once per memo), its event aggregates read from the store."""
        ev = memo.get(None)
        if ev is None:
            ev = memo[None] = customer_evaluator(
                profile.base,
                as_of=self.as_of,
                fields=self.fields,
                segments=self.segments,
                orders=profile.orders,
                aggregates=partial(self.catalogue.value, profile.series),
            )
        return ev

    def _compile(self, node: Node) -> Check:
        if isinstance(node, And | Or):
            items = tuple(self._compile(item) for item in node.items)
            if len(items) == 1:
                return items[0]
            if len(items) == 2:
                a, b = items
                if isinstance(node, And):
                    return lambda p, m: a(p, m) and b(p, m)
                return lambda p, m: a(p, m) or b(p, m)
            if isinstance(node, And):  # also TRUE (no items)
                return lambda p, m: all(f(p, m) for f in items)
            return lambda p, m: any(f(p, m) for f in items)
        if isinstance(node, Not):
            inner = self._compile(node.item)
            return lambda p, m: not inner(p, m)
        if isinstance(node, SegmentRef):
            return partial(self.check, node.name)
        if isinstance(node, Event) and node.source == "events":
            return self._event(node)
        batch = self._batch
        return lambda p, m: batch(p, m)(node)  # a profile field, a distance, orders(...): the batch evaluator's step

    def _event(self, node: Event) -> Check:
        op, want = _OPS[node.op], node.value
        if node.agg != "count":
            value, as_of = self.catalogue.value, self.as_of

            def aggregate(p: LiveProfile, m: dict[Any, Any]) -> bool:
                total = value(p.series, node, as_of)
                return total is not None and bool(op(total, want))

            return aggregate
        slot, first, last = self.catalogue.locate(node, self.as_of)

        def count(p: LiveProfile, m: dict[Any, Any]) -> bool:
            days = p.series.get(slot)
            n = 0 if days is None else bisect_right(days, last) - bisect_left(days, first)
            return bool(op(float(n) if n > 0 else 0.0, want))

        return count
