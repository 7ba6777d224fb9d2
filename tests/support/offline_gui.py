"""Open the app the way `studio` does and click through to Inspect's Netron graph.

Run as a script by tests/test_offline.py inside a network namespace with no route:
``python offline_gui.py LINGER_S``. The app starts through ``studio.cli.main`` (so its own
start-up settings apply); a timer started with the app's event loop plays the user: Next to
Target, Next to Optimize (which runs), Next to Inspect (which measures), then the Graph tab. Once
the graph is drawn it keeps the app open LINGER_S more seconds, so that anything a library does a
while after start-up (onnxruntime's telemetry waits ~10 s) happens inside the test, then quits.
Prints "graph drawn: N nodes" on success; exits 1 with a reason on a timeout.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

DEADLINE_S = 240.0


def _window() -> object | None:
    from studio.ui.main_window import MainWindow

    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None)


def _steps(linger_s: float) -> Iterator[Callable[[], bool]]:
    """Each yielded condition is polled until true; the code after it then runs."""
    yield lambda: _window() is not None
    win = _window()
    for _ in range(3):  # Model → Target → Optimize (runs) → Inspect (measures)
        yield lambda: win.next_button.isEnabled() and not win.jobs.running()
        win.next_button.click()
    yield lambda: win.state.profile_result is not None
    views = win.pages[3].views
    views.setCurrentWidget(views.graph)  # the graph is drawn once its tab is seen
    yield lambda: views.graph.graph.node_count > 0
    print(f"graph drawn: {views.graph.graph.node_count} nodes", flush=True)
    until = time.monotonic() + linger_s
    yield lambda: time.monotonic() > until
    win.jobs.shutdown()
    QApplication.instance().quit()


def _drive(linger_s: float) -> QTimer:
    steps = _steps(linger_s)
    waiting = [next(steps)]
    started = time.monotonic()
    timer = QTimer()

    def poll() -> None:
        if time.monotonic() - started > DEADLINE_S:
            print("timed out driving the wizard", flush=True)
            QApplication.instance().exit(1)
            return
        while waiting[0]():
            try:
                waiting[0] = next(steps)
            except StopIteration:
                timer.stop()
                return

    timer.timeout.connect(poll)
    timer.start(50)
    return timer


def main() -> int:
    linger_s = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    real_exec = QApplication.exec

    def exec_and_drive(*_: object) -> int:
        timer = _drive(linger_s)  # kept referenced until the loop ends
        try:
            return real_exec()  # static in PySide6, though run_gui calls it on the instance
        finally:
            timer.stop()

    # The event loop only exists once the app built its window; start the user's clicks with it.
    QApplication.exec = exec_and_drive
    from studio.cli import main as studio_main

    return studio_main([])


if __name__ == "__main__":
    sys.exit(main())
