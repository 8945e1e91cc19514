"""Validated, atomic ingest of customer, order, product, event and survey files.

>>> from shopseg.io import ingest, IngestReport, PRESETS
>>> sorted(PRESETS)
['cdnow', 'cdnow_sample', 'online_retail', 'shopify', 'shopify_customers']
"""

from __future__ import annotations

from shopseg.io.columns import KINDS
from shopseg.io.ingest import ingest
from shopseg.io.presets import PRESETS, Preset
from shopseg.io.report import IngestReport

__all__ = ["ingest", "IngestReport", "PRESETS", "Preset", "KINDS"]
