"""The live engine's append-only journal: events are written here first, and fsynced before they are acknowledged.

A journal line is one committed group of events (JSON). Appending one line
costs a ``write`` (the line is then in the operating system's cache: it
survives a crash of the process, e.g. ``kill -9``) and :meth:`Journal.sync`
makes everything written so far durable (it survives a crash of the machine)
with one ``fsync`` whatever the number of groups. The engine's writer writes
each group, publishes its notifications, and leaves the ``fsync`` and the
acknowledgements to a syncer thread, so an ``fsync`` that stalls (hundreds of
milliseconds on a busy virtual disk) delays acknowledgements, not evaluation
and notification; acknowledgements still wait for it. A DuckDB transaction
per group would cost several statements of CPU, so the engine's applier
thread applies the journaled events to the workspace's ``events`` table in
larger transactions (every ``live_apply_ms`` or ``live_apply_batch`` events).

The applier must not stop the writer, so it first *rotates* the journal (the
active file is renamed to a numbered segment and a new active file is
started, in well under a millisecond; the rotated file and the directory are
fsynced by the next :meth:`~Journal.sync`, before any acknowledgement of a
group written after the rotation), applies what it took, then deletes the
segments that transaction covered; the writer keeps appending to the new file
meanwhile. At start-up every segment and the active file are replayed into the
workspace (skipping event ids already there), so an event acknowledged just
before ``kill -9`` is applied after the restart. A torn last line (a crash
during the write, hence never acknowledged nor notified) is ignored.

Files: ``<workspace>.journal`` (active) and ``<workspace>.journal.<n>`` (rotated,
not yet applied) next to the workspace file.

Erasure (:func:`shopseg.privacy.forget_customer`) edits journaled events in place
with :func:`rewrite_journal`: each file that changes is written anew, fsynced and
renamed over the old one (the old bytes are then zeroed), so a crash leaves each
file whole, old or new.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from shopseg._files import finish_replace, fsync_dir, fsync_file, replace_file, shred

__all__ = ["Journal", "journal_files", "read_raw", "rewrite_journal", "open_journal"]

_OPEN: weakref.WeakValueDictionary[Path, Journal] = weakref.WeakValueDictionary()  # path -> open Journal (process)

#: an edit of one journaled event (JSON-decoded, ``occurred_at`` as text): the event, a changed copy, or None to drop it
EventEdit = Callable[[dict[str, Any]], "dict[str, Any] | None"]


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot journal {type(value).__name__}")


def _segment_numbers(path: Path) -> list[int]:
    prefix = path.name + "."
    found = [p.name[len(prefix) :] for p in path.parent.glob(prefix + "*")]
    return sorted(int(n) for n in found if n.isdigit())


def journal_files(path: str | os.PathLike[str]) -> list[Path]:
    """The journal files of the active file ``path`` that exist: its segments oldest first, then itself."""
    path = Path(path)
    files = [path.with_name(f"{path.name}.{n}") for n in _segment_numbers(path)]
    return files + [path] if path.exists() else files


def _groups(data: bytes) -> Iterator[dict[str, Any] | None]:
    """The groups of one journal file; None for a line that is not one (torn by a crash mid-write)."""
    for line in data.split(b"\n"):
        if not line:
            continue
        try:
            yield json.loads(line)
        except ValueError:
            yield None


def read_raw(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every journaled event of the journal ``path`` as written (``occurred_at`` as text), oldest first."""
    return [e for f in journal_files(path) for g in _groups(f.read_bytes()) if g is not None for e in g["events"]]


def rewrite_journal(path: str | os.PathLike[str], edit: EventEdit) -> tuple[int, int]:
    """Apply ``edit`` to every journaled event; ``(dropped, changed)`` events.

    Each file where an event is dropped or changed (or a torn line is found: it is
    dropped, it was never acknowledged) is written to ``<file>.erasing``, fsynced and
    renamed over the file (:func:`shopseg._files.replace_file`: the old bytes are zeroed).
    Nobody may write the journal meanwhile (the live engine holds its state lock).
    """
    finish_rewrites(path)
    dropped = changed = 0
    for f in journal_files(path):
        lines, dirty = [], False
        for group in _groups(f.read_bytes()):
            if group is None:
                dirty = True
                continue
            kept = []
            for e in group["events"]:
                before = json.dumps(e, sort_keys=True)
                new = edit(e)
                if new is None:
                    dropped, dirty = dropped + 1, True
                    continue
                if json.dumps(new, sort_keys=True) != before:
                    changed, dirty = changed + 1, True
                kept.append(new)
            if kept:
                lines.append(json.dumps({**group, "events": kept}, separators=(",", ":")) + "\n")
        if dirty:
            tmp = f.with_name(f.name + ".erasing")
            tmp.write_text("".join(lines), encoding="utf-8")
            fsync_file(tmp)
            replace_file(tmp, f)
    return dropped, changed


