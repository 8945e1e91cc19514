"""shopseg: open-source e-commerce customer segmentation.

>>> import shopseg
>>> shopseg.__version__
'0.1.0'
"""

from __future__ import annotations

from shopseg.config import config_context, get_setting
from shopseg.engine import Engine, get_engine
from shopseg.errors import SchemaError, SegmentError, ShopsegError
from shopseg.workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Workspace",
    "Engine",
    "get_engine",
    "config_context",
    "get_setting",
    "ShopsegError",
    "SchemaError",
    "SegmentError",
]
