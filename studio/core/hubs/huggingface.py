"""Hugging Face Hub (and any mirror that speaks its API) through the real huggingface_hub client."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from studio.core.hubs import hf_cache, hf_download
from studio.core.hubs.base import (
    CachedModel,
    DownloadResult,
    Hub,
    ModelDetails,
    ModelHit,
    RepoFileInfo,
    SearchPage,
    SearchPager,
    SearchQuery,
    TransferCallback,
)
from studio.core.hubs.hf_context import HubContext, check_repo_id, reraise, with_retries
from studio.core.hubs.memory import estimate
from studio.core.progress import NULL_REPORTER, Reporter

SORT_PARAM = {"downloads": "downloads", "likes": "likes", "updated": "lastModified"}
EXPAND = [
    "author",
    "downloads",
    "likes",
    "lastModified",
    "pipeline_tag",
    "library_name",
    "gated",
    "private",
    "usedStorage",
    "tags",
]
CARD_LIMIT = 256 * 1024


def hit_from(item: dict[str, Any], cached: set[str]) -> ModelHit:
    from huggingface_hub.hf_api import ModelInfo

    info = ModelInfo(**item)
    return ModelHit(
        id=info.id,
        author=info.author or info.id.split("/")[0],
        downloads=info.downloads,
        likes=info.likes,
        last_modified=info.last_modified,
        task=info.pipeline_tag,
        library=info.library_name,
        size=info.used_storage,
        gated=bool(info.gated),
        cached=info.id in cached,
    )


class HfSearchPager(SearchPager):
    """Follows the hub's ``Link: rel="next"`` pages one request at a time."""

    def __init__(self, ctx: HubContext, query: SearchQuery) -> None:
        self.ctx = ctx
        self.query = query
        self.number = 0
        self.next_url: str | None = f"{ctx.endpoint}/api/models"
        self.params: dict[str, Any] | None = self._params(query)
        self.cached = {m.id for m in hf_cache.list_cached(ctx.cache_dir)}

    @staticmethod
    def _params(query: SearchQuery) -> dict[str, Any]:
        params: dict[str, Any] = {
            "limit": query.page_size,
            "sort": SORT_PARAM[query.sort],
            "expand": EXPAND,
        }
        if query.text.strip():
            params["search"] = query.text.strip()
        if query.author:
            params["author"] = query.author
        if query.task:
            params["pipeline_tag"] = query.task
        if query.library:
            params["filter"] = [query.library]
        return params

    @property
    def has_more(self) -> bool:
        return self.next_url is not None

    def next_page(self) -> SearchPage:
        if self.ctx.offline:
            return self._offline_page()
        if self.next_url is None:
            return SearchPage(hits=[], number=self.number, has_more=False)
        from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_backoff

        url, params = self.next_url, self.params
        headers = build_hf_headers(token=self.ctx.auth)

        def fetch() -> Any:
            response = http_backoff("GET", url, params=params, headers=headers, max_retries=0)
            hf_raise_for_status(response)
            return response

        response = with_retries(self.ctx, "the model search", fetch)
        self.next_url = response.links.get("next", {}).get("url")
        self.params = None  # the next link carries the query
        self.number += 1
        hits = [hit_from(item, self.cached) for item in response.json()]
        return SearchPage(hits=hits, number=self.number, has_more=self.next_url is not None)

    def _offline_page(self) -> SearchPage:
        """Offline, search means: the downloaded models whose name matches."""
        text = self.query.text.strip().lower()
        models = [
            m
            for m in hf_cache.list_cached(self.ctx.cache_dir)
            if text in m.id.lower()
            and (not self.query.author or m.id.startswith(self.query.author + "/"))
        ]
        seen: set[str] = set()
        hits = []
        for model in models:
            if model.id not in seen:
                seen.add(model.id)
                hits.append(
                    ModelHit(
                        id=model.id,
                        author=model.id.split("/")[0],
                        size=model.size,
                        last_modified=model.last_used,
                        cached=True,
                    )
                )
        start = self.number * self.query.page_size
        self.number += 1
        page = hits[start : start + self.query.page_size]
        self.next_url = None if start + self.query.page_size >= len(hits) else "offline"
        return SearchPage(hits=page, number=self.number, has_more=self.next_url is not None)


