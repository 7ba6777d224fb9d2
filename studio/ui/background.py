"""The one way the UI runs light work off the Qt main thread and gets the answer back on it.

Light work (reading a file's header, a hub search, adb connect) runs on Qt's thread pool through
``run_in_thread``; ``Caller`` adds "only the latest answer of a kind counts"; ``Relay`` carries
values from a thread the studio does not own (the device watcher, a generation reader) to the
main thread. Heavy or native work is a job (jobs_qt), not this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from studio.core.errors import StudioError
from studio.ui.i18n import tr
from studio.ui.messages import shown_error

log = logging.getLogger("studio")


class Relay(QObject):
    """Emit ``message`` from any thread; slots run on the thread the relay lives in (main)."""

    message = Signal(object)


class _Answer(QObject):
    done = Signal(object)
    error = Signal(str)


class _ThreadCall(QRunnable):
    def __init__(self, fn: Callable[[], Any], answer: _Answer) -> None:
        super().__init__()
        self.fn = fn
        self.answer = answer

    def run(self) -> None:
        try:
            value = self.fn()
        except StudioError as exc:
            self._send(self.answer.error, shown_error(exc))
        except Exception as exc:
            log.exception("background call failed")
            self._send(
                self.answer.error,
                tr("Something went wrong: {kind}: {error}", kind=type(exc).__name__, error=exc),
            )
        else:
            self._send(self.answer.done, value)

    @staticmethod
    def _send(signal: Any, value: Any) -> None:
        # When the app quits while a call is still running, Qt deletes the answer object under
        # us; the answer then has nobody to go to, and a traceback would only alarm the user.
        try:
            signal.emit(value)
        except RuntimeError:
            log.debug("background call finished after the app closed")


_relays: set[_Answer] = set()

# Qt sizes the shared pool by CPU cores (2 here). Pool tasks wait on files, adb and the network,
# so one slow call must not leave a button's background call queued behind it.
_MIN_POOL_THREADS = 8
if QThreadPool.globalInstance().maxThreadCount() < _MIN_POOL_THREADS:
    QThreadPool.globalInstance().setMaxThreadCount(_MIN_POOL_THREADS)


def run_in_thread(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[str], None],
    *,
    pool: QThreadPool | None = None,
) -> None:
    """Run ``fn`` on the thread pool; exactly one of the callbacks runs, on the main thread."""
    answer = _Answer()
    _relays.add(answer)  # keep it alive until it answered

    # Released on a later turn of the event loop: dropping the last reference inside its own
    # signal's delivery would delete the sender under Qt's feet.
    def finish(callback: Callable[[Any], None], value: Any) -> None:
        QTimer.singleShot(0, lambda: _relays.discard(answer))
        callback(value)

    answer.done.connect(lambda value: finish(on_done, value))
    answer.error.connect(lambda message: finish(on_error, message))
    (pool or QThreadPool.globalInstance()).start(_ThreadCall(fn, answer))


class Caller(QObject):
    """Calls in the background where only the answer to the latest call of a kind is delivered.

    Typing a new search while the previous one is still on the wire must not let the old answer
    overwrite the new one.
    """

    def __init__(self, parent: QObject | None = None, *, threads: int = 4) -> None:
        super().__init__(parent)
        self.latest: dict[str, int] = {}
        self.pending: set[int] = set()
        self.ticket = 0
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)

    def call(
        self,
        kind: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> int:
        self.ticket += 1
        ticket = self.latest[kind] = self.ticket
        self.pending.add(ticket)

        def answer(callback: Callable[[Any], None]) -> Callable[[Any], None]:
            def deliver(value: Any) -> None:
                if not shiboken6.isValid(self):  # its window closed while the call ran
                    return
                self.pending.discard(ticket)
                if self.latest.get(kind) == ticket:
                    callback(value)

            return deliver

        run_in_thread(fn, answer(on_done), answer(on_error), pool=self.pool)
        return ticket

    def busy(self, kind: str) -> bool:
        return self.latest.get(kind) in self.pending

    def wait(self, msecs: int = 10_000) -> bool:
        return self.pool.waitForDone(msecs)
