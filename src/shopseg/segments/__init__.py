"""Segments: the named RFM map and lifecycle stages (the rule language joins them later).

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
    rfm_scores,
    rfm_segment_table,
    segment_of_cell,
)

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
