"""One text generation in a background job process, as Qt signals on the main thread."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from studio.core.generate.session import GenerationSummary
from studio.core.generate.settings import GenerationSettings
from studio.core.jobs import JobSpec
from studio.ui.jobs_qt import JobManager, QtJob

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
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.prompt = prompt
        self.settings = settings
        self.where = where
        self.jobs = jobs
        self.live = LiveStats()
        self.text = ""
        self.job: QtJob | None = None
        self._stop_dir = Path(tempfile.mkdtemp(prefix="studio-stop-"))
        self._done = False
        self.summary: GenerationSummary | None = None

    @property
    def stop_file(self) -> Path:
        return self._stop_dir / "stop"

    def spec(self) -> JobSpec:
        title = f"Generate: {self.prompt[:30]}"
        if self.where:
            return JobSpec(
                title=f"{title} (on {self.where})",
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
        spec = self.spec()
        # Runs started by the presentation loop stay out of the jobs panel so an all-day loop
        # does not pile up finished jobs.
        self.job = self.jobs.start(spec) if self.jobs is not None else QtJob(spec, self).start()
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
        self.stop_file.touch()
        QTimer.singleShot(5000, self._force_stop)

    def _force_stop(self) -> None:
        if not self._done and self.job is not None:
            self.job.cancel()

    @property
    def running(self) -> bool:
        return self.job is not None and not self._done

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
        shutil.rmtree(self._stop_dir, ignore_errors=True)
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
