"""The Deploy step's *Install runtime* button: offered when the device says it has no runtime,
and running the device-setup job (here it fails in one line: nothing cached, no network)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.ui.jobs_qt import JobManager
from studio.ui.pages.deploy.device_list import DeviceListWidget
from tests.devices.conftest import AdbServer, attach
from tests.support.virtual_adb import VirtualDevice

TIMEOUT = 60_000
LINUX_BOARD = {"ro.build.version.release": "", "ro.build.version.sdk": ""}


@pytest.fixture
def widget(qtbot) -> Iterator[DeviceListWidget]:
    jobs = JobManager()
    w = DeviceListWidget(jobs)
    qtbot.addWidget(w)
    w.resize(1000, 600)
    w.show()
    yield w
    w.hide()
    jobs.shutdown()


def test_install_runtime_is_offered_where_the_runtime_is_missing(
    qtbot,
    widget: DeviceListWidget,
    adb: AdbServer,
    tmp_path: Path,
    bundle: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-links"))
    widget.set_bundle(bundle)
    with VirtualDevice(
        tmp_path / "board", props=LINUX_BOARD, python_has_onnxruntime=False
    ) as board:
        attach(adb, board)
        try:
            qtbot.waitUntil(
                lambda: any(d.serial == board.address and d.ready for d in widget.listing.devices),
                timeout=10_000,
            )
            widget.list.setCurrentRow(
                [d.serial for d in widget.listing.devices].index(board.address)
            )
            assert widget.install_button.isHidden()
            # This virtual board keeps its files under /data (its shell maps only that there).
            widget.remote_dir.setText("/data/local/tmp/digits")
            with qtbot.waitSignal(widget.deployed, timeout=TIMEOUT):
                widget.push_button.click()
            qtbot.waitUntil(widget.bench_button.isEnabled, timeout=10_000)
            widget.bench_button.click()
            qtbot.waitUntil(lambda: widget.install_button.isVisible(), timeout=TIMEOUT)
            assert widget.bench_verdict.text() == "✗ Could not measure"
            assert "has no onnxruntime" in widget.bench_detail.text()
            if os.environ.get("STUDIO_SCREENSHOT"):
                widget.grab().save(os.environ["STUDIO_SCREENSHOT"])
            widget.install_button.click()
            qtbot.waitUntil(
                lambda: widget.bench_verdict.text() == "✗ Not installed", timeout=TIMEOUT
            )
            assert "PyPI cannot be reached" in widget.bench_detail.text()
        finally:
            adb.client().disconnect(board.address)
