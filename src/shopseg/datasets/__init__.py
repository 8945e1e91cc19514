"""Synthetic and built-in datasets.

:func:`generate_store` builds a deterministic synthetic store with planted
customer groups (:data:`PLANTED_GROUPS`, the ground truth); :func:`write_store`
loads it into a workspace; :func:`load_demo_store` is the small built-in store
behind ``shopseg demo``.
"""

from __future__ import annotations

from shopseg.datasets.generator import generate_store, iter_chunks, iter_store, load_demo_store
from shopseg.datasets.groups import PLANTED_GROUPS, PlantedGroup
from shopseg.datasets.write import TRUTH_TABLE, write_parquet, write_parquet_chunks, write_store

__all__ = [
    "generate_store",
    "iter_chunks",
    "iter_store",
    "load_demo_store",
    "write_store",
    "write_parquet",
    "write_parquet_chunks",
    "PLANTED_GROUPS",
    "PlantedGroup",
    "TRUTH_TABLE",
]
