"""The Demo step's Serve card: the bundle answered over HTTP on this PC or on the chosen device.

The server runs as a background job (studio/core/serve/background.py), never on the UI thread;
its ``serving`` event brings the address and a curl example. Stop, leaving the step and closing
the window cancel the job, which stops the server (and removes a device's adb forward).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QWidget

from studio.core.jobs import JobSpec
from studio.ui.i18n import tr
from studio.ui.jobs_qt import JobManager, QtJob
from studio.ui.messages import this_pc
from studio.ui.widgets import Card, show_error


class ServePanel(Card):
    def __init__(self, jobs: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.job: QtJob | None = None
        self.bundle: Callable[[], Path | None] = lambda: None
        self.device: Callable[[], str | None] = lambda: None  # the Deploy step's choice
        self.url = ""
        row = QHBoxLayout()
        self.here_button = QPushButton(tr("Serve on this PC"))
        self.here_button.clicked.connect(lambda: self.start(None))
        self.device_button = QPushButton(tr("Serve on the device"))
        self.device_button.clicked.connect(self._start_on_device)
        self.stop_button = QPushButton(tr("Stop serving"))
        self.stop_button.clicked.connect(self.stop)
        self.copy_button = QPushButton(tr("Copy curl"))
        self.copy_button.clicked.connect(self._copy)
        for button in (self.here_button, self.device_button, self.stop_button, self.copy_button):
            row.addWidget(button)
        row.addStretch()
        self.status = QLabel(
            tr("Answer the bundle over HTTP (Open Inference Protocol V2), for apps and curl.")
        )
        self.status.setWordWrap(True)
        self.status.setObjectName("factLabel")
        self.curl = QPlainTextEdit()
        self.curl.setReadOnly(True)
        self.curl.setMaximumHeight(72)
        self.body.addLayout(row)
        self.body.addWidget(self.status)
        self.body.addWidget(self.curl)
        self._show_running(False)

    def _show_running(self, running: bool) -> None:
        self.here_button.setEnabled(not running)
        self.device_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.copy_button.setEnabled(running and bool(self.curl.toPlainText()))
        self.curl.setVisible(running)

    def running(self) -> bool:
        return self.job is not None and not self.job.is_finished

    def _start_on_device(self) -> None:
        serial = self.device()
        if not serial:
            show_error(self, tr("Choose a phone or board on the Deploy step first."))
            return
        self.start(serial)

    def start(self, device: str | None) -> None:
        bundle = self.bundle()
        if bundle is None:
            show_error(self, tr("Build the bundle on the Deploy step first."))
            return
        if self.running():
            return
        where = device or this_pc()
        self.job = self.jobs.start(
            JobSpec(
                title=tr("Serving on {where}", where=where),
                target="studio.core.serve.background:serve_until_cancelled",
                kwargs={"bundle": str(bundle), "device": device},
            )
        )
        self.url = ""
        self.curl.setPlainText("")
        self.status.setText(tr("Starting the server on {where}…", where=where))
        self.job.event.connect(self._on_event)
        self.job.failed.connect(self._on_failed)
        self.job.finished.connect(self._on_finished)
        self._show_running(True)

    def _on_event(self, data: dict[str, Any]) -> None:
        if data.get("type") != "serving":
            return
        self.url = str(data["url"])
        where = this_pc() if data["where"] == "this-pc" else str(data["where"])
        self.status.setText(
            tr("Serving on {where} at {url} — try it with:", where=where, url=self.url)
        )
        self.curl.setPlainText(str(data["curl"]))
        self.copy_button.setEnabled(True)

    def _on_failed(self, message: str) -> None:
        show_error(self, message, tr("The server stopped"))

    def _on_finished(self) -> None:
        self.url = ""
        self.status.setText(tr("Not serving."))
        self._show_running(False)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.curl.toPlainText())

    def stop(self) -> None:
        if self.running() and self.job is not None:
            self.job.cancel()
