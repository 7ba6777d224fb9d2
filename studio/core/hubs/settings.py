"""Hub settings: which endpoint (mirror) to use and whether to stay offline.

Stored as a versioned file in the studio's config folder. ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE``
win over the file, the way the official Hugging Face tools treat them, and are read at call time
(huggingface_hub itself reads them once at import, too early for a settings dialog).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from studio.core.paths import config_dir
from studio.core.schema import load_model_file

SETTINGS_VERSION: Final = 1
DEFAULT_ENDPOINT = "https://huggingface.co"
# A widely used mirror for users in China; offered as a choice, never used silently.
KNOWN_MIRRORS = {"Hugging Face": DEFAULT_ENDPOINT, "hf-mirror.com (China)": "https://hf-mirror.com"}

_TRUE = {"1", "true", "yes", "on"}


class HubSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    version: Literal[1] = SETTINGS_VERSION
    endpoint: str | None = Field(
        None,
        title="Hub address",
        description="Leave empty for huggingface.co; a mirror URL otherwise",
    )
    offline: bool = Field(False, title="Offline", description="Use only models already downloaded")
    default_hub: Literal["huggingface", "modelscope", "local"] = "huggingface"
    local_folders: list[str] = Field(
        default_factory=list, description="Extra folders the Local hub lists models from"
    )

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be a web address such as https://hf-mirror.com")
        return value

    def resolved_endpoint(self) -> str:
        env = os.environ.get("HF_ENDPOINT", "").strip().rstrip("/")
        return env or self.endpoint or DEFAULT_ENDPOINT

    def is_offline(self) -> bool:
        return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE or self.offline


def settings_path() -> Path:
    return config_dir() / "hub.yaml"


def load_settings(path: Path | None = None) -> HubSettings:
    path = path or settings_path()
    if not path.exists():
        return HubSettings()
    return load_model_file(HubSettings, path)


def save_settings(settings: HubSettings, path: Path | None = None) -> Path:
    import yaml

    from studio.core.atomic import atomic_path

    path = path or settings_path()
    with atomic_path(path, replace=True) as partial:
        data = settings.model_dump(mode="json")
        partial.write_text(
            yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    return path
