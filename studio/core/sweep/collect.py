"""A trial's tracking runs, gathered in its job child and sent by the sweep as its children.

record.parent_run sends its tree when the block ends; a trial runs in its own process, so its
runs are collected here instead and travel back in the trial's result.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from studio.core.track import store
from studio.core.track.record import RunRecord, _parent


@contextlib.contextmanager
def collected_runs(name: str, record: RunRecord | None = None) -> Iterator[RunRecord | None]:
    """Runs logged inside become children of ``record`` (a new one named ``name`` if None);
    nothing is sent. Yields None when tracking is off."""
    if not store.enabled():
        yield None
        return
    if record is None:
        record = RunRecord(name=name, kind="sweep-trial", started_ms=int(time.time() * 1000))
    token = _parent.set(record)
    try:
        yield record
    finally:
        _parent.reset(token)
