"""``shopseg serve`` keeps the live state out of the garbage collector's full collections (cli/serve.py)."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Callable
from types import SimpleNamespace

from shopseg.cli.serve import _keep_live_state_frozen


class _Node:
    """A tracked object, a stand-in for a live profile."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def _wait(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


def _frozen(obj: object) -> bool:
    """Tracked, but in no generation the collector scans: frozen."""
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


def test_live_state_is_frozen_and_a_replaced_one_is_collected() -> None:
    state = SimpleNamespace(live=SimpleNamespace(evaluator=object()))
    gc.unfreeze()
    try:
        old = _Node()
        old.other = old  # a reference cycle in the live state
        gone = weakref.ref(old)
        _keep_live_state_frozen(state, every_s=0.02, full_every_s=3600)  # type: ignore[arg-type]
        assert _wait(lambda: _frozen(gone())), "objects made since the last freeze were not frozen"
        del old
        gc.collect()
        assert gone() is not None  # frozen: even a full collection leaves the dead cycle alone
        state.live.evaluator = object()  # a reload replaced the live state
        assert _wait(lambda: gone() is None), "the replaced live state's cycles were never collected"
    finally:
        state.live = None  # the keeper stops after its current sleep
        time.sleep(0.05)
        gc.unfreeze()
