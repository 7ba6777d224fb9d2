"""A virtual Android device: the DEVICE side of the real ADB transport protocol over TCP.

The real adb server connects to it with ``adb connect 127.0.0.1:PORT`` exactly as it would to a
phone in Wi-Fi debugging mode, so tests exercise the real adb server and the real adbutils client
end to end. It implements what adbd does for the studio:

- transport: CNXN / AUTH / OPEN / OKAY / WRTE / CLSE with per-stream flow control (one WRTE in
  flight, acknowledged by OKAY), payloads up to the negotiated maximum;
- ``tcp:PORT`` (the device end of ``adb forward``): a connection to that port on 127.0.0.1;
- ``sync:``: STAT, LIST, SEND (creates parent folders, like adbd with ``fixed_push_mkdir``), RECV,
  QUIT;
- ``shell:`` (raw, v1) and ``shell,v2:`` (stdout/stderr/exit packets) running commands with this
  machine's ``/bin/sh``, tools and Python inside a sandbox folder (virtual_adb_services.py).

The sandbox folder is the device's file system: device path ``/data/local/tmp/x`` lives at
``<root>/data/local/tmp/x``. Shell commands see the same mapping because the device rewrites
``/data``, ``/sdcard`` and ``/system`` path prefixes in the command line and maps them back in the
output. ``<root>/system/bin`` holds the device's tools (links to this machine's programs, like
toybox), ``getprop`` (serving the device's properties) and ``df`` (reporting the simulated
storage), so a test decides which tools the "phone" has — with or without ``python3``.

Faults a test can provoke: ``unauthorized=True`` (never accepts the host's key: the adb server lists
the device as "unauthorized"), ``capacity`` (writes fail with "No space left on device"),
``drop_after_bytes`` (the connection is cut in the middle of a push, like a cable being pulled),
``board`` (an emulated arm64 Linux board, tests/support/arm64_board.py: its shell runs inside that
root filesystem under qemu, and pushes land in its ``/opt`` and ``/tmp``),
``disconnect()`` at any time, ``bandwidth`` (a slow cable), ``features`` without ``shell_v2`` (an
old adbd).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.virtual_adb_services import service_handler

if TYPE_CHECKING:
    from tests.support.arm64_board import Arm64Board

_NAMES = (b"CNXN", b"AUTH", b"OPEN", b"OKAY", b"WRTE", b"CLSE")
A_CNXN, A_AUTH, A_OPEN, A_OKAY, A_WRTE, A_CLSE = (int.from_bytes(n, "little") for n in _NAMES)
A_VERSION = 0x01000001
MAX_PAYLOAD = 1024 * 1024
AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3
FEATURES = "shell_v2,cmd,fixed_push_mkdir"
HEADER = struct.Struct("<6I")

# Programs linked into the device's /system/bin, as toybox provides them on a phone.
TOOLS = [
    "sh",
    "cat",
    "sha256sum",
    "mkdir",
    "mv",
    "rm",
    "ls",
    "uname",
    "printf",
    "test",
    "head",
    "tail",
    "stat",
    "chmod",
    "cp",
    "sleep",
    "tr",
    "cut",
    "sed",
    "grep",
    "wc",
    "touch",
    "id",
    "env",
    "dirname",
    "basename",
    "readlink",
    "true",
    "false",
    "kill",
    "du",
    "sort",
]

DEFAULT_PROPS = {
    "ro.product.manufacturer": "Virtual",
    "ro.product.model": "Phone 8G3",
    "ro.product.name": "virtual_phone",
    "ro.product.device": "virtual",
    "ro.build.version.release": "14",
    "ro.build.version.sdk": "34",
    "ro.product.cpu.abi": "arm64-v8a",
    "ro.soc.manufacturer": "QTI",
    "ro.soc.model": "SM8650",
    "ro.board.platform": "pineapple",
    "ro.hardware": "qcom",
}


class VirtualDevice:
    """One virtual phone listening on 127.0.0.1. Use as a context manager or call ``close()``."""

    def __init__(
        self,
        root: Path,
        *,
        props: dict[str, str] | None = None,
        python: str | None = sys.executable,
        python_has_onnxruntime: bool = True,
        unauthorized: bool = False,
        capacity: int = 8 << 30,
        drop_after_bytes: int | None = None,
        serial: str = "virtual-phone",
        features: str = FEATURES,
        bandwidth: int | None = None,
        board: Arm64Board | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.board = board
        self.props = {**DEFAULT_PROPS, **(props or {})}
        self.unauthorized = unauthorized
        self.capacity = capacity
        self.drop_after_bytes = drop_after_bytes
        self.serial = serial
        self.features = features
        self.bandwidth = bandwidth  # bytes/s a push may reach (a slow USB 2.0 cable), or None
        self.received_bytes = 0
        self.services: list[str] = []
        self._lock = threading.Lock()
        self._conns: list[_Connection] = []
        self._closed = False
        if board is not None:
            board.make_filesystem(self.root, capacity)
        else:
            self._make_filesystem(python, python_has_onnxruntime)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="virtual-adb", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- file system -----------------------------------------------------------------------
    def _make_filesystem(self, python: str | None, with_ort: bool) -> None:
        for folder in ("data/local/tmp", "sdcard", "system/bin"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        bin_dir = self.root / "system/bin"
        for tool in TOOLS:
            found = shutil.which(tool)
            link = bin_dir / tool
            if found and not link.exists():
                link.symlink_to(found)
        (self.root / "props.json").write_text(json.dumps(self.props), encoding="utf-8")
        helper = Path(__file__).with_name("virtual_device_tools.py")
        for name in ("getprop", "df"):
            _write_script(
                bin_dir / name, f'exec "{sys.executable}" -S "{helper}" {name} "{self.root}" "$@"'
            )
        if python:
            # -S drops site-packages: a device whose python3 has no onnxruntime.
            flag = "" if with_ort else "-S "
            _write_script(bin_dir / "python3", f'exec "{python}" {flag}"$@"')
        (self.root / "capacity").write_text(str(self.capacity), encoding="utf-8")

    def device_path(self, path: str) -> Path:
        """Where a device path lives in the sandbox; refuses to leave it."""
        target = (self.root / path.lstrip("/")).resolve()
        if target != self.root and self.root not in target.parents:
            raise PermissionError(f"{path}: Permission denied")
        return target

    def used_bytes(self) -> int:
        folders = ("opt", "tmp") if self.board else ("data",)
        return sum(
            p.stat().st_size for f in folders for p in (self.root / f).rglob("*") if p.is_file()
        )

    def set_capacity(self, capacity: int) -> None:
        self.capacity = capacity
        (self.root / "capacity").write_text(str(capacity), encoding="utf-8")
        if self.board:
            (self.root / "board/capacity").write_text(str(capacity), encoding="utf-8")

    # -- connections -------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(self, sock)
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=conn.run, name="virtual-adb-conn", daemon=True).start()

    def disconnect(self) -> None:
        """Cut every connection at once, like pulling the cable."""
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.abort()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()
        self.disconnect()

    def __enter__(self) -> VirtualDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def count_received(self, n: int) -> bool:
        """Count pushed bytes; True when the simulated cable pull should happen now."""
        with self._lock:
            self.received_bytes += n
            if self.drop_after_bytes is not None and self.received_bytes >= self.drop_after_bytes:
                self.drop_after_bytes = None
                return True
        return False

    def banner(self) -> bytes:
        keys = ("ro.product.name", "ro.product.model", "ro.product.device")
        props = ";".join(f"{k}={self.props[k]}" for k in keys)
        return f"device::{props};features={self.features}".encode()


def _write_script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


class _Connection:
    """One TCP connection from the adb server: a reader loop dispatching packets to streams."""

    def __init__(self, device: VirtualDevice, sock: socket.socket) -> None:
        self.device = device
        self.sock = sock
        self.max_payload = MAX_PAYLOAD
        self.streams: dict[int, _Stream] = {}
        self.next_id = 1
        self.send_lock = threading.Lock()
        self.alive = True

    def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        # Checksums are optional from protocol version 0x01000001 on; both sides use it.
        header = HEADER.pack(command, arg0, arg1, len(data), 0, command ^ 0xFFFFFFFF)
        with self.send_lock:
            if not self.alive:
                raise ConnectionError("device disconnected")
            try:
                self.sock.sendall(header + data if len(data) < 65536 else header)
                if len(data) >= 65536:
                    self.sock.sendall(data)
            except OSError as exc:
                self.alive = False
                raise ConnectionError("device disconnected") from exc

    def abort(self) -> None:
        self.alive = False
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()
        for stream in list(self.streams.values()):
            stream.host_closed()

    def _recv_exact(self, n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def run(self) -> None:
        try:
            while self.alive:
                header = self._recv_exact(24)
                if header is None:
                    break
                command, arg0, arg1, length, _check, _magic = HEADER.unpack(header)
                data = self._recv_exact(length) if length else b""
                if data is None:
                    break
                self._dispatch(command, arg0, arg1, data)
        except ConnectionError:
            pass
        finally:
            self.abort()

    def _dispatch(self, command: int, arg0: int, arg1: int, data: bytes) -> None:
        if command == A_CNXN:
            self.max_payload = min(arg1 or MAX_PAYLOAD, MAX_PAYLOAD)
            if self.device.unauthorized:
                self.send(A_AUTH, AUTH_TOKEN, 0, os.urandom(20))
            else:
                self.send(A_CNXN, A_VERSION, self.max_payload, self.device.banner())
        elif command == A_AUTH:
            # An unauthorized phone rejects every signature; a public key would raise the
            # "Allow USB debugging?" prompt on its screen, which nobody accepts here.
            if arg0 == AUTH_SIGNATURE:
                self.send(A_AUTH, AUTH_TOKEN, 0, os.urandom(20))
        elif command == A_OPEN:
            self._open(arg0, data.rstrip(b"\0").decode("utf-8", "replace"))
        elif command == A_OKAY:
            stream = self.streams.get(arg1)
            if stream:
                stream.acked()
        elif command == A_WRTE:
            stream = self.streams.get(arg1)
            if stream:
                stream.inbox.put(data)
        elif command == A_CLSE:
            stream = self.streams.pop(arg1, None)
            if stream:
                stream.host_closed()

    def _open(self, remote_id: int, service: str) -> None:
        handler = service_handler(service, self.device.features)
        if handler is None:
            self.send(A_CLSE, 0, remote_id)
            return
        self.device.services.append(service)
        local_id = self.next_id
        self.next_id += 1
        stream = _Stream(self, local_id, remote_id)
        self.streams[local_id] = stream
        self.send(A_OKAY, local_id, remote_id)

        def serve() -> None:
            try:
                handler(stream, self.device)
            except ConnectionError:
                pass
            finally:
                stream.close()

        threading.Thread(target=serve, name=f"virtual-adb:{service[:20]}", daemon=True).start()


class _Stream:
    """One service stream: buffered reads from the host's WRTEs, flow-controlled writes."""

    def __init__(self, conn: _Connection, local_id: int, remote_id: int) -> None:
        self.conn = conn
        self.local_id = local_id
        self.remote_id = remote_id
        self.inbox: queue.Queue[bytes | None] = queue.Queue()
        self._buf = bytearray()
        self._pos = 0
        self._ack = threading.Semaphore(0)
        self._closed = threading.Event()
        self._write_lock = threading.Lock()
        self.on_host_close: Callable[[], None] | None = None

    def acked(self) -> None:
        self._ack.release()

    def host_closed(self) -> None:
        self._closed.set()
        self.inbox.put(None)
        self._ack.release()
        if self.on_host_close:
            self.on_host_close()

    def _fill(self) -> bool:
        data = self.inbox.get()
        if data is None:
            self.inbox.put(None)
            return False
        # Acknowledge as soon as we take the packet, so the host can send the next one while
        # this one is processed (one WRTE in flight per stream).
        with contextlib.suppress(ConnectionError):
            self.conn.send(A_OKAY, self.local_id, self.remote_id)
        if self._pos:
            del self._buf[: self._pos]  # compact once per packet, not once per read
            self._pos = 0
        self._buf += data
        return True

    def _available(self) -> int:
        return len(self._buf) - self._pos

    def read_some(self) -> bytes:
        if not self._available() and not self._fill():
            return b""
        data = bytes(self._buf[self._pos :])
        self._buf.clear()
        self._pos = 0
        return data

    def read_exact(self, n: int) -> bytes:
        while self._available() < n:
            if not self._fill():
                raise ConnectionError("stream closed")
        data = bytes(self._buf[self._pos : self._pos + n])
        self._pos += n
        return data

    def write(self, data: bytes) -> None:
        with self._write_lock:
            view = memoryview(data)
            while view:
                if self._closed.is_set():
                    raise ConnectionError("stream closed")
                chunk, view = view[: self.conn.max_payload], view[self.conn.max_payload :]
                self.conn.send(A_WRTE, self.local_id, self.remote_id, bytes(chunk))
                self._ack.acquire()

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            with contextlib.suppress(ConnectionError):
                self.conn.send(A_CLSE, self.local_id, self.remote_id)
        self.conn.streams.pop(self.local_id, None)


# -- helpers --------------------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05
) -> bool:
    """Poll a condition of an external process (the adb server) with a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def serve_forever(root: str) -> None:
    """Run one virtual device in its own process (benchmarks): prints its port, stops when stdin
    closes. In-process devices would share the GIL with the client being measured."""
    with VirtualDevice(Path(root)) as device:
        print(device.port, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    serve_forever(sys.argv[1])
