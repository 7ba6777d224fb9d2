"""Progress of a download: bytes from every file added up, a rate, and Cancel at each chunk."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from studio.core.hubs.base import Transfer, TransferCallback
from studio.core.hubs.hf_context import DownloadCancelled
from studio.core.progress import Reporter


class Tracker:
    """Adds up bytes from every file being fetched; reports a rate over a sliding window."""

    def __init__(
        self,
        total: int,
        files_total: int,
        on_transfer: TransferCallback | None,
        report: Reporter,
        cancel: threading.Event,
    ) -> None:
        self.stop = threading.Event()
        """Set when another file failed: the rest stop at their next chunk."""
        self.total = total
        self.done = 0
        self.files_total = files_total
        self.files_done = 0
        self.file = ""
        self.on_transfer = on_transfer
        self.report = report
        self.cancel = cancel
        self.lock = threading.Lock()
        self.samples: deque[tuple[float, int]] = deque()
        self.fetched = 0
        self.last_emit = 0.0

    def add(self, n: int, *, fetched: bool = True) -> None:
        # http_get calls update() *before* writing the chunk, so Cancel is honoured at the next
        # update: every byte counted so far is really on disk and can be resumed from.
        if self.cancel.is_set() or self.stop.is_set():
            raise DownloadCancelled(
                "Download cancelled", "Start it again to resume where it stopped"
            )
        with self.lock:
            self.done += n
            if fetched:
                self.fetched += n
        self.emit()

    def file_finished(self) -> None:
        with self.lock:
            self.files_done += 1
        self.emit(force=True)

    def snapshot(self) -> Transfer:
        now = time.monotonic()
        with self.lock:
            self.samples.append((now, self.fetched))
            while len(self.samples) > 2 and now - self.samples[0][0] > 5.0:
                self.samples.popleft()
            t0, b0 = self.samples[0]
            rate = (self.fetched - b0) / (now - t0) if now - t0 > 0.2 else 0.0
            left = max(self.total - self.done, 0)
            eta = left / rate if rate > 0 else None
            return Transfer(
                done=self.done,
                total=self.total,
                rate=rate,
                eta=eta,
                file=self.file,
                files_done=self.files_done,
                files_total=self.files_total,
            )

    def emit(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_emit < 0.1:
            return
        self.last_emit = now
        transfer = self.snapshot()
        self.report.progress(transfer.done / max(transfer.total, 1), transfer.text())
        if self.on_transfer is not None:
            self.on_transfer(transfer)

    def bar_class(self) -> type:
        tracker = self

        class _Bar:
            """Looks enough like tqdm for huggingface_hub's http_get."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                pass

            def __enter__(self) -> _Bar:
                return self

            def __exit__(self, *exc: object) -> None:
                pass

            def update(self, n: float | None = 1) -> None:
                tracker.add(int(n or 0))

            def close(self) -> None:
                pass

        return _Bar
