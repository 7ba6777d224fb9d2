"""Start the GUI."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from types import TracebackType
from typing import TYPE_CHECKING

from studio.core.privacy import keep_private
from studio.ui.i18n import ENGLISH, choose_language, current_language, set_language, tr

if TYPE_CHECKING:
    from PySide6.QtCore import QTranslator
    from PySide6.QtWidgets import QApplication


def _install_excepthook() -> None:
    """An unexpected error becomes a log entry and a calm dialog, never a dead window."""
    from studio.ui.widgets import show_error

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        logging.getLogger("studio").error("".join(traceback.format_exception(kind, value, tb)))
        show_error(
            None,
            tr(
                "Something went wrong ({kind}: {error}). The details are in the log.",
                kind=kind.__name__,
                error=value,
            ),
        )

    sys.excepthook = hook


def install_qt_translations(app: QApplication, language: str) -> list[QTranslator]:
    """Qt's own texts (file dialogs, OK/Cancel) in the same language, from the PySide6 wheel."""
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    if language == ENGLISH:
        return []
    QLocale.setDefault(QLocale(language))
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    installed = []
    for name in ("qtbase", "qtwebengine"):
        translator = QTranslator(app)  # parented to the app so it lives as long as the app
        if translator.load(f"{name}_{language}", folder):
            app.installTranslator(translator)
            installed.append(translator)
        else:
            logging.getLogger("studio").info(
                "no Qt translation %s_%s in %s", name, language, folder
            )
    return installed


def start_language(app: QApplication, requested: str | None = None) -> str:
    """Pick the language (--lang, STUDIO_LANG, saved choice, system) before any window exists."""
    from PySide6.QtCore import QLocale

    language = choose_language(requested, QLocale.system().uiLanguages())
    set_language(language)
    install_qt_translations(app, current_language())
    return current_language()


def run_gui(argv: list[str] | None = None, lang: str | None = None) -> int:
    from studio.core.errors import StudioError
    from studio.ui.system_libs import check_desktop_libraries

    try:
        check_desktop_libraries()  # before Qt, which aborts the process naming the wrong library
    except StudioError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    keep_private()  # no telemetry from onnxruntime, the hub client or Chromium
    # QtWebEngine refuses to start as root without this; the studio only loads 127.0.0.1 pages.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    from PySide6.QtWidgets import QApplication

    from studio.ui.main_window import MainWindow, prefer_ui_thread
    from studio.ui.theme import apply_theme

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("Edge Deploy Studio")
    app.setOrganizationName("EdgeDeployStudio")
    start_language(app, lang)
    apply_theme(app)
    prefer_ui_thread()
    _install_excepthook()
    window = MainWindow()
    window.show()
    return app.exec()
