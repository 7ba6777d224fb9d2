"""The main window: the six-step wizard, Back/Next, the jobs panel, and recipe open/save."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio import __version__
from studio.core.bundle.recipe import load_recipe, save_recipe
from studio.core.errors import StudioError
from studio.core.paths import config_dir
from studio.ui.app import start_warm_up, warm_up_done
from studio.ui.i18n import tr
from studio.ui.job_panel import JobPanel
from studio.ui.jobs_qt import JobManager
from studio.ui.language_menu import LanguageMenu
from studio.ui.messages import shown_error
from studio.ui.pages.wizard import STEP_NAMES, build_pages
from studio.ui.prewarm import PagePrewarmer
from studio.ui.state import WizardState
from studio.ui.widgets import StepPage, show_error

DEFAULT_SIZE = QSize(1440, 900)
ENTER_DELAY_MS = 30
FIT_CHECKS, FIT_CHECK_MS = 20, 100  # how long to wait for the window manager's frame (2 s)


def default_size(available: QSize) -> QSize:
    """The first window size: room for the four preset cards in one row and the jobs panel,
    but never larger than the screen (a 1366×768 laptop gets the whole screen)."""
    return DEFAULT_SIZE.boundedTo(available) if available.isValid() else DEFAULT_SIZE


def fitted(frame: QRect, inside: QSize, available: QRect) -> tuple[QSize, QPoint] | None:
    """The inside size and frame position that put the whole window, title bar and borders
    included, on the screen; None when it is already there."""
    if available.contains(frame) or not available.isValid():
        return None
    margins = frame.size() - inside
    size = inside.boundedTo(available.size() - margins)
    x = min(
        max(frame.x(), available.left()), available.right() + 1 - size.width() - margins.width()
    )
    y = min(
        max(frame.y(), available.top()), available.bottom() + 1 - size.height() - margins.height()
    )
    return size, QPoint(max(x, available.left()), max(y, available.top()))


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(tr("Edge Deploy Studio {version}", version=__version__))
        self.state = WizardState()
        self.jobs = JobManager(self)
        self.settings = QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)

        self.pages = build_pages(self.state, self.jobs)
        self.stack = QStackedWidget()
        for page in self.pages:
            self.stack.addWidget(page)
            page.ready_changed.connect(self._update_buttons)

        self.steps = QListWidget()
        self.steps.setObjectName("stepList")
        self.steps.addItems([f"{i + 1}  {tr(name)}" for i, name in enumerate(STEP_NAMES)])
        self.steps.setFixedWidth(170)
        self.steps.currentRowChanged.connect(self._step_clicked)

        self.back_button = QPushButton(tr("&Back"))
        self.next_button = QPushButton(tr("&Next"))
        self.next_button.setObjectName("nextButton")
        self.next_button.setDefault(True)
        self.reason = QLabel("")
        self.reason.setObjectName("readyReason")
        self.back_button.clicked.connect(lambda: self.go_to(self.stack.currentIndex() - 1))
        self.next_button.clicked.connect(self._next)
        nav = QHBoxLayout()
        nav.setContentsMargins(24, 6, 24, 12)
        nav.addWidget(self.back_button)
        nav.addStretch()
        nav.addWidget(self.reason)
        nav.addWidget(self.next_button)

        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.stack, 1)
        right.addLayout(nav)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(8, 8, 0, 0)
        layout.addWidget(self.steps)
        layout.addLayout(right, 1)
        self.setCentralWidget(central)

        self.job_panel = JobPanel(self.jobs)
        dock = QDockWidget(tr("Jobs"), self)
        dock.setObjectName("jobsDock")
        dock.setWidget(self.job_panel)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self._build_menu()
        self.resize(default_size(self.screen().availableGeometry().size()))
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._fit_checks, self._first_size = 0, self.size()
        self.steps.setCurrentRow(0)
        self.pages[0].entered()
        # Once the window is up, load the heavy libraries in the background so that the first
        # visit to Optimize, Inspect or Demo does not stall the UI thread importing them.
        QTimer.singleShot(300, start_warm_up)
        # Then lay out and paint the hidden steps once, so their first show is cheap.
        self.prewarmer = PagePrewarmer(
            self.stack, self.pages[1:], warm_up_done, self, busy=lambda: bool(self.jobs.running())
        )
        self.prewarmer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_checks == 0:
            self._fit_to_screen()

    def _fit_to_screen(self) -> None:
        """The window manager adds its title bar after the window is shown (sizing the inside to
        the screen pushed Back/Next below it): once the frame is known, fit the whole window."""
        self._fit_checks += 1
        frame, inside = self.frameGeometry(), self.geometry().size()
        if inside != self._first_size:  # sized on purpose since (a script, a test, the user)
            return
        if frame.size() == inside:  # no frame (yet): look again, and without one leave it be
            if self._fit_checks < FIT_CHECKS:
                QTimer.singleShot(FIT_CHECK_MS, self._fit_to_screen)
            return
        fit = fitted(frame, inside, self.screen().availableGeometry())
        if fit is not None:
            self.resize(fit[0])
            self.move(fit[1])

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu(tr("&File"))
        open_action = QAction(tr("Open recipe…"), self, shortcut=QKeySequence.StandardKey.Open)
        save_action = QAction(tr("Save recipe…"), self, shortcut=QKeySequence.StandardKey.Save)
        quit_action = QAction(tr("Quit"), self, shortcut=QKeySequence.StandardKey.Quit)
        open_action.triggered.connect(self._open_recipe)
        save_action.triggered.connect(self._save_recipe)
        quit_action.triggered.connect(self.close)
        history_action = QAction(tr("Run history…"), self)
        history_action.triggered.connect(self.show_history)
        for action in (open_action, save_action, history_action, quit_action):
            menu.addAction(action)
        tools = self.menuBar().addMenu(tr("&Tools"))
        sweep_action = QAction(tr("Sweep: compare models, chips and methods…"), self)
        sweep_action.triggered.connect(self.open_sweep)
        tools.addAction(sweep_action)
        self.language_menu = LanguageMenu(self)
        self.menuBar().addMenu(self.language_menu)

    def show_history(self) -> None:
        """The History window for the current model (runs are read in the background)."""
        from studio.ui.history_panel import HistoryPanel

        if getattr(self, "history", None) is None:
            self.history = HistoryPanel()
            self.history.resize(1000, 640)
            self.state.model_changed.connect(
                lambda: self.history.set_model(self.state.model_path())
            )
        self.history.set_model(self.state.model_path())
        self.history.show()
        self.history.raise_()

    def open_sweep(self) -> QWidget:
        """The Sweep page in its own window; its chosen row becomes the wizard's recipe."""
        from studio.ui.pages.sweep.sweep_page import SweepPage

        if getattr(self, "sweep_page", None) is None:
            self.sweep_page = SweepPage(self.state)
            self.sweep_page.setWindowFlag(Qt.WindowType.Window)
            self.sweep_page.recipe_chosen.connect(lambda _: self.go_to(0))
            self.sweep_page.resize(1100, 700)
        self.sweep_page.show()
        self.sweep_page.raise_()
        return self.sweep_page

    # --- navigation ---------------------------------------------------------------------------
    def current_page(self) -> StepPage:
        return self.pages[self.stack.currentIndex()]

    def go_to(self, index: int) -> None:
        if 0 <= index < len(self.pages):
            self.steps.setCurrentRow(index)

    def _next(self) -> None:
        ok, _ = self.current_page().ready()
        if ok:
            self.go_to(self.stack.currentIndex() + 1)

    def _step_clicked(self, index: int) -> None:
        if index < 0:
            return
        # Steps can be revisited freely; going forward past an unfinished step is not allowed.
        for earlier in range(self.stack.currentIndex(), index):
            ok, why = self.pages[earlier].ready()
            if not ok:
                # After the click is handled: the list selects the clicked row once this returns,
                # so resetting it now left one step highlighted and another shown.
                QTimer.singleShot(0, self._show_current_step)
                self.reason.setText(
                    tr("Step {number} is not done yet: {why}", number=earlier + 1, why=why)
                )
                return
        if index != self.stack.currentIndex():
            self.current_page().left()
        self.stack.setCurrentIndex(index)
        self._update_buttons()
        # The page is shown first and its work (often starting a job) follows a moment later,
        # so painting the new page and starting the work are two short turns of the event loop
        # instead of one long one that stalls the window.
        page = self.pages[index]
        QTimer.singleShot(ENTER_DELAY_MS, lambda: self._enter(page))

    def _show_current_step(self) -> None:
        self.steps.blockSignals(True)
        self.steps.setCurrentRow(self.stack.currentIndex())
        self.steps.blockSignals(False)

    def _enter(self, page: StepPage) -> None:
        if page is self.current_page():  # the user may have moved on already
            page.entered()
            self._update_buttons()

    def _update_buttons(self) -> None:
        index = self.stack.currentIndex()
        ok, why = self.current_page().ready()
        self.back_button.setEnabled(index > 0)
        last = index == len(self.pages) - 1
        self.next_button.setVisible(not last)
        self.next_button.setEnabled(ok and not last)
        self.reason.setText("" if ok else why)

    # --- recipes ---------------------------------------------------------------------------------
    def _open_recipe(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, tr("Open recipe"), "", tr("Recipes (*.yaml *.yml)")
        )
        if path:
            self.open_recipe(Path(path))

    def open_recipe(self, path: Path) -> None:
        try:
            recipe = load_recipe(path)
        except StudioError as exc:
            show_error(self, shown_error(exc), tr("This recipe cannot be opened"))
            return
        self.state.replace_recipe(recipe, path.resolve().parent)
        self.go_to(0)

    def _save_recipe(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Save recipe"), "recipe.yaml", tr("Recipes (*.yaml)")
        )
        if path:
            self.save_recipe(Path(path))

    def save_recipe(self, path: Path) -> None:
        try:
            save_recipe(self.state.recipe, path)
        except StudioError as exc:
            show_error(self, shown_error(exc), tr("The recipe could not be saved"))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        if getattr(self, "history", None) is not None:
            self.history.close()  # and the MLflow UI server it may have started
        self.jobs.shutdown()
        for page in self.pages:
            page.shutdown()
        if getattr(self, "sweep_page", None) is not None:
            self.sweep_page.shutdown()
            self.sweep_page.close()
        if "studio.core.devices.listing" in sys.modules:  # adb was used in this session
            from studio.core.devices.listing import release_adb

            release_adb()  # the adb server the studio started, unless others still use it
        super().closeEvent(event)
