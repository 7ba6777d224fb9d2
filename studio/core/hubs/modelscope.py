"""ModelScope (modelscope.cn), for users where huggingface.co is unreachable. Optional extra.

Only what the ``modelscope`` client documents is used: ``snapshot_download(model_id, revision,
cache_dir, allow_patterns)``. Searching ModelScope needs its web API, which the studio does not
call yet: the user pastes a model ID found on modelscope.cn.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from pathlib import Path

from studio.core.errors import BadInput
from studio.core.frozen import is_frozen
from studio.core.hubs.base import (
    CachedModel,
    DownloadResult,
    Hub,
    ModelDetails,
    SearchPager,
    SearchQuery,
    TransferCallback,
)
from studio.core.hubs.local import LocalHub, model_kind
from studio.core.messages import Fix, message
from studio.core.progress import NULL_REPORTER, Reporter

INSTALL_HINT = "Install it with: pip install 'edge-deploy-studio[modelscope]'"
# The packaged app cannot pip-install into itself; ModelScope needs the Python install.
FROZEN_HINT = (
    "The packaged app does not include it: use a Python install of the studio with "
    "pip install 'edge-deploy-studio[modelscope]'"
)


def install_hint() -> str:
    return FROZEN_HINT if is_frozen() else INSTALL_HINT


def modelscope_cache() -> Path:
    env = os.environ.get("MODELSCOPE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "modelscope" / "hub"


class ModelScopeHub(Hub):
    kind = "modelscope"
    title = "ModelScope"

    def unavailable_reason(self) -> str | None:
        if importlib.util.find_spec("modelscope") is None:
            return f"ModelScope support is not installed. {install_hint()}"
        return None

    def _require(self) -> None:
        reason = self.unavailable_reason()
        if reason:
            raise BadInput("ModelScope support is not installed", install_hint())

    def search(self, query: SearchQuery) -> SearchPager:
        self._require()
        raise BadInput(msg=message("hub.modelscope_search", Fix(action="modelscope_download")))

    def _folder(self, repo: str) -> Path | None:
        for candidate in (modelscope_cache() / "models" / repo, modelscope_cache() / repo):
            if candidate.is_dir():
                return candidate
        return None

    def info(
        self, repo: str, revision: str | None = None, *, memory_budget: int | None = None
    ) -> ModelDetails:
        self._require()
        folder = self._folder(repo)
        if folder is None:
            raise BadInput(
                msg=message(
                    "hub.modelscope_missing",
                    Fix(action="modelscope_download_first", input=repo),
                    repo=repo,
                )
            )
        details = LocalHub(folders=[]).info(str(folder), memory_budget=memory_budget)
        return details.model_copy(
            update={"hub": "modelscope", "id": repo, "url": f"https://modelscope.cn/models/{repo}"}
        )

    def download(
        self,
        repo: str,
        *,
        revision: str | None = None,
        include: list[str] | None = None,
        report: Reporter = NULL_REPORTER,
        on_transfer: TransferCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> DownloadResult:
        self._require()
        from modelscope import snapshot_download  # type: ignore[import-not-found]

        started = time.monotonic()
        report.progress(0.0, f"Downloading {repo} from ModelScope")
        path = Path(
            snapshot_download(
                model_id=repo,
                revision=revision,
                cache_dir=str(modelscope_cache()),
                allow_patterns=include or None,
            )
        )
        files = [p for p in path.rglob("*") if p.is_file() and ".git" not in p.parts]
        size = sum(p.stat().st_size for p in files)
        report.progress(1.0, "done")
        return DownloadResult(
            hub="modelscope",
            repo=repo,
            revision=revision or "master",
            commit=revision or "master",
            path=str(path),
            files=[p.relative_to(path).as_posix() for p in files],
            downloaded_bytes=size,
            total_bytes=size,
            reused_bytes=0,
            seconds=time.monotonic() - started,
            complete=True,
        )

    def cached(self) -> list[CachedModel]:
        root = modelscope_cache()
        models: list[CachedModel] = []
        for base in (root / "models", root):
            if not base.is_dir():
                continue
            for owner in sorted(p for p in base.iterdir() if p.is_dir()):
                for folder in sorted(p for p in owner.iterdir() if p.is_dir()):
                    if model_kind(folder) is None:
                        continue
                    files = [p for p in folder.rglob("*") if p.is_file()]
                    models.append(
                        CachedModel(
                            hub="modelscope",
                            id=f"{owner.name}/{folder.name}",
                            revision="master",
                            path=str(folder),
                            size=sum(p.stat().st_size for p in files),
                            files=len(files),
                            state="unverified",
                            has_onnx=any(p.suffix == ".onnx" for p in files),
                        )
                    )
        return models
