"""The services of the virtual device (tests/support/virtual_adb.py): ``sync:`` (STAT, LIST,
SEND, RECV, QUIT) and ``shell:`` / ``shell,v2:`` running commands with this machine's tools in the
device's sandbox folder."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.virtual_adb import VirtualDevice, _Stream

SYNC_DATA_MAX = 64 * 1024
# Device paths in shell command lines are rewritten into the sandbox, and back in the output.
_PATH_PREFIX = re.compile(r"(?<![\w./-])/(data|sdcard|system)(?=[/'\"\s;&|)]|$)")


def service_handler(service: str, features: str) -> Callable[[_Stream, VirtualDevice], None] | None:
    if service == "sync:":
        return _sync_service
    if service.startswith("tcp:") and service[4:].isdigit():
        return lambda stream, device: _tcp_service(stream, int(service[4:]))
    name, _, command = service.partition(":")
    options = name.split(",")
    if options[0] in ("shell", "exec") and command:
        v2 = "v2" in options
        if v2 and "shell_v2" not in features.split(","):
            return None  # an old adbd knows no shell protocol v2
        return lambda stream, device: _shell_service(stream, device, command, v2)
    return None


def _tcp_service(stream: _Stream, port: int) -> None:
    """The device end of `adb forward`: a connection to the device's own port (its loopback is
    this machine's), bytes copied both ways until either side closes."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return  # nothing listens there: adbd closes the stream
    sock.settimeout(None)

    def close_socket() -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    stream.on_host_close = close_socket

    def upstream() -> None:  # host → device port
        with contextlib.suppress(OSError):
            while data := stream.read_some():
                sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)

    threading.Thread(target=upstream, name="virtual-adb-tcp", daemon=True).start()
    with contextlib.suppress(OSError):
        while data := sock.recv(65536):
            stream.write(data)
    sock.close()


def _sync_service(stream: _Stream, device: VirtualDevice) -> None:
    while True:
        try:
            header = stream.read_exact(8)
        except ConnectionError:
            return
        request, length = header[:4], struct.unpack("<I", header[4:])[0]
        if request == b"QUIT":
            return
        path = stream.read_exact(length).decode("utf-8", "replace")
        if request == b"STAT":
            stream.write(b"STAT" + _stat(device, path))
        elif request == b"LIST":
            stream.write(_list(device, path) + b"DONE" + bytes(16))
        elif request == b"SEND":
            _receive_file(stream, device, path)
        elif request == b"RECV":
            _send_file(stream, device, path)
        else:
            _fail(stream, f"unknown sync request {request!r}")
            return


def _stat(device: VirtualDevice, path: str) -> bytes:
    try:
        st = os.lstat(device.device_path(path))
    except (OSError, PermissionError):
        return bytes(12)
    return struct.pack("<III", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime))


def _list(device: VirtualDevice, path: str) -> bytes:
    out = bytearray()
    try:
        entries = [".", "..", *sorted(os.listdir(device.device_path(path)))]
    except (OSError, PermissionError):
        return bytes(out)
    for name in entries:
        with contextlib.suppress(OSError):
            st = os.lstat(device.device_path(path) / name)
            raw = name.encode()
            out += (
                b"DENT"
                + struct.pack(
                    "<IIII", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime), len(raw)
                )
                + raw
            )
    return bytes(out)


def _fail(stream: _Stream, message: str) -> None:
    raw = message.encode()
    stream.write(b"FAIL" + struct.pack("<I", len(raw)) + raw)


