"""One text generation, as Qt signals on the main thread.

On this PC it is one answer of a long-lived worker process that keeps the model loaded
(studio/ui/pages/demo/generation_worker_qt.py); on a phone or board it is a background job driving the
bundle's runner over adb.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from studio.core.generate.session import GenerationSummary
from studio.core.generate.settings import GenerationSettings
from studio.core.jobs import ErrorMessage, JobSpec
from studio.ui.i18n import tr
from studio.ui.jobs_qt import JobManager, QtJob
from studio.ui.pages.demo.generation_worker_qt import QtGenerationWorker

THIS_PC = ""
"""The ``where`` value meaning this computer (any other value is an adb serial)."""


class LiveStats:
    """Speed figures computed from the chunks seen so far, for a live display."""

    def __init__(self) -> None:
        self.tokens = 0
        self.first_t: float | None = None
        self.last_t = 0.0
        self.prompt_tokens = 0
        self.memory_bytes = 0

    def add(self, data: dict[str, Any]) -> None:
        t = float(data.get("t", 0.0))
        if self.first_t is None:
            self.first_t = t
            self.tokens = 1
            more = int(data.get("tokens", 1)) - 1
        else:
            more = int(data.get("tokens", 1))
        self.tokens += more
        self.last_t = t

    @property
    def tokens_per_s(self) -> float | None:
        if self.first_t is None or self.last_t <= self.first_t or self.tokens < 2:
            return None
        return (self.tokens - 1) / (self.last_t - self.first_t)


class GenerationRun(QObject):
    """Start, stream and stop one generation. ``finished`` always comes, exactly once."""

    started = Signal(dict)
    chunk = Signal(str)
    finished = Signal(object)
    """A GenerationSummary, or None when the run failed or was cancelled."""
    failed = Signal(str)

    def __init__(
        self,
        model: str | None,
        prompt: str,
        settings: GenerationSettings,
        jobs: JobManager | None = None,
        where: str = THIS_PC,
        parent: QObject | None = None,
        worker: QtGenerationWorker | None = None,
    ) -> None:
        super().__init__(parent)
        # A worker only serves this PC; device runs go through the runner over adb as a job.
        self.worker = worker if not where else None
        self.request_id = 0
        self.model = model
        self.prompt = prompt
        self.settings = settings
        self.where = where
        self.jobs = jobs
        self.live = LiveStats()
        self.text = ""
        self.job: QtJob | None = None
        self._stop_dir: Path | None = None
        self._done = False
        self.problem = ""
        """One plain line when the answer was lost (the worker crashed); shown in the chat."""
        self.summary: GenerationSummary | None = None

    @property
    def stop_file(self) -> Path:
        if self._stop_dir is None:
            self._stop_dir = Path(tempfile.mkdtemp(prefix="studio-stop-"))
        return self._stop_dir / "stop"

    def spec(self) -> JobSpec:
        title = tr("Generate: {prompt}", prompt=self.prompt[:30])
        if self.where:
            return JobSpec(
                title=tr("{title} (on {device})", title=title, device=self.where),
                target="studio.core.generate.on_device:generate_on_device_job",
                kwargs={
                    "model": self.model,
                    "prompt": self.prompt,
                    "serial": self.where,
                    "settings": self.settings.model_dump(mode="json"),
                    "stop_file": str(self.stop_file),
                },
            )
        return JobSpec(
            title=title,
            target="studio.core.generate.session:generate_job",
            kwargs={
                "model": self.model,
                "prompt": self.prompt,
                "settings": self.settings.model_dump(mode="json"),
                "stop_file": str(self.stop_file),
            },
        )

    def start(self) -> GenerationRun:
        if self.worker is not None:
            worker = self.worker
            worker.event.connect(self._on_worker_event)
            worker.answered.connect(self._on_worker_answer)
            worker.failed.connect(self._on_worker_failed)
            self.request_id = worker.ask(self.prompt, self.settings.model_dump(mode="json"))
            return self
        spec = self.spec()
        # Runs started by the presentation loop stay out of the jobs panel so an all-day loop
        # does not pile up finished jobs.
        self.job = (
            self.jobs.start(spec, measures=not self.where)  # tokens/s on this PC
            if self.jobs is not None
            else QtJob(spec, self).start()
        )
        self.job.event.connect(self._on_event)
        self.job.succeeded.connect(self._on_result)
        self.job.failed.connect(self._on_failed)
        self.job.cancelled.connect(lambda: self._finish(None))
        self.job.finished.connect(lambda: self._finish(self.summary))
        return self

    def stop(self) -> None:
        """Ask the worker to end after the current token; kill it if it does not listen."""
        if self._done:
            return
        if self.worker is not None:
            self.worker.stop(self.request_id)
        else:
            self.stop_file.touch()
        QTimer.singleShot(5000, self._force_stop)

    def _force_stop(self) -> None:
        if self._done:
            return
        if self.worker is not None:
            self.worker.kill()  # the answer ends with the worker's crash line
        elif self.job is not None:
            self.job.cancel()

    @property
    def running(self) -> bool:
        return (self.job is not None or self.request_id > 0) and not self._done

    # --- answers from the long-lived worker (this PC) ----------------------------------------

    def _on_worker_event(self, rid: int, data: dict[str, Any]) -> None:
        if rid == self.request_id:
            self._on_event(data)

    def _on_worker_answer(self, rid: int, value: Any) -> None:
        if rid == self.request_id:
            self._on_result(value)
            self._finish(self.summary)

    def _on_worker_failed(self, rid: int, error: ErrorMessage) -> None:
        if rid != self.request_id:
            return
        if error.exit_code == 130 and error.message == "Cancelled.":
            self._finish(None)  # the app or the model switch ended the worker
            return
        if error.user_error:
            self._on_failed(error.message)  # e.g. a prompt longer than the model reads
            return
        self.problem = error.message
        self._finish(None)

    def _on_event(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "start":
            self.live.prompt_tokens = int(data.get("prompt_tokens", 0))
            self.live.memory_bytes = int(data.get("memory_bytes", 0))
            self.started.emit(data)
        elif kind == "token":
            self.live.add(data)
            self.text += data.get("text", "")
            self.chunk.emit(data.get("text", ""))

    def _on_result(self, value: Any) -> None:
        if isinstance(value, GenerationSummary):
            self.summary = value

    def _on_failed(self, message: str) -> None:
        self.failed.emit(message)
        self._finish(None)

    def _finish(self, summary: GenerationSummary | None) -> None:
        if self._done:
            return
        self._done = True
        if self._stop_dir is not None:
            shutil.rmtree(self._stop_dir, ignore_errors=True)
        if self.worker is not None:
            # The worker outlives this run: cut the links so it does not keep the run alive.
            self.worker.event.disconnect(self._on_worker_event)
            self.worker.answered.disconnect(self._on_worker_answer)
            self.worker.failed.disconnect(self._on_worker_failed)
        job = self.job
        if job is not None and self.jobs is None:
            # Presentation runs are nobody else's: cut the signal links (lambdas hold this run)
            # and free the job, or an all-day loop keeps every finished job alive.
            for signal in (job.event, job.succeeded, job.failed, job.cancelled, job.finished):
                signal.disconnect()
            # PySide keeps the Python wrapper of a deleted QObject created in Python; empty what
            # it holds (the answer, the log) so only a few bytes per answer stay behind.
            job.handle.result = None
            job.handle.logs.clear()
            job.spec.kwargs.clear()
            job.deleteLater()
            self.job = None
        self.finished.emit(summary)
