"""Write outputs beside their final place and rename them in only when complete.

A cancelled or crashed job therefore leaves either nothing or a hidden ``.studio-partial-*``
entry that the next run (or ``cleanup_partials``) removes; never a file that looks finished.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from studio.core.errors import OutputError

PARTIAL_PREFIX = ".studio-partial-"


def _remove(path: Path) -> None:
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
            f"Cannot create the output folder {parent} ({exc.strerror})",
            "Choose a folder you can write to with --out",
        ) from exc
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"The output folder {parent} is not writable",
            "Choose a folder you can write to with --out",
        )
    return parent


def partial_path_for(target: Path) -> Path:
    return target.parent / f"{PARTIAL_PREFIX}{uuid.uuid4().hex[:8]}-{target.name}"


def move_into_place(source: Path, target: Path, *, replace: bool) -> None:
    """Rename ``source`` (beside ``target``, on the same disk) to ``target``.

    An existing ``target`` is refused unless ``replace``. A file is swapped out by the rename
    itself, which never leaves neither; a folder cannot be, so the old one is moved aside and
    removed only after the new one is in place.
    """
    if target.exists() and not replace:
        raise OutputError(f"{target} already exists", "Choose another --out path or pass --force")
    if not target.is_dir() or target.is_symlink():
        os.replace(source, target)
        return
    aside = partial_path_for(target)
    os.replace(target, aside)
    try:
        os.replace(source, target)
    except OSError:
        os.replace(aside, target)
        raise
    _remove(aside)


@contextlib.contextmanager
def atomic_path(target: Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it to ``target`` if the block succeeds.

    ``replace`` allows an existing ``target`` to be swapped out; the caller decides whether the
    existing entry is ours to replace; a failure at any point loses nothing (move_into_place).
    """
    target = Path(target)
    check_writable_parent(target)
    if target.exists() and not replace:
        raise OutputError(f"{target} already exists", "Choose another --out path or pass --force")
    temp = partial_path_for(target)
    try:
        yield temp
        if not temp.exists():
            raise OutputError(f"Nothing was written for {target}", "Report this as a bug")
        move_into_place(temp, target, replace=replace)
    except OSError as exc:
        _remove(temp)
        if exc.errno == 28:  # ENOSPC
            raise OutputError(
                f"The disk is full while writing {target}", "Free some space and try again"
            ) from exc
        raise OutputError(f"Could not write {target} ({exc.strerror or exc})", "") from exc
    except BaseException:
        _remove(temp)
        raise


def cleanup_partials(folder: Path) -> list[Path]:
    """Remove leftovers of jobs that were killed before they could clean up after themselves."""
    removed = []
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.name.startswith(PARTIAL_PREFIX):
                _remove(entry)
                removed.append(entry)
    return removed
