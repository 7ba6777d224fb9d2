"""Download a repo (or chosen files) into the standard Hugging Face cache, resumably.

Why not ``snapshot_download``: in huggingface_hub 2.4.0 an interrupted file is thrown away (its
temporary name is unique per process), there is no way to cancel, and a failed file listing can
yield a partial folder that looks complete. Here every request still goes through the real
client (``get_hf_file_metadata`` for HEAD, ``http_get`` for the ranged GET with its own
mid-file reconnects) but:

- bytes land in ``blobs/<etag>.incomplete`` and a later run continues from there (Range);
- Cancel is checked on every chunk and between retries;
- the full file listing is written to ``trees/<commit>.json`` *before* any file, so an
  interrupted or partial snapshot is always recognisable as such (hf_cache.py);
- 5xx answers and dropped connections are retried with growing pauses;
- every file is hashed as it arrives and renamed into place only if it matches its ETag
  (hf_verify.py); a damaged one is fetched again, then refused.

The result is the same cache layout HF tools write (blobs + relative symlinks + refs), so either
side reuses the other's downloads.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from studio.core.errors import BadInput, OutputError
from studio.core.hubs.base import DownloadResult, TransferCallback
from studio.core.hubs.hf_cache import (
    cached_snapshot,
    matches,
    record_complete,
    repo_folder,
    write_ref,
)
from studio.core.hubs.hf_context import (
    DownloadCancelled,
    DownloadCorrupted,
    HubContext,
    reraise,
    with_retries,
)
from studio.core.hubs.hf_progress import Tracker
from studio.core.hubs.hf_verify import BlobCheck
from studio.core.progress import NULL_REPORTER, Reporter

# Progress and Cancel respond per received chunk; huggingface_hub's default (10 MiB) would leave
# Cancel unanswered for seconds on a slow line. 1 MiB costs nothing measurable (see benchmarks).
CHUNK_SIZE = 1024 * 1024
# A file whose bytes do not match its hash is fetched again from zero once before giving up.
VERIFY_TRIES = 2


def _list_files(ctx: HubContext, repo: str, revision: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """(commit, path → tree entry) — the complete listing or an error, never a partial one."""
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    api = HfApi(endpoint=ctx.endpoint, token=ctx.auth)
    info = with_retries(ctx, f"{repo}@{revision}", lambda: api.model_info(repo, revision=revision))
    commit = info.sha
    if not commit:
        raise OutputError(
            f"{ctx.endpoint} did not say which commit {repo} is at",
            "Check that the hub address points to a Hugging Face compatible hub",
        )

    from huggingface_hub.utils import build_hf_headers

    headers = build_hf_headers(token=ctx.auth)
    entries: dict[str, dict[str, Any]] = {}
    url: str | None = f"{ctx.endpoint}/api/models/{repo}/tree/{commit}"
    params: dict[str, Any] | None = {"recursive": True, "expand": False}
    page = 0
    # Pages are followed (Link: rel="next") and each one is retried on its own; if one still
    # fails, the whole download fails: a partial listing must never pass for the repo's files.
    while url is not None:
        page += 1
        response = with_retries(
            ctx,
            f"the file list of {repo} (page {page})",
            functools.partial(_get, url, params, headers),
        )
        for item in response.json():
            if item.get("type") == "file":
                file = RepoFile(**item)
                entry: dict[str, Any] = {"size": file.size, "blob_id": file.blob_id}
                if file.lfs is not None:
                    entry.update(lfs_sha256=file.lfs.sha256, lfs_size=file.lfs.size)
                entries[file.path] = entry
        url, params = response.links.get("next", {}).get("url"), None
    return commit, entries


def _get(url: str, params: dict[str, Any] | None, headers: dict[str, str]) -> Any:
    from huggingface_hub.utils import hf_raise_for_status, http_backoff

    # Retries are ours (with_retries), so Cancel and the pauses stay in our hands.
    response = http_backoff("GET", url, params=params, headers=headers, max_retries=0)
    hf_raise_for_status(response)
    return response


def _write_tree(storage: Path, commit: str, entries: dict[str, dict[str, Any]]) -> None:
    """The listing in huggingface_hub's own format (trees/<commit>.json, format_version 1)."""
    path = storage / "trees" / f"{commit}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + f".{os.getpid()}.tmp")
    temp.write_text(
        json.dumps({"format_version": 1, "files": dict(sorted(entries.items()))}, indent=2),
        encoding="utf-8",
    )
    os.replace(temp, path)


