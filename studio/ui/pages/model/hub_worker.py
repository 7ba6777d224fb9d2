"""Hub calls off the Qt main thread: one-shot calls, and downloads with progress and Cancel.

Network I/O runs on the thread pool (not in a job process): it needs no CPU, and the session-only
token (when there is no keyring) lives in this process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from studio.core.errors import JobCancelled, StudioError
from studio.ui.i18n import tr
from studio.ui.messages import shown_error

log = logging.getLogger("studio")


class DownloadTask(QObject):
    """One download: ``transfer`` (a core Transfer) ~10×/s, then exactly one of the end signals."""

    transfer = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, fn: Callable[..., Any], parent: QObject | None = None) -> None:
        """``fn(on_transfer=..., cancel=...)`` runs the download and returns its result."""
        super().__init__(parent)
        self.fn = fn
        self.cancel_event = threading.Event()
        self.running = False

    def start(self) -> DownloadTask:
        self.running = True
        QThreadPool.globalInstance().start(_DownloadRunnable(self))
        return self

    def cancel(self) -> None:
        self.cancel_event.set()


class _DownloadRunnable(QRunnable):
    def __init__(self, task: DownloadTask) -> None:
        super().__init__()
        self.task = task

    def run(self) -> None:
        task = self.task
        try:
            result = task.fn(on_transfer=task.transfer.emit, cancel=task.cancel_event)
        except JobCancelled:
            task.cancelled.emit()
        except StudioError as exc:
            task.failed.emit(shown_error(exc))
        except Exception as exc:
            log.exception("download failed")
            task.failed.emit(
                tr("Something went wrong: {kind}: {error}", kind=type(exc).__name__, error=exc)
            )
        else:
            task.succeeded.emit(result)
        finally:
            task.running = False
            task.finished.emit()
