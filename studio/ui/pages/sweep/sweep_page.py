"""The Sweep page: try models × chips × methods in the background and pick a row from one table.

The sweep runs on the local pool (core/sweep) from a plain thread: each trial is already a job
child, so the thread only schedules and waits. Rows arrive as trials finish; the Pareto front is
marked once all have. "Use this one" makes the chosen row the wizard's recipe.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.compress import METHOD_LABELS, Method
from studio.core.errors import StudioError
from studio.core.units import human_size
from studio.ui.i18n import N_, tr
from studio.ui.state import WizardState
from studio.ui.widgets import show_error

DEFAULT_METHODS = (Method.INT8_STATIC, Method.FP16)
COLUMNS = (
    "",
    N_("Model"),
    N_("Chip"),
    N_("Method"),
    N_("Status"),
    N_("Size"),
    N_("Cosine"),
    N_("This PC ms"),
    N_("Speed ms"),
    N_("NPU"),
)


class _Relay(QObject):
    """Signals from the sweep's thread; Qt delivers them on the page's (main) thread."""

    progress = Signal(float, str)
    trial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)


def _status_text(status: str) -> str:
    return {
        "done": tr("done"),
        "cached": tr("unchanged, kept"),
        "failed": tr("failed"),
        "cancelled": tr("cancelled"),
    }.get(status, status)


class SweepPage(QWidget):
    recipe_chosen = Signal(object)

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWindowTitle(tr("Sweep: compare models, chips and methods"))
        self.results: list[Any] = []
        self._cancel: threading.Event | None = None
        self._relay = _Relay(self)
        self._relay.progress.connect(self._on_progress)
        self._relay.trial.connect(self._on_trial)
        self._relay.finished.connect(self._on_finished)
        self._relay.failed.connect(self._on_failed)

        self.models = QListWidget()
        self.chips = QListWidget()
        self.methods = QListWidget()
        self._fill_choices()
        add_model = QPushButton(tr("Add model…"))
        add_model.clicked.connect(self._add_model)
        self.measure = QCheckBox(tr("Time every result on this PC (one at a time)"))
        self.measure.setChecked(True)

        choices = QGridLayout()
        for column, (title, widget) in enumerate(
            ((tr("Models"), self.models), (tr("Chips"), self.chips), (tr("Methods"), self.methods))
        ):
            choices.addWidget(QLabel(f"<b>{title}</b>"), 0, column)
            choices.addWidget(widget, 1, column)
        choices.addWidget(add_model, 2, 0)
        choices.addWidget(self.measure, 2, 1, 1, 2)

        self.run_button = QPushButton(tr("Run sweep"))
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("")
        bar = QHBoxLayout()
        bar.addWidget(self.run_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress, 1)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) if c else "" for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_use)
        self.legend = QLabel(
            tr(
                "★ on the front: no other row is smaller, faster and closer to the original at "
                "once. Speed is measured on This PC and predicted on other chips."
            )
        )
        self.legend.setWordWrap(True)
        self.use_button = QPushButton(tr("Use this one"))
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.use_selected)

        layout = QVBoxLayout(self)
        layout.addLayout(choices)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.legend)
        foot = QHBoxLayout()
        foot.addStretch()
        foot.addWidget(self.use_button)
        layout.addLayout(foot)

    # --- choices --------------------------------------------------------------------------------
    def _fill_choices(self) -> None:
        from studio.core.chips.catalogue import list_chips

        with contextlib.suppress(StudioError):  # no model chosen yet: the user adds one
            self._add_item(self.models, str(self.state.model_path()), checked=True)
        chosen = {"this-pc", self.state.recipe.target.chip}
        for chip in list_chips():
            self._add_item(self.chips, chip.id, checked=chip.id in chosen, text=chip.name)
        for method in Method:
            # The short id fits the column; what it does is the Advanced panel's sentence.
            self._add_item(
                self.methods,
                method.value,
                checked=method in DEFAULT_METHODS,
                tooltip=tr(METHOD_LABELS[method]),  # core_texts.py
            )

    @staticmethod
    def _add_item(
        box: QListWidget, value: str, *, checked: bool, text: str = "", tooltip: str = ""
    ) -> None:
        item = QListWidgetItem(text or Path(value).name or value)
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setToolTip(tooltip or value)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        box.addItem(item)

    @staticmethod
    def checked(box: QListWidget) -> list[str]:
        items = (box.item(i) for i in range(box.count()))
        return [
            i.data(Qt.ItemDataRole.UserRole)
            for i in items
            if i.checkState() == Qt.CheckState.Checked
        ]

    def _add_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Add model"), "", tr("Models (*.onnx)"))
        if path:
            self._add_item(self.models, path, checked=True)

    # --- running --------------------------------------------------------------------------------
    def spec(self) -> Any:
        from studio.core.paths import demo_model_path
        from studio.core.sweep.spec import SweepSpec, check_spec

        models = self.checked(self.models)
        demo = str(demo_model_path())
        spec = SweepSpec(
            models=models,
            chips=self.checked(self.chips),
            methods=self.checked(self.methods),  # type: ignore[arg-type]
            calibration="demo" if models == [demo] else None,
            measure=self.measure.isChecked(),
        )
        check_spec(spec, tr("The sweep"), Path.cwd())
        return spec

    def start(self) -> None:
        from pydantic import ValidationError

        try:
            spec = self.spec()
        except (StudioError, ValidationError):
            show_error(
                self,
                tr("Tick at least one model, one chip and one method."),
                tr("The sweep cannot start"),
            )
            return
        self.results = []
        self.table.setRowCount(0)
        self._cancel = threading.Event()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.use_button.setEnabled(False)
        self.status.setText(tr("Running {count} trials…", count=spec.trial_count()))
        threading.Thread(target=self._run, args=(spec, self._cancel), daemon=True).start()

    def _run(self, spec: Any, cancel: threading.Event) -> None:
        from studio.core.progress import Reporter
        from studio.core.sweep.run import run_sweep

        relay = self._relay
        try:
            result = run_sweep(
                spec,
                None,
                cancel=cancel,
                report=Reporter(on_progress=relay.progress.emit),
                on_result=relay.trial.emit,
            )
        except Exception as exc:  # shown as one line; the details go to the log
            relay.failed.emit(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return
        relay.finished.emit(result)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.status.setText(tr("Stopping every trial…"))

    def _on_progress(self, fraction: float, _message: str) -> None:
        self.progress.setValue(int(fraction * 1000))

    def _on_trial(self, result: Any) -> None:
        self.results.append(result)
        self._show(sorted(self.results, key=lambda r: r.trial.index))

    def _on_finished(self, result: Any) -> None:
        self.results = list(result.trials)
        self._show(self.results)
        self.progress.setValue(1000)
        self._done(
            tr(
                "{done} of {count} trials finished, {front} on the front",
                done=sum(t.status in ("done", "cached") for t in result.trials),
                count=len(result.trials),
                front=len(result.front),
            )
        )

    def _on_failed(self, message: str) -> None:
        self._done(tr("The sweep stopped: {why}", why=message))

    def _done(self, text: str) -> None:
        self.status.setText(text)
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._cancel = None

    def _show(self, results: list[Any]) -> None:
        from studio.core.sweep.table import speed_ms

        self.table.setRowCount(len(results))
        for row, result in enumerate(results):
            metrics = result.metrics
            cells = (
                "★" if result.front else "",
                Path(result.trial.model).name,
                result.trial.chip,
                result.trial.method.value,
                _status_text(result.status),
                human_size(metrics.size_after) if metrics.size_after is not None else "–",
                f"{metrics.cosine:.4f}" if metrics.cosine is not None else "–",
                f"{metrics.host_latency_ms:.2f}" if metrics.host_latency_ms else "–",
                f"{speed_ms(result):.3f}" if speed_ms(result) is not None else "–",
                f"{metrics.npu_share:.0%}" if metrics.npu_share is not None else "–",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if result.error:
                    item.setToolTip(result.error)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()

    # --- choosing -------------------------------------------------------------------------------
    def selected(self) -> Any | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.results):
            return None
        return self.results[rows[0].row()]

    def _update_use(self) -> None:
        chosen = self.selected()
        self.use_button.setEnabled(chosen is not None and chosen.status in ("done", "cached"))

    def use_selected(self) -> None:
        """The chosen row becomes the wizard's recipe (model, chip, method and its options)."""
        from studio.core.sweep.table import to_recipe

        chosen = self.selected()
        if chosen is None:
            return
        recipe = to_recipe(chosen)
        self.state.replace_recipe(recipe, None)
        self.recipe_chosen.emit(recipe)
        self.status.setText(
            tr(
                "The wizard now uses {method} for {chip}",
                method=chosen.trial.method.value,
                chip=chosen.trial.chip,
            )
        )

    def shutdown(self) -> None:
        self.cancel()
