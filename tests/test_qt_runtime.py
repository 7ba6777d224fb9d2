"""Guards against Qt binding bugs that would crash the app in front of a user."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    plain = Signal()
    progress = Signal(float, str)


def test_signal_emit_does_not_leak_references_to_true() -> None:
    # PySide6 6.12.0 decremented True's refcount on every emit; a job's progress stream then
    # aborted the interpreter. The pinned version must not.
    emitter = _Emitter()
    emitter.plain.connect(lambda: None)
    emitter.progress.connect(lambda fraction, message: None)
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.plain.emit()
        emitter.progress.emit(0.5, "x")
    assert abs(sys.getrefcount(True) - before) < 50
