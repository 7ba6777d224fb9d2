"""Start the GUI, and the process-wide start-up tuning that keeps its window responsive."""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from studio.core.privacy import keep_private
from studio.ui.i18n import ENGLISH, choose_language, current_language, set_language, tr

if TYPE_CHECKING:
    from PySide6.QtCore import QTranslator
    from PySide6.QtWidgets import QApplication


WARM_UP_MODULES = (
    "numpy",
    "onnx",
    "onnxruntime",
    "studio.core.compress.run",
    "studio.core.analyze.drift",
    "pyqtgraph",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    # The Deploy step's device watcher imports these from its own thread on first show; that
    # import holds the GIL, a stall while a bundle job runs.
    "adbutils",
    "studio.core.chips.catalogue",
    # Loaded by the first job start and by unpickling job results (in the job's monitor thread);
    # each new module made PySide rescan all modules on the UI thread (see prewarm.py).
    "multiprocessing.popen_spawn_posix",
    "multiprocessing.resource_tracker",
    "runpy",
    "studio.core.chips.compare",
    "studio.core.chips.check",
    "studio.core.chips.predict",
    "studio.core.analyze.sample_run",
)


_runtime = {"freeze_after_warm_up": False}  # set by prefer_ui_thread() in the app
warm_up_done = threading.Event()
"""Set when the background imports finished (the benchmarks wait for it, as a user reading the
first step does: until then those imports compete with the UI thread for the GIL)."""


def _warm_up() -> None:
    from studio.ui.prewarm import sync_pyside_signatures

    for name in WARM_UP_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional part shows up, with its message, where it is used
            logging.getLogger("studio").info("warm-up could not import %s", name, exc_info=True)
    sync_pyside_signatures()
    if _runtime["freeze_after_warm_up"]:
        # Everything loaded so far lives as long as the app. Moving it out of the garbage
        # collector's view keeps each later full collection short: a full pass over Qt, onnx,
        # numpy and pyqtgraph objects holds the GIL, a stall of the UI thread whichever thread
        # runs it.
        gc.freeze()
    warm_up_done.set()


def start_warm_up() -> None:
    threading.Thread(target=_warm_up, name="studio-warm-up", daemon=True).start()


# Background threads (job monitors, the device watcher, warm-up imports) run Python too. With
# the default 5 ms switch interval the UI thread waited up to 5 ms for the GIL at every hand-over,
# several times per event; 1 ms keeps those waits short.
GIL_SWITCH_INTERVAL_S = 0.001


def prefer_ui_thread() -> None:
    """Process-wide settings for a responsive window; called once by the app at start (not by
    every MainWindow: a test session keeps Python's defaults and collects its garbage)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    _runtime["freeze_after_warm_up"] = True


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
    from studio.ui.main_window import MainWindow
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
