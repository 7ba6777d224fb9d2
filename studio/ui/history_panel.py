"""History: the tracked runs of the current model, two of them side by side, and MLflow's own UI.

Reading runs imports mlflow and may wait on a team server, and MLflow's UI takes seconds to
start: every call goes through a ``Caller`` (thread pool); the main thread only fills widgets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.ui.background import Caller
from studio.ui.i18n import N_, tr
from studio.ui.pages.inspect.netron_view import HOST, _make_interceptor

# studio.core.track.runs.KEY_FIGURES's labels, marked for translation here (core has no tr()).
LABELS = {
    "size": N_("size"),
    "cosine": N_("cosine"),
    "top-1": N_("top-1"),
    "median ms": N_("median ms"),
    "p90 ms": N_("p90 ms"),
    "NPU share": N_("NPU share"),
    "tokens/s": N_("tokens/s"),
}


def figure(label: str, value: float) -> str:
    if label == "size":
        from studio.core.units import human_size

        return human_size(int(value))
    if label == "NPU share":
        return f"{value:.0%}"
    if label == "cosine":  # 0.99998 must not read as 1
        return f"{value:.5f}"
    return f"{value:.4g}"


def figures_text(run: Any) -> str:
    from studio.core.track.runs import key_figures

    return " · ".join(
        f"{tr(LABELS.get(label, label))} {figure(label, value)}"
        for label, value in key_figures(run)
    )


class HistoryPanel(QWidget):
    """Past runs of one model; select two to compare them; "Open in MLflow" shows MLflow's UI."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Run history"))
        self.caller = Caller(self)
        self.model: Path | None = None
        self.runs: list[Any] = []
        self.ui: Any = None  # studio.core.track.ui_server.MlflowUi once started
        self.web: Any = None
        self.blocked: list[str] = []
        self.requests: list[str] = []
        self.title = QLabel(tr("Open a model to see its runs."))
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels([tr("Started"), tr("Step"), tr("Run"), tr("Figures")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.compare_table = QTableWidget(0, 3)
        self.compare_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.compare_table.horizontalHeader().setStretchLastSection(True)
        self.compare_table.verticalHeader().setVisible(False)
        self.refresh_button = QPushButton(tr("Refresh"))
        self.compare_button = QPushButton(tr("Compare the two selected"))
        self.mlflow_button = QPushButton(tr("Open in MLflow"))
        self.refresh_button.clicked.connect(self.refresh)
        self.compare_button.clicked.connect(self.compare_selected)
        self.mlflow_button.clicked.connect(self.open_mlflow)
        self.compare_button.setEnabled(False)
        self.tabs = QTabWidget()
        runs_tab = QWidget()
        runs_layout = QVBoxLayout(runs_tab)
        runs_layout.addWidget(self.table, 3)
        runs_layout.addWidget(QLabel(tr("Side by side (select two runs):")))
        runs_layout.addWidget(self.compare_table, 2)
        self.tabs.addTab(runs_tab, tr("Past runs"))
        self.mlflow_holder = QWidget()
        self.mlflow_layout = QVBoxLayout(self.mlflow_holder)
        self.mlflow_layout.setContentsMargins(0, 0, 0, 0)
        self.mlflow_status = QLabel(tr("MLflow's UI appears here."))
        self.mlflow_status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mlflow_layout.addWidget(self.mlflow_status)
        self.tabs.addTab(self.mlflow_holder, tr("MLflow"))
        buttons = QHBoxLayout()
        for button in (self.refresh_button, self.compare_button, self.mlflow_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)

    # -- runs -----------------------------------------------------------------------------------
    def set_model(self, model: Path | None) -> None:
        self.model = model
        self.refresh()

    def refresh(self) -> None:
        if self.model is None:
            return
        from studio.core.track.runs import runs_for_model

        model = self.model
        self.title.setText(tr("Runs of {name}", name=model.name))
        self.status.setText(tr("Reading the runs…"))
        self.caller.call("runs", lambda: runs_for_model(model), self._show_runs, self._failed)

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _show_runs(self, runs: list[Any]) -> None:
        self.runs = runs
        self.status.setText(
            tr("{count} runs", count=len(runs))
            if runs
            else tr("No runs of this model yet: optimize, measure or bundle it first.")
        )
        self.table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            for column, text in enumerate((run.started, run.kind, run.name, figures_text(run))):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def _selection_changed(self) -> None:
        self.compare_button.setEnabled(len(self.selected()) == 2)

    def selected(self) -> list[Any]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.runs[row] for row in rows if row < len(self.runs)]

    def compare_selected(self) -> None:
        from studio.core.track.runs import compare_runs

        chosen = self.selected()
        if len(chosen) != 2:
            return
        first, second = (run.id for run in chosen)
        self.caller.call(
            "compare", lambda: compare_runs(first, second), self.show_comparison, self._failed
        )

    def show_comparison(self, result: Any) -> None:
        first, second = result.runs
        self.compare_table.setHorizontalHeaderLabels(
            ["", f"{first.kind} · {first.started}", f"{second.kind} · {second.started}"]
        )
        rows: list[tuple[str, str, str]] = []
        for key, (a, b) in result.metrics.items():
            rows.append((key, "-" if a is None else f"{a:.6g}", "-" if b is None else f"{b:.6g}"))
        for key, (pa, pb) in result.params.items():
            rows.append((key, (pa or "-")[:80], (pb or "-")[:80]))
        self.compare_table.setRowCount(len(rows))
        for row, texts in enumerate(rows):
            for column, text in enumerate(texts):
                self.compare_table.setItem(row, column, QTableWidgetItem(text))
        self.compare_table.resizeColumnsToContents()

    # -- MLflow's own UI ------------------------------------------------------------------------
    def open_mlflow(self) -> None:
        from studio.core.track.ui_server import MlflowUi

        self.tabs.setCurrentWidget(self.mlflow_holder)
        if self.ui is not None and self.web is not None:
            return
        self.mlflow_button.setEnabled(False)
        self.mlflow_status.setText(tr("Starting MLflow's UI on 127.0.0.1…"))
        ui = self.ui or MlflowUi()
        self.ui = ui
        self.caller.call("mlflow", ui.start, self._show_mlflow, self._mlflow_failed)

    def _mlflow_failed(self, message: str) -> None:
        self.ui = None
        self.mlflow_button.setEnabled(True)
        self.mlflow_status.setText(message)

    def _show_mlflow(self, url: str) -> None:
        from PySide6.QtWebEngineCore import QWebEngineProfile

        url_parts = QUrl(url)
        if url_parts.host() != HOST:  # a team server elsewhere: its UI in the user's browser
            from PySide6.QtGui import QDesktopServices

            self.ui = None
            self.mlflow_button.setEnabled(True)
            self.mlflow_status.setText(tr("MLflow's UI opened in your browser: {url}", url=url))
            QDesktopServices.openUrl(url_parts)
            return
        from PySide6.QtWebEngineWidgets import QWebEngineView

        from studio.core.privacy import keep_private

        keep_private()
        web = QWebEngineView(self.mlflow_holder)
        profile = QWebEngineProfile(web)  # off the record: nothing of MLflow's page on disk
        # Only MLflow's own server: its page asks for nothing else, and must get nothing else.
        interceptor = _make_interceptor({url_parts.port()}, self.blocked, self.requests)
        interceptor.setParent(profile)
        profile.setUrlRequestInterceptor(interceptor)
        from PySide6.QtWebEngineCore import QWebEnginePage

        web.setPage(QWebEnginePage(profile, web))
        self.mlflow_status.setVisible(False)
        self.mlflow_layout.addWidget(web)
        self.web = web
        self.mlflow_button.setEnabled(True)
        web.load(url_parts)

    def shutdown(self) -> None:
        if self.web is not None:
            self.web.setPage(None)
        if self.ui is not None:
            self.ui.stop()
            self.ui = None

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)
