"""Booth presentation mode: full screen, dark, large type, preset prompts, unattended auto-play.

Leaving needs a deliberate gesture — hold Esc for two seconds, or click the top-right corner three
times quickly — so a visitor cannot close it by accident. On this PC every answer comes from one
worker process that keeps the model loaded (no process or thread per answer); only the current
answer is kept on screen and each run is deleted when done, so an all-day loop does not grow in
memory.
"""

from __future__ import annotations

import platform

from PySide6.QtCore import QElapsedTimer, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from studio.core.generate.presentation import PRESENTATION_SETTINGS, PRESETS, presentation_cycle
from studio.core.generate.session import GenerationSummary
from studio.ui.i18n import tr
from studio.ui.messages import this_pc
from studio.ui.pages.demo.generation_run import THIS_PC, GenerationRun
from studio.ui.pages.demo.generation_worker_qt import QtGenerationWorker

HOLD_TO_EXIT_MS = 2000
CORNER_PX = 80
CORNER_CLICKS = 3
LOOP_PAUSE_MS = 3000

STYLE = """
QWidget#presentation { background: #0d1117; color: #e6edf3; }
QLabel { color: #e6edf3; }
QLabel#presTitle { font-weight: 700; }
QLabel#presWhere { color: #8b949e; }
QLabel#presSpeed { font-weight: 800; color: #58a6ff; }
QLabel#presCaption { color: #8b949e; }
QLabel#presFact { font-weight: 600; }
QLabel#presHint { font-size: 12pt; color: #6e7681; }
QTextBrowser { background: #161b22; color: #f0f6fc; border: none; border-radius: 12px;
               padding: 18px; }
QScrollBar:vertical { background: #161b22; width: 10px; }
QScrollBar::handle:vertical { background: #30363d; border-radius: 5px; }
QScrollBar::add-line, QScrollBar::sub-line { height: 0; }
QPushButton { background: #21262d; color: #f0f6fc; border: 2px solid #30363d; border-radius: 14px;
              padding: 14px 12px; }
QPushButton:hover { border-color: #58a6ff; }
QPushButton:checked { background: #1f6feb; border-color: #58a6ff; }
QPushButton:disabled { color: #6e7681; }
"""


def _fact(caption: str) -> tuple[QWidget, QLabel]:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    value = QLabel("–")
    value.setObjectName("presFact")
    label = QLabel(caption)
    label.setObjectName("presCaption")
    layout.addWidget(value)
    layout.addWidget(label)
    return box, value


