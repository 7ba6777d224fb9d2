"""Qt adapter over studio.core.generate.worker: one worker process and one reader thread per
model, for every answer of the chat and the booth's auto-play (no thread or process per answer)."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import traceback
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.generate.worker import GenerationWorker
from studio.core.jobs import ErrorMessage, EventMessage, ResultMessage
from studio.ui.background import Relay
from studio.ui.i18n import tr

log = logging.getLogger("studio")


class _Reader:
    """Sends queued prompts to the worker one at a time and re-emits what comes back.

    A plain daemon thread rather than a QThread: a widget torn down without ``shutdown`` must
    not abort the app over a still-running QThread.
    """

    def __init__(self, worker: GenerationWorker, bridge: Relay) -> None:
        self.worker = worker
        self.bridge = bridge
        self.requests: queue.Queue[tuple[int, str, dict[str, Any]] | None] = queue.Queue()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(
                target=self.run, name="studio-generate-reader", daemon=True
            )
            self.thread.start()

    def wait(self, seconds: float) -> bool:
        if self.thread is not None:
            self.thread.join(seconds)
            return not self.thread.is_alive()
        return True

    def emit(self, rid: int, message: object) -> None:
        # RuntimeError: the window that asked is gone; nobody is listening.
        with contextlib.suppress(RuntimeError):
            self.bridge.message.emit((rid, message))

    def run(self) -> None:
        while True:
            request = self.requests.get()
            if request is None:
                return
            rid, prompt, settings = request
            try:
                self.worker.send(prompt, settings, rid)
                for message in self.worker.receive():
                    self.emit(rid, message)
            except Exception as exc:  # never let the reader die silently: the run must finish
                log.exception("generation reader failed")
                self.emit(
                    rid,
                    ErrorMessage(
                        message=tr(
                            "Generation failed: {kind}: {error}", kind=type(exc).__name__, error=exc
                        ),
                        user_error=False,
                        details=traceback.format_exc(),
                    ),
                )


class QtGenerationWorker(QObject):
    """A model kept loaded in a worker process; answers arrive as signals on the main thread.

    Each answer is tagged with the id ``ask`` returned, so runs sharing a worker (chat and
    presentation) only take their own events.
    """

    event = Signal(int, dict)
    answered = Signal(int, object)
    """(request id, GenerationSummary)"""
    failed = Signal(int, object)
    """(request id, ErrorMessage)"""

    def __init__(self, model: str | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.core = GenerationWorker(model)
        self._bridge = Relay(self)
        self._bridge.message.connect(self._on_message)
        self._reader = _Reader(self.core, self._bridge)
        self._closed = False

    def ask(self, prompt: str, settings: dict[str, Any]) -> int:
        """Queue one prompt; returns its request id (for ``stop`` and to match the signals)."""
        if self._closed:
            raise RuntimeError("worker was shut down")
        rid = self.core.new_request()
        self._reader.start()
        self._reader.requests.put((rid, prompt, settings))
        return rid

    def stop(self, request_id: int) -> None:
        self.core.stop(request_id)

    def kill(self) -> None:
        self.core.kill()

    @property
    def pid(self) -> int | None:
        return self.core.pid

    def shutdown(self) -> None:
        """End the worker process and the reader thread; nothing is left running."""
        if self._closed:
            return
        self._closed = True
        self._reader.requests.put(None)
        self.core.shutdown()
        if not self._reader.wait(10):
            log.warning("generation reader did not end")

    def _on_message(self, answer: tuple[int, object]) -> None:
        rid, message = answer  # (request id, EventMessage | ResultMessage | ErrorMessage)
        if isinstance(message, EventMessage):
            self.event.emit(rid, message.data)
        elif isinstance(message, ResultMessage):
            self.answered.emit(rid, message.value)
        elif isinstance(message, ErrorMessage):
            self.failed.emit(rid, message)
