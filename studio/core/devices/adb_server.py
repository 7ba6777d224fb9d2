"""Find adb, start its server when none runs, and never fight another tool's server.

Policy for two adb versions (the usual cause of "adb server version (41) doesn't match this client
(40); killing..." loops between Android Studio, vendor tools and us): the studio talks to the
server over its socket protocol, which is stable across versions, and runs the adb *program* only
to start a server when none is running. So a server another tool started is used as it is — never
killed or restarted — as long as it is new enough (``MIN_SERVER_VERSION``). An older one gets a
clear message instead of a silent restart.

Which program starts the server: ``ADBUTILS_ADB_PATH`` if set, else ``adb`` on PATH, else
``$ANDROID_HOME/platform-tools/adb`` (or ``ANDROID_SDK_ROOT``), else the copy inside the adbutils
wheel — so no Android SDK is needed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from studio.core.devices import adb_owner
from studio.core.errors import BadInput

MIN_SERVER_VERSION = 39  # 1.0.39 (2017): every host service the studio uses exists there
DEFAULT_PORT = 5037
_EXE = "adb.exe" if os.name == "nt" else "adb"


def server_port() -> int:
    value = os.environ.get("ANDROID_ADB_SERVER_PORT", "")
    return int(value) if value.isdigit() else DEFAULT_PORT


def adb_program() -> Path:
    """The adb program used to start a server (see the module docstring for the order)."""
    explicit = os.environ.get("ADBUTILS_ADB_PATH")
    if explicit and Path(explicit).is_file():
        return Path(explicit)
    on_path = shutil.which("adb")
    if on_path:
        return Path(on_path)
    for env in ("ANDROID_HOME", "ANDROID_SDK_ROOT"):
        root = os.environ.get(env)
        if root and (Path(root) / "platform-tools" / _EXE).is_file():
            return Path(root) / "platform-tools" / _EXE
    from adbutils._utils import _get_bin_dir

    bundled = Path(_get_bin_dir()) / _EXE
    if bundled.is_file():
        return bundled
    raise BadInput(
        "No adb program was found", "Reinstall the studio (its adbutils package ships adb)"
    )


@lru_cache(maxsize=8)
def program_version(program: Path) -> int | None:
    """41 for 'Android Debug Bridge version 1.0.41'."""
    try:
        out = subprocess.run([str(program), "version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"version 1\.0\.(\d+)", out.stdout)
    return int(match.group(1)) if match else None


def running_server_version(port: int | None = None, host: str = "127.0.0.1") -> int | None:
    """The version of the adb server listening on ``port``, or None when none answers."""
    port = port or server_port()
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.settimeout(3.0)
            sock.sendall(b"000chost:version")
            reply = _recv_exact(sock, 4)
            if reply != b"OKAY":
                return None
            length = int(_recv_exact(sock, 4), 16)
            return int(_recv_exact(sock, length), 16)
    except (OSError, ValueError):
        return None


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


def autostart_allowed() -> bool:
    """``STUDIO_ADB_AUTOSTART=0`` keeps the studio from starting an adb server (the test suite
    sets it, so only tests that start their own private server ever talk to adb)."""
    return os.environ.get("STUDIO_ADB_AUTOSTART", "1") != "0"


def ensure_server(port: int | None = None) -> int:
    """Make sure a usable adb server listens on ``port``; return its version."""
    port = port or server_port()
    version = running_server_version(port)
    if version is None and not autostart_allowed():
        raise BadInput(
            f"No adb server is running on port {port}",
            "Start one with `adb start-server` (automatic start is switched off)",
        )
    if version is None:
        program = adb_program()
        try:
            subprocess.run(
                [str(program), "-P", str(port), "start-server"],
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BadInput(
                f"Could not start adb ({program}: {exc})",
                "Check that nothing else blocks it, then try again",
            ) from exc
        version = running_server_version(port)
        if version is None:
            raise BadInput(
                f"The adb server did not start on port {port}",
                "Close other Android tools and try again, or restart the computer",
            )
        adb_owner.note_started(port)  # so quitting stops it again (adb_owner.py)
    if version < MIN_SERVER_VERSION:
        raise BadInput(
            f"An old adb server (1.0.{version}) is already running, started by another tool",
            "Close that tool or run `adb kill-server` once, then try again (the studio does not "
            "stop other tools' servers on its own)",
        )
    return version


def _host_query(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2.0) as sock:
        sock.settimeout(3.0)
        sock.sendall(b"%04x" % len(request) + request)
        if _recv_exact(sock, 4) != b"OKAY":
            raise OSError(f"adb refused {request.decode()}")
        if request == b"host:kill":
            return b""
        return _recv_exact(sock, int(_recv_exact(sock, 4), 16))


def stop_own_server(port: int | None = None) -> bool:
    """At quit: stop the server the studio started, unless another program still uses it or it
    holds a device connected over the network (stopping it would forget that connection)."""
    port = port or server_port()
    pid = adb_owner.recorded_pid(port)
    if pid is None:
        return False  # never started by the studio, or not ours any more: never killed
    try:
        devices = _host_query(port, b"host:devices").decode(errors="replace")
    except (OSError, ValueError):
        return False
    serials = [line.partition("\t")[0] for line in devices.splitlines() if line.strip()]
    if adb_owner.other_clients(port) or any(":" in serial for serial in serials):
        return False
    with contextlib.suppress(OSError, ValueError):
        _host_query(port, b"host:kill")
    deadline = time.monotonic() + 5.0
    while adb_owner.listener_pid(port) == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    adb_owner.forget(port)
    return True


def client(port: int | None = None) -> Any:  # adbutils.AdbClient
    """An adbutils client for the server on ``port``, started first if needed."""
    import adbutils

    port = port or server_port()
    ensure_server(port)
    return adbutils.AdbClient(host="127.0.0.1", port=port, socket_timeout=30)
