"""The live engine's append-only journal: events are fsynced here before they are acknowledged.

A journal line is one committed group of events (JSON). Appending one line
and one ``fsync`` costs a few milliseconds whatever the group size, while a
DuckDB transaction per group costs several statements of CPU; so the writer
journals each group, acknowledges it, and the engine's applier thread applies
the journaled events to the workspace's ``events`` table in larger
transactions (every ``live_apply_ms`` or ``live_apply_batch`` events).

The applier must not stop the writer, so it first *rotates* the journal (the
active file is renamed to a numbered segment and a new active file is started,
the directory fsynced, in well under a millisecond), applies what it took,
then deletes the segments that transaction covered; the writer keeps appending
to the new file meanwhile. At start-up every segment and the active file are
replayed into the workspace (skipping event ids already there), so an event
acknowledged just before ``kill -9`` is applied after the restart. A torn last
line (a crash during the write, hence never acknowledged) is ignored.

Files: ``<workspace>.journal`` (active) and ``<workspace>.journal.<n>`` (rotated,
not yet applied) next to the workspace file.
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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """An fsynced append-only file of event groups, rotated into numbered segments while they are applied."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size
        self._next = max(self.segments(), default=0) + 1

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)

    def segments(self) -> list[int]:
        """Numbers of the rotated segments not yet discarded, oldest first."""
        prefix = self.path.name + "."
        found = [p.name[len(prefix):] for p in self.path.parent.glob(prefix + "*")]
        return sorted(int(n) for n in found if n.isdigit())

    def _segment(self, n: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{n}")

    def append(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Write one group and fsync it: on return the events survive a crash."""
        line = json.dumps({"events": list(events)}, default=_encode, separators=(",", ":")) + "\n"
        data = line.encode()
        self._size += len(data)
        while data:
            data = data[os.write(self._fd, data):]
        os.fsync(self._fd)

    def rotate(self) -> int | None:
        """Close the active file as the next segment and start a new one; its number (None when it was empty).

        The caller must not append concurrently. The directory is fsynced before
        returning, so a later append (and its acknowledgement) is in a file that
        survives a crash.
        """
        if self._size == 0:
            return None
        n, self._next = self._next, self._next + 1
        os.rename(self.path, self._segment(n))
        os.close(self._fd)
        self._fd, self._size = self._open(), 0
        _fsync_dir(self.path.parent)
        return n

    def discard(self, upto: int) -> None:
        """Delete the segments numbered up to ``upto`` (their events are committed to the workspace)."""
        for n in self.segments():
            if n <= upto:
                self._segment(n).unlink(missing_ok=True)

    def read(self) -> list[dict[str, Any]]:
        """Every journaled event (segments, then the active file), oldest first; a torn last line is skipped."""
        out: list[dict[str, Any]] = []
        for path in [*map(self._segment, self.segments()), self.path]:
            for line in path.read_bytes().split(b"\n"):
                try:
                    group = json.loads(line)
                except ValueError:
                    continue  # empty, or torn by a crash mid-write (never acknowledged)
                for e in group["events"]:
                    e["occurred_at"] = dt.datetime.fromisoformat(e["occurred_at"])
                    out.append(e)
        return out

    def truncate(self) -> None:
        """Empty the journal: delete every segment and truncate the active file (all committed to the workspace)."""
        self.discard(self._next)
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)
        self._size = 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
