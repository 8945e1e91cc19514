"""The journal: rotated segments and the active file are all replayed until discarded; a torn line is skipped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from shopseg.live.journal import Journal

AT = dt.datetime(2024, 6, 1, 9)


def _ids(journal: Journal) -> list[str]:
    return [e["event_id"] for e in journal.read()]


def test_rotated_segments_are_replayed_until_discarded(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb.journal"
    j = Journal(path)
    assert j.rotate() is None  # nothing to rotate
    j.append([{"event_id": "a", "occurred_at": AT}])
    first = j.rotate()  # the applier took "a"; the writer goes on in a new file
    j.append([{"event_id": "b", "occurred_at": AT}])
    second = j.rotate()
    j.append([{"event_id": "c", "occurred_at": AT}])
    assert (first, second) == (1, 2) and _ids(j) == ["a", "b", "c"]
    j.close()

    again = Journal(path)  # a crash before the applier committed: everything is still there, oldest first
    assert _ids(again) == ["a", "b", "c"] and again.segments() == [1, 2]
    assert again.read()[0]["occurred_at"] == AT
    again.discard(1)  # "a" committed
    assert _ids(again) == ["b", "c"]
    with path.open("ab") as f:
        f.write(b'{"events":[{"event_id":"torn"')  # killed mid-write: never acknowledged
    assert _ids(again) == ["b", "c"]
    assert again.rotate() == 3  # numbering continues after the segments on disk
    again.truncate()
    assert _ids(again) == [] and again.segments() == [] and path.read_bytes() == b""
    again.close()


def test_a_written_group_is_in_the_file_before_the_sync(tmp_path: Path) -> None:
    """``write`` puts the line in the file (a crash of the process keeps it); ``sync`` covers rotated files too."""
    path = tmp_path / "ws.duckdb.journal"
    j = Journal(path)
    j.write([{"event_id": "a", "occurred_at": AT}])
    reader = Journal(path)  # another reader (the restarted server) sees it without any fsync
    assert _ids(reader) == ["a"]
    reader.close()
    assert j.rotate() == 1
    j.write([{"event_id": "b", "occurred_at": AT}])
    j.sync()  # the rotated file, the directory and the new file
    j.sync()  # nothing written since: nothing to do
    j.append([{"event_id": "c", "occurred_at": AT}])
    assert _ids(j) == ["a", "b", "c"] and j.segments() == [1]
    j.close()
