"""Test setup shared by every test: headless Qt, and fresh user folders per test."""

from __future__ import annotations

import os

# Must be set before any Qt import (pytest-qt creates the QApplication later).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --no-sandbox")
# Tests never start or talk to the user's adb server (5037): adb is pointed at a port nobody
# listens on and may not be started; tests/devices runs its own server on a private port.
os.environ["STUDIO_ADB_AUTOSTART"] = "0"
os.environ["ANDROID_ADB_SERVER_PORT"] = "9"  # discard: never an adb server

from pathlib import Path

import pytest

from studio.core.privacy import keep_private

# Tests never touch the network; no library may report home from the test process either
# (tests/test_offline.py gives the studio's own processes an environment without these).
keep_private()

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never read or write the real user's data, config or cache folders."""
    root = tmp_path_factory.mktemp("user")
    for name in ("STUDIO_DATA_DIR", "STUDIO_CONFIG_DIR", "STUDIO_CACHE_DIR"):
        monkeypatch.setenv(name, str(root / name.lower()))
    monkeypatch.setenv("HF_HOME", str(root / "hf_home"))
    # Run tracking (the [track] extra) is off except in tests/test_track.py, which turns it on
    # with a store made once: MLflow's first use of a store spends ~10 s creating its tables.
    monkeypatch.setenv("STUDIO_TRACKING", "off")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture(scope="session")
def gui_calibration_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for This PC's calibration (seconds of micro-benchmarks) across GUI tests;
    a test sets STUDIO_CACHE_DIR to it."""
    return tmp_path_factory.mktemp("gui-calibration-cache")


@pytest.fixture
def demo_model() -> Path:
    from studio.core.paths import demo_model_path

    return demo_model_path()


@pytest.fixture
def demo_samples() -> Path:
    from studio.core.paths import demo_samples_path

    return demo_samples_path()
