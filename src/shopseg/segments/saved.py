"""One saved segment version, and the saved segments that can be used now (the broken ones set apart, by name).

A saved rule is read back from its stored text on every use, and what it may
be changes after it was saved: the limits (:mod:`shopseg.rules.limits`)
were added or lowered, a field it reads went away (predictions deleted), a
segment it refers to broke. :func:`usable_segments` keeps every segment that
still parses and validates against the others, and returns each one that does
not with its :class:`~shopseg.errors.SegmentError`, so one bad segment never
stops the others: refresh, overlaps, previews, members pages and the live
engine go on with the rest and report the broken ones by name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from shopseg.errors import Issue, SegmentError
from shopseg.rules.fields import FieldRegistry
from shopseg.rules.issues import summarize
from shopseg.rules.nodes import Segment
from shopseg.rules.parse import parse_segment
from shopseg.rules.validate import referenced_segments, segment_issues

__all__ = ["SavedSegment", "usable_segments", "broken_ref_issues", "describe_broken", "named_error"]


@dataclass(frozen=True)
class SavedSegment:
    """One version of a saved segment."""

    name: str
    version: int
    definition: str
    description: str
    created_at: dt.datetime

    @property
    def segment(self) -> Segment:
        """The parsed rule; a :class:`SegmentError` whose message names the segment when it no longer parses."""
        try:
            seg = parse_segment(self.definition)
        except SegmentError as exc:
            raise named_error(exc, self.name) from None
        return Segment(seg.rule, source=seg.source, name=self.name)


def named_error(exc: SegmentError, name: str) -> SegmentError:
    """``exc`` about the saved segment ``name``: the summary and each issue's message start with it."""
    issues = [
        i if i.message.startswith(f"segment '{name}' ") else replace(i, message=f"segment '{name}' {i.message}")
        for i in exc.issues
    ]
    return type(exc)(summarize(exc.issues, name), issues)


def broken_ref_issues(seg: Segment, broken: Mapping[str, SegmentError]) -> list[Issue]:
    """An issue for each segment ``seg`` refers to that is broken (instead of "unknown segment")."""
    return [
        Issue(
            "/",
            "broken_segment",
            f"/: segment('{name}') refers to a saved segment that cannot be used: {_first_lines(broken[name])}",
        )
        for name in referenced_segments(seg)
        if name in broken
    ]


def usable_segments(
    saved: Iterable[SavedSegment], fields: FieldRegistry
) -> tuple[dict[str, Segment], dict[str, SegmentError]]:
    """``(usable, broken)``: the segments that parse and validate against each other, and the error of each other one.

    A segment that refers to a broken one is broken too (its message says which reference); the check repeats
    until no more segments drop out.
    """
    good: dict[str, Segment] = {}
    broken: dict[str, SegmentError] = {}
    for s in saved:
        try:
            seg = parse_segment(s.definition)
        except SegmentError as exc:
            broken[s.name] = type(exc)(summarize(exc.issues, s.name), exc.issues)
        else:
            good[s.name] = Segment(seg.rule, source=seg.source, name=s.name)
    dropped = True
    while dropped:
        dropped = False
        for name, seg in list(good.items()):
            issues = broken_ref_issues(seg, broken) or segment_issues(seg, fields, good)
            if issues:
                broken[name] = SegmentError(summarize(issues, name), issues)
                del good[name]
                dropped = True
    return good, dict(sorted(broken.items()))


def describe_broken(name: str, exc: SegmentError) -> str:
    """One line for a report: ``segment 'x' cannot be used: <the first line of each issue>``."""
    return f"segment '{name}' cannot be used: {_first_lines(exc, name)}"


def _first_lines(exc: SegmentError, name: str | None = None) -> str:
    own = f"segment '{name}' "
    lines = [i.message.split("\n", 1)[0].removeprefix(own).removeprefix("/: ") for i in exc.issues]
    lines = lines or [str(exc).split("\n", 1)[0]]
    text = " ".join(lines[:3]) + (f" (and {len(lines) - 3} more problems)" if len(lines) > 3 else "")
    return text
