"""Atomic file replacement that leaves no readable copy of the replaced bytes: the workspace file, journal files.

:func:`replace_file` renames a finished, fsynced file over its target (a crash leaves
either the old file or the new one), then overwrites the old bytes with zeros before
they are unlinked. A hard link ``<target>.old`` keeps the old bytes reachable from the
rename to the overwrite, so a crash in between leaves them in a file that
:func:`finish_replace` (called before the next replacement) overwrites.

Zeroing goes through the file system: on copy-on-write file systems (btrfs, ZFS),
snapshots, or SSDs that remap blocks, the physical old blocks may survive until the
device reuses them. Full-disk encryption covers that layer.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["fsync_dir", "fsync_file", "shred", "replace_file", "finish_replace"]

_CHUNK = 1 << 20


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make the renames and unlinks in directory ``path`` durable."""
    _fsync(path)


def fsync_file(path: Path) -> None:
    """Make the content of ``path`` durable."""
    _fsync(path)


def shred(path: Path) -> None:
    """Overwrite ``path`` with zeros (fsynced), then unlink it (a missing file is fine)."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return
    try:
        left, zeros = os.fstat(fd).st_size, bytes(_CHUNK)
        while left > 0:
            left -= os.write(fd, zeros[: min(left, _CHUNK)])
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)


def _old(target: Path) -> Path:
    return target.with_name(target.name + ".old")


def finish_replace(target: Path) -> None:
    """Finish a replacement a crash interrupted: overwrite the old bytes still linked as ``<target>.old``.

    When ``<target>.old`` is the same file as ``target`` (the crash came before the rename), only the link goes.
    """
    old = _old(target)
    if not old.exists():
        return
    if target.exists() and os.path.samefile(old, target):
        old.unlink()
    else:
        shred(old)
    fsync_dir(target.parent)


def replace_file(tmp: Path, target: Path) -> None:
    """Rename the fsynced file ``tmp`` over ``target`` atomically, keeping ``target``'s mode; zero the old bytes.

    ``tmp`` must be in ``target``'s directory and already fsynced.
    """
    finish_replace(target)
    old = _old(target)
    if target.exists():
        os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        os.link(target, old)
    os.replace(tmp, target)
    fsync_dir(target.parent)  # from here a crash leaves the new file in place
    shred(old)
    fsync_dir(target.parent)
