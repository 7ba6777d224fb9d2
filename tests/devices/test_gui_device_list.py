"""The Deploy step's device list, driven like a user would, against the virtual phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.bundle.folder import read_manifest
from studio.core.devices.models import DeviceState
from studio.ui.jobs_qt import JobManager
from studio.ui.pages.deploy.device_list import DeviceListWidget
from tests.devices.conftest import AdbServer, attach
from tests.support.virtual_adb import VirtualDevice

TIMEOUT = 60_000


@pytest.fixture
def widget(qtbot) -> Iterator[DeviceListWidget]:
    jobs = JobManager()
    w = DeviceListWidget(jobs)
    qtbot.addWidget(w)
    w.resize(820, 560)
    w.show()
    yield w
    w.hide()  # stops the watcher thread
    jobs.shutdown()
    assert w.watcher is None


def _rows(w: DeviceListWidget) -> list[str]:
    return [d.serial for d in w.listing.devices]


def test_hot_plug_push_verify_and_bench(
    qtbot, widget: DeviceListWidget, adb: AdbServer, tmp_path: Path, bundle: Path
) -> None:
    qtbot.waitUntil(lambda: _rows(widget) == ["this-pc"], timeout=10_000)
    assert not widget.push_button.isEnabled()  # no bundle yet
    widget.set_bundle(bundle)
    with VirtualDevice(tmp_path / "phone") as phone:
        try:
            # Connect over Wi-Fi from the widget itself.
            widget.address.setText(phone.address)
            widget.connect_button.click()
            qtbot.waitUntil(
                lambda: (
                    phone.address in _rows(widget)
                    and any(d.serial == phone.address and d.ready for d in widget.listing.devices)
                ),
                timeout=10_000,
            )
            assert widget.selected().serial == phone.address  # a ready phone is preferred
            assert widget.push_button.isEnabled() and not widget.bench_button.isEnabled()

            with qtbot.waitSignal(widget.deployed, timeout=TIMEOUT) as pushed:
                widget.push_button.click()
            assert pushed.args[0].verified
            assert widget.verdict.text() == "Verified on device ✓"
            # The same count as Deploy's "all N files match the manifest": the listed files.
            listed = len(read_manifest(bundle).files)
            assert f"{listed} files and the manifest checked on" in widget.detail.text()
            # The row shows the space the bundle took.
            qtbot.waitUntil(
                lambda: (
                    next(d for d in widget.listing.devices if d.serial == phone.address).free_bytes
                    < 8 << 30
                ),
                timeout=10_000,
            )
            widget.grab().save(str(tmp_path / "device-list.png"))

            qtbot.waitUntil(widget.bench_button.isEnabled, timeout=10_000)
            widget.runs.setValue(5)
            with qtbot.waitSignal(widget.benchmarked, timeout=TIMEOUT) as ran:
                widget.bench_button.click()
            assert ran.args[0].ok and ran.args[0].bench().runs == 5
            assert "ms per run on the device" in widget.bench_verdict.text()
            assert "p90" in widget.bench_detail.text()
            assert widget.verdict.text() == "Verified on device ✓"  # still shown
            widget.grab().save(str(tmp_path / "device-list.png"))

            adb.client().disconnect(phone.address)  # unplugged: gone within a second
            qtbot.waitUntil(lambda: phone.address not in _rows(widget), timeout=3_000)
        finally:
            adb.client().disconnect(phone.address)


def test_unauthorized_phone_shows_its_fix(
    qtbot, widget: DeviceListWidget, adb: AdbServer, tmp_path: Path, bundle: Path
) -> None:
    widget.set_bundle(bundle)
    with VirtualDevice(tmp_path / "locked", unauthorized=True) as locked:
        attach(adb, locked, state="unauthorized")
        try:
            qtbot.waitUntil(lambda: locked.address in _rows(widget), timeout=10_000)
            info = next(d for d in widget.listing.devices if d.serial == locked.address)
            assert info.state is DeviceState.UNAUTHORIZED
            row_index = _rows(widget).index(locked.address)
            widget.list.setCurrentRow(row_index)
            row = widget.list.itemWidget(widget.list.item(row_index))
            assert "Allow USB debugging" in row.fix.text() and row.fix.isVisible()
            assert not widget.push_button.isEnabled()  # cannot push to it
        finally:
            adb.client().disconnect(locked.address)


def test_bad_wifi_address_is_explained(qtbot, widget: DeviceListWidget) -> None:
    widget.address.setText("phone")
    widget.connect_button.click()
    qtbot.waitUntil(lambda: "is not HOST:PORT" in widget.notice.text(), timeout=10_000)
    assert widget.connect_button.isEnabled()


def test_push_failure_is_shown_not_raised(
    qtbot, widget: DeviceListWidget, adb: AdbServer, tmp_path: Path, bundle: Path
) -> None:
    widget.set_bundle(bundle)
    with VirtualDevice(tmp_path / "full", capacity=1 << 20) as full:
        attach(adb, full)
        try:
            qtbot.waitUntil(
                lambda: any(d.serial == full.address and d.ready for d in widget.listing.devices),
                timeout=10_000,
            )
            widget.list.setCurrentRow(_rows(widget).index(full.address))
            widget.push_button.click()
            qtbot.waitUntil(lambda: widget.verdict.text() == "✗ Not done", timeout=TIMEOUT)
            assert "Free up space" in widget.detail.text()
        finally:
            adb.client().disconnect(full.address)


def test_cancel_a_push_from_the_ui(
    qtbot, widget: DeviceListWidget, adb: AdbServer, tmp_path: Path, big_bundle: Path
) -> None:
    from studio.core.devices.deploy import verify_on_device

    widget.set_bundle(big_bundle)
    with VirtualDevice(tmp_path / "slow", bandwidth=1 << 20) as slow:  # 4 MiB take ~4 s
        attach(adb, slow)
        try:
            qtbot.waitUntil(
                lambda: any(d.serial == slow.address and d.ready for d in widget.listing.devices),
                timeout=10_000,
            )
            widget.list.setCurrentRow(_rows(widget).index(slow.address))
            widget.push_button.click()
            qtbot.waitUntil(lambda: "Pushing" in widget.progress.label.text(), timeout=TIMEOUT)
            assert "/s" in widget.progress.label.text() and "left" in widget.progress.label.text()
            with qtbot.waitSignal(widget.job.cancelled, timeout=TIMEOUT):
                widget.progress.cancel_button.click()
            assert widget.verdict.text() == "Stopped"
            assert not (
                slow.device_path("/data/local/tmp/edge-deploy-studio/big-bundle") / "manifest.json"
            ).exists()
            assert not verify_on_device(big_bundle, slow.address).ok
            qtbot.waitUntil(widget.push_button.isEnabled, timeout=10_000)
        finally:
            adb.client().disconnect(slow.address)


def test_push_to_a_folder_the_user_chose(
    qtbot, widget: DeviceListWidget, phone: VirtualDevice, bundle: Path
) -> None:
    widget.set_bundle(bundle)
    qtbot.waitUntil(
        lambda: any(d.serial == phone.address and d.ready for d in widget.listing.devices),
        timeout=10_000,
    )
    widget.list.setCurrentRow(_rows(widget).index(phone.address))
    expected = f"/data/local/tmp/edge-deploy-studio/{bundle.name}"
    assert widget.remote_dir.placeholderText() == expected
    widget.remote_dir.setText("/sdcard/my-models/digits")
    with qtbot.waitSignal(widget.deployed, timeout=TIMEOUT) as pushed:
        widget.push_button.click()
    assert pushed.args[0].remote_dir == "/sdcard/my-models/digits"
    assert (phone.device_path("/sdcard/my-models/digits") / "manifest.json").is_file()
    qtbot.waitUntil(widget.bench_button.isEnabled, timeout=10_000)
    widget.remote_dir.setText("")  # another folder: not pushed there yet
    assert not widget.bench_button.isEnabled()
    widget.remote_dir.setText("relative/path")
    widget.push_button.click()
    qtbot.waitUntil(lambda: widget.verdict.text() == "✗ Not done", timeout=TIMEOUT)
    assert "not an absolute folder path" in widget.detail.text()
