"""One interface for every place a bundle can run: an ADB phone or board, or this PC.

The deploy and run logic (deploy.py, run.py) is written once against these primitives, so the UI
and the CLI never branch on the kind of device.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from studio.core.devices.models import DeviceInfo, RuntimeInfo
from studio.core.devices.pieces import Piece


@dataclass
class StreamedProcess:
    """A command running on the device whose stdout arrives line by line."""

    lines: Iterator[str]
    cancel: Callable[[], None]
    exit_code: Callable[[], int | None]
    stderr_tail: Callable[[], str] = field(default=lambda: "")


class Device(abc.ABC):
    serial: str

    @abc.abstractmethod
    def describe(self) -> DeviceInfo:
        """State, identification and free space, asking the device."""

    @abc.abstractmethod
    def default_dir(self, bundle_name: str) -> str:
        """Where a bundle goes when the user does not choose."""

    @abc.abstractmethod
    def free_bytes(self, folder: str) -> int | None:
        """Free space where ``folder`` is (or would be created); None when unknown."""

    @abc.abstractmethod
    def hash_files(self, folder: str, rels: list[str]) -> dict[str, str]:
        """SHA-256 of each file under ``folder`` that exists; missing files are left out."""

    @abc.abstractmethod
    def send_files(
        self,
        items: list[tuple[Path | Piece, str]],
        on_bytes: Callable[[int, str], None],
        cancel: threading.Event | None = None,
    ) -> None:
        """Copy local files (or byte ranges of them) to device paths, reporting bytes."""

    @abc.abstractmethod
    def join_pieces(self, pieces: list[str], target: str) -> None:
        """Concatenate device files into ``target``, deleting each piece once appended."""

    @abc.abstractmethod
    def rename(self, pairs: list[tuple[str, str]]) -> None:
        """Move device paths into place (replacing)."""

    @abc.abstractmethod
    def remove(self, paths: list[str]) -> None:
        """Delete device files that may or may not exist."""

    @abc.abstractmethod
    def run_shell(self, script: str, timeout: float = 60) -> tuple[int, str, str]:
        """Run a short POSIX shell script; (exit code, stdout, stderr)."""

    @abc.abstractmethod
    def stream(self, argv: list[str], cwd: str) -> StreamedProcess:
        """Start a long command in ``cwd`` and stream its stdout lines."""

    @abc.abstractmethod
    def detect_runtime(self, folder: str, runner: str | None = None) -> RuntimeInfo:
        """Which way of running a bundle the device offers (see runtime.py)."""

    def join(self, folder: str, rel: str) -> str:
        return folder.rstrip("/") + "/" + rel
