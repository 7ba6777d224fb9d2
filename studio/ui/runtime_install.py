"""The *Install runtime* button of the Deploy and Demo steps (#26).

Shown only after the device answered that it cannot run the model for want of a runtime (the
core's sentence names `studio device-setup` then); it runs that command's core entry point in a
job child, with progress and Cancel in the job's progress bar.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QWidget

from studio.core.jobs import JobSpec
from studio.ui.i18n import tr
from studio.ui.jobs_qt import JobManager, QtJob
from studio.ui.messages import show
from studio.ui.widgets import JobProgress

TARGET = "studio.core.devices.setup.install:setup_device_runtime"


def says_runtime_missing(message: str) -> bool:
    """The core's "cannot run the model" sentence (runtime.py) names the command that fixes it."""
    return "device-setup" in message


class InstallRuntimeButton(QPushButton):
    installed = Signal(object)  # RuntimeSetupResult
    failed = Signal(str)

    def __init__(
        self, jobs: JobManager, progress: JobProgress, parent: QWidget | None = None
    ) -> None:
        super().__init__(tr("Install runtime"), parent)
        self.setObjectName("primaryButton")
        self.setToolTip(
            tr(
                "Put onnxruntime, onnxruntime-genai and numpy in a private folder of the studio "
                "on this board: fetched on this PC for the board's system and kept for the next "
                "board; never the system Python, no root"
            )
        )
        self.jobs = jobs
        self.progress = progress
        self.serial = ""
        self.job: QtJob | None = None
        self.clicked.connect(self.start)
        self.hide()

    def offer(self, serial: str, problem: str) -> None:
        """Show the button for ``serial`` when ``problem`` is a missing runtime; hide it else."""
        self.serial = serial
        self.setVisible(says_runtime_missing(problem) and bool(serial))

    def start(self) -> None:
        if not self.serial or (self.job is not None and not self.job.is_finished):
            return
        spec = JobSpec(
            title=tr("Install runtime on {device}", device=self.serial),
            target=TARGET,
            kwargs={"device": self.serial},
        )
        self.job = self.jobs.start(spec)
        self.progress.track(self.job)
        self.setEnabled(False)
        self.job.succeeded.connect(self._done)
        self.job.failed.connect(self.failed.emit)
        self.job.finished.connect(lambda: self.setEnabled(True))

    def _done(self, result: Any) -> None:
        self.hide()
        self.installed.emit(result)


def installed_text(result: Any) -> str:
    text = tr(
        "{runtime} on Python {python} in {folder} on {serial}. Run the model again.",
        runtime=result.runtime,
        python=result.python,
        folder=result.folder,
        serial=result.serial,
    )
    note = getattr(result, "vendor_note", None)
    return f"{text} {show(note)}" if note is not None else text
