"""Open the app as README command 1 does (`studio`, no arguments) on a real X display, and once
the window manager framed it, save a screenshot of the screen and the window's geometry.

Usage: python -m tests.support.desktop_app OUT_DIR  (DISPLAY names an Xvfb with a window manager)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

SETTLE_S = 3.0  # the window manager frames the window, then the app fits it (≤ 2 s)
LIMIT_S = 90.0


def main() -> int:
    out = Path(sys.argv[1])
    app = QApplication(sys.argv[:1])
    started = time.monotonic()
    shown: list[float] = []

    def look() -> None:
        from studio.ui.main_window import MainWindow

        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows and time.monotonic() - started < LIMIT_S:
            QTimer.singleShot(100, look)
            return
        if windows and not shown:
            shown.append(time.monotonic())
        if windows and time.monotonic() - shown[0] < SETTLE_S:
            QTimer.singleShot(100, look)
            return
        facts: dict[str, object] = {"opened": bool(windows)}
        if windows:
            win = windows[0]
            frame, inside = win.frameGeometry(), win.geometry()
            available = win.screen().availableGeometry()
            buttons = [win.next_button, win.back_button]
            facts.update(
                frame=[frame.x(), frame.y(), frame.width(), frame.height()],
                inside=[inside.x(), inside.y(), inside.width(), inside.height()],
                available=[available.x(), available.y(), available.width(), available.height()],
                buttons_on_screen=all(
                    available.contains(b.mapToGlobal(b.rect().bottomRight())) for b in buttons
                ),
            )
            win.screen().grabWindow(0).save(str(out / "screen.png"))
            win.close()
        (out / "facts.json").write_text(json.dumps(facts))
        app.quit()

    QTimer.singleShot(100, look)
    from studio.cli import main as studio_main

    return studio_main([])


if __name__ == "__main__":
    sys.exit(main())