class HuggingFaceHub(Hub):
    kind = "huggingface"
    title = "Hugging Face"

    def __init__(self, ctx: HubContext | None = None) -> None:
        self.ctx = ctx or HubContext.current()

    def search(self, query: SearchQuery) -> HfSearchPager:
        return HfSearchPager(self.ctx, query)

    def info(
        self, repo: str, revision: str | None = None, *, memory_budget: int | None = None
    ) -> ModelDetails:
        repo = check_repo_id(repo)
        if self.ctx.offline:
            return self._cached_info(repo, revision or "main", memory_budget)
        from huggingface_hub import HfApi

        api = HfApi(endpoint=self.ctx.endpoint, token=self.ctx.auth)
        what = f"{repo}@{revision}" if revision else repo
        info = with_retries(
            self.ctx, what, lambda: api.model_info(repo, revision=revision, files_metadata=True)
        )
        storage = hf_cache.repo_folder(self.ctx.cache_dir, repo)
        snapshot = storage / "snapshots" / (info.sha or "-")
        files = [
            RepoFileInfo(path=s.rfilename, size=s.size, cached=(snapshot / s.rfilename).is_file())
            for s in info.siblings or []
        ]
        dtypes = dict(info.safetensors.parameters) if info.safetensors else {}
        if not dtypes and any(f.path.endswith(".safetensors") for f in files):
            dtypes = self._safetensors_header_counts(api, repo, info.sha)
        card = info.card_data
        license_name = getattr(card, "license", None) if card is not None else None
        if license_name is None:
            license_name = next(
                (t.split(":", 1)[1] for t in info.tags or [] if t.startswith("license:")), None
            )
        gated = info.gated
        return ModelDetails(
            hub="huggingface",
            id=info.id,
            revision=info.sha,
            author=info.author,
            license=str(license_name) if license_name else None,
            gated=bool(gated),
            gated_mode=gated if isinstance(gated, str) else None,
            private=bool(info.private),
            downloads=info.downloads,
            likes=info.likes,
            last_modified=info.last_modified,
            task=info.pipeline_tag,
            library=info.library_name,
            tags=list(info.tags or []),
            files=files,
            parameters=sum(dtypes.values()) or None,
            parameter_dtypes=dtypes,
            memory=estimate(
                budget_bytes=memory_budget,
                parameter_dtypes=dtypes,
                files=[(f.path, f.size) for f in files],
            ),
            url=self.ctx.web_url(info.id),
            local_path=str(snapshot) if snapshot.is_dir() else None,
        )

    def _safetensors_header_counts(self, api: Any, repo: str, commit: str | None) -> dict[str, int]:
        """Parameter counts read from the safetensors headers (ranged GETs, no weights)."""
        try:
            meta = with_retries(
                self.ctx, repo, lambda: api.get_safetensors_metadata(repo, revision=commit)
            )
        except Exception:
            return {}  # the count is a nicety; the details are still worth showing
        return dict(meta.parameter_count)

    def _cached_info(self, repo: str, revision: str, memory_budget: int | None) -> ModelDetails:
        snapshot = hf_cache.snapshot_path(self.ctx.cache_dir, repo, revision)
        files = [
            RepoFileInfo(
                path=p.relative_to(snapshot).as_posix(), size=p.stat().st_size, cached=True
            )
            for p in sorted(snapshot.rglob("*"))
            if p.is_file()
        ]
        from studio.core.hubs.local import safetensors_parameters

        dtypes = safetensors_parameters(snapshot)
        return ModelDetails(
            hub="huggingface",
            id=repo,
            revision=snapshot.name,
            author=repo.split("/")[0],
            files=files,
            parameters=sum(dtypes.values()) or None,
            parameter_dtypes=dtypes,
            memory=estimate(
                budget_bytes=memory_budget,
                parameter_dtypes=dtypes,
                files=[(f.path, f.size) for f in files],
            ),
            local_path=str(snapshot),
        )

    def card(self, repo: str, revision: str | None = None) -> str:
        """README.md without its YAML header; read from the cache when it is there."""
        from studio.core.hubs.local import strip_front_matter

        repo = check_repo_id(repo)
        storage = hf_cache.repo_folder(self.ctx.cache_dir, repo)
        commit = hf_cache.resolve_commit(storage, revision or "main")
        if commit and (storage / "snapshots" / commit / "README.md").is_file():
            text = (storage / "snapshots" / commit / "README.md").read_text("utf-8", "replace")
            return strip_front_matter(text[:CARD_LIMIT])
        if self.ctx.offline:
            return ""
        from huggingface_hub import hf_hub_url
        from huggingface_hub.errors import RemoteEntryNotFoundError
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        url = hf_hub_url(repo, "README.md", revision=revision, endpoint=self.ctx.endpoint)

        def fetch() -> str:
            response = get_session().get(
                url, headers=build_hf_headers(token=self.ctx.auth), follow_redirects=True
            )
            hf_raise_for_status(response)
            return response.content[:CARD_LIMIT].decode("utf-8", "replace")

        try:
            return strip_front_matter(with_retries(self.ctx, f"{repo} model card", fetch))
        except Exception as exc:
            if isinstance(exc.__cause__, RemoteEntryNotFoundError):
                return ""
            raise

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
        repo = check_repo_id(repo)
        ctx = dataclasses.replace(self.ctx, cancel=cancel or threading.Event())
        try:
            return hf_download.download(
                ctx,
                repo,
                revision=revision,
                include=include,
                report=report,
                on_transfer=on_transfer,
            )
        except Exception as exc:
            reraise(exc, ctx, repo)

    def cached(self) -> list[CachedModel]:
        return hf_cache.list_cached(self.ctx.cache_dir)