def _receive_file(stream: _Stream, device: VirtualDevice, spec: str) -> None:
    path, _, mode_text = spec.rpartition(",")
    error = ""
    handle = None
    try:
        target = device.device_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = target.open("wb")
        mode = int(mode_text or "0o644") & 0o777
    except (OSError, PermissionError, ValueError) as exc:
        error = f"couldn't create file: {exc}"
        target = None
    used = device.used_bytes()
    try:
        while True:
            header = stream.read_exact(8)
            kind, size = header[:4], struct.unpack("<I", header[4:])[0]
            if kind == b"DONE":
                break
            if kind != b"DATA" or size > SYNC_DATA_MAX:
                error = "invalid data message"
                break
            data = stream.read_exact(size)
            if handle is not None and not error:
                used += len(data)
                if used > device.capacity:
                    error = f"write failed: No space left on device ({path})"
                else:
                    handle.write(data)
            if device.bandwidth:
                time.sleep(len(data) / device.bandwidth)
            if device.count_received(len(data)):
                stream.conn.abort()
                raise ConnectionError("cable pulled")
    except ConnectionError:
        # adbd removes a file whose transfer broke off.
        if handle is not None:
            handle.close()
            with contextlib.suppress(OSError):
                target.unlink()  # type: ignore[union-attr]
        raise
    if handle is not None:
        handle.close()
        if error:
            target.unlink()  # type: ignore[union-attr]
        else:
            target.chmod(mode)  # type: ignore[union-attr]
    if error:
        _fail(stream, error)
    else:
        stream.write(b"OKAY" + bytes(4))


def _send_file(stream: _Stream, device: VirtualDevice, path: str) -> None:
    try:
        handle = device.device_path(path).open("rb")
    except (OSError, PermissionError) as exc:
        _fail(stream, f"remote object '{path}' does not exist ({exc.__class__.__name__})")
        return
    with handle:
        while chunk := handle.read(SYNC_DATA_MAX):
            stream.write(b"DATA" + struct.pack("<I", len(chunk)) + chunk)
    stream.write(b"DONE" + bytes(4))


def _shell_service(stream: _Stream, device: VirtualDevice, command: str, v2: bool) -> None:
    root = str(device.root)
    translated = _PATH_PREFIX.sub(lambda m: f"{root}/{m.group(1)}", command)
    env = {
        "PATH": f"{root}/system/bin",
        "HOME": f"{root}/data/local/tmp",
        "TMPDIR": f"{root}/data/local/tmp",
        "ANDROID_DATA": f"{root}/data",
        "LANG": "C.UTF-8",
    }
    argv = ["/bin/sh", "-c", translated]
    if device.board is not None:
        # The board's own shell, as aarch64: device paths are its real paths (no rewriting).
        argv, env = device.board.argv(device.root, command), device.board.env()
    proc = subprocess.Popen(
        argv,
        cwd=root,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if v2 else subprocess.STDOUT,
        start_new_session=True,
    )

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    stream.on_host_close = kill
    root_bytes = root.encode()

    def pump(source: object, channel: int) -> None:
        fd = source.fileno()  # type: ignore[attr-defined]
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                return
            data = data.replace(root_bytes, b"")
            with contextlib.suppress(ConnectionError):
                stream.write(struct.pack("<BI", channel, len(data)) + data if v2 else data)

    def feed() -> None:
        # Host → stdin: raw bytes (v1) or shell packets (v2: id 0 = stdin, 4 = close stdin).
        assert proc.stdin is not None
        try:
            while True:
                if v2:
                    head = stream.read_exact(5)
                    kind, size = head[0], struct.unpack("<I", head[1:])[0]
                    data = stream.read_exact(size) if size else b""
                    if kind == 4:
                        break
                    if kind != 0:
                        continue
                else:
                    data = stream.read_some()
                    if not data:
                        break
                proc.stdin.write(data)
                proc.stdin.flush()
        except (ConnectionError, OSError):
            pass
        with contextlib.suppress(OSError):
            proc.stdin.close()

    threads = [threading.Thread(target=pump, args=(proc.stdout, 1), daemon=True)]
    if v2:
        threads.append(threading.Thread(target=pump, args=(proc.stderr, 2), daemon=True))
    threading.Thread(target=feed, daemon=True).start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    code = proc.wait()
    if v2:
        with contextlib.suppress(ConnectionError):
            stream.write(struct.pack("<BIB", 3, 1, code & 0xFF if code >= 0 else 128 - code))
