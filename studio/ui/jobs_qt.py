"""Qt adapter over studio.core.jobs: a job's events become signals on the main thread."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import time
import traceback
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from studio.core.jobs import (
    ErrorMessage,
    EventMessage,
    JobHandle,
    JobSpec,
    LogMessage,
    ProgressMessage,
    ResultMessage,
)
from studio.ui.background import run_in_thread
from studio.ui.i18n import tr
from studio.ui.messages import show
from studio.ui.prewarm import sync_pyside_signatures

log = logging.getLogger("studio")


class _EventPump(QThread):
    """Blocks on the job's pipe off the main thread and re-emits every message."""

    message = Signal(object)

    def __init__(self, handle: JobHandle, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.handle = handle

    # Children may report progress thousands of times a second; the UI needs ~20 updates/s.
    PROGRESS_INTERVAL = 0.05
    # Job children run at a lower CPU priority than the window: on two cores a quantize or a
    # profile keeps both busy, and the UI thread then waits for a core to paint.
    CHILD_NICENESS = 10

    def run(self) -> None:
        last_emit = 0.0
        pending: ProgressMessage | None = None
        try:
            self._start_child()
            sync_pyside_signatures()  # starting the first job imports multiprocessing's parts
            for message in self.handle.events():
                if isinstance(message, ProgressMessage):
                    now = time.monotonic()
                    if now - last_emit < self.PROGRESS_INTERVAL:
                        pending = message
                        continue
                    last_emit, pending = now, None
                elif pending is not None:
                    self.message.emit(pending)
                    pending = None
                # Unpickling a result may have imported its modules: let PySide catch up here,
                # not on the UI thread (cheap when nothing new was imported).
                sync_pyside_signatures()
                self.message.emit(message)
        except Exception:  # never let a pump thread die silently
            log.exception("job pump failed")
            self.message.emit(
                ErrorMessage(
                    message="failed: the job monitor stopped",  # rare; core-style English
                    user_error=False,
                    details=traceback.format_exc(),
                )
            )

    def _start_child(self) -> None:
        if self.handle.pid is not None or self.handle.cancel_requested:
            return
        with contextlib.suppress(Exception):
            # events() starts the child too; starting here lets us lower its priority first
            # thing, before onnxruntime creates its threads (they inherit the niceness).
            # Starting may fail (e.g. out of processes): events() then reports it as usual.
            self.handle.start()
        if self.handle.pid is not None and hasattr(os, "setpriority"):
            with contextlib.suppress(OSError):
                own = os.getpriority(os.PRIO_PROCESS, 0)
                os.setpriority(os.PRIO_PROCESS, self.handle.pid, min(19, own + self.CHILD_NICENESS))


class QtJob(QObject):
    """One background job as seen by the UI."""

    progress = Signal(float, str)
    log_line = Signal(str)
    event = Signal(dict)
    """Structured live records from ``Reporter.event`` (e.g. generated text chunks)."""
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()
    changed = Signal()

    def __init__(
        self, spec: JobSpec, parent: QObject | None = None, *, measures: bool = False
    ) -> None:
        super().__init__(parent)
        self.spec = spec
        self.measures = measures  # it times things on this PC (see JobManager)
        self.waiting_for: QtJob | None = None  # the timing job this one waits for
        self.handle = JobHandle(spec)
        # No Qt parent: a window closed while the pump still waits on a slow child must not
        # destroy a running QThread (Qt aborts the process); _PUMPS keeps it until it ended.
        self._pump = _EventPump(self.handle)
        _PUMPS.add(self._pump)
        self._pump.message.connect(self._on_message)
        self._pump.finished.connect(self._on_pump_done)
        self._started = False
        self._done = False

    @property
    def title(self) -> str:
        return self.spec.title

    def start(self) -> QtJob:
        if self._started:
            return self
        self._started, self.waiting_for = True, None
        # The pump thread starts the child: spawning one is too slow for the UI thread.
        self._pump.start()
        self.changed.emit()
        return self

    @property
    def started(self) -> bool:
        return self._started

    def wait_for(self, other: QtJob) -> None:
        self.waiting_for = other
        self.changed.emit()

    def waiting_text(self) -> str:
        if self.waiting_for is None:
            return ""
        return tr(
            "Waiting for “{title}” to finish: timing two things at once on this PC would "
            "make both figures wrong",
            title=self.waiting_for.title,
        )

    def cancel(self) -> None:
        if not self._started:
            # Never ran: the pump reports it cancelled at once, with nothing to stop.
            self.handle.cancel()
            self.start()
            return
        # terminate() + join can take a moment; keep it off the main thread.
        run_in_thread(self.handle.cancel, lambda _value: None, lambda _message: None)

    def wait(self, msecs: int = 10_000) -> bool:
        return self._pump.wait(msecs)

    @property
    def is_finished(self) -> bool:
        return self._done

    @Slot(object)
    def _on_message(self, message: Any) -> None:
        if isinstance(message, ProgressMessage):
            self.progress.emit(message.fraction, message.message)
        elif isinstance(message, LogMessage):
            self.log_line.emit(message.line)
        elif isinstance(message, EventMessage):
            self.event.emit(message.data)
            return  # many per second; the jobs panel does not need to redraw for each
        elif isinstance(message, ResultMessage):
            self.succeeded.emit(message.value)
        elif isinstance(message, ErrorMessage):
            if message.details:
                for line in message.details.rstrip().splitlines():
                    self.log_line.emit(line)
            if message.exit_code == 130 and message.message == "Cancelled.":
                self.cancelled.emit()
            else:
                # A message with an id is worded by the GUI (its controls, its language).
                self.failed.emit(show(message.msg) if message.msg else message.message)
        self.changed.emit()

    @Slot()
    def _on_pump_done(self) -> None:
        pump = self._pump
        pump.wait()  # finished() comes just before the thread ends
        QTimer.singleShot(0, lambda: _PUMPS.discard(pump))
        self._done = True
        self.changed.emit()
        self.finished.emit()


_PUMPS: set[_EventPump] = set()


@atexit.register
def _let_pumps_end() -> None:
    # A QThread destroyed while running aborts the process; at exit give the pumps of cancelled
    # jobs a moment to see their child gone.
    for pump in list(_PUMPS):
        pump.handle.cancel()
        pump.wait(5_000)


class JobManager(QObject):
    """Every job the session started, for the jobs panel."""

    job_added = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs: list[QtJob] = []

    def start(self, spec: JobSpec, *, measures: bool = False) -> QtJob:
        """Run ``spec`` in a worker process.

        Jobs that time things on this PC (``measures``: profiling, the chip check's calibration,
        quantizing with its before/after latency, the demo's speed) run one at a time, in the
        order they were started: on two cores a profile taken while the chip check calibrated
        this PC had 21 of its 24 sessions slowed, and that calibration is kept for good.
        """
        job = QtJob(spec, self, measures=measures)
        self.jobs.append(job)
        ahead = self._timing() if measures else None
        if ahead is not None:
            job.wait_for(ahead)
        self.job_added.emit(job)
        if measures:
            job.finished.connect(self._start_next_timing)
        return job if ahead is not None else job.start()

    def _timing(self) -> QtJob | None:
        """The timing job running now, if any."""
        return next(
            (job for job in self.jobs if job.measures and job.started and not job.is_finished), None
        )

    def _start_next_timing(self) -> None:
        if self._timing() is not None:
            return
        queued = [job for job in self.jobs if job.measures and not job.started]
        if queued:
            queued[0].start()
            for job in queued[1:]:
                job.wait_for(queued[0])

    def running(self) -> list[QtJob]:
        return [job for job in self.jobs if not job.is_finished]

    def shutdown(self) -> None:
        for job in self.jobs:
            if not job.is_finished:
                job.handle.cancel()
        for job in self.jobs:
            job.wait(10_000)
