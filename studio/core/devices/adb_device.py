"""A phone or board reached through the adb server (USB or Wi-Fi)."""

from __future__ import annotations

import contextlib
import shlex
import socket
import stat
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from studio.core.devices import identify, states
from studio.core.devices.base import Device, StreamedProcess
from studio.core.devices.models import DeviceInfo, DeviceState, RuntimeInfo
from studio.core.devices.pieces import Piece, as_piece
from studio.core.errors import JobCancelled, OutputError
from studio.core.messages import Fix, message

APP_DIR = "edge-deploy-studio"
ANDROID_BASE = "/data/local/tmp"
LINUX_BASE = "/opt"
SYNC_CHUNK = 64 * 1024  # the sync protocol's largest DATA block
BATCH_BLOCKS = 16  # 16 × 64 KiB ≈ the 1 MiB transport packet
_BATCH = 40  # file names per shell command, well under any device's command-line limit


def q(text: str) -> str:
    return shlex.quote(text)


@contextlib.contextmanager
def device_errors(serial: str, doing: str) -> Iterator[None]:
    """Turn a broken connection into one line the user can act on."""
    from adbutils import AdbError

    try:
        yield
    except (AdbError, OSError, EOFError) as exc:
        raise OutputError(
            f"The connection to {serial} was lost while {doing} ({exc or type(exc).__name__})",
            "Check the cable (or Wi-Fi), make sure the device is unlocked, then try again — files "
            "already on the device are kept and skipped",
        ) from exc


