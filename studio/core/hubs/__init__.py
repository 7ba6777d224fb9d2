"""Model hubs behind one interface: Hugging Face (and mirrors), ModelScope, and this computer.

``get_hub(kind)`` returns a ``Hub``; the CLI and the GUI call the same methods and never branch on
the kind of hub.
"""

from __future__ import annotations

from studio.core.hubs.base import (
    CachedModel,
    DownloadResult,
    Hub,
    HubKind,
    ModelDetails,
    ModelHit,
    SearchPage,
    SearchPager,
    SearchQuery,
    Transfer,
)
from studio.core.hubs.hf_context import HubContext, HubError
from studio.core.hubs.memory import MemoryEstimate
from studio.core.hubs.settings import HubSettings, load_settings, save_settings

HUB_KINDS: tuple[HubKind, ...] = ("huggingface", "modelscope", "local")


def get_hub(kind: HubKind = "huggingface", settings: HubSettings | None = None) -> Hub:
    from studio.core.errors import BadInput

    settings = settings or load_settings()
    if kind == "huggingface":
        from studio.core.hubs.huggingface import HuggingFaceHub

        return HuggingFaceHub(HubContext.current(settings))
    if kind == "modelscope":
        from studio.core.hubs.modelscope import ModelScopeHub

        return ModelScopeHub()
    if kind == "local":
        from studio.core.hubs.local import LocalHub

        return LocalHub(settings.local_folders)
    raise BadInput(f"Unknown hub '{kind}'", "Use one of: " + ", ".join(HUB_KINDS))


__all__ = [
    "HUB_KINDS",
    "CachedModel",
    "DownloadResult",
    "Hub",
    "HubContext",
    "HubError",
    "HubKind",
    "HubSettings",
    "MemoryEstimate",
    "ModelDetails",
    "ModelHit",
    "SearchPage",
    "SearchPager",
    "SearchQuery",
    "Transfer",
    "get_hub",
    "load_settings",
    "save_settings",
]
