"""Small reusable widgets: step page base, cards, a job progress row, and friendly dialogs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.core.jobs import JobState
from studio.ui.i18n import N_, tr
from studio.ui.jobs_qt import JobManager, QtJob

if TYPE_CHECKING:
    from studio.ui.state import WizardState

# A line the user must not miss (slower than the original, figures that may not repeat).
WARN_STYLE = "color: #c5221f; font-weight: 600;"


class PageScroll(QScrollArea):
    """A scroll area whose content keeps the height its wrapped text needs at the current width.

    QScrollArea sizes its widget from the minimum size hint alone, which ignores height-for-width:
    a long wrapped label in a card was then squeezed and cut off instead of the page scrolling.
    """

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._fit_height()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        layout = self.widget().layout() if self.widget() else None
        if layout is None or not layout.hasHeightForWidth():
            return
        width = max(self.viewport().width(), self.widget().minimumSizeHint().width())
        needed = layout.totalHeightForWidth(width)
        if needed != self.widget().minimumHeight():
            self.widget().setMinimumHeight(needed)


class StepPage(QWidget):
    """One wizard step: a title, a one-sentence explanation, and content below."""

    # Class attributes are marked with N_() and translated here, when the page is built.
    title = N_("Step")
    explanation = ""
    ready_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The content sits in a scroll area so that no page can make the window bigger: the
        # four preset cards alone needed 930 px, which pushed the window past a 1366×768
        # laptop screen, and a result appearing grew the whole window (a full repaint, a
        # visible stall). A page smaller than its window fills it as before.
        self.content = QWidget()
        self.content.setObjectName("pageContent")
        scroll = PageScroll()
        scroll.setObjectName("pageScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.content)
        frame = QVBoxLayout(self)
        frame.setContentsMargins(0, 0, 0, 0)
        frame.addWidget(scroll)
        self.outer = QVBoxLayout(self.content)
        self.outer.setContentsMargins(24, 18, 24, 12)
        self.outer.setSpacing(12)
        heading = QLabel(tr(self.title))
        heading.setObjectName("pageTitle")
        intro = QLabel(tr(self.explanation) if self.explanation else "")
        intro.setWordWrap(True)
        intro.setObjectName("pageIntro")
        self.outer.addWidget(heading)
        self.outer.addWidget(intro)

    def entered(self) -> None:
        """Called each time the user arrives on this step."""

    def left(self) -> None:
        """Called when the user moves to another step (the Demo step stops its server)."""

    def ready(self) -> tuple[bool, str]:
        """Whether Next is allowed, and if not, why (shown under the Next button)."""
        return True, ""

    def shutdown(self) -> None:
        """The window is closing: end what the page runs outside the job manager (the Demo
        step's chat workers); the window calls this on every page."""


class JobStepPage(StepPage):
    """A step that runs its work as background jobs and keeps the latest one."""

    def __init__(self, state: WizardState, jobs: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.jobs = jobs
        self.job: QtJob | None = None

    def job_running(self) -> bool:
        return self.job is not None and not self.job.is_finished


class Card(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(16, 12, 16, 12)


class JobProgress(QWidget):
    """A progress bar, the job's current message and a Cancel button that really cancels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.label = QLabel("")
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setObjectName("cancelButton")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.label)
        self.job: QtJob | None = None
        self.cancel_button.clicked.connect(self._cancel)
        self.hide()

    def track(self, job: QtJob) -> None:
        self.job = job
        self.bar.setValue(0)
        self.label.setText(job.waiting_text() or tr("Starting…"))
        self.cancel_button.setEnabled(True)
        self.show()
        job.progress.connect(self._on_progress)
        job.changed.connect(lambda: self._on_changed(job))
        job.finished.connect(self.hide)

    def _on_changed(self, job: QtJob) -> None:
        """Until its process reports, a job shows what it waits for, then "Starting…"."""
        if job is self.job and job.handle.state is JobState.PENDING:
            self.label.setText(job.waiting_text() or tr("Starting…"))

    def _on_progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(fraction * 1000))
        self.label.setText(message)

    def _cancel(self) -> None:
        if self.job is not None:
            self.cancel_button.setEnabled(False)
            self.label.setText(tr("Cancelling…"))
            self.job.cancel()


def show_error(parent: QWidget | None, message: str, title: str | None = None) -> None:
    """A one-line, plain-language problem; details stay in the job log."""
    title = title or tr("Something needs your attention")
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent
    )
    box.setObjectName("errorDialog")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()


def big_label(text: str = "", name: str = "bigValue") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


def warning_label(name: str) -> QLabel:
    """An empty, wrapped line in WARN_STYLE for a warning the page fills in when it applies."""
    label = big_label("", name)
    label.setStyleSheet(WARN_STYLE)
    return label
