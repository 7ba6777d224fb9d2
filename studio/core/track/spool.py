"""Runs leave the job as files: the job writes its run to a spool folder and a background sender
uploads it, so no job waits for MLflow (importing it costs seconds) or for a slow server.

A job whose server is down says so in one line and its run stays in the spool until a later
sender (or ``studio runs``) gets through. Each file is claimed by renaming it before it is sent,
so two senders never upload the same run twice.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core.atomic import atomic_path
from studio.core.track import store

if TYPE_CHECKING:
    from studio.core.track.record import RunRecord

CLAIMED = ".sending"
LOCK = "sender.lock"
STALE_SECONDS = 600
"""A claim or sender lock this old belongs to a sender that died: the run is sent again."""
PROBE_SECONDS = 2.0


def queue_folder() -> Path:
    return store.tracking_folder() / "queue"


def keep(record: RunRecord) -> Path:
    folder = queue_folder()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.json"
    with atomic_path(target) as temp:
        temp.write_text(record.model_dump_json(), encoding="utf-8")
    return target


def pending() -> list[Path]:
    folder = queue_folder()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def probe() -> str | None:
    """Why the team server cannot take runs now, or None (the embedded store always can).

    One HTTP request to MLflow's /health with a short timeout: cheap enough for every job, and
    it lets the job tell the user now rather than a background sender fail unseen."""
    uri = store.tracking_uri()
    if not uri.startswith(("http://", "https://")):
        return None
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=PROBE_SECONDS) as reply:
            return None if reply.status == 200 else f"HTTP {reply.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return str(reason).splitlines()[0][:120] if str(reason) else type(exc).__name__


def deliver(record: RunRecord) -> str | None:
    """Spool ``record`` and start a sender; returns the one line to show when it must wait."""
    path = keep(record)
    reason = probe()
    if reason:
        return (
            f"Run tracking: {store.tracking_uri()} is unreachable ({reason}); the run is kept "
            f"in {path.parent} and sent with the next run"
        )
    start_sender()
    return None


def sender_command() -> list[str]:
    from studio.core.frozen import is_frozen, python_command

    if is_frozen():
        return [*python_command(), str(Path(__file__).with_name("sender.py"))]
    return [sys.executable, "-m", "studio.core.track.sender"]


def start_sender() -> None:
    """A detached process that sends the spool and exits; none if a live one is at it already."""
    if _lock_is_live():
        return
    flags: dict[str, Any] = {}
    if sys.platform == "win32":
        flags["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
    else:
        flags["start_new_session"] = True  # outlives the job and the CLI; Ctrl+C is not for it
    subprocess.Popen(
        sender_command(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        **flags,
    )


def _lock_is_live() -> bool:
    lock = queue_folder() / LOCK
    try:
        return time.time() - lock.stat().st_mtime < STALE_SECONDS
    except OSError:
        return False


@contextlib.contextmanager
def sender_lock() -> Any:
    """Held by the one sender at work; yields False when another live sender holds it."""
    lock = queue_folder() / LOCK
    lock.parent.mkdir(parents=True, exist_ok=True)
    if _lock_is_live():
        yield False
        return
    lock.unlink(missing_ok=True)  # stale: its sender died
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        yield False
        return
    os.close(fd)
    try:
        yield True
    finally:
        lock.unlink(missing_ok=True)


def _claim(path: Path) -> Path | None:
    claimed = path.with_name(path.name + CLAIMED)
    try:
        path.rename(claimed)
    except OSError:  # another sender took it first
        return None
    # The claim's age counts from now: a run kept for an hour is not a stale claim.
    os.utime(claimed)
    return claimed


def _release_stale() -> None:
    now = time.time()
    for claimed in queue_folder().glob(f"*.json{CLAIMED}"):
        with contextlib.suppress(OSError):
            if now - claimed.stat().st_mtime > STALE_SECONDS:
                claimed.rename(claimed.with_name(claimed.name.removesuffix(CLAIMED)))


def flush(client: Any, experiment: str) -> int:
    """Send every spooled run, oldest first; a file goes only once its run is in the store."""
    from studio.core.track.record import RunRecord, upload

    if not queue_folder().is_dir():
        return 0
    _release_stale()
    sent = 0
    for path in pending():
        claimed = _claim(path)
        if claimed is None:
            continue
        try:
            record = RunRecord.model_validate_json(claimed.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            # A damaged file stays for the user to look at; it never blocks the rest.
            claimed.rename(claimed.with_name(path.stem + ".damaged"))
            continue
        try:
            upload(client, experiment, record)
        except BaseException:
            claimed.rename(path)  # sent next time
            raise
        claimed.unlink(missing_ok=True)
        sent += 1
    return sent
