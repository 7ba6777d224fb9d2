"""This PC as a device: same runner, same protocol, plain files instead of adb."""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from studio.core.chips.catalogue import THIS_PC, this_pc
from studio.core.devices.base import Device, StreamedProcess
from studio.core.devices.models import THIS_PC_SERIAL, DeviceInfo, DeviceState, RuntimeInfo
from studio.core.devices.pieces import Piece, as_piece
from studio.core.errors import JobCancelled, OutputError
from studio.core.frozen import python_command
from studio.core.messages import Fix, message
from studio.core.paths import data_dir
from studio.core.privacy import keep_private
from studio.core.this_pc import THIS_PC_NAME

_CHUNK = 1 << 20


def _ram_bytes() -> int | None:
    with contextlib.suppress(ValueError, OSError, AttributeError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return None


class ThisPC(Device):
    serial = THIS_PC_SERIAL

    def base_dir(self) -> Path:
        return data_dir() / "deployed"

    def describe(self) -> DeviceInfo:
        chip = this_pc()
        base = self.base_dir()
        base.mkdir(parents=True, exist_ok=True)
        return DeviceInfo(
            serial=self.serial,
            kind="this-pc",
            state=DeviceState.READY,
            status=message("device.ready").english(),
            status_message=message("device.ready"),
            name=THIS_PC_NAME,
            manufacturer="",
            model=platform.node() or THIS_PC_NAME,
            os=f"{platform.system()} {platform.release()}",
            abi=platform.machine(),
            soc=chip.description,
            chip_id=THIS_PC,
            chip_name=chip.name,
            ram_bytes=_ram_bytes(),
            free_bytes=shutil.disk_usage(base).free,
            default_dir=str(base),
        )

    def default_dir(self, bundle_name: str) -> str:
        return str(self.base_dir() / bundle_name)

    def free_bytes(self, folder: str) -> int | None:
        path = Path(folder)
        while not path.exists() and path != path.parent:
            path = path.parent
        return shutil.disk_usage(path).free

    def hash_files(self, folder: str, rels: list[str]) -> dict[str, str]:
        hashes = {}
        for rel in rels:
            path = Path(folder) / rel
            if path.is_file():
                digest = hashlib.sha256()
                with path.open("rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
                hashes[rel] = digest.hexdigest()
        return hashes

    def send_files(
        self,
        items: list[tuple[Path | Piece, str]],
        on_bytes: Callable[[int, str], None],
        cancel: threading.Event | None = None,
    ) -> None:
        for item, remote in items:
            piece = as_piece(item)
            local, left = piece.path, piece.size()
            target = Path(remote)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with local.open("rb") as src, target.open("wb") as dst:
                    src.seek(piece.offset)
                    while left and (chunk := src.read(min(_CHUNK, left))):
                        if cancel is not None and cancel.is_set():
                            raise JobCancelled("Copy cancelled", "Nothing half-copied is kept")
                        dst.write(chunk)
                        left -= len(chunk)
                        on_bytes(len(chunk), local.name)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    target.unlink()
                raise OutputError(
                    msg=message(
                        "devices.could_not_write",
                        Fix(action="writable_to"),
                        path=str(target),
                        reason=str(exc.strerror),
                    )
                ) from exc
            except JobCancelled:
                target.unlink(missing_ok=True)
                raise

    def rename(self, pairs: list[tuple[str, str]]) -> None:
        for src, dst in pairs:
            os.replace(src, dst)

    def join_pieces(self, pieces: list[str], target: str) -> None:
        with Path(target).open("wb") as dst:
            for piece in pieces:
                with Path(piece).open("rb") as src:
                    shutil.copyfileobj(src, dst, _CHUNK)
                Path(piece).unlink()

    def remove(self, paths: list[str]) -> None:
        for path in paths:
            Path(path).unlink(missing_ok=True)

    def run_shell(self, script: str, timeout: float = 60) -> tuple[int, str, str]:
        done = subprocess.run(script, shell=True, capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stdout, done.stderr

    def stream(self, argv: list[str], cwd: str) -> StreamedProcess:
        # "python3" is the studio's own Python (in a frozen app: the app itself, see core/frozen).
        argv = [part for a in argv for part in (python_command() if a == "python3" else [a])]
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=keep_private(dict(os.environ)),  # the runner loads onnxruntime: no telemetry
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        stderr: list[str] = []

        def drain() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                stderr.append(line)
                del stderr[:-50]

        threading.Thread(target=drain, daemon=True).start()

        def lines() -> Iterator[str]:
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    yield line.rstrip("\n")
            finally:
                proc.stdout.close()
                proc.wait()

        def cancel() -> None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

        return StreamedProcess(
            lines=lines(),
            cancel=cancel,
            exit_code=lambda: proc.poll(),
            stderr_tail=lambda: "".join(stderr),
        )

    def detect_runtime(self, folder: str, runner: str | None = None) -> RuntimeInfo:
        if runner:
            if Path(runner).is_file() and os.access(runner, os.X_OK):
                return RuntimeInfo(
                    kind="runner-binary", command=[runner], description=f"your runner {runner}"
                )
            return RuntimeInfo(
                kind=None,
                missing=f"The runner you chose ({runner}) does not exist "
                "or is not executable. Check the path and make it executable",
            )
        import onnxruntime

        return RuntimeInfo(
            kind="python",
            command=["python3"],
            description=f"Python {platform.python_version()} with onnxruntime "
            f"{onnxruntime.__version__}",
        )

    def join(self, folder: str, rel: str) -> str:
        return str(Path(folder) / rel)
