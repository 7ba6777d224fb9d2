"""Whose code runs when a bundle runs: the studio's own, unless the user says otherwise.

A bundle's ``runner/`` folder is a program, so a bundle from someone else is arbitrary code. On
This PC the studio therefore starts its own runner (and generate hook) and the bundle gives only
its model files. On a phone or board the bundle's copy must run (the studio's Python is not
there), so it runs only when every ``runner/`` file is one the studio shipped
(known_runners.py) or the user passes ``--trust-bundle-runner``.
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

from studio.core.atomic import atomic_path
from studio.core.bundle.folder import Manifest
from studio.core.devices.known_runners import KNOWN_RUNNERS
from studio.core.errors import BadInput
from studio.core.paths import cache_dir

RUNNER_FOLDER = "runner/"
HOOK = "runner/generate.py"
TRUST_FLAG = "--trust-bundle-runner"


def unknown_runner_files(manifest: Manifest) -> list[str]:
    """Files under ``runner/`` that are not a runner the studio shipped. Any file there counts:
    the runner's folder is first on its import path, so a stray ``json.py`` would run too. The
    manifest's hashes stand for the device's copies, which deploy checked against them."""
    return sorted(
        f.path
        for f in manifest.files
        if f.path.startswith(RUNNER_FOLDER) and f.sha256 not in KNOWN_RUNNERS.get(f.path, ())
    )


def check_bundle_runner(manifest: Manifest, serial: str, trusted: bool) -> None:
    unknown = unknown_runner_files(manifest)
    if unknown and not trusted:
        shown = ", ".join(unknown[:3]) + (
            f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        )
        raise BadInput(
            f"This bundle's runner is not one the studio shipped ({shown}); running it on "
            f"{serial} would run code from whoever made the bundle",
            f"Rebuild the bundle with this studio, or pass {TRUST_FLAG} if you trust its maker",
        )


def studio_runner(manifest: Manifest) -> Path:
    """The studio's own runner.py, in a folder that holds the studio's generate hook exactly when
    the bundle has one (the runner looks for ``generate.py`` beside itself)."""
    from studio.core.generate.runner_refresh import llm_runner_sources

    sources = llm_runner_sources()
    with_hook = any(f.path == HOOK for f in manifest.files)
    folder = cache_dir() / "this-pc-runner" / ("generate" if with_hook else "bench")
    folder.mkdir(parents=True, exist_ok=True)
    for rel, src in sources.items():
        target = folder / PurePosixPath(rel).name
        if rel == HOOK and not with_hook:
            continue
        if target.is_file() and target.read_bytes() == src.read_bytes():
            continue
        with atomic_path(target, replace=True) as partial:  # two runs at once never half-write
            shutil.copyfile(src, partial)
    return folder / "runner.py"
