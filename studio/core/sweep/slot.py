"""This machine's one timing slot: a lock file every studio process on the machine shares.

Two timings at once on a 2-core PC make both wrong, so a trial that times things holds the slot
for as long as it times; the OS drops the lock when its process ends, even on kill -9.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from studio.core.progress import NULL_REPORTER, Reporter


def slot_path() -> Path:
    from studio.core.paths import data_dir

    folder = data_dir() / "sweeps"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "timing.lock"


def _try_lock(handle: IO[bytes]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def timing_slot(report: Reporter = NULL_REPORTER, poll: float = 0.05) -> Iterator[None]:
    """Hold the machine's timing slot for the block, waiting (and saying so) while it is taken."""
    with slot_path().open("a+b") as handle:
        said = False
        while not _try_lock(handle):
            if not said:
                report.progress(0.0, "Waiting for this PC's timing slot")
                said = True
            time.sleep(poll)
        yield  # closing the file releases the lock
