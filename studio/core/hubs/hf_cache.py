"""The standard Hugging Face cache: what is there, and whether each snapshot is complete.

Layout (shared with every HF tool): ``models--owner--name/{refs,snapshots/<commit>,blobs,trees}``.
A snapshot folder alone proves nothing: huggingface_hub's ``snapshot_download`` can hand back a
partial folder when the file listing failed, and an interrupted download leaves one too. So a
snapshot counts as complete only when the repo's file listing for that commit (``trees/<commit>
.json``, written by huggingface_hub ≥ 2.x and by the studio) shows every file present. Downloads
limited to some files are recorded by the studio so they are reported as "selected files".
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from studio.core.errors import BadInput
from studio.core.hubs.base import CachedModel, CacheState
from studio.core.messages import Fix, message
from studio.core.paths import cache_dir

COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
RECORD_NAME = "hub-downloads.json"


def repo_folder(cache: Path, repo: str) -> Path:
    return cache / ("models--" + repo.replace("/", "--"))


def repo_from_folder(name: str) -> str | None:
    if not name.startswith("models--"):
        return None
    return name[len("models--") :].replace("--", "/")


def matches(path: str, patterns: list[str] | None) -> bool:
    if not patterns:
        return True
    # Same rule as huggingface_hub.utils.filter_repo_objects: a trailing "/" means the folder.
    return any(fnmatch.fnmatch(path, p + "*" if p.endswith("/") else p) for p in patterns)


def read_tree(storage: Path, commit: str) -> dict[str, int] | None:
    """path → size from the cached file listing of ``commit``, or None when there is none."""
    try:
        data = json.loads((storage / "trees" / f"{commit}.json").read_text(encoding="utf-8"))
        return {path: int(info["size"]) for path, info in data["files"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resolve_commit(storage: Path, revision: str) -> str | None:
    if COMMIT_RE.match(revision):
        return revision
    try:
        return (storage / "refs" / revision).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def write_ref(storage: Path, revision: str, commit: str) -> None:
    if revision == commit:
        return
    ref = storage / "refs" / revision
    ref.parent.mkdir(parents=True, exist_ok=True)
    temp = ref.with_name(ref.name + f".{os.getpid()}.tmp")
    temp.write_text(commit, encoding="utf-8")
    os.replace(temp, ref)


# ---- the studio's record of downloads limited to some files --------------------------------------
def _record_path() -> Path:
    return cache_dir() / RECORD_NAME


def _read_records() -> dict[str, list[list[str]]]:
    try:
        data = json.loads(_record_path().read_text(encoding="utf-8"))
        return data.get("complete", {}) if data.get("version") == 1 else {}
    except (OSError, ValueError, AttributeError):
        return {}


def record_complete(repo: str, commit: str, patterns: list[str] | None) -> None:
    records = _read_records()
    key = f"{repo}@{commit}"
    entry = sorted(patterns) if patterns else ["*"]
    if entry not in records.setdefault(key, []):
        records[key].append(entry)
    path = _record_path()
    temp = path.with_name(path.name + f".{os.getpid()}.tmp")
    temp.write_text(json.dumps({"version": 1, "complete": records}, indent=1), encoding="utf-8")
    os.replace(temp, path)


def recorded_patterns(repo: str, commit: str) -> list[list[str]]:
    return _read_records().get(f"{repo}@{commit}", [])


# ---- state of one snapshot -----------------------------------------------------------------------
def missing_files(storage: Path, commit: str, patterns: list[str] | None) -> list[str] | None:
    """Files of the listing (limited to ``patterns``) absent from the snapshot; None if unknown."""
    tree = read_tree(storage, commit)
    if tree is None:
        return None
    snapshot = storage / "snapshots" / commit
    return [p for p in sorted(tree) if matches(p, patterns) and not (snapshot / p).is_file()]


def has_interrupted_blobs(storage: Path) -> bool:
    blobs = storage / "blobs"
    return blobs.is_dir() and any(b.name.endswith(".incomplete") for b in blobs.iterdir())


def snapshot_state(repo: str, storage: Path, commit: str) -> tuple[CacheState, list[str]]:
    missing = missing_files(storage, commit, None)
    if missing is None:
        return ("incomplete" if has_interrupted_blobs(storage) else "unverified"), []
    if not missing:
        return "complete", []
    for patterns in recorded_patterns(repo, commit):
        if not missing_files(storage, commit, patterns):
            return "selected-files", missing
    return "incomplete", missing


def _snapshot_files(snapshot: Path) -> list[Path]:
    return [p for p in snapshot.rglob("*") if p.is_file()]


def list_cached(cache: Path) -> list[CachedModel]:
    """Every model snapshot in the cache, newest first. Works with no network at all."""
    models: list[CachedModel] = []
    if not cache.is_dir():
        return models
    for storage in sorted(cache.iterdir()):
        repo = repo_from_folder(storage.name)
        snapshots = storage / "snapshots"
        if repo is None or not storage.is_dir():
            continue
        refs: dict[str, str] = {}
        refs_dir = storage / "refs"
        if refs_dir.is_dir():
            for ref in refs_dir.rglob("*"):
                if ref.is_file() and not ref.name.endswith(".tmp"):
                    refs.setdefault(
                        ref.read_text(encoding="utf-8").strip(),
                        ref.relative_to(refs_dir).as_posix(),
                    )
        commits = (
            {p.name for p in snapshots.iterdir() if p.is_dir()} if snapshots.is_dir() else set()
        )
        trees = storage / "trees"
        if trees.is_dir():
            commits |= {p.stem for p in trees.glob("*.json")}
        for commit in sorted(commits):
            snapshot = snapshots / commit
            files = _snapshot_files(snapshot) if snapshot.is_dir() else []
            state, missing = snapshot_state(repo, storage, commit)
            if not files and state == "unverified":
                continue
            stamp = max((f.stat().st_mtime for f in files), default=storage.stat().st_mtime)
            models.append(
                CachedModel(
                    hub="huggingface",
                    id=repo,
                    revision=refs.get(commit, commit),
                    commit=commit,
                    path=str(snapshot),
                    size=sum(f.stat().st_size for f in files),
                    files=len(files),
                    state=state,
                    missing=missing,
                    last_used=datetime.fromtimestamp(stamp, UTC),
                    has_onnx=any(f.suffix == ".onnx" for f in files),
                )
            )
    models.sort(key=lambda m: m.last_used or datetime.min.replace(tzinfo=UTC), reverse=True)
    return models


def snapshot_path(cache: Path, repo: str, revision: str) -> Path:
    """The snapshot folder of ``repo@revision`` as it is (possibly partial)."""
    storage = repo_folder(cache, repo)
    commit = resolve_commit(storage, revision)
    snapshot = storage / "snapshots" / commit if commit else None
    if snapshot is None or not snapshot.is_dir():
        raise BadInput(
            f"{repo} ({revision}) is not downloaded on this computer",
            f"Connect to the network and run: studio hub download {repo}",
        )
    return snapshot


def cached_snapshot(cache: Path, repo: str, revision: str, patterns: list[str] | None) -> Path:
    """The local snapshot for ``repo@revision`` holding every file matching ``patterns``.

    Raises a clear error when it was never downloaded or is only partly there, instead of handing
    back a folder that merely looks like a model.
    """
    snapshot = snapshot_path(cache, repo, revision)
    storage, commit = snapshot.parent.parent, snapshot.name
    missing = missing_files(storage, commit, patterns)
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise BadInput(
            f"{repo} is only partly downloaded ({len(missing)} files missing: {shown})",
            f"Connect to the network and run: studio hub download {repo} to finish it",
        )
    if missing is None:
        if has_interrupted_blobs(storage):
            raise BadInput(
                f"{repo} has an interrupted download",
                f"Connect to the network and run: studio hub download {repo} to finish it",
            )
        if patterns and not any(
            matches(p.relative_to(snapshot).as_posix(), patterns) for p in _snapshot_files(snapshot)
        ):
            raise BadInput(
                msg=message(
                    "hub.no_file_matches",
                    Fix(action="download_pattern", input=repo, example=patterns[0]),
                    repo=repo,
                    patterns=", ".join(patterns),
                )
            )
    return snapshot
