"""Where the studio reads its assets and keeps user data.

User data goes to the platform's standard folders; the install folder and the user's model
folders are never written to.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "EdgeDeployStudio"


def assets_dir() -> Path:
    """The shipped assets: ``assets/`` inside a frozen build, ``studio/_assets`` in a wheel,
    ``assets/`` in a source checkout. Read-only: user data goes to the folders below."""
    from studio.core.frozen import frozen_root

    root = frozen_root()
    here = Path(__file__).resolve().parent.parent
    candidates = [root / "assets"] if root else [here / "_assets", here.parent / "assets"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("The studio's assets folder is missing; reinstall the studio.")


def demo_model_path() -> Path:
    return assets_dir() / "demo" / "digits_cnn.onnx"


def demo_samples_path() -> Path:
    return assets_dir() / "demo" / "digits_samples.npz"


def _override(env: str) -> Path | None:
    value = os.environ.get(env)
    return Path(value) if value else None


def data_dir() -> Path:
    """Bundles, recipes and job outputs the user did not place elsewhere."""
    path = _override("STUDIO_DATA_DIR") or Path(platformdirs.user_data_dir(APP_NAME, False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Settings and user-added chip profiles."""
    path = _override("STUDIO_CONFIG_DIR") or Path(platformdirs.user_config_dir(APP_NAME, False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    path = _override("STUDIO_CACHE_DIR") or Path(platformdirs.user_cache_dir(APP_NAME, False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_output_dir() -> Path:
    path = data_dir() / "outputs"
    path.mkdir(parents=True, exist_ok=True)
    return path
