"""Listing and identifying devices through the real adb server and a virtual phone."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from studio.core.chips.catalogue import get_chip
from studio.core.devices import identify
from studio.core.devices.listing import connect, get_device, list_devices
from studio.core.devices.models import DeviceState
from studio.core.errors import BadInput
from tests.devices.conftest import AdbServer, attach
from tests.support.virtual_adb import VirtualDevice


def _chip_exists(chip_id: str) -> bool:
    try:
        get_chip(chip_id)
    except BadInput:
        return False
    return True


def test_lists_this_pc_first_and_identifies_the_phone(phone: VirtualDevice) -> None:
    listing = list_devices()
    assert listing.adb_problem == ""
    assert listing.devices[0].serial == "this-pc" and listing.devices[0].ready
    info = next(d for d in listing.devices if d.serial == phone.address)
    assert info.state is DeviceState.READY and info.status == "Ready" and info.fix == ""
    assert info.name == "Virtual Phone 8G3"
    assert info.os == "Android 14 (API 34)"
    assert info.abi == "arm64-v8a"
    assert info.soc == "QTI SM8650"
    assert info.chip_id == "qualcomm-snapdragon-8-gen-3"
    assert info.chip_name == "Snapdragon 8 Gen 3"
    assert info.ram_bytes and info.ram_bytes > 1 << 20
    assert info.free_bytes == 8 << 30  # the virtual phone's empty 8 GiB storage
    assert info.transport == "wifi"
    assert info.default_dir == "/data/local/tmp/edge-deploy-studio"


def test_linux_board_without_getprop(adb: AdbServer, tmp_path: Path) -> None:
    """An AX650N-style board: no Android properties, identified from the device tree."""
    with VirtualDevice(tmp_path / "board", props={}) as board:
        (board.root / "props.json").write_text("{}")
        attach(adb, board)
        try:
            info = next(d for d in list_devices().devices if d.serial == board.address)
            assert info.ready and info.os and not info.os.startswith("Android")
            assert info.default_dir == "/opt/edge-deploy-studio"
            assert info.abi  # from uname -m
        finally:
            adb.client().disconnect(board.address)


def test_unauthorized_phone_shows_what_to_do(adb: AdbServer, tmp_path: Path) -> None:
    with VirtualDevice(tmp_path / "locked", unauthorized=True) as locked:
        attach(adb, locked, state="unauthorized")
        try:
            info = next(d for d in list_devices().devices if d.serial == locked.address)
            assert info.state is DeviceState.UNAUTHORIZED
            assert info.status == "Not authorized"
            assert "Allow USB debugging" in info.fix
            assert info.model == ""  # nothing can be asked before it is authorized
            with pytest.raises(BadInput, match=r"Not authorized.*Allow"):
                get_device(locked.address)
        finally:
            adb.client().disconnect(locked.address)


def test_get_device_errors(phone: VirtualDevice) -> None:
    with pytest.raises(BadInput, match=r"No device 'nope:1' is connected"):
        get_device("nope:1")
    assert get_device(None).serial == phone.address  # the only one connected
    assert get_device("this-pc").serial == "this-pc"


def test_no_device_connected() -> None:
    with pytest.raises(BadInput, match=r"No phone or board is ready"):
        get_device(None)


@pytest.mark.parametrize("address", ["", "phone", "1.2.3.4", "host:port", "1.2.3.4:99999"])
def test_connect_rejects_bad_addresses(address: str) -> None:
    with pytest.raises(BadInput, match=r"is not HOST:PORT"):
        connect(address)


def test_connect_to_nothing_says_how_to_fix() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BadInput, match=r"Could not connect to 127.0.0.1:.*Wireless debugging"):
        connect(f"127.0.0.1:{port}")


def test_connect_over_wifi(adb: AdbServer, tmp_path: Path) -> None:
    with VirtualDevice(tmp_path / "wifi") as device:
        try:
            assert "connected to" in connect(device.address)
            assert any(d.serial == device.address and d.ready for d in list_devices().devices)
        finally:
            adb.client().disconnect(device.address)


def test_soc_strings_map_to_catalogue_chips() -> None:
    for soc, chip in [
        ("SM8650", "qualcomm-snapdragon-8-gen-3"),
        ("mt6989", "mediatek-dimensity-9300"),
        ("MT6897", "mediatek-dimensity-8300"),
        ("AX650N_EVB", "axera-ax650n"),
        ("Raspberry Pi 5 Model B Rev 1.0", "raspberry-pi-5"),
    ]:
        assert _chip_exists(chip)
        assert identify.chip_for_soc([soc]) == chip
    assert identify.chip_for_soc(["exynos2400", "s5e9945"]) is None
    assert identify.chip_for_soc(["xsm8650"]) is None  # no match inside another word
    # An Android arm64 phone with an unknown SoC gets the generic Android CPU profile.
    assert identify.chip_for_soc(["s5e9945"], "arm64-v8a") == "generic-arm64-android-cpu"


def test_parsers_read_real_tool_output() -> None:
    props = identify.parse_getprop("[ro.product.model]: [Pixel 8]\n[ro.hardware]: [zuma]\n")
    assert props == {"ro.product.model": "Pixel 8", "ro.hardware": "zuma"}
    busybox_wrapped = (
        "Filesystem           1K-blocks      Used Available Use% Mounted on\n"
        "/dev/mapper/very-long-volume-name\n"
        "                      61255492  20054980  38059272  35% /\n"
    )
    assert identify.parse_df_available(busybox_wrapped) == 38059272 * 1024
    assert identify.parse_df_available("df: /x: No such file or directory") is None
    assert identify.parse_meminfo("MemTotal:       11706844 kB\n") == 11706844 * 1024


def test_listing_survives_a_phone_that_stops_answering(adb: AdbServer, tmp_path: Path) -> None:
    """A device that vanishes while being identified becomes a row with a fix, not a crash."""
    with VirtualDevice(tmp_path / "flaky") as device:
        attach(adb, device)
        try:
            timer = threading.Timer(0.0, device.disconnect)
            timer.start()
            timer.join()
            listing = list_devices()
            rows = [d for d in listing.devices if d.serial == device.address]
            assert all(r.ready or r.fix for r in rows)
        finally:
            adb.client().disconnect(device.address)


def test_connecting_to_a_phone_that_refuses(adb: AdbServer, tmp_path: Path) -> None:
    with VirtualDevice(tmp_path / "refuses", unauthorized=True) as locked:
        try:
            with pytest.raises(BadInput, match="has not allowed this computer yet.*Allow"):
                connect(locked.address)
        finally:
            adb.client().disconnect(locked.address)
