"""Bring an LLM bundle's runner up to date with the studio's sources, keeping it verifiable.

Every LLM bundle carries copies of studio/runner/runner.py and studio/core/generate/llm_runner.py.
When those sources change (a fix, a new setting), a bundle made earlier — including the demo
models shipped in assets/ — still carries the old copies. Refreshing replaces only the runner
files, then rewrites the README (it lists file sizes) and the manifest's hashes, so
``studio verify`` keeps passing. The model files are not touched.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from studio.core.atomic import atomic_path
from studio.core.bundle.folder import (
    MANIFEST,
    FileEntry,
    read_manifest,
    sha256_file,
    verify_bundle,
)
from studio.core.errors import BadInput
from studio.core.generate.llm_bundle import RUNNER_NAME, RUNNER_SOURCE, seal_llm_bundle
from studio.runner import runner_files


def llm_runner_sources() -> dict[str, Path]:
    """Bundle-relative path → the studio source file an LLM bundle's copy must equal."""
    return {**runner_files(), RUNNER_NAME: RUNNER_SOURCE}


def stale_runner_files(folder: Path) -> list[str]:
    """The runner files in ``folder`` that are missing or differ from the studio's sources."""
    return [
        rel
        for rel, src in llm_runner_sources().items()
        if not (folder / rel).is_file() or (folder / rel).read_bytes() != src.read_bytes()
    ]


def refresh_llm_runner(folder: Path) -> list[str]:
    """Replace ``folder``'s stale runner files; return what changed ([] = already current)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    llm = manifest.reports.get("llm")
    if not isinstance(llm, dict):
        raise BadInput(
            f"{folder} is not a language model bundle (its manifest has no llm report)",
            "Give a bundle made by `studio llm-export`",
        )
    before = verify_bundle(folder)
    if not before.ok:
        raise BadInput(
            f"{folder} fails its check before the refresh ({'; '.join(before.problems())})",
            "Export the model again instead",
        )
    stale = stale_runner_files(folder)
    if not stale:
        return []
    with atomic_path(folder, replace=True) as partial:
        shutil.copytree(folder, partial)
        for rel, src in llm_runner_sources().items():
            (partial / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, partial / rel)
        files = [f for f in manifest.files if f.path not in ("README.md", *llm_runner_sources())]
        files += [
            FileEntry(
                path=rel, size=(partial / rel).stat().st_size, sha256=sha256_file(partial / rel)
            )
            for rel in llm_runner_sources()
        ]
        manifest.files = sorted(files, key=lambda f: f.path)
        # Only runner files change: the manifest keeps the layout version it was written with
        # (an LLM bundle's reports are the same in versions 1 and 2).
        manifest.schema_version = _written_version(folder, manifest.schema_version)
        seal_llm_bundle(partial, manifest, llm, "The refreshed bundle failed its check")
    return stale


def _written_version(folder: Path, default: int) -> int:
    try:
        version = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("schema_version")
    except (OSError, ValueError, AttributeError):
        return default
    return version if isinstance(version, int) else default
