"""Library chatter reaches the app's log, not the user's terminal (#23)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.ui.app import log_to_file, quiet_web_engine


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    for handler in root.handlers[len(handlers) :]:
        handler.close()
    root.handlers[:], root.level = handlers, level


def test_the_apps_info_lines_go_to_its_log_file_and_warnings_to_both(
    root_logger: logging.Logger, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root_logger.handlers[:] = []
    log = tmp_path / "studio.log"
    log_to_file(log)
    logging.getLogger("studio").info("device watcher: adb read timeout")
    logging.getLogger("studio").warning("the bundle folder is almost full")
    err = capfd.readouterr().err
    assert "adb read timeout" not in err and "almost full" in err
    text = log.read_text()
    assert "adb read timeout" in text and "almost full" in text


def test_chromium_logs_only_fatal_errors_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTWEBENGINE_CHROMIUM_FLAGS", "--no-pings")
    quiet_web_engine()
    quiet_web_engine()
    assert os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] == "--no-pings --log-level=3"
    monkeypatch.setenv("QTWEBENGINE_CHROMIUM_FLAGS", "--log-level=0")
    quiet_web_engine()
    assert os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] == "--log-level=0"
