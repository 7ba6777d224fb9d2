"""Start the GUI."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from pathlib import Path
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


LOG_FILE_BYTES = 1_000_000
# Chromium (the graph view) writes its own start-up complaints (Vulkan, dbus) to the terminal;
# level 3 keeps only fatal ones.
QUIET_CHROMIUM = "--log-level=3"


def quiet_web_engine() -> None:
    """Keep Chromium's own chatter off the user's terminal (call before QtWebEngine starts)."""
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    if not any(f.startswith("--log-level") for f in flags):
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join([*flags, QUIET_CHROMIUM])


def log_to_file(path: Path) -> None:
    """The app's log (device watcher, warm-up, errors with their tracebacks) goes to ``path``;
    the terminal shows warnings and errors only."""
    from logging.handlers import RotatingFileHandler

    fmt = logging.Formatter("%(asctime)s %(name)s: %(message)s")
    terminal = logging.StreamHandler()
    terminal.setLevel(logging.WARNING)
    handlers: list[logging.Handler] = [terminal]
    # An unwritable data folder: the terminal still gets what matters.
    with contextlib.suppress(OSError):
        handlers.append(RotatingFileHandler(path, maxBytes=LOG_FILE_BYTES, backupCount=1))
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.setLevel(logging.INFO)


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

    from studio.core.paths import data_dir
    from studio.ui.main_window import MainWindow, prefer_ui_thread
    from studio.ui.theme import apply_theme

    log_to_file(data_dir() / "studio.log")
    quiet_web_engine()
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
