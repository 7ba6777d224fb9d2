"""Hub calls off the Qt main thread: one-shot calls, and downloads with progress and Cancel.

Network I/O runs on the thread pool (not in a job process): it needs no CPU, and the session-only
token (when there is no keyring) lives in this process.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from studio.core.errors import JobCancelled, StudioError
from studio.ui.i18n import tr
from studio.ui.messages import shown_error

log = logging.getLogger("studio")


class _Relay(QObject):
    done = Signal(int, object)
    error = Signal(int, str)


class _Call(QRunnable):
    def __init__(self, ticket: int, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.ticket, self.fn, self.relay = ticket, fn, relay

    def run(self) -> None:
        try:
            value = self.fn()
        except StudioError as exc:
            self._emit(self.relay.error, shown_error(exc))
        except Exception as exc:
            log.exception("hub call failed")
            self._emit(
                self.relay.error,
                tr("Something went wrong: {kind}: {error}", kind=type(exc).__name__, error=exc),
            )
        else:
            self._emit(self.relay.done, value)

    def _emit(self, signal: Any, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the browser closed while we were on the network
            signal.emit(self.ticket, value)


class Caller(QObject):
    """Runs calls in the background; only the answer to the latest call of a kind is delivered.

    Typing a new search while the previous one is still on the wire must not let the old
    answer overwrite the new one.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.relay = _Relay(self)
        self.relay.done.connect(self._done)
        self.relay.error.connect(self._error)
        self.latest: dict[str, int] = {}
        self.callbacks: dict[int, tuple[str, Callable[[Any], None], Callable[[str], None]]] = {}
        self.ticket = 0
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(4)

    def call(
        self,
        kind: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> int:
        self.ticket += 1
        self.latest[kind] = self.ticket
        self.callbacks[self.ticket] = (kind, on_done, on_error)
        self.pool.start(_Call(self.ticket, fn, self.relay))
        return self.ticket

    def busy(self, kind: str) -> bool:
        return self.latest.get(kind) in self.callbacks

    def _take(self, ticket: int) -> tuple[Callable[[Any], None], Callable[[str], None]] | None:
        kind, on_done, on_error = self.callbacks.pop(ticket)
        return (on_done, on_error) if self.latest.get(kind) == ticket else None

    def _done(self, ticket: int, value: Any) -> None:
        taken = self._take(ticket)
        if taken:
            taken[0](value)

    def _error(self, ticket: int, message: str) -> None:
        taken = self._take(ticket)
        if taken:
            taken[1](message)

    def wait(self, msecs: int = 10_000) -> bool:
        return self.pool.waitForDone(msecs)


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
