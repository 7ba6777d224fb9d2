"""One small interface for every model hub, so the UI and CLI never branch on the kind of hub."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from studio.core.hubs.memory import MemoryEstimate
from studio.core.progress import NULL_REPORTER, Reporter

HubKind = Literal["huggingface", "modelscope", "local"]
Sort = Literal["downloads", "likes", "updated"]


class SearchQuery(BaseModel):
    text: str = ""
    task: str | None = Field(None, description="Pipeline tag, e.g. text-generation")
    library: str | None = Field(None, description="e.g. onnx, transformers")
    author: str | None = None
    sort: Sort = "downloads"
    page_size: int = Field(20, ge=1, le=1000)


class ModelHit(BaseModel):
    """One search result row."""

    id: str
    author: str | None = None
    downloads: int | None = None
    likes: int | None = None
    last_modified: datetime | None = None
    task: str | None = None
    library: str | None = None
    size: int | None = None
    """Bytes stored for the repo when the hub reports it."""
    gated: bool = False
    cached: bool = False


class SearchPage(BaseModel):
    hits: list[ModelHit]
    number: int
    """1-based page number."""
    has_more: bool


class RepoFileInfo(BaseModel):
    path: str
    size: int | None = None
    cached: bool = False


class ModelDetails(BaseModel):
    hub: HubKind
    id: str
    revision: str | None = None
    """Commit the details describe (a commit hash for hub repos)."""
    author: str | None = None
    license: str | None = None
    gated: bool = False
    gated_mode: str | None = None
    private: bool = False
    downloads: int | None = None
    likes: int | None = None
    last_modified: datetime | None = None
    task: str | None = None
    library: str | None = None
    tags: list[str] = Field(default_factory=list)
    files: list[RepoFileInfo] = Field(default_factory=list)
    parameters: int | None = None
    parameter_dtypes: dict[str, int] = Field(default_factory=dict)
    memory: MemoryEstimate | None = None
    url: str | None = None
    local_path: str | None = None

    @property
    def total_size(self) -> int:
        return sum(f.size or 0 for f in self.files)


class DownloadResult(BaseModel):
    hub: HubKind
    repo: str
    revision: str
    commit: str
    path: str
    """The local snapshot folder."""
    files: list[str]
    downloaded_bytes: int
    total_bytes: int
    reused_bytes: int
    """Bytes already in the cache (other tools' downloads and earlier partial files)."""
    seconds: float
    complete: bool


CacheState = Literal["complete", "selected-files", "incomplete", "unverified"]


class CachedModel(BaseModel):
    hub: HubKind
    id: str
    revision: str
    commit: str | None = None
    path: str
    size: int
    files: int
    state: CacheState
    missing: list[str] = Field(default_factory=list)
    last_used: datetime | None = None
    has_onnx: bool = False


class Transfer(BaseModel):
    """Where a download stands; sent often, so keep it small."""

    done: int
    total: int
    rate: float
    """Bytes per second over the last few seconds."""
    eta: float | None
    file: str = ""
    files_done: int = 0
    files_total: int = 0

    def text(self) -> str:
        from studio.core.units import human_size

        parts = [f"{human_size(self.done)} of {human_size(self.total)}"]
        if self.rate > 0:
            parts.append(f"{human_size(int(self.rate))}/s")
        if self.eta is not None:
            parts.append(f"{_duration(self.eta)} left")
        return " · ".join(parts)


def _duration(seconds: float) -> str:
    seconds = max(int(seconds + 0.5), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


TransferCallback = Callable[[Transfer], None]


class SearchPager(ABC):
    """Pages of search results fetched one at a time (the next page only when asked for)."""

    @abstractmethod
    def next_page(self) -> SearchPage: ...


class Hub(ABC):
    kind: HubKind
    title: str

    def unavailable_reason(self) -> str | None:
        """None when the hub can be used; otherwise what is missing and how to enable it."""
        return None

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchPager: ...

    @abstractmethod
    def info(
        self, repo: str, revision: str | None = None, *, memory_budget: int | None = None
    ) -> ModelDetails: ...

    def card(self, repo: str, revision: str | None = None) -> str:
        """The model card as Markdown (may be empty)."""
        return ""

    @abstractmethod
    def download(
        self,
        repo: str,
        *,
        revision: str | None = None,
        include: list[str] | None = None,
        report: Reporter = NULL_REPORTER,
        on_transfer: TransferCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> DownloadResult: ...

    @abstractmethod
    def cached(self) -> list[CachedModel]: ...
