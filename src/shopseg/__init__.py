"""shopseg: open-source e-commerce customer segmentation.

>>> import shopseg
>>> shopseg.__version__
'0.1.0'

In a notebook::

    ws = shopseg.Workspace.open("store.duckdb")
    ws                                   # <Workspace 'store.duckdb': 4,372 customers, 22,190 orders, ...>
    shopseg.build_features(ws)           # one row per customer
    shopseg.build_rfm(ws)
    ws.table("customer_rfm")             # any table as a DataFrame
    shopseg.segment_members(ws, "orders >= 3 AND last_order < -90d")   # indexed by customer_id

The workspace and the build functions are imported on first use, so ``import shopseg`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopseg._lazy import lazy_attributes
from shopseg.config import config_context, get_setting
from shopseg.errors import SchemaError, SegmentError, ShopsegError

if TYPE_CHECKING:
    from shopseg.engine import Engine, get_engine
    from shopseg.features import build_features
    from shopseg.interests import build_interests
    from shopseg.io import ingest
    from shopseg.io.spec_ingest import ingest_spec
    from shopseg.models.cluster.workspace import cluster_workspace
    from shopseg.predict import predict_workspace
    from shopseg.reports import write_report
    from shopseg.segments.audience import segment_members
    from shopseg.segments.lifecycle import build_lifecycle
    from shopseg.segments.rfm_map import build_rfm
    from shopseg.workspace import Workspace

__version__ = "0.1.0"

_LAZY = {
    "Workspace": "shopseg.workspace",  # DuckDB: not needed by `shopseg --help`
    "Engine": "shopseg.engine",
    "get_engine": "shopseg.engine",
    "ingest": "shopseg.io",
    "ingest_spec": "shopseg.io.spec_ingest",
    "build_features": "shopseg.features",
    "build_rfm": "shopseg.segments.rfm_map",
    "build_lifecycle": "shopseg.segments.lifecycle",
    "build_interests": "shopseg.interests",
    "predict_workspace": "shopseg.predict",
    "cluster_workspace": "shopseg.models.cluster.workspace",
    "segment_members": "shopseg.segments.audience",
    "write_report": "shopseg.reports",
}

__all__ = [
    "__version__",
    "config_context",
    "get_setting",
    "ShopsegError",
    "SchemaError",
    "SegmentError",
    *_LAZY,
]

__getattr__ = lazy_attributes(__name__, _LAZY, globals())
