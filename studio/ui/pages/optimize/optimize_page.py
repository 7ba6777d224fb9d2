"""Step 3, Optimize: make the model smaller in a background job, then show before/after."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from studio.core.bundle.steps import OptimizeRequest, optimize, step_target
from studio.core.compress import Method
from studio.core.compress.presets import Preset, apply_preset, matching_preset, presets_for
from studio.core.jobs import JobSpec
from studio.core.paths import default_output_dir
from studio.ui.i18n import N_, tr
from studio.ui.jobs_qt import JobManager
from studio.ui.pages.optimize.npu_compile import NpuCompilePanel
from studio.ui.pages.optimize.optimize_advanced import AdvancedPanel
from studio.ui.pages.optimize.optimize_presets import PresetCards
from studio.ui.pages.optimize.optimize_result import ResultCard
from studio.ui.state import WizardState
from studio.ui.widgets import JobProgress, JobStepPage, show_error

if TYPE_CHECKING:
    from studio.core.compress import CompressResult


class OptimizePage(JobStepPage):
    title = N_("3 · Optimize")
    explanation = N_(
        "The studio shrinks the model so it fits and runs fast on the target. The recommended "
        "choice is already selected; it starts by itself when you arrive."
    )

    def __init__(self, state: WizardState, jobs: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(state, jobs, parent)
        self.presets = PresetCards()
        self.presets.chosen.connect(self._preset_chosen)
        self.outer.addWidget(self.presets)
        self.calib_label = QLabel("")
        self.calib_label.setObjectName("factLabel")
        self.calib_label.setWordWrap(True)
        self.outer.addWidget(self.calib_label)
        self.advanced = AdvancedPanel(state.recipe.optimize)
        self.advanced.changed.connect(self._advanced_changed)
        self.outer.addWidget(self.advanced)

        row = QHBoxLayout()
        self.run_button = QPushButton(tr("Optimize again"))
        self.run_button.setObjectName("primaryButton")
        self.run_button.clicked.connect(self.start)
        row.addWidget(self.run_button)
        row.addStretch()
        self.outer.addLayout(row)
        self.progress = JobProgress()
        self.outer.addWidget(self.progress)
        self.status = QLabel("")
        self.outer.addWidget(self.status)
        # "Fastest on NPU" for the chosen chip: its own compiler (studio compile), in a job.
        self.npu = NpuCompilePanel(state, jobs)
        self.outer.addWidget(self.npu)
        state.target_changed.connect(self.npu.refresh)
        state.recipe_replaced.connect(self.npu.refresh)

        self.result_card = ResultCard()
        self.result_card.keep_float_requested.connect(self._keep_float_and_rerun)
        self.verdict = self.result_card.verdict
        self.outer.addWidget(self.result_card)
        self.outer.addStretch()
        state.model_changed.connect(self._model_changed)
        state.target_changed.connect(self._refresh_presets)
        state.recipe_replaced.connect(self._sync_from_recipe)
        self._sync_from_recipe()

    def _sync_from_recipe(self) -> None:
        self.advanced.bind(self.state.recipe.optimize)
        self._refresh_presets()
        self._show_calibration()

    def _refresh_presets(self) -> None:
        summary = self.state.summary
        histogram = summary.op_histogram if summary is not None else {}
        params = summary.parameter_count if summary is not None else 0
        try:
            presets = presets_for(histogram, params, self.state.recipe.target.chip)
        except Exception:  # a chip the catalogue does not know yet: CPU presets
            presets = presets_for(histogram, params, "this-pc")
        self.presets.set_presets(presets, matching_preset(self.state.recipe.optimize, presets))

    def _preset_chosen(self, preset: Preset) -> None:
        self.state.recipe.optimize = apply_preset(self.state.recipe.optimize, preset)
        self.advanced.bind(self.state.recipe.optimize)
        self._show_calibration()

    def _advanced_changed(self) -> None:
        self.presets.select(matching_preset(self.state.recipe.optimize, self.presets.presets))
        self._show_calibration()

    def _keep_float_and_rerun(self, nodes: list[str]) -> None:
        optimize = self.state.recipe.optimize
        optimize.keep_float = list(dict.fromkeys([*optimize.keep_float, *nodes]))
        self.advanced.bind(optimize)
        self.start()

    def _show_calibration(self) -> None:
        calib = self.state.recipe.optimize.calibration
        if self.state.recipe.optimize.method not in (Method.INT8_STATIC, Method.AUTO):
            self.calib_label.setText("")
        elif calib == "demo" and self.state.recipe.model.source == "demo":
            self.calib_label.setText(
                tr("Calibration: 100 real digit images that ship with the demo model.")
            )
        elif calib and calib != "demo":
            self.calib_label.setText(tr("Calibration: {samples}", samples=calib))
        else:
            self.calib_label.setText(
                tr(
                    "⚠ No calibration samples chosen: the studio will use random inputs, which "
                    "can make the INT8 model less accurate. Open Advanced to pick real samples "
                    "(an image folder, prompts or .npz)."
                )
            )

    def _model_changed(self) -> None:
        if (
            self.state.recipe.model.source != "demo"
            and self.state.recipe.optimize.calibration == "demo"
        ):
            self.state.recipe.optimize.calibration = None
        self.result_card.hide()
        self._refresh_presets()
        self._show_calibration()

    def entered(self) -> None:
        if self.state.compress_result is None and not self.job_running():
            self.start()

    def ready(self) -> tuple[bool, str]:
        if self.job_running():
            return False, tr("Optimizing… (you can cancel it)")
        if self.state.compress_result is None:
            return False, tr("Optimize the model first.")
        return True, ""

    def start(self) -> None:
        if self.job_running():
            return
        recipe = self.state.recipe
        source = self.state.model_path()
        # A fresh folder per run: results never overwrite each other or the user's files.
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1000:03d}"
        out = (
            default_output_dir()
            / f"{source.stem}-{stamp}"
            / f"{source.stem}.{recipe.optimize.method.value}.onnx"
        )
        spec = JobSpec(
            title=tr(
                "Optimize {name} ({method})", name=source.stem, method=recipe.optimize.method.value
            ),
            target=step_target(optimize),
            kwargs={
                "request": OptimizeRequest.from_recipe(recipe, source, out, self.state.recipe_base)
            },
            outputs=[out],
        )
        self.state.reset_results()
        self.status.setText("")
        self.result_card.hide()
        self.job = self.jobs.start(spec, measures=True)  # latency before and after
        self.progress.track(self.job)
        self.run_button.setEnabled(False)
        self.job.succeeded.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._cancelled)
        self.job.finished.connect(
            lambda: (self.run_button.setEnabled(True), self.ready_changed.emit())
        )
        self.ready_changed.emit()

    def _done(self, result: CompressResult) -> None:
        self.state.compress_result = result
        self.result_card.show_result(result)
        self.state.optimized.emit()

    def _failed(self, message: str) -> None:
        show_error(self, message, tr("Optimization failed"))

    def _cancelled(self) -> None:
        self.status.setText(
            tr('Cancelled. Nothing was written. Press "Optimize again" to restart.')
        )
