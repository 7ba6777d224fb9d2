"""Turn a recipe's hub model (repo, revision, file) into a local .onnx path.

Online it downloads what is missing (only that file and its external-data companions); with no
network or in offline mode it uses the Hugging Face cache, and says so if the file is not there.
"""

from __future__ import annotations

from pathlib import Path

from studio.core.errors import BadInput
from studio.core.hubs.base import DownloadResult
from studio.core.hubs.hf_cache import COMMIT_RE, cached_snapshot
from studio.core.hubs.hf_context import HubContext, HubError
from studio.core.progress import NULL_REPORTER, Reporter


def companion_patterns(file: str) -> list[str]:
    """The file plus the usual names of its ONNX external-data file."""
    return [file, f"{file}_data", f"{file}.data"]


def resolve_hub_file(
    repo: str,
    file: str,
    revision: str | None = None,
    *,
    ctx: HubContext | None = None,
    report: Reporter = NULL_REPORTER,
) -> Path:
    ctx = ctx or HubContext.current()
    revision = revision or "main"
    key = (ctx.endpoint, str(ctx.cache_dir), repo, revision, file)
    known = _RESOLVED.get(key)
    if known is not None and known.is_file():
        return known
    path = _resolve(ctx, repo, file, revision, report)
    _RESOLVED[key] = path
    return path


_RESOLVED: dict[tuple[str, str, str, str, str], Path] = {}
"""Branches resolved in this session: the wizard asks for the model path often (sometimes on the
UI thread); only the first ask may touch the network."""


def _resolve(ctx: HubContext, repo: str, file: str, revision: str, report: Reporter) -> Path:
    from studio.core.hubs.huggingface import HuggingFaceHub

    patterns = companion_patterns(file)
    if COMMIT_RE.match(revision):
        # A commit never changes: a complete cached copy is the answer, no network needed.
        try:
            return _file_in(cached_snapshot(ctx.cache_dir, repo, revision, [file]), repo, file)
        except BadInput:
            pass
    if ctx.offline:
        snapshot = cached_snapshot(ctx.cache_dir, repo, revision, [file])
    else:
        try:
            result = HuggingFaceHub(ctx).download(
                repo, revision=revision, include=patterns, report=report
            )
            snapshot = Path(result.path)
        except HubError as network_error:
            # No network or the hub is down: a complete cached copy is just as good.
            try:
                snapshot = cached_snapshot(ctx.cache_dir, repo, revision, [file])
            except BadInput:
                raise network_error from None
            report.log(f"The hub is unreachable; using the downloaded copy of {repo}")
    return _file_in(snapshot, repo, file)


def _file_in(snapshot: Path, repo: str, file: str) -> Path:
    path = snapshot / file
    if not path.is_file():
        raise BadInput(
            f"{repo} has no file {file} in its downloaded copy",
            f"Check model.file; see the files with: studio hub info {repo}",
        )
    return path


def pick_onnx(result: DownloadResult) -> str | None:
    """The .onnx file of a download the wizard should start from (model.onnx preferred)."""
    candidates = sorted(
        (f for f in result.files if f.endswith(".onnx")),
        key=lambda f: (f.rsplit("/", 1)[-1] != "model.onnx", f.count("/"), f),
    )
    return candidates[0] if candidates else None