def _link(blob: Path, pointer: Path) -> None:
    from huggingface_hub.file_download import _create_symlink

    pointer.parent.mkdir(parents=True, exist_ok=True)
    _create_symlink(str(blob), str(pointer), new_blob=False)


def _fetch_one(
    ctx: HubContext, repo: str, commit: str, path: str, storage: Path, tracker: Tracker
) -> int:
    """Make snapshots/<commit>/<path> exist; return the bytes fetched from the network."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.utils import WeakFileLock

    pointer = storage / "snapshots" / commit / path
    if pointer.is_file():
        return 0
    url = hf_hub_url(repo, path, revision=commit, endpoint=ctx.endpoint)
    meta = with_retries(
        ctx,
        f"{repo}/{path}",
        lambda: get_hf_file_metadata(url, token=ctx.auth, endpoint=ctx.endpoint),
    )
    if not meta.etag or not meta.commit_hash:
        raise OutputError(
            f"{ctx.endpoint} did not describe {path} (no ETag or X-Repo-Commit)",
            "Check that the hub address points to a Hugging Face compatible hub",
        )
    blob = storage / "blobs" / meta.etag
    lock = ctx.cache_dir / ".locks" / storage.name / f"{meta.etag}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    blob.parent.mkdir(parents=True, exist_ok=True)
    fetched = 0
    with WeakFileLock(str(lock)):
        if not blob.exists():
            fetched = _fetch_blob(ctx, meta, url, blob, tracker, path)
        else:
            tracker.add(meta.size or blob.stat().st_size, fetched=False)
        _link(blob, pointer)
    tracker.file_finished()
    return fetched


def _fetch_blob(
    ctx: HubContext, meta: Any, url: str, blob: Path, tracker: Tracker, path: str
) -> int:
    from huggingface_hub.utils import build_hf_headers

    headers = build_hf_headers(token=ctx.auth)
    if urlsplit(meta.location).netloc != urlsplit(url).netloc:
        headers.pop("authorization", None)  # never send the token to a CDN
    partial = blob.with_name(blob.name + ".incomplete")
    check = BlobCheck(meta.etag, meta.size, partial)
    for _ in range(VERIFY_TRIES):
        start = _fetch_partial(ctx, meta, headers, partial, tracker, path, check)
        if check.matches():
            os.replace(partial, blob)
            return (meta.size or blob.stat().st_size) - start
        # Damaged on the way (or on disk from an earlier run): drop every byte, count them off
        # the progress and fetch the whole file again.
        damaged = partial.stat().st_size
        partial.unlink()
        tracker.add(-damaged, fetched=False)
    raise DownloadCorrupted(
        f"{path} arrived damaged {VERIFY_TRIES} times from {ctx.endpoint}: its bytes do not "
        f"match the {check.kind} the hub gave for it ({meta.etag[:12]}…)",
        "Nothing damaged was kept. Try again later, or pick another mirror in hub settings",
    )


def _fetch_partial(
    ctx: HubContext,
    meta: Any,
    headers: dict[str, str],
    partial: Path,
    tracker: Tracker,
    path: str,
    check: BlobCheck,
) -> int:
    """Fill ``partial`` up to the file's size (resuming it); return the bytes it held before."""
    from huggingface_hub.file_download import http_get

    start = partial.stat().st_size if partial.exists() else 0
    if meta.size is not None and start > meta.size:
        partial.unlink()
        start = 0
    tracker.add(start, fetched=False)
    tracker.file = path
    counted = start

    def attempt() -> None:
        nonlocal counted
        with partial.open("ab") as handle:
            resume = handle.tell()
            # Bytes counted in an earlier attempt that the file does not hold (a server that
            # ignored Range truncates it) must come off the tally.
            if counted != resume:
                tracker.add(resume - counted, fetched=False)
                counted = resume
            check.catch_up()  # the hash covers the bytes already on disk too
            bar = tracker.bar_class()
            http_get(
                meta.location,
                check.writer(handle),  # type: ignore[arg-type]
                resume_size=resume,
                headers=headers,
                expected_size=meta.size,
                displayed_filename=path,
                tqdm_class=bar,
            )

    try:
        _with_chunk_size(lambda: with_retries(ctx, f"{path}", attempt))
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            partial.unlink(missing_ok=True)
            raise OutputError(
                f"The disk is full while downloading {path} into {ctx.cache_dir}",
                "Free some space (or move the HF cache with HF_HOME) and try again",
            ) from exc
        reraise(exc, ctx, path)
    return start


