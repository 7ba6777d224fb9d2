"""Lay out and paint the wizard's hidden steps once while the user reads the first one.

The first time a step is shown, Qt polishes every widget on it (style sheets), lays it out and
paints it with cold caches: 5–15 ms of UI thread per step, on top of starting that step's job.
Rendering each hidden step into a throw-away pixmap beforehand, one step per timer tick after
the background imports finished, moves that cost to a quiet moment; the later first show then
costs about half (measured with benchmarks/bench_ui_lag.py --trace).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QStackedWidget, QWidget

TICK_MS = 40


def sync_pyside_signatures() -> None:
    """Let PySide catch up with newly imported modules, off the UI thread.

    Whenever sys.modules has grown, PySide's signature support rescans every loaded module (path
    checks on ~1,000 modules after the warm-up: ~12 ms of CPU) the next time it sets up a Qt type
    for Python. That used to land on the UI thread mid-job (seen inside DeferredDelete events).
    Calling it from a background thread after imports pays that cost there instead."""
    try:
        from shibokensupport.signature import mapping  # PySide6's own (embedded) support code

        mapping.update_mapping()
    except Exception:  # a PySide version without it: only a missed optimisation
        logging.getLogger("studio").debug("no PySide signature mapping to sync", exc_info=True)


class PagePrewarmer(QObject):
    """Renders the pages of `stack` not yet shown, one per tick, once `ready` is set and while
    `busy` says no job is running."""

    def __init__(
        self,
        stack: QStackedWidget,
        pages: Sequence[QWidget],
        ready: threading.Event,
        parent: QObject | None = None,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(parent)
        self.stack = stack
        self.ready = ready
        self.busy = busy
        self.todo = list(pages)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.timer.start()

    def _tick(self) -> None:
        if not self.ready.is_set() or not self.stack.isVisible():
            return  # the imports still compete for the GIL; try again next tick
        if self.busy():
            return  # a render now would be a stall while the job's progress shows
        while self.todo:
            page = self.todo.pop(0)
            if page is self.stack.currentWidget() or page.isVisible():
                continue  # already shown: nothing left to warm
            page.setGeometry(self.stack.currentWidget().geometry())
            page.grab()  # polish + layout + paint into a pixmap that is dropped
            return
        self.timer.stop()
