"""Segments: the named RFM map, lifecycle stages, saved rule segments and the one segment query service.

- the RFM map: :mod:`~shopseg.segments.rfm_scores` (scores), :mod:`~shopseg.segments.rfm_map` (named cells,
  ``customer_rfm``); lifecycle stages: :mod:`~shopseg.segments.lifecycle`;
- persistence of saved rule segments: :mod:`~shopseg.segments.definitions` (``SegmentStore``: versions and
  dated membership snapshots), :mod:`~shopseg.segments.saved` (one saved version; the usable ones),
  :mod:`~shopseg.segments.snapshots` (history, movement, RFM migration);
- questions about a segment: :mod:`~shopseg.segments.query` (``SegmentQuery``: preview, members, size,
  overlap, diff, explain, export), :mod:`~shopseg.segments.breakdown`, :mod:`~shopseg.segments.audience`
  (a name to its members), :mod:`~shopseg.segments.customer_view` (one customer, for explain).

The rule language itself is the package :mod:`shopseg.rules`.

>>> from shopseg.segments import RFM_SEGMENTS, LIFECYCLE_STAGES
>>> RFM_SEGMENTS[0], RFM_SEGMENTS[-1], LIFECYCLE_STAGES[0]
('Champions', 'Lost', 'new')
"""

from __future__ import annotations

from shopseg.segments.lifecycle import (
    LIFECYCLE_STAGES,
    LIFECYCLE_TABLE,
    LifecycleThresholds,
    build_lifecycle,
    lifecycle_stages,
    lifecycle_thresholds,
    stage_counts,
)
from shopseg.segments.rfm_map import (
    NO_PURCHASE,
    RFM_CELLS,
    RFM_SEGMENTS,
    RFM_TABLE,
    build_rfm,
    rfm_segment_table,
    segment_of_cell,
)
from shopseg.segments.rfm_scores import rfm_scores

__all__ = [
    "LIFECYCLE_STAGES",
    "LIFECYCLE_TABLE",
    "LifecycleThresholds",
    "NO_PURCHASE",
    "RFM_CELLS",
    "RFM_SEGMENTS",
    "RFM_TABLE",
    "build_lifecycle",
    "build_rfm",
    "lifecycle_stages",
    "lifecycle_thresholds",
    "rfm_scores",
    "rfm_segment_table",
    "segment_of_cell",
    "stage_counts",
]
