"""Hot-plug through adb's track-devices, and the adb server version policy."""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.devices import adb_server
from studio.core.devices.listing import DeviceListing, DeviceWatcher
from studio.core.errors import BadInput
from tests.devices.conftest import AdbServer
from tests.support.virtual_adb import VirtualDevice


def _next_with(
    q: queue.Queue[DeviceListing], serial: str, present: bool, timeout: float = 5.0
) -> tuple[DeviceListing, float]:
    start = time.monotonic()
    while True:
        listing = q.get(timeout=max(timeout - (time.monotonic() - start), 0.01))
        if any(d.serial == serial for d in listing.devices) == present:
            return listing, time.monotonic() - start


def test_hot_plug_appears_and_disappears_quickly(adb: AdbServer, tmp_path: Path) -> None:
    updates: queue.Queue[DeviceListing] = queue.Queue()
    watcher = DeviceWatcher(updates.put).start()
    try:
        first = updates.get(timeout=5)
        assert first.devices[0].serial == "this-pc"
        with VirtualDevice(tmp_path / "hotplug") as device:
            adb.client().connect(device.address, timeout=10)
            listing, waited = _next_with(updates, device.address, True)
            row = next(d for d in listing.devices if d.serial == device.address)
            assert waited < 1.0
            if not row.ready:  # first seen while still connecting: identified on the next event
                listing, _ = _next_with_ready(updates, device.address)
                row = next(d for d in listing.devices if d.serial == device.address)
            assert row.model == "Phone 8G3"
            adb.client().disconnect(device.address)
            _listing, waited = _next_with(updates, device.address, False)
            assert waited < 1.0
    finally:
        watcher.stop()
    assert not watcher.alive


def _next_with_ready(q: queue.Queue[DeviceListing], serial: str) -> tuple[DeviceListing, float]:
    start = time.monotonic()
    while True:
        listing = q.get(timeout=5)
        if any(d.serial == serial and d.ready for d in listing.devices):
            return listing, time.monotonic() - start


@pytest.fixture
def old_server() -> Iterator[int]:
    """A loopback server answering `host:version` like adb 1.0.32 (2015) would."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                request = conn.recv(64)
                if request.endswith(b"host:version"):
                    conn.sendall(b"OKAY" + b"0004" + b"0020")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    stop.set()
    thread.join(5)
    listener.close()


def test_an_old_server_of_another_tool_is_left_alone(old_server: int) -> None:
    assert adb_server.running_server_version(old_server) == 32
    with pytest.raises(BadInput, match=r"old adb server \(1.0.32\).*adb kill-server"):
        adb_server.ensure_server(old_server)
    assert adb_server.running_server_version(old_server) == 32  # still running, not killed


def test_a_newer_or_equal_server_is_used_as_it_is(adb: AdbServer) -> None:
    version = adb_server.ensure_server(adb.port)
    assert version == adb_server.running_server_version(adb.port)
    assert version >= adb_server.MIN_SERVER_VERSION


def test_adb_program_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk = tmp_path / "sdk" / "platform-tools"
    sdk.mkdir(parents=True)
    (sdk / "adb").write_text("#!/bin/sh\necho 'Android Debug Bridge version 1.0.41'\n")
    (sdk / "adb").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("ADBUTILS_ADB_PATH", raising=False)
    monkeypatch.setenv("ANDROID_HOME", str(tmp_path / "sdk"))
    assert adb_server.adb_program() == sdk / "adb"
    assert adb_server.program_version(sdk / "adb") == 41
    monkeypatch.delenv("ANDROID_HOME")
    bundled = adb_server.adb_program()  # no SDK: the copy inside the adbutils wheel
    assert "adbutils" in str(bundled) and adb_server.program_version(bundled)


def test_without_a_server_the_list_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.core.devices.listing import list_devices

    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", "9")
    listing = list_devices()
    assert [d.serial for d in listing.devices] == ["this-pc"]
    assert "No adb server is running on port 9" in listing.adb_problem