def finish_rewrites(path: str | os.PathLike[str]) -> None:
    """Zero what a crash during a rewrite left beside the journal ``path``: a partial new file, an old one."""
    path = Path(path)
    for stale in path.parent.glob(glob.escape(path.name) + "*.erasing"):
        shred(stale)
    for old in path.parent.glob(glob.escape(path.name) + "*.old"):
        finish_replace(old.with_name(old.name[: -len(".old")]))


def open_journal(path: str | os.PathLike[str]) -> Journal | None:
    """The :class:`Journal` this process has open on ``path`` (a live engine's), if any."""
    return _OPEN.get(Path(path).resolve())


class Journal:
    """An append-only file of event groups, fsynced by :meth:`sync`, rotated into numbered segments to be applied.

    One thread writes and rotates at a time (the engine's live state lock);
    :meth:`sync` may run on another thread meanwhile.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        finish_rewrites(self.path)  # an erasure's rewrite a crash interrupted
        self._lock = threading.Lock()  # the file descriptors, between the writer and the syncer
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size
        self._next = max(self.segments(), default=0) + 1
        self._rotated: list[int] = []  # descriptors of rotated files not fsynced yet (closed by sync)
        self._written = self._synced = 0  # groups written, and written before the last sync started
        _OPEN[self.path.resolve()] = self

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)

    def segments(self) -> list[int]:
        """Numbers of the rotated segments not yet discarded, oldest first."""
        return _segment_numbers(self.path)

    def _segment(self, n: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{n}")

    def write(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Write one group: on return the events survive a crash of the process (:meth:`sync`: of the machine)."""
        line = json.dumps({"events": list(events)}, default=_encode, separators=(",", ":")) + "\n"
        data = line.encode()
        self._size += len(data)
        while data:
            data = data[os.write(self._fd, data) :]
        self._written += 1

    def sync(self) -> None:
        """Make every group written before the call durable: fsync the rotated files (then close them), the
        directory after a rotation, and the active file. Nothing to do when nothing was written since the last one."""
        with self._lock:
            if self._synced == self._written:
                return
            self._synced = self._written
            rotated, self._rotated = self._rotated, []
            fd = self._fd
        try:
            for old in rotated:
                os.fsync(old)
            if rotated:
                fsync_dir(self.path.parent)  # the renames and the new active file
            os.fsync(fd)
        except BaseException:
            with self._lock:
                self._synced = -1  # unknown: the next call syncs again
            raise
        finally:
            for old in rotated:
                os.close(old)

    def append(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Write one group and sync: on return the events survive a crash of the machine."""
        self.write(events)
        self.sync()

    def rotate(self) -> int | None:
        """Rename the active file to the next segment and start a new one; its number (None when it was empty).

        The caller must not write concurrently. The rotated file and the
        directory are fsynced by the next :meth:`sync`, so a group written
        after the rotation is durable (in a file that survives a crash) once
        that returns.
        """
        if self._size == 0:
            return None
        n, self._next = self._next, self._next + 1
        with self._lock:
            os.rename(self.path, self._segment(n))
            self._rotated.append(self._fd)
            self._fd, self._size = self._open(), 0
            self._synced = -1  # the rename and the new file: the next sync fsyncs the directory
        return n

    def discard(self, upto: int) -> None:
        """Delete the segments numbered up to ``upto`` (their events are committed to the workspace)."""
        for n in self.segments():
            if n <= upto:
                self._segment(n).unlink(missing_ok=True)

    def read(self) -> list[dict[str, Any]]:
        """Every journaled event (segments, then the active file), oldest first; a torn last line is skipped."""
        out = read_raw(self.path)
        for e in out:
            e["occurred_at"] = dt.datetime.fromisoformat(e["occurred_at"])
        return out

    def rewrite(self, edit: EventEdit) -> tuple[int, int]:
        """:func:`rewrite_journal` on this journal, then reopen the active file. The caller must not write meanwhile."""
        with self._lock:
            out = rewrite_journal(self.path, edit)
            if self._fd >= 0:  # the active file may be a new one now
                os.close(self._fd)
                self._fd = self._open()
                self._size = os.fstat(self._fd).st_size
                self._synced = -1
            return out

    def truncate(self) -> None:
        """Empty the journal: delete every segment and truncate the active file (all committed to the workspace)."""
        self.discard(self._next)
        with self._lock:
            os.ftruncate(self._fd, 0)
            os.fsync(self._fd)
            self._size = 0

    def close(self) -> None:
        with self._lock:
            for old in self._rotated:
                os.close(old)
            self._rotated = []
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
        if _OPEN.get(self.path.resolve()) is self:
            del _OPEN[self.path.resolve()]
