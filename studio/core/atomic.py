"""Write outputs beside their final place and rename them in only when complete.

A cancelled or crashed job therefore leaves either nothing or a hidden ``.studio-partial-*``
entry; never a file that looks finished. Partials and the studio's temporary folders carry the
PID of the process that made them, so every later write there (check_writable_parent) and every
job (owned_temp_dir) removes those whose owner is gone, and never one of a process still running.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from studio.core.errors import OutputError
from studio.core.messages import Fix, message

PARTIAL_PREFIX = ".studio-partial-"
# ".studio-partial-<owner pid>-<8 hex>[~old]-<name>"; "~old" marks a target moved aside.
_PARTIAL = re.compile(r"^\.studio-partial-(\d+)-[0-9a-f]{8}(~old)?-(.+)$", re.DOTALL)
# "studio-<kind>-<owner pid>-<random>" in the system temporary folder.
_TEMP = re.compile(r"^studio-[a-z]+-(\d+)-")


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def check_writable_parent(target: Path) -> Path:
    """Create the parent folder if needed and prove we can write there."""
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            msg=message(
                "output.cannot_create",
                Fix(action="writable_out"),
                path=str(parent),
                reason=str(exc.strerror),
            )
        ) from exc
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            msg=message("output.not_writable", Fix(action="writable_out"), path=str(parent))
        )
    cleanup_partials(parent)
    return parent


def partial_path_for(target: Path, *, aside: bool = False) -> Path:
    mark = "~old" if aside else ""
    name = f"{PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}{mark}-{target.name}"
    return target.parent / name


def temp_prefix(kind: str) -> str:
    """Prefix for a temporary folder of ours: ``cleanup_stale_temp`` knows its owner by it."""
    return f"studio-{kind}-{os.getpid()}-"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a reused PID counts as alive: keep rather than lose)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return _pid_alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _pid_alive_windows(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return bool(kernel32.GetLastError() == 5)  # ERROR_ACCESS_DENIED: it exists
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def move_into_place(source: Path, target: Path, *, replace: bool) -> None:
    """Rename ``source`` (beside ``target``, on the same disk) to ``target``.

    An existing ``target`` is refused unless ``replace``. A file is swapped out by the rename
    itself, which never leaves neither; a folder cannot be, so the old one is moved aside and
    removed only after the new one is in place.
    """
    if target.exists() and not replace:
        raise OutputError(
            msg=message("output.exists", Fix(action="out_or_force"), path=str(target))
        )
    if not target.is_dir() or target.is_symlink():
        os.replace(source, target)
        return
    aside = partial_path_for(target, aside=True)
    os.replace(target, aside)
    try:
        os.replace(source, target)
    except OSError:
        os.replace(aside, target)
        raise
    remove_path(aside)


@contextlib.contextmanager
def atomic_path(target: Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it to ``target`` if the block succeeds.

    ``replace`` allows an existing ``target`` to be swapped out; the caller decides whether the
    existing entry is ours to replace; a failure at any point loses nothing (move_into_place).
    """
    target = Path(target)
    check_writable_parent(target)
    if target.exists() and not replace:
        raise OutputError(
            msg=message("output.exists", Fix(action="out_or_force"), path=str(target))
        )
    temp = partial_path_for(target)
    try:
        yield temp
        if not temp.exists():
            raise OutputError(f"Nothing was written for {target}", "Report this as a bug")
        move_into_place(temp, target, replace=replace)
    except OSError as exc:
        remove_path(temp)
        if exc.errno == 28:  # ENOSPC
            raise OutputError(
                f"The disk is full while writing {target}", "Free some space and try again"
            ) from exc
        raise OutputError(f"Could not write {target} ({exc.strerror or exc})", "") from exc
    except BaseException:
        remove_path(temp)
        raise


def cleanup_partials(folder: Path) -> list[Path]:
    """Remove the partials in ``folder`` of processes that were killed before cleaning up."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in list(folder.iterdir()):
            match = _PARTIAL.match(entry.name)
            if not match or pid_alive(int(match.group(1))):
                continue
            if settle_partial(entry):
                removed.append(entry)
    return removed


def settle_partial(entry: Path) -> bool:
    """Remove one partial; a target moved aside whose replacement never arrived is put back
    instead (return False), so a job killed between the two renames loses nothing."""
    match = _PARTIAL.match(entry.name)
    target = entry.parent / match.group(3) if match else None
    if match and match.group(2) and target is not None and not target.exists():
        with contextlib.suppress(OSError):
            os.replace(entry, target)
        return False
    remove_path(entry)
    return True


def cleanup_stale_temp() -> list[Path]:
    """Remove our temporary folders (studio-run-*, studio-work-*, ...) whose owner is gone."""
    removed = []
    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in list(base.iterdir()):
            match = _TEMP.match(entry.name)
            if match and not pid_alive(int(match.group(1))):
                remove_path(entry)
                removed.append(entry)
    return removed


@contextlib.contextmanager
def owned_temp_dir() -> Iterator[Path]:
    """For a process that runs one job: its temporary files (also onnxruntime's ``ort.quant.*``,
    whose names we do not choose) go into one folder named by this PID, removed at the end, or
    by the next job if this process is killed. Sets the process-wide ``tempfile.tempdir``: use
    only where nothing else runs in the process at the same time."""
    cleanup_stale_temp()
    previous = tempfile.tempdir
    work = Path(tempfile.mkdtemp(prefix=temp_prefix("work")))
    tempfile.tempdir = str(work)
    try:
        yield work
    finally:
        tempfile.tempdir = previous
        remove_path(work)
