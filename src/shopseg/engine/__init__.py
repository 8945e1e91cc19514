"""Execution engines: one Ibis definition of every feature and segment, run on DuckDB or Spark."""

from __future__ import annotations

from shopseg.engine.base import Engine, get_engine

__all__ = ["Engine", "get_engine"]