class AdbDevice(Device):
    def __init__(self, client: object, serial: str, adb_state: str = "device") -> None:
        self.client = client
        self.serial = serial
        self.adb_state = adb_state
        self._handle = None
        self._android: bool | None = None
        self._features: set[str] | None = None

    @property
    def handle(self) -> Any:
        if self._handle is None:
            self._handle = self.client.device(self.serial)  # type: ignore[attr-defined]
        return self._handle

    def _open_transport(self, timeout: float | None) -> Any:  # adbutils.AdbConnection
        """A connection switched to this device (one round trip instead of adbutils' two)."""
        from adbutils import AdbError

        conn = self.client.make_connection(timeout=timeout)  # type: ignore[attr-defined]
        try:
            conn.send_command(f"host:tport:serial:{self.serial}")
            conn.check_okay()
            conn.read_exact(8)  # transport id
        except AdbError:  # a server older than 1.0.41 has no tport
            conn.close()
            return self.handle.open_transport(timeout=timeout)
        return conn

    # -- identification -----------------------------------------------------------------------
    def describe(self) -> DeviceInfo:
        state, status, fix = states.explain_messages(self.adb_state)
        info = DeviceInfo(
            serial=self.serial,
            kind="adb",
            state=state,
            adb_state=self.adb_state,
            status=status.english(),
            fix=fix.english() if fix else "",
            status_message=status,
            fix_message=fix,
            transport=states.transport_of(self.serial),
        )
        if state is not DeviceState.READY:
            return info
        _code, out, _err = self.run_shell(identify.IDENTIFY_SCRIPT, timeout=20)
        sections = identify.split_sections(out)
        props = identify.parse_getprop(sections.get("getprop", ""))
        extra = [sections.get("dtmodel", ""), sections.get("cpuinfo", "").partition(":")[2].strip()]
        self._android = bool(props.get("ro.build.version.release"))
        manufacturer = props.get("ro.product.manufacturer", "")
        model = props.get("ro.product.model", "") or sections.get("dtmodel", "")
        if self._android:
            os_name = f"Android {props['ro.build.version.release']}"
            if props.get("ro.build.version.sdk"):
                os_name += f" (API {props['ro.build.version.sdk']})"
        else:
            os_name = identify.parse_os_release(sections.get("osrelease", "")) or "Linux"
        base = self._base()
        chip_id = identify.chip_for_soc(
            identify.soc_candidates(props, extra),
            props.get("ro.product.cpu.abi", "") if self._android else "",
        )
        return info.model_copy(
            update={
                "name": _display_name(manufacturer, model) or self.serial,
                "manufacturer": manufacturer,
                "model": model,
                "os": os_name,
                "abi": props.get("ro.product.cpu.abi") or sections.get("uname", ""),
                "soc": identify.describe_soc(props, extra),
                "chip_id": chip_id,
                "chip_name": identify.chip_name(chip_id),
                "ram_bytes": identify.parse_meminfo(sections.get("meminfo", "")),
                "free_bytes": self.free_bytes(base),
                "default_dir": f"{base}/{APP_DIR}",
            }
        )

    def _base(self) -> str:
        if self._android is None:
            _code, out, _ = self.run_shell("getprop ro.build.version.release 2>/dev/null", 10)
            self._android = bool(out.strip())
        return ANDROID_BASE if self._android else LINUX_BASE

    def default_dir(self, bundle_name: str) -> str:
        return f"{self._base()}/{APP_DIR}/{bundle_name}"

    # -- shell ----------------------------------------------------------------------------------
    def run_shell(self, script: str, timeout: float = 60) -> tuple[int, str, str]:
        # In a subshell: an `exit` in the script must not skip the exit-code marker that adbutils
        # appends on devices without shell v2.
        with device_errors(self.serial, "asking it a question"):
            result = self.handle.shell2(f"( {script}\n)", timeout=timeout, v2=True, rstrip=False)
        return result.returncode, result.stdout or result.output, result.stderr or ""

    def free_bytes(self, folder: str) -> int | None:
        script = (
            f'p={q(folder)}; while [ ! -d "$p" ] && [ "$p" != / ]; do '
            'p=$(dirname "$p"); done; df -k "$p"'
        )
        _code, out, _err = self.run_shell(script, 20)
        return identify.parse_df_available(out)

    def hash_files(self, folder: str, rels: list[str]) -> dict[str, str]:
        hashes: dict[str, str] = {}
        for start in range(0, len(rels), _BATCH):
            names = " ".join(q(r) for r in rels[start : start + _BATCH])
            script = (
                f"cd {q(folder)} 2>/dev/null || exit 0; "
                "if command -v sha256sum >/dev/null 2>&1; then H=sha256sum; "
                "elif command -v toybox >/dev/null 2>&1; then H='toybox sha256sum'; "
                "else echo NO_SHA256SUM; exit 0; fi; set --; "
                f'for f in {names}; do [ -f "$f" ] && set -- "$@" "$f"; done; '
                '[ $# -eq 0 ] || $H "$@"'
            )
            _code, out, _err = self.run_shell(script, timeout=600)
            if "NO_SHA256SUM" in out:
                raise OutputError(
                    f"{self.serial} has no sha256sum, so the studio cannot check the files on it",
                    "Update the device's system (Android 8+ has it) or install busybox on the "
                    "board",
                )
            for line in out.splitlines():
                digest, _, name = line.partition(" ")
                name = name.lstrip(" *")
                if len(digest) == 64 and name:
                    hashes[name] = digest.lower()
        return hashes

    def rename(self, pairs: list[tuple[str, str]]) -> None:
        for start in range(0, len(pairs), _BATCH):
            script = " && ".join(f"mv -f {q(a)} {q(b)}" for a, b in pairs[start : start + _BATCH])
            code, _out, err = self.run_shell(script, 60)
            if code != 0:
                raise OutputError(
                    msg=message(
                        "devices.move_failed",
                        Fix(action="other_device_folder"),
                        serial=self.serial,
                        reason=err.strip(),
                    )
                )

    def join_pieces(self, pieces: list[str], target: str) -> None:
        steps = [f"cat {q(pieces[0])} > {q(target)}", f"rm -f {q(pieces[0])}"]
        for piece in pieces[1:]:
            steps += [f"cat {q(piece)} >> {q(target)}", f"rm -f {q(piece)}"]
        code, _out, err = self.run_shell(" && ".join(steps), timeout=1800)
        if code != 0:
            raise OutputError(
                f"Could not join the pieces of {target} on {self.serial} ({err.strip() or code})",
                "Free up space on the device and deploy again",
            )

    def remove(self, paths: list[str]) -> None:
        for start in range(0, len(paths), _BATCH):
            self.run_shell("rm -f " + " ".join(q(p) for p in paths[start : start + _BATCH]), 60)

    # -- push -----------------------------------------------------------------------------------
    def send_files(
        self,
        items: list[tuple[Path | Piece, str]],
        on_bytes: Callable[[int, str], None],
        cancel: threading.Event | None = None,
    ) -> None:
        if not items:
            return
        with device_errors(self.serial, "pushing files"):
            conn = self._open_transport(timeout=60)
            try:
                conn.send_command("sync:")
                conn.check_okay()
                sock = conn.conn
                # Like `adb push`, files follow each other without waiting for each one's answer
                # (a round trip per file is slow on a busy link); the answers are read at the end.
                sent: list[str] = []
                try:
                    for local, remote in items:
                        self._send_one(sock, local, remote, on_bytes, cancel)
                        sent.append(remote)
                except OSError:
                    # The device may have refused a file and hung up: say why if it told us.
                    sock.settimeout(2)
                    for remote in sent:
                        self._read_status(sock, remote)
                    raise
                for remote in sent:
                    self._read_status(sock, remote)
                sock.sendall(b"QUIT" + bytes(4))
            finally:
                conn.close()

    def _send_one(
        self,
        sock: socket.socket,
        item: Path | Piece,
        remote: str,
        on_bytes: Callable[[int, str], None],
        cancel: threading.Event | None,
    ) -> None:
        spec = f"{remote},{stat.S_IFREG | 0o644}".encode()
        sock.sendall(b"SEND" + struct.pack("<I", len(spec)) + spec)
        piece = as_piece(item)
        local = piece.path
        rel = local.name
        left = piece.size()
        # DATA blocks are at most 64 KiB, but they are written in ~1 MiB batches: the adb server
        # forwards what it reads as one transport packet, and each packet costs a round trip.
        # The file is read straight into the batch buffer, between the headers (one copy).
        buffer = bytearray(BATCH_BLOCKS * (8 + SYNC_CHUNK))
        view = memoryview(buffer)
        with local.open("rb", buffering=0) as handle:
            handle.seek(piece.offset)
            while True:
                if cancel is not None and cancel.is_set():
                    # Dropping the connection makes adbd discard the half-written file.
                    raise JobCancelled("Push cancelled", "Nothing half-pushed is kept as deployed")
                used = payload = 0
                for _ in range(BATCH_BLOCKS):
                    want = min(SYNC_CHUNK, left)
                    n = handle.readinto(view[used + 8 : used + 8 + want]) if want else 0
                    if not n:
                        break
                    left -= n
                    struct.pack_into("<4sI", buffer, used, b"DATA", n)
                    used += 8 + n
                    payload += n
                if not used:
                    break
                sock.sendall(view[:used])
                on_bytes(payload, rel)
        sock.sendall(b"DONE" + struct.pack("<I", int(local.stat().st_mtime)))

    def _read_status(self, sock: socket.socket, remote: str) -> None:
        status = _recv_exact(sock, 8)
        if status[:4] == b"OKAY":
            return
        name = remote.rsplit("/", 1)[-1]
        if status[:4] == b"FAIL":
            size = struct.unpack("<I", status[4:])[0]
            reply = _recv_exact(sock, size).decode("utf-8", "replace")
            if "space" in reply.lower():
                raise OutputError(
                    msg=message(
                        "devices.out_of_storage",
                        Fix(action="other_device_folder"),
                        serial=self.serial,
                        name=name,
                    )
                )
            raise OutputError(
                msg=message(
                    "devices.refused",
                    Fix(action="writable_device_folder"),
                    serial=self.serial,
                    path=remote,
                    reason=reply,
                )
            )
        raise EOFError("unexpected reply from the device")

    # -- running --------------------------------------------------------------------------------
    def has_shell_v2(self) -> bool:
        if self._features is None:
            with device_errors(self.serial, "asking what it supports"):
                self._features = set(self.handle.get_features().split(","))
        return "shell_v2" in self._features

    def stream(self, argv: list[str], cwd: str) -> StreamedProcess:
        if not self.has_shell_v2():
            return self._stream_v1(argv, cwd)
        command = f"cd {q(cwd)} && exec " + " ".join(q(a) for a in argv)
        with device_errors(self.serial, "starting the runner"):
            conn = self._open_transport(timeout=None)
            conn.send_command(f"shell,v2:{command}")
            conn.check_okay()
        state: dict[str, Any] = {"code": None, "stderr": b""}
        sock = conn.conn

        def cancel() -> None:
            # Closing the stream makes adbd end the program on the device.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        def lines() -> Iterator[str]:
            buffer = b""
            try:
                while True:
                    head = _recv_exact(sock, 5)
                    kind, size = head[0], struct.unpack("<I", head[1:])[0]
                    data = _recv_exact(sock, size) if size else b""
                    if kind == 1:
                        buffer += data
                        *complete, buffer = buffer.split(b"\n")
                        for raw in complete:
                            yield raw.decode("utf-8", "replace")
                    elif kind == 2:
                        state["stderr"] = (state["stderr"] + data)[-4096:]
                    elif kind == 3:
                        state["code"] = data[0] if data else 255
                        break
            except (OSError, EOFError):
                pass
            finally:
                if buffer:
                    yield buffer.decode("utf-8", "replace")
                conn.close()

        return StreamedProcess(
            lines=lines(),
            cancel=cancel,
            exit_code=lambda: state["code"],
            stderr_tail=lambda: state["stderr"].decode("utf-8", "replace"),
        )

    def _stream_v1(self, argv: list[str], cwd: str) -> StreamedProcess:
        """Old adbd without shell v2: one merged output stream, exit code from a marker line."""
        marker = "@@studio-exit:"
        command = f"cd {q(cwd)} && " + " ".join(q(a) for a in argv) + f" 2>&1; echo {marker}$?"
        with device_errors(self.serial, "starting the runner"):
            conn = self._open_transport(timeout=None)
            conn.send_command(f"shell:{command}")
            conn.check_okay()
        sock = conn.conn
        state: dict[str, Any] = {"code": None, "other": []}

        def cancel() -> None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        def lines() -> Iterator[str]:
            buffer = b""
            try:
                while chunk := sock.recv(65536):
                    buffer += chunk
                    *complete, buffer = buffer.split(b"\n")
                    for raw in complete:
                        line = raw.decode("utf-8", "replace").rstrip("\r")
                        if line.startswith(marker):
                            state["code"] = int(line[len(marker) :] or 255)
                            continue
                        if not line.startswith("{"):
                            state["other"] = [*state["other"], line][-20:]
                        yield line
            except OSError:
                pass
            finally:
                conn.close()

        return StreamedProcess(
            lines=lines(),
            cancel=cancel,
            exit_code=lambda: state["code"],
            stderr_tail=lambda: "\n".join(state["other"]),
        )

    def detect_runtime(self, folder: str, runner: str | None = None) -> RuntimeInfo:
        from studio.core.devices.runtime import detect_over_shell
        from studio.core.devices.setup.layout import RUNTIME_DIR

        return detect_over_shell(self, folder, runner, self.default_dir(RUNTIME_DIR))


def _display_name(manufacturer: str, model: str) -> str:
    """'Google' + 'Pixel 8' → 'Google Pixel 8'; no doubling when the model already says it."""
    if manufacturer and not model.lower().startswith(manufacturer.lower()):
        return f"{manufacturer.capitalize() if manufacturer.islower() else manufacturer} {model}"
    return model


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the device closed the connection")
        data += chunk
    return bytes(data)
