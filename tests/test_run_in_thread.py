"""Light background calls: answers reach the main thread, and a call that outlives the app
finishes quietly."""

from __future__ import annotations

import threading
from typing import Any

import shiboken6
from PySide6.QtCore import QThreadPool

from studio.core.errors import BadInput
from studio.ui import background
from studio.ui.background import run_in_thread


def test_value_and_error_reach_the_callbacks_on_the_main_thread(qtbot: Any) -> None:
    answers: list[object] = []
    threads: list[threading.Thread] = []

    def on_answer(value: object) -> None:
        answers.append(value)
        threads.append(threading.current_thread())

    run_in_thread(lambda: 42, on_answer, on_answer)
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=5000)
    assert answers == [42]

    def bad() -> None:
        raise BadInput("The file is empty", "Pick another file")

    run_in_thread(bad, on_answer, on_answer)
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=5000)
    assert "The file is empty" in str(answers[1])
    assert threads == [threading.main_thread()] * 2


def test_a_call_that_ends_after_its_relay_is_gone_prints_no_traceback(
    qtbot: Any, capfd: Any
) -> None:
    release = threading.Event()
    relay = _first_relay_after(
        lambda: run_in_thread(lambda: release.wait(5) and 1, lambda _v: None, lambda _m: None)
    )
    background._relays.discard(relay)
    shiboken6.delete(relay)  # what closing the app does to it
    release.set()
    assert QThreadPool.globalInstance().waitForDone(5000)
    assert "Traceback" not in capfd.readouterr().err


def _first_relay_after(start: Any) -> Any:
    before = set(background._relays)
    start()
    (relay,) = set(background._relays) - before
    return relay