_chunk_lock = threading.Lock()
_chunk_users = 0


def _with_chunk_size(call: Any) -> Any:
    """Run ``call`` with the smaller chunk size in effect (restored when the last user ends)."""
    from huggingface_hub import constants

    global _chunk_users
    with _chunk_lock:
        if _chunk_users == 0:
            _with_chunk_size.saved = constants.DOWNLOAD_CHUNK_SIZE  # type: ignore[attr-defined]
            constants.DOWNLOAD_CHUNK_SIZE = CHUNK_SIZE
        _chunk_users += 1
    try:
        return call()
    finally:
        with _chunk_lock:
            _chunk_users -= 1
            if _chunk_users == 0:
                constants.DOWNLOAD_CHUNK_SIZE = _with_chunk_size.saved  # type: ignore[attr-defined]


def download(
    ctx: HubContext,
    repo: str,
    *,
    revision: str | None = None,
    include: list[str] | None = None,
    report: Reporter = NULL_REPORTER,
    on_transfer: TransferCallback | None = None,
) -> DownloadResult:
    revision = revision or "main"
    include = [p for p in (include or []) if p] or None
    started = time.monotonic()
    storage = repo_folder(ctx.cache_dir, repo)
    if ctx.offline:
        snapshot = cached_snapshot(ctx.cache_dir, repo, revision, include)
        files = sorted(
            p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file()
        )
        size = sum((snapshot / f).stat().st_size for f in files)
        return DownloadResult(
            hub="huggingface",
            repo=repo,
            revision=revision,
            commit=snapshot.name,
            path=str(snapshot),
            files=files,
            downloaded_bytes=0,
            total_bytes=size,
            reused_bytes=size,
            seconds=time.monotonic() - started,
            complete=True,
        )
    report.progress(0.0, f"Listing the files of {repo}")
    commit, entries = _list_files(ctx, repo, revision)
    selected = sorted(p for p in entries if matches(p, include))
    if include and not selected:
        shown = ", ".join(sorted(entries)[:8])
        raise BadInput(
            f"No file in {repo} matches {' '.join(include)}",
            f"Pick patterns that match its files ({shown})",
        )
    try:
        storage.mkdir(parents=True, exist_ok=True)
        _write_tree(storage, commit, entries)
        write_ref(storage, revision, commit)
    except OSError as exc:
        raise OutputError(
            f"Cannot write to the Hugging Face cache at {ctx.cache_dir} ({exc.strerror})",
            "Free some space or set HF_HOME to another folder",
        ) from exc
    total = sum(int(entries[p]["size"]) for p in selected)
    tracker = Tracker(total, len(selected), on_transfer, report, ctx.cancel)
    fetched = _run_all(ctx, repo, commit, selected, storage, tracker)
    tracker.emit(force=True)
    record_complete(repo, commit, include)
    snapshot = storage / "snapshots" / commit
    return DownloadResult(
        hub="huggingface",
        repo=repo,
        revision=revision,
        commit=commit,
        path=str(snapshot),
        files=selected,
        downloaded_bytes=fetched,
        total_bytes=total,
        reused_bytes=total - fetched,
        seconds=time.monotonic() - started,
        complete=True,
    )


def _run_all(
    ctx: HubContext, repo: str, commit: str, selected: list[str], storage: Path, tracker: Tracker
) -> int:
    if len(selected) <= 1 or ctx.max_workers <= 1:
        return sum(_fetch_one(ctx, repo, commit, p, storage, tracker) for p in selected)
    pool = ThreadPoolExecutor(
        max_workers=min(ctx.max_workers, len(selected)), thread_name_prefix="hub-download"
    )
    try:
        futures = [
            pool.submit(_fetch_one, ctx, repo, commit, p, storage, tracker) for p in selected
        ]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            # Stop the other files at their next chunk, then report the first real failure.
            tracker.stop.set()
            for future in pending:
                future.cancel()
            wait(pending)
            errors = [
                f.exception()
                for f in futures
                if f.done() and not f.cancelled() and f.exception() is not None
            ]
            real = [e for e in errors if not isinstance(e, DownloadCancelled)]
            raise (real or errors)[0]  # type: ignore[misc]
        return sum(f.result() for f in futures)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
