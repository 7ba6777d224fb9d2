"""Start the GUI."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from types import TracebackType


def _install_excepthook() -> None:
    """An unexpected error becomes a log entry and a calm dialog, never a dead window."""
    from studio.ui.widgets import show_error

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        logging.getLogger("studio").error("".join(traceback.format_exception(kind, value, tb)))
        show_error(
            None, f"Something went wrong ({kind.__name__}: {value}). The details are in the log."
        )

    sys.excepthook = hook


def run_gui(argv: list[str] | None = None) -> int:
    # QtWebEngine refuses to start as root without this; the studio only loads 127.0.0.1 pages.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    from PySide6.QtWidgets import QApplication

    from studio.ui.main_window import MainWindow
    from studio.ui.theme import apply_theme

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("Edge Deploy Studio")
    app.setOrganizationName("EdgeDeployStudio")
    apply_theme(app)
    _install_excepthook()
    window = MainWindow()
    window.show()
    return app.exec()
