"""The Inspect step's views around its per-layer table: graph with heat-map, charts, Compare.

Selecting a layer anywhere selects it everywhere: table row ↔ graph node ↔ chart bar. The table
lists what onnxruntime ran (fused layers appear once); the graph shows the user's own nodes, so
selections are translated through the profile's mapping (fused_from).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QWidget,
)

from studio.core.analyze.profile import NodeTiming, ProfileResult
from studio.core.errors import StudioError
from studio.core.jobs import JobSpec
from studio.core.model.shapes import parse_shapes
from studio.ui.i18n import tr
from studio.ui.jobs_qt import JobManager, QtJob
from studio.ui.messages import shown_error
from studio.ui.pages.inspect.compare_panel import ComparePanel
from studio.ui.pages.inspect.graph_panel import GraphPanel
from studio.ui.pages.inspect.profile_charts import ProfileCharts
from studio.ui.pages.inspect.row_table import RowTable
from studio.ui.state import WizardState

COMPARE_RUNS = 10


class ProfileSettingsRow(QWidget):
    """Runs, threads and input shapes for the measurement, written into the recipe."""

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.runs = QSpinBox()
        self.runs.setRange(1, 1000)
        self.runs.setToolTip(
            tr("How many timed runs; the median is shown. More runs, steadier numbers.")
        )
        self.threads = QSpinBox()
        self.threads.setRange(0, 64)
        self.threads.setSpecialValueText(tr("auto"))
        self.threads.setToolTip(
            tr(
                "CPU threads onnxruntime may use (auto: layers on 1 thread, where they repeat; "
                "the whole model also on all cores, up to 4)."
            )
        )
        self.shapes = QLineEdit()
        self.shapes.setPlaceholderText(tr("input shapes, e.g. image=1x3x224x224"))
        self.shapes.setToolTip(
            tr(
                "Sizes of the model's inputs for the measurement. Inputs with a "
                "flexible size (batch, length) use 1 unless set here."
            )
        )
        self.error = QLabel()
        self.error.setObjectName("errorLabel")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label, widget in (
            (tr("Runs"), self.runs),
            (tr("Threads"), self.threads),
            (tr("Shapes"), self.shapes),
        ):
            caption = QLabel(label)
            caption.setToolTip(widget.toolTip())
            layout.addWidget(caption)
            layout.addWidget(widget)
        layout.addWidget(self.error)
        self.load()
        self.runs.valueChanged.connect(self.store)
        self.threads.valueChanged.connect(self.store)
        self.shapes.editingFinished.connect(self.store)
        state.recipe_replaced.connect(self.load)

    def load(self) -> None:
        recipe = self.state.recipe
        for widget in (self.runs, self.threads):
            widget.blockSignals(True)
        self.runs.setValue(recipe.profile.runs)
        self.threads.setValue(recipe.profile.threads or 0)
        self.shapes.setText(
            " ".join(f"{k}={'x'.join(map(str, v))}" for k, v in recipe.shapes.items())
        )
        for widget in (self.runs, self.threads):
            widget.blockSignals(False)

    def store(self) -> bool:
        """Write the fields into the recipe; False (and a short message) if shapes are wrong."""
        recipe = self.state.recipe
        recipe.profile.runs = self.runs.value()
        recipe.profile.threads = self.threads.value() or None
        try:
            recipe.shapes = parse_shapes(self.shapes.text().replace(",", " ").split())
        except StudioError as exc:
            self.error.setText(shown_error(exc))
            return False
        self.error.setText("")
        return True

    def show_used(self, result: ProfileResult) -> None:
        """After a run: show the threads and shapes actually used."""
        self.threads.setToolTip(
            tr(
                "CPU threads onnxruntime may use (auto: layers on 1 thread, "
                "the whole model also on all cores). Last run used "
                "{threads}.",
                threads=result.threads,
            )
        )
        if not self.shapes.text():
            self.shapes.setPlaceholderText(
                " ".join(f"{k}={'x'.join(map(str, v))}" for k, v in result.input_shapes.items())
            )


class InspectViews(QTabWidget):
    def __init__(
        self, table: RowTable, state: WizardState, jobs: JobManager, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.jobs = jobs
        self.table = table
        self.profile: ProfileResult | None = None
        self.compare_job: QtJob | None = None
        self.settings = ProfileSettingsRow(state)
        self.graph = GraphPanel()
        self.charts = ProfileCharts()
        self.compare = ComparePanel()
        self.addTab(table, tr("Layers"))
        self.addTab(self.graph, tr("Graph"))
        self.addTab(self.charts, tr("Charts"))
        self.addTab(self.compare, tr("Compare"))
        self.setTabToolTip(1, tr("The model's graph, each layer coloured by its share of the time"))
        self.setTabToolTip(3, tr("The original and the optimized model side by side"))
        self._syncing = False
        table.rowSelected.connect(self._table_selected)
        self.graph.nodeClicked.connect(self._graph_clicked)
        self.charts.layerClicked.connect(self._chart_clicked)
        self.compare.compareRequested.connect(self.start_compare)
        self.compare.chipsRequested.connect(self.start_two_chips)
        self._chips_listed = False
        self.chips_job: QtJob | None = None
        self.graph.predictionRequested.connect(self.start_prediction)
        self.graph.placementRequested.connect(self.start_placement)
        self.heat_job: QtJob | None = None
        self._named_chip: str | None = None
        self.currentChanged.connect(self._name_chip)
        self.currentChanged.connect(self._list_chips)
        self._compared: Path | None = None  # the optimized model Compare last ran for by itself
        self.currentChanged.connect(self._fill_compare)
        state.target_changed.connect(self._target_changed)
        self._target_changed()
        state.optimized.connect(self._compare_availability)
        state.model_changed.connect(self._compare_availability)

    # -- profile ------------------------------------------------------------------------------
    def measuring(self, model: Path) -> None:
        """A measurement started: show the graph of the model being measured meanwhile."""
        if self.graph.model != model:
            self.graph.set_model(model)
        self._compare_availability()

    def show_profile(self, result: ProfileResult) -> None:
        self.profile = result
        model = Path(result.model)
        if self.graph.model != model:
            self.graph.set_model(model, result)
        self.graph.set_profile(result)
        self.charts.show_profile(result)
        self.settings.show_used(result)
        self._fill_compare()

    def clear(self) -> None:
        self.profile = None
        self.charts.show_profile(None)
        self.compare.clear()
        self._compared = None
        self._compare_availability()

    # -- selection sync -----------------------------------------------------------------------
    def _table_selected(self, node: NodeTiming) -> None:
        if not self._syncing:
            self.graph.graph.select_node((node.fused_from or [node.name])[0])

    def _select_row(self, kernel: str) -> None:
        self._syncing = True
        try:
            self.table.select_key(kernel)
        finally:
            self._syncing = False

    def _graph_clicked(self, name: str) -> None:
        if self.profile is None:
            return
        entry = self.profile.original_shares().get(name)
        if entry is not None:
            self._select_row(entry[1])

    def _chart_clicked(self, kernel: str) -> None:
        self._select_row(kernel)
        node = (
            next((n for n in self.profile.nodes if n.name == kernel), None)
            if self.profile
            else None
        )
        if node is not None:
            self.setCurrentWidget(self.graph)
            QTimer.singleShot(
                0, lambda: self.graph.graph.select_node((node.fused_from or [node.name])[0])
            )

    # -- predicted heat-map for the target chip ------------------------------------------------
    def _target_changed(self) -> None:
        """Offer the chip's prediction; its display name is looked up when the graph is shown
        (reading the chip catalogue costs ~70 ms, not worth spending at start-up)."""
        self._named_chip = None
        self.graph.set_target_chip(self.state.recipe.target.chip)
        self._name_chip()

    def _list_chips(self) -> None:
        """Fill the two-chip choice when Compare is first shown (reading the catalogue costs
        ~70 ms, not worth spending at start-up)."""
        if self._chips_listed or self.currentWidget() is not self.compare:
            return
        from studio.core.chips.catalogue import list_chips
        from studio.ui.pages.target.chip_cards import chip_name  # "This PC" in the UI's language

        self._chips_listed = True
        self.compare.set_chips([(chip.id, chip_name(chip.id, chip.name)) for chip in list_chips()])

    def start_two_chips(self, chip_a: str, chip_b: str) -> None:
        model = self.graph.model or self.state.deployable_model()
        job = self.jobs.start(
            JobSpec(
                title=tr(
                    "Predict {name} on {chip_a} and {chip_b}",
                    name=model.stem,
                    chip_a=chip_a,
                    chip_b=chip_b,
                ),
                target="studio.core.chips.heat:compare_two_chips",
                kwargs={
                    "model": str(model),
                    "chip_a": chip_a,
                    "chip_b": chip_b,
                    "shapes": self.state.recipe.shapes or None,
                },
            )
        )
        self.compare.chips_button.setEnabled(False)
        job.succeeded.connect(self.compare.show_two_chips)
        job.failed.connect(
            lambda message: self.compare.status.setText(
                tr("Could not predict: {error}", error=message)
            )
        )
        job.finished.connect(lambda: self.compare.chips_button.setEnabled(True))
        self.chips_job = job

    def _name_chip(self) -> None:
        chip = self.state.recipe.target.chip
        if self.currentWidget() is not self.graph or self._named_chip == chip:
            return
        self._named_chip = chip
        from studio.core.chips.catalogue import get_chip

        with contextlib.suppress(StudioError):  # an unknown chip id: keep showing the id
            self.graph.set_target_chip(chip, get_chip(chip).name)

    def start_prediction(self, chip: str) -> None:
        model = self.graph.model
        if model is None:
            return
        self.heat_job = self.jobs.start(
            JobSpec(
                title=tr("Predict each layer on {chip}", chip=chip),
                target="studio.core.chips.heat:predicted_heat",
                kwargs={
                    "model": str(model),
                    "chip": chip,
                    "shapes": self.state.recipe.shapes or None,
                },
            )
        )
        self.heat_job.succeeded.connect(self.graph.show_predicted)
        self.heat_job.failed.connect(
            lambda message: self.graph.headline.setText(
                tr("Could not predict for this chip: {error}", error=message)
            )
        )

    def start_placement(self, chip: str) -> None:
        """The chip's compiler places the graph's nodes (a quantize and a compile, in a job)."""
        model = self.graph.model
        if model is None:
            return
        self.heat_job = self.jobs.start(
            JobSpec(
                title=tr("Place {name} on {chip}", name=model.name, chip=chip),
                target="studio.core.compile.probe:check_placement",
                kwargs={
                    "model": str(model),
                    "chip": chip,
                    "shapes": self.state.recipe.shapes or None,
                },
            )
        )
        self.heat_job.succeeded.connect(self.graph.show_placement)
        self.heat_job.failed.connect(
            lambda message: self.graph.headline.setText(
                tr("Could not place the nodes on this chip: {error}", error=message)
            )
        )

    # -- compare ------------------------------------------------------------------------------
    def _compare_availability(self) -> None:
        if self.state.optimized_path() is None:
            self.compare.set_available(
                False,
                tr("Optimize the model first (step 3); then compare it here with the original."),
            )
        elif self.compare_job is None or self.compare_job.is_finished:
            self.compare.set_available(
                True,
                tr(
                    "Compare the optimized model with the original: "
                    "size, speed per layer, drift and graph changes."
                ),
            )

    def _fill_compare(self) -> None:
        """Compare runs by itself the first time it is shown for an optimized model, after the
        measurement (both time the CPU), so the tab is never an empty page with a button."""
        optimized = self.state.optimized_path()
        if (
            self.currentWidget() is not self.compare
            or optimized is None
            or optimized == self._compared
            or self.profile is None
            or not (self.compare_job is None or self.compare_job.is_finished)
        ):
            return
        self._compared = optimized
        self.start_compare()

    def start_compare(self) -> None:
        optimized = self.state.optimized_path()
        if optimized is None:
            return
        result = self.state.compress_result
        report = getattr(result, "report", None)
        drift = [layer.model_dump() for layer in getattr(report, "worst_layers", [])]
        recipe = self.state.recipe
        self.compare_job = self.jobs.start(
            JobSpec(
                title=tr("Compare {name} with the original", name=optimized.stem),
                target="studio.core.analyze.diff:compare_original_and_optimized",
                kwargs={
                    "a": str(self.state.model_path()),
                    "b": str(optimized),
                    "runs": min(recipe.profile.runs, COMPARE_RUNS),
                    "threads": recipe.profile.threads,
                    "shapes": recipe.shapes or None,
                    "drift": drift or None,
                },
            ),
            measures=True,
        )
        self.compare.set_running(True)
        self.compare_job.succeeded.connect(self.compare.show_diff)
        self.compare_job.failed.connect(
            lambda message: self.compare.set_available(
                True, tr("Comparing failed: {error}", error=message)
            )
        )
        self.compare_job.finished.connect(lambda: self.compare.button.setEnabled(True))

    def shutdown(self) -> None:
        self.graph.shutdown()
        self.compare.shutdown()
