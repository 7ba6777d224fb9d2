"""A real adb server on a private port for the whole session, and a fresh virtual phone per test.

The server comes from the adbutils wheel (the same program users get) and never touches the user's
server on 5037 or their ~/.android keys: it runs on its own port with its own HOME, and is killed
when the session ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.devices import adb_server
from tests.support.virtual_adb import VirtualDevice, wait_until


def _die_with_parent() -> None:
    import ctypes

    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AdbServer:
    def __init__(self, port: int, home: Path) -> None:
        self.port = port
        self.home = home
        self.program = adb_server.adb_program()
        # No mDNS (it would bind 0.0.0.0:5353), no USB scan and no emulator probing: this server
        # sees only the virtual devices a test connects, never a phone plugged into the machine.
        self.env = {
            **os.environ,
            "ANDROID_ADB_SERVER_PORT": str(port),
            "HOME": str(home),
            "ANDROID_USER_HOME": str(home / ".android"),
            "ADB_MDNS": "0",
            "ADB_USB": "0",
            "ADB_EMU": "0",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """The server as our own child in the foreground (`nodaemon`), so it cannot outlive the
        test session: stopped in teardown, and on Linux killed with us even if pytest is killed."""
        self.process = subprocess.Popen(
            [str(self.program), "-P", str(self.port), "nodaemon", "server"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        assert wait_until(lambda: adb_server.running_server_version(self.port) is not None, 20)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def adb(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.program), "-P", str(self.port), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def client(self):
        import adbutils

        return adbutils.AdbClient(host="127.0.0.1", port=self.port)

    def state_of(self, serial: str) -> str | None:
        return {e.serial: e.state for e in self.client().list()}.get(serial)


@pytest.fixture(scope="session")
def adb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdbServer]:
    home = tmp_path_factory.mktemp("adb-home")
    server = AdbServer(_free_port(), home)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        assert adb_server.running_server_version(server.port) is None


@pytest.fixture(autouse=True)
def _private_adb_port(adb: AdbServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(adb.port))


def attach(adb: AdbServer, device: VirtualDevice, state: str = "device") -> str:
    message = adb.client().connect(device.address, timeout=10)
    # A device that does not accept the key answers "failed to authenticate" and stays listed.
    assert "connected" in message or "authenticate" in message, message
    assert wait_until(lambda: adb.state_of(device.address) == state, 10), adb.state_of(
        device.address
    )
    return device.address


@pytest.fixture
def phone(adb: AdbServer, tmp_path: Path) -> Iterator[VirtualDevice]:
    """A connected virtual phone (Snapdragon 8 Gen 3 properties, python3 with onnxruntime)."""
    with VirtualDevice(tmp_path / "phone") as device:
        attach(adb, device)
        try:
            yield device
        finally:
            adb.client().disconnect(device.address)


@pytest.fixture
def bundle(tmp_path: Path, demo_model: Path) -> Path:
    """A real bundle of the demo model (with the runner)."""
    from studio.core.bundle.folder import create_bundle

    out = tmp_path / "digits-bundle"
    create_bundle(demo_model, out, name="digits-bundle")  # the device folder is the model's name
    return out


@pytest.fixture
def big_bundle(tmp_path: Path, demo_model: Path) -> Path:
    """A bundle with a 4 MB weights file that sorts last, so a push can be cut inside it."""
    from studio.core.bundle.folder import create_bundle

    weights = tmp_path / "zz.bin"
    weights.write_bytes(os.urandom(4 << 20))
    out = tmp_path / "big-bundle"
    create_bundle(demo_model, out, name="big-bundle", extra_files={"weights/zz.bin": weights})
    return out


def on_device(device: VirtualDevice, remote_dir: str) -> Path:
    return device.device_path(remote_dir)