class PresentationWindow(QWidget):
    closed = Signal()
    answer_finished = Signal(object)

    def __init__(
        self,
        model: str | None,
        where: str = THIS_PC,
        where_label: str = "",
        parent: QWidget | None = None,
        worker: QtGenerationWorker | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("presentation")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(STYLE)
        self.setWindowTitle(tr("Edge Deploy Studio — presentation"))
        self.model = model
        self.where = where
        # A worker lent by the chat stays the chat's; one made here ends when the window does.
        self._own_worker = worker is None and where == THIS_PC
        self.worker = QtGenerationWorker(model, self) if self._own_worker else worker
        self.run: GenerationRun | None = None
        self.cycle = presentation_cycle()
        self.answers = 0
        self._allow_close = False
        self._esc_timer = QTimer(self)
        self._esc_timer.setSingleShot(True)
        self._esc_timer.timeout.connect(self.leave)
        self._corner_clicks: list[int] = []
        self._clock = QElapsedTimer()
        self._clock.start()
        self._loop_timer = QTimer(self)
        self._loop_timer.setSingleShot(True)
        self._loop_timer.timeout.connect(self._next_in_loop)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 36, 48, 24)
        outer.setSpacing(20)
        title = QLabel(tr("On-device AI, live"))
        title.setObjectName("presTitle")
        machine = platform.processor() or platform.machine()
        where_label = where_label or this_pc()
        place = f"{where_label} · {machine}" if where == THIS_PC and machine else where_label
        self.where_label = QLabel(tr("Running on: {place}", place=place))
        self.where_label.setObjectName("presWhere")
        outer.addWidget(title)
        outer.addWidget(self.where_label)

        middle = QHBoxLayout()
        self.text = QTextBrowser()
        self.text.setPlaceholderText(tr("Tap a prompt below."))
        middle.addWidget(self.text, 3)
        facts = QVBoxLayout()
        self.speed = QLabel("–")
        self.speed.setObjectName("presSpeed")
        caption = QLabel(tr("tokens per second"))
        caption.setObjectName("presCaption")
        facts.addWidget(self.speed)
        facts.addWidget(caption)
        ttft_box, self.ttft = _fact(tr("first token after"))
        memory_box, self.memory = _fact(tr("memory in use"))
        facts.addSpacing(24)
        facts.addWidget(ttft_box)
        facts.addWidget(memory_box)
        facts.addStretch()
        middle.addLayout(facts, 1)
        outer.addLayout(middle, 1)

        # Chinese presets on one row, English on the next, so each button stays large.
        buttons = QGridLayout()
        self.preset_buttons: list[QPushButton] = []
        columns: dict[str, int] = {}
        rows = {"zh": 0, "en": 1}
        for preset in PRESETS:
            button = QPushButton(preset.label)
            button.setToolTip(preset.prompt)
            button.clicked.connect(lambda _=False, p=preset.prompt: self.ask(p))
            row = rows.get(preset.language, 1)
            buttons.addWidget(button, row, columns.get(preset.language, 0))
            columns[preset.language] = columns.get(preset.language, 0) + 1
            self.preset_buttons.append(button)
        self.loop_button = QPushButton(tr("Auto-play"))
        self.loop_button.setToolTip(tr("Play the preset prompts one after another, all day"))
        self.loop_button.setCheckable(True)
        self.loop_button.toggled.connect(self.set_auto_loop)
        buttons.addWidget(self.loop_button, 0, max(columns.values(), default=0), 2, 1)
        outer.addLayout(buttons)
        hint = QLabel(
            tr("To leave: hold Esc for 2 seconds, or click the top-right corner 3 times.")
        )
        hint.setObjectName("presHint")
        outer.addWidget(hint)

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Type scales with the screen: readable from a few metres on a booth monitor, and still
        # fitting on a small laptop panel.
        width = max(self.width(), 640)
        sizes = {
            "presTitle": 40,
            "presWhere": 70,
            "presSpeed": 14,
            "presCaption": 70,
            "presFact": 38,
        }
        scaled: list[tuple[QWidget, int]] = [(self.text, 42), (self.loop_button, 64)]
        scaled += [(b, 64) for b in self.preset_buttons]
        scaled += [
            (label, sizes[label.objectName()])
            for label in self.findChildren(QLabel)
            if label.objectName() in sizes
        ]
        for widget, divisor in scaled:
            font = widget.font()
            font.setPixelSize(max(13, width // divisor))
            widget.setFont(font)
            widget.updateGeometry()
        super().resizeEvent(event)
        QTimer.singleShot(0, self.layout().invalidate)  # re-measure the labels at their new size

    def show_presentation(self) -> None:
        self.showFullScreen()
        self.activateWindow()

    # --- generation -------------------------------------------------------------------------

    def ask(self, prompt: str) -> None:
        if self.run is not None:
            return
        self.text.setPlainText(prompt)
        for label in (self.speed, self.ttft, self.memory):
            label.setText("…")
        run = GenerationRun(
            self.model, prompt, PRESENTATION_SETTINGS, None, self.where, self, worker=self.worker
        )
        run.chunk.connect(self._on_chunk)
        run.finished.connect(self._on_finished)
        self.run = run
        run.start()

    def _on_chunk(self, text: str) -> None:
        cursor = self.text.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(text)
        self.text.setTextCursor(cursor)
        self.text.ensureCursorVisible()
        run = self.run
        if run is None:
            return
        if run.live.tokens_per_s:
            self.speed.setText(f"{run.live.tokens_per_s:.0f}")
        if run.live.first_t is not None:
            self.ttft.setText(f"{run.live.first_t * 1000:.0f} ms")
        if run.live.memory_bytes:
            self.memory.setText(f"{run.live.memory_bytes / 1024**2:.0f} MB")

    def _on_finished(self, summary: GenerationSummary | None) -> None:
        problem = self.run.problem if self.run is not None else ""
        if self.run is not None:
            self.run.deleteLater()
        self.run = None
        self.answers += 1
        if problem:
            # The worker crashed: say so in one line; the next prompt starts a fresh one.
            self.text.setPlainText(problem)
        if summary is not None:
            if summary.decode_tokens_per_s:
                self.speed.setText(f"{summary.decode_tokens_per_s:.0f}")
            if summary.ttft_s is not None:
                self.ttft.setText(f"{summary.ttft_s * 1000:.0f} ms")
            self.memory.setText(f"{summary.memory_bytes / 1024**2:.0f} MB")
        self.answer_finished.emit(summary)
        if self.loop_button.isChecked():
            self._loop_timer.start(LOOP_PAUSE_MS)

    def set_auto_loop(self, on: bool, pause_ms: int = LOOP_PAUSE_MS) -> None:
        if self.loop_button.isChecked() != on:
            self.loop_button.setChecked(on)
            return
        if on and self.run is None:
            self._loop_timer.start(min(pause_ms, 300))
        elif not on:
            self._loop_timer.stop()

    def _next_in_loop(self) -> None:
        if self.loop_button.isChecked() and self.run is None:
            self.ask(next(self.cycle).prompt)

    # --- leaving needs a deliberate gesture ---------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            if not event.isAutoRepeat():
                self._esc_timer.start(HOLD_TO_EXIT_MS)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and not event.isAutoRepeat():
            self._esc_timer.stop()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos: QPoint = event.position().toPoint()
        if pos.x() >= self.width() - CORNER_PX and pos.y() <= CORNER_PX:
            now = self._clock.elapsed()
            self._corner_clicks = [t for t in self._corner_clicks if now - t < 1500] + [now]
            if len(self._corner_clicks) >= CORNER_CLICKS:
                self.leave()
            return
        super().mousePressEvent(event)

    def leave(self) -> None:
        self._allow_close = True
        self._loop_timer.stop()
        if self.run is not None:
            self.run.stop()
        self.close()

    def shutdown(self) -> None:
        """End this window's own worker process (a lent one belongs to the chat)."""
        self._loop_timer.stop()
        if self._own_worker and self.worker is not None:
            self.worker.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._allow_close:
            event.ignore()  # Alt+F4 or a stray click on a window control does not end the show
            return
        self.shutdown()
        self.closed.emit()
        super().closeEvent(event)
