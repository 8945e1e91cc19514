"""Interests: category, brand and price-band affinity with time decay, and interest segments.

>>> from shopseg.interests import affinity_scores, build_interests
"""

from __future__ import annotations

from shopseg.interests.affinity import INTERESTS_TABLE, affinity_scores, build_interests, interest_table

__all__ = ["INTERESTS_TABLE", "affinity_scores", "build_interests", "interest_table"]
