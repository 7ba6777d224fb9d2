"""The side panel listing running and finished jobs, with their logs and a Cancel button."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.core.jobs import JobState
from studio.ui.i18n import N_, tr
from studio.ui.jobs_qt import JobManager, QtJob

LOG_FLUSH_MS = 50

STATE_TEXT = {
    JobState.PENDING: N_("waiting"),
    JobState.RUNNING: N_("running"),
    JobState.SUCCEEDED: N_("done"),
    JobState.FAILED: N_("failed"),
    JobState.CANCELLED: N_("cancelled"),
}


class JobPanel(QWidget):
    def __init__(self, manager: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.items: dict[int, QListWidgetItem] = {}
        self.logs: dict[int, list[str]] = {}
        self.setMinimumWidth(280)
        self.list = QListWidget()
        self.list.setObjectName("jobList")
        self.log_view = QPlainTextEdit(readOnly=True)
        self.log_view.setPlaceholderText(tr("Select a job to see its log."))
        self.log_view.setMaximumBlockCount(5000)
        self.cancel_button = QPushButton(tr("Cancel job"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel_selected)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(self.log_view)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self._pending_lines: list[str] = []
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(LOG_FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush_log)
        self.list.currentItemChanged.connect(self._show_selected)
        manager.job_added.connect(self._add)

    def _job_for(self, item: QListWidgetItem | None) -> QtJob | None:
        if item is None:
            return None
        index = item.data(Qt.ItemDataRole.UserRole)
        return self.manager.jobs[index] if index is not None else None

    def _add(self, job: QtJob) -> None:
        index = self.manager.jobs.index(job)
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, index)
        self.list.insertItem(0, item)
        self.items[index] = item
        self.logs[index] = []
        job.changed.connect(lambda: self._refresh(index))
        job.progress.connect(lambda *_: self._refresh(index))
        job.log_line.connect(lambda line: self._append_log(index, line))
        job.failed.connect(lambda message: self._append_log(index, message))
        self._refresh(index)
        self.list.setCurrentItem(item)

    def _refresh(self, index: int) -> None:
        job = self.manager.jobs[index]
        handle = job.handle
        state = tr(STATE_TEXT[handle.state])
        if handle.state is JobState.PENDING and job.started:
            state = tr("starting")  # its process is starting and has not reported yet
        elif handle.state is JobState.PENDING and job.waiting_for is not None:
            state = tr("waiting its turn")  # the item's tooltip says for what
        elif handle.state is JobState.RUNNING:
            state = f"{handle.progress:.0%} {handle.message}".strip()
        elif handle.state is JobState.FAILED and handle.error is not None:
            state = (
                handle.error.message
                if handle.error.message.startswith("failed")
                else tr("failed: {reason}", reason=handle.error.message)
            )
        elif handle.finished:
            state = tr("{state} in {seconds:.1f} s", state=state, seconds=handle.duration)
        self.items[index].setText(f"{job.title}\n  {state}")
        self.items[index].setToolTip(job.waiting_text())
        if self._job_for(self.list.currentItem()) is job:
            self.cancel_button.setEnabled(not job.is_finished)

    def _append_log(self, index: int, line: str) -> None:
        self.logs[index].append(line)
        if self._job_for(self.list.currentItem()) is self.manager.jobs[index]:
            # A job can log hundreds of lines in a burst (e.g. a traceback); one append per
            # frame instead of one per line keeps the UI thread free.
            self._pending_lines.append(line)
            if not self._flush_timer.isActive():
                self._flush_timer.start()

    def _flush_log(self) -> None:
        if self._pending_lines:
            self.log_view.appendPlainText("\n".join(self._pending_lines))
            self._pending_lines.clear()

    def _show_selected(self, item: QListWidgetItem | None) -> None:
        job = self._job_for(item)
        if job is None:
            return
        index = self.manager.jobs.index(job)
        self._pending_lines.clear()  # already in self.logs, shown in full below
        self.log_view.setPlainText("\n".join(self.logs.get(index, [])))
        self.cancel_button.setEnabled(not job.is_finished)

    def _cancel_selected(self) -> None:
        job = self._job_for(self.list.currentItem())
        if job is not None:
            job.cancel()
