"""The adb server the studio started stops when the studio quits; any other server, or one
another program still uses, keeps running. The real adb program from the adbutils wheel, on a
private port with its own HOME (never the user's 5037)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.devices import adb_owner, adb_server
from tests.devices.conftest import AdbServer
from tests.support.virtual_adb import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _running(port: int) -> bool:
    return adb_server.running_server_version(port) is not None


@pytest.fixture
def port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A private port the studio may start its own server on (autostart on for these tests)."""
    number = _free_port()
    home = tmp_path / "adb-home"
    home.mkdir()
    for name, value in {
        "ANDROID_ADB_SERVER_PORT": str(number),
        "STUDIO_ADB_AUTOSTART": "1",
        "HOME": str(home),
        "ANDROID_USER_HOME": str(home / ".android"),
        "ADB_MDNS": "0",
        "ADB_USB": "0",
        "ADB_EMU": "0",
    }.items():
        monkeypatch.setenv(name, value)
    yield number
    if _running(number):  # never leave a daemon behind, whatever the test did
        subprocess.run(
            [str(adb_server.adb_program()), "-P", str(number), "kill-server"],
            capture_output=True,
            timeout=30,
        )


def test_a_cli_command_stops_the_server_it_started(port: int) -> None:
    assert not _running(port)
    assert main(["devices", "--json"]) == 0
    assert not _running(port)


def test_another_client_keeps_it_running_until_it_leaves(port: int) -> None:
    adb_server.ensure_server(port)
    outside = subprocess.Popen(
        [str(adb_server.adb_program()), "-P", str(port), "track-devices"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: adb_owner.other_clients(port) > 0, 10)
        assert adb_server.stop_own_server(port) is False
        assert _running(port)
    finally:
        outside.terminate()
        outside.wait(10)
    assert wait_until(lambda: adb_owner.other_clients(port) == 0, 10)
    assert adb_server.stop_own_server(port) is True
    assert not _running(port)


def test_a_server_someone_else_started_is_never_stopped(adb: AdbServer) -> None:
    assert adb_server.stop_own_server(adb.port) is False
    assert _running(adb.port)


def test_ours_died_and_another_tool_started_one(port: int, tmp_path: Path) -> None:
    adb_server.ensure_server(port)
    program = str(adb_server.adb_program())
    subprocess.run([program, "-P", str(port), "kill-server"], capture_output=True, timeout=30)
    assert wait_until(lambda: not _running(port), 10)
    theirs = subprocess.Popen(
        [program, "-P", str(port), "nodaemon", "server"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: _running(port), 20)
        assert adb_server.stop_own_server(port) is False
        assert _running(port) and theirs.poll() is None
    finally:
        theirs.terminate()
        theirs.wait(10)


def test_quitting_the_app_stops_it(qtbot, port: int) -> None:
    from studio.ui.main_window import MainWindow
    from studio.ui.pages.deploy.deploy_page import DeployPage

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.stack.setCurrentIndex(next(i for i, p in enumerate(win.pages) if isinstance(p, DeployPage)))
    qtbot.waitUntil(lambda: _running(port), timeout=30_000)  # the device watcher started it
    win.close()
    assert not _running(port)


def test_a_device_connected_over_the_network_keeps_it_running(port: int, tmp_path: Path) -> None:
    """`adb connect` lives only in the server: stopping it would forget the device."""
    from studio.core.devices.listing import connect, disconnect
    from tests.support.virtual_adb import VirtualDevice

    with VirtualDevice(tmp_path / "wifi") as device:
        connect(device.address)
        assert adb_server.stop_own_server(port) is False
        assert _running(port)
        disconnect(device.address)
        assert wait_until(lambda: adb_server.stop_own_server(port), 10)
    assert not _running(port)
