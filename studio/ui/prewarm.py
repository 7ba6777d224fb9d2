"""Lay out and paint the wizard's hidden steps once while the user reads the first one.

The first time a step is shown, Qt polishes every widget on it (style sheets), lays it out and
paints it with cold caches: 5–15 ms of UI thread per step, on top of starting that step's job.
Rendering each hidden step into a throw-away pixmap beforehand, one step per timer tick after
the background imports finished, moves that cost to a quiet moment; the later first show then
costs about half (measured with benchmarks/bench_ui_lag.py --trace).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QStackedWidget, QWidget

TICK_MS = 40


class PagePrewarmer(QObject):
    """Renders the pages of `stack` not yet shown, one per tick, once `ready` is set."""

    def __init__(self, stack: QStackedWidget, pages: Sequence[QWidget], ready: threading.Event,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = stack
        self.ready = ready
        self.todo = list(pages)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.timer.start()

    def _tick(self) -> None:
        if not self.ready.is_set() or not self.stack.isVisible():
            return  # the imports still compete for the GIL; try again next tick
        while self.todo:
            page = self.todo.pop(0)
            if page is self.stack.currentWidget() or page.isVisible():
                continue  # already shown: nothing left to warm
            page.setGeometry(self.stack.currentWidget().geometry())
            page.grab()  # polish + layout + paint into a pixmap that is dropped
            return
        self.timer.stop()
