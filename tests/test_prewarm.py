"""Hidden wizard steps are rendered ahead of their first show, but never while a job runs."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from studio.ui.prewarm import PagePrewarmer


class CountingPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0
        QLabel("a step", self)

    def paintEvent(self, event: Any) -> None:
        self.paints += 1
        super().paintEvent(event)


def _stack(qtbot: Any) -> tuple[QStackedWidget, list[CountingPage]]:
    stack = QStackedWidget()
    qtbot.addWidget(stack)
    pages = [CountingPage() for _ in range(3)]
    for page in pages:
        stack.addWidget(page)
    stack.resize(400, 300)
    stack.show()
    return stack, pages


def test_hidden_pages_are_painted_once_after_the_warm_up(qtbot: Any) -> None:
    stack, pages = _stack(qtbot)
    ready = threading.Event()
    prewarmer = PagePrewarmer(stack, pages[1:], ready)
    prewarmer.start()
    qtbot.wait(120)
    assert [p.paints for p in pages[1:]] == [0, 0]  # imports still running: wait
    ready.set()
    qtbot.waitUntil(lambda: not prewarmer.timer.isActive(), timeout=3000)
    assert [p.paints for p in pages[1:]] == [1, 1]


def test_nothing_is_rendered_while_a_job_runs(qtbot: Any) -> None:
    stack, pages = _stack(qtbot)
    ready = threading.Event()
    ready.set()
    job_running = [True]
    prewarmer = PagePrewarmer(stack, pages[1:], ready, busy=lambda: job_running[0])
    prewarmer.start()
    qtbot.wait(200)
    assert [p.paints for p in pages[1:]] == [0, 0]
    job_running[0] = False
    qtbot.waitUntil(lambda: not prewarmer.timer.isActive(), timeout=3000)
    assert [p.paints for p in pages[1:]] == [1, 1]
