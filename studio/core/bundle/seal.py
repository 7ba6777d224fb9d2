"""Finish a bundle folder written file by file (language-model exports, build kits): list every
file with its hash, add the README and the manifest, and check the result as `studio verify` does."""

from __future__ import annotations

import hashlib
from pathlib import Path

from studio.core.bundle.folder import MANIFEST, FileEntry, Manifest, sha256_file, verify_bundle
from studio.core.errors import OutputError


def file_entries(folder: Path) -> list[FileEntry]:
    """Every regular file under ``folder``, as the manifest lists it."""
    return [
        FileEntry(
            path=p.relative_to(folder).as_posix(), size=p.stat().st_size, sha256=sha256_file(p)
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    ]


def seal(
    folder: Path, manifest: Manifest, readme: str, failure: str = "The bundle failed its own check"
) -> None:
    """Write README.md (listed in the manifest) and the manifest, then verify the folder."""
    data = readme.encode("utf-8")
    (folder / "README.md").write_bytes(data)
    manifest.files.append(
        FileEntry(path="README.md", size=len(data), sha256=hashlib.sha256(data).hexdigest())
    )
    (folder / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    result = verify_bundle(folder)
    if not result.ok:
        raise OutputError(f"{failure} ({'; '.join(result.problems())})", "Report this as a bug")
