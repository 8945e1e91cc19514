"""The live engine's append-only journal: events are fsynced here before they are acknowledged.

A journal line is one committed group of events (JSON). Appending one line
and one ``fsync`` costs a few milliseconds whatever the group size, while a
DuckDB transaction per group costs several statements of CPU; so the writer
journals each group, acknowledges it, and applies the journaled events to the
workspace's ``events`` table in larger transactions (every ``live_apply_ms`` or
``live_apply_batch`` events), then truncates the journal. At start-up the
journal is replayed into the workspace (skipping event ids already there), so
an event acknowledged just before ``kill -9`` is applied after the restart. A
torn last line (a crash during the write, hence never acknowledged) is ignored.

File: ``<workspace>.journal`` next to the workspace file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Journal"]


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot journal {type(value).__name__}")


class Journal:
    """An fsynced append-only file of event groups."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)

    def append(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Write one group and fsync it: on return the events survive a crash."""
        line = json.dumps({"events": list(events)}, default=_encode, separators=(",", ":")) + "\n"
        data = line.encode()
        while data:
            data = data[os.write(self._fd, data):]
        os.fsync(self._fd)

    def read(self) -> list[dict[str, Any]]:
        """Every journaled event, oldest first (``occurred_at`` as datetime); a torn last line is skipped."""
        out: list[dict[str, Any]] = []
        for line in self.path.read_bytes().split(b"\n"):
            try:
                group = json.loads(line)
            except ValueError:
                continue  # empty, or torn by a crash mid-write (never acknowledged)
            for e in group["events"]:
                e["occurred_at"] = dt.datetime.fromisoformat(e["occurred_at"])
                out.append(e)
        return out

    def truncate(self) -> None:
        """Empty the journal (its events are committed to the workspace)."""
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
