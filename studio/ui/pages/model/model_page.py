"""Step 1, Model: the demo model, a local .onnx file or folder (dialog or drag-and-drop)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.model.loader import ModelSummary, summarize
from studio.core.units import human_count, human_size
from studio.ui.background import run_in_thread
from studio.ui.i18n import N_, tr
from studio.ui.state import WizardState
from studio.ui.widgets import Card, StepPage, show_error

if TYPE_CHECKING:
    from studio.core.hubs import DownloadResult


FACTS = (
    N_("File size"),
    N_("Parameters"),
    N_("Layers (nodes)"),
    N_("ONNX opset"),
    N_("Precision"),
)


class ModelPage(StepPage):
    title = N_("1 · Choose a model")
    explanation = N_(
        "Start with the demo model (a small handwritten-digit reader), or open your own .onnx "
        "file or folder. You can also drop a file onto this window."
    )

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.loading = False
        self.setAcceptDrops(True)

        buttons = QHBoxLayout()
        self.demo_button = QPushButton(tr("Use the demo model"))
        self.file_button = QPushButton(tr("Open .onnx file…"))
        self.folder_button = QPushButton(tr("Open folder…"))
        for button in (self.demo_button, self.file_button, self.folder_button):
            buttons.addWidget(button)
        buttons.addStretch()
        self.outer.addLayout(buttons)
        self.demo_button.clicked.connect(lambda: self.use_model("demo", None))
        self.file_button.clicked.connect(self._open_file)
        self.folder_button.clicked.connect(self._open_folder)

        self.card = Card()
        self.name_label = QLabel()
        self.name_label.setObjectName("cardTitle")
        self.facts = QGridLayout()
        self.fact_values: dict[str, QLabel] = {}
        for col, label in enumerate(FACTS):
            name = QLabel(tr(label))
            name.setObjectName("factLabel")
            value = QLabel("–")
            value.setObjectName("factValue")
            self.facts.addWidget(name, 0, col)
            self.facts.addWidget(value, 1, col)
            self.fact_values[label] = value
        self.card.body.addWidget(self.name_label)
        self.card.body.addLayout(self.facts)
        self.io_table = QTableWidget(0, 4)
        self.io_table.setHorizontalHeaderLabels(["", tr("Name"), tr("Type"), tr("Shape")])
        self.io_table.verticalHeader().hide()
        self.io_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.io_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.io_table.setMaximumHeight(150)
        self.card.body.addWidget(QLabel(tr("<b>Inputs and outputs</b>")))
        self.card.body.addWidget(self.io_table)
        self.ops_table = QTableWidget(0, 2)
        self.ops_table.setHorizontalHeaderLabels([tr("Operation"), tr("Count")])
        self.ops_table.verticalHeader().hide()
        self.ops_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.ops_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.card.body.addWidget(QLabel(tr("<b>Operations used</b> (what the model is made of)")))
        self.card.body.addWidget(self.ops_table, 1)
        # Your model | find one on a hub (studio/ui/pages/model/hub_browser.py), built when first opened so it
        # costs nothing at start-up.
        self.tabs = QTabWidget()
        self.tabs.addTab(self.card, tr("Your model"))
        self.hub_tab = QWidget()
        QVBoxLayout(self.hub_tab).setContentsMargins(0, 0, 0, 0)
        self.hub_browser: Any = None
        self.tabs.addTab(self.hub_tab, tr("Find a model online"))
        self.tabs.currentChanged.connect(self._tab_changed)
        self.outer.addWidget(self.tabs, 1)
        self.status = QLabel("")
        self.outer.addWidget(self.status)
        state.model_changed.connect(self.refresh)

    def entered(self) -> None:
        if self.state.summary is None and not self.loading:
            self.refresh()

    def ready(self) -> tuple[bool, str]:
        if self.loading:
            return False, tr("Reading the model…")
        if self.state.summary is None:
            return False, tr("Choose a model first.")
        return True, ""

    # --- choosing --------------------------------------------------------------------------
    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, tr("Open an ONNX model"), "", tr("ONNX models (*.onnx);;All files (*)")
        )
        if path:
            self.use_model("local", Path(path))

    def _open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, tr("Open a folder holding an ONNX model"))
        if path:
            self.use_model("local", Path(path))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.use_model("local", Path(urls[0].toLocalFile()))
            event.acceptProposedAction()

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.hub_tab and self.hub_browser is None:
            from studio.ui.pages.model.hub_browser import HubBrowser

            self.hub_browser = HubBrowser(target=self._memory_target)
            self.hub_browser.model_chosen.connect(self._use_hub_model)
            self.hub_tab.layout().addWidget(self.hub_browser)

    def _memory_target(self) -> tuple[int | None, str]:
        from studio.core.hubs.memory import chip_memory_budget

        return chip_memory_budget(self.state.recipe.target.chip)

    def _use_hub_model(self, result: DownloadResult) -> None:
        from studio.core.hubs.resolve import pick_onnx

        file = pick_onnx(result)
        if file is None:
            return
        hub = {"repo": result.repo, "revision": result.commit, "file": file}
        source = "huggingface" if result.hub == "huggingface" else "local"
        self.use_model(source, Path(result.path) / file, hub if source == "huggingface" else None)

    def use_model(self, source: str, path: Path | None, hub: dict[str, str] | None = None) -> None:
        """Check the model off the main thread; keep the previous choice if it is unusable."""
        previous = (self.state.recipe.model.source, self.state.recipe.model.path)
        self.loading = True
        self.status.setText(tr("Reading the model…"))
        self.ready_changed.emit()
        target = path

        def work() -> ModelSummary:
            from studio.core.model.loader import resolve_model_path
            from studio.core.paths import demo_model_path

            if source == "huggingface" and target is None:  # a recipe naming a hub model
                return summarize(self.state.model_path())
            return summarize(resolve_model_path(target) if target else demo_model_path())

        def done(summary: ModelSummary) -> None:
            self.loading = False
            local = Path(summary.path) if source == "local" else None
            self.state.set_model(source, local, summary, hub)
            self.tabs.setCurrentWidget(self.card)  # the card of what was opened, from any tab

        def failed(message: str) -> None:
            self.loading = False
            self.status.setText("")
            self.state.recipe.model.source, self.state.recipe.model.path = previous  # type: ignore[assignment]
            self.ready_changed.emit()
            show_error(self, message, tr("This model cannot be used"))

        run_in_thread(work, done, failed)

    def refresh(self) -> None:
        if self.state.summary is not None:
            self._show(self.state.summary)
            return
        model = self.state.recipe.model
        hub = None
        if model.source == "huggingface" and model.repo and model.file:
            hub = {"repo": model.repo, "revision": model.revision or "main", "file": model.file}
        self.use_model(model.source, Path(model.path) if model.path else None, hub)

    def _show(self, summary: ModelSummary) -> None:
        demo = self.state.recipe.model.source == "demo"
        self.name_label.setText(
            tr("{name}  (demo model)", name=summary.name) if demo else summary.name
        )
        self.fact_values[FACTS[0]].setText(human_size(summary.file_size))
        self.fact_values[FACTS[1]].setText(human_count(summary.parameter_count))
        self.fact_values[FACTS[2]].setText(str(summary.node_count))
        self.fact_values[FACTS[3]].setText(str(summary.opset))
        self.fact_values[FACTS[4]].setText(summary.precision.label)
        self.fact_values[FACTS[4]].setToolTip(summary.precision.summary())
        rows = [(tr("in"), t) for t in summary.inputs] + [(tr("out"), t) for t in summary.outputs]
        self.io_table.setRowCount(len(rows))
        for row, (kind, tensor) in enumerate(rows):
            for col, text in enumerate((kind, tensor.name, tensor.dtype, tensor.shape_text())):
                self.io_table.setItem(row, col, QTableWidgetItem(text))
        for col in (0, 2, 3):  # shapes like "batch×3×224×224" must show whole; names stretch
            self.io_table.resizeColumnToContents(col)
            self.io_table.setColumnWidth(col, self.io_table.columnWidth(col) + 12)  # air
        self.ops_table.setRowCount(len(summary.op_histogram))
        for row, (op, count) in enumerate(summary.op_histogram.items()):
            self.ops_table.setItem(row, 0, QTableWidgetItem(op))
            item = QTableWidgetItem()
            item.setData(Qt.ItemDataRole.DisplayRole, count)
            self.ops_table.setItem(row, 1, item)
        self.status.setText(tr("Loaded from {path}", path=summary.path))
        self.ready_changed.emit()
