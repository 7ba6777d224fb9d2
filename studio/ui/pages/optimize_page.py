"""Step 3, Optimize: make the model smaller in a background job, then show before/after."""

from __future__ import annotations

import time

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QWidget,
)

from studio.core.compress import CompressResult, Method
from studio.core.jobs import JobSpec
from studio.core.model import human_size
from studio.core.paths import default_output_dir
from studio.ui.jobs_qt import JobManager, QtJob
from studio.ui.state import WizardState
from studio.ui.widgets import Card, JobProgress, StepPage, big_label, show_error

CHOICES = [
    (
        Method.INT8_STATIC,
        "Make it smaller and faster — INT8 (recommended)",
        "About 4× smaller. Calibrated on sample inputs, so results usually stay within 1% of the original.",
    ),
    (
        Method.INT8_DYNAMIC,
        "Make it smaller — INT8 weights only",
        "About 4× smaller with no sample data needed. Best for language models; can be slower for image models.",
    ),
    (
        Method.CLEANUP,
        "Keep full precision — just tidy the graph",
        "Same accuracy and size; removes redundant steps so the model loads and runs cleanly.",
    ),
]


class OptimizePage(StepPage):
    title = "3 · Optimize"
    explanation = (
        "The studio shrinks the model so it fits and runs fast on the target. The recommended "
        "choice is already selected; it starts by itself when you arrive."
    )

    def __init__(self, state: WizardState, jobs: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.jobs = jobs
        self.job: QtJob | None = None
        self.group = QButtonGroup(self)
        choices = Card()
        for method, label, hint in CHOICES:
            button = QRadioButton(label)
            button.setObjectName(f"method-{method.value}")
            button.setProperty("method", method.value)
            button.setToolTip(hint)
            note = QLabel(hint)
            note.setObjectName("factLabel")
            note.setIndent(24)
            note.setWordWrap(True)
            self.group.addButton(button)
            choices.body.addWidget(button)
            choices.body.addWidget(note)
        self.outer.addWidget(choices)

        self.advanced = QCheckBox("Advanced: use my own calibration samples (.npz / .npy)")
        self.advanced.setToolTip(
            "Calibration: a few real inputs the studio runs through the model to pick 8-bit ranges."
        )
        self.calib_label = QLabel("")
        self.calib_label.setObjectName("factLabel")
        self.advanced.toggled.connect(self._pick_calibration)
        self.outer.addWidget(self.advanced)
        self.outer.addWidget(self.calib_label)

        row = QHBoxLayout()
        self.run_button = QPushButton("Optimize again")
        self.run_button.setObjectName("primaryButton")
        self.run_button.clicked.connect(self.start)
        row.addWidget(self.run_button)
        row.addStretch()
        self.outer.addLayout(row)
        self.progress = JobProgress()
        self.outer.addWidget(self.progress)
        self.status = QLabel("")
        self.outer.addWidget(self.status)

        self.result_card = Card()
        self.verdict = big_label()
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.result_card.body.addWidget(self.verdict)
        self.result_card.body.addWidget(self.detail)
        self.result_card.hide()
        self.outer.addWidget(self.result_card)
        self.outer.addStretch()
        self.group.buttonToggled.connect(self._method_chosen)
        state.model_changed.connect(self._model_changed)
        state.recipe_replaced.connect(self._sync_from_recipe)
        self._sync_from_recipe()

    def _sync_from_recipe(self) -> None:
        for button in self.group.buttons():
            button.setChecked(button.property("method") == self.state.recipe.optimize.method.value)
        self._show_calibration()

    def _show_calibration(self) -> None:
        calib = self.state.recipe.optimize.calibration
        if self.state.recipe.optimize.method is not Method.INT8_STATIC:
            self.calib_label.setText("")
        elif calib == "demo" and self.state.recipe.model.source == "demo":
            self.calib_label.setText(
                "Calibration: 100 real digit images that ship with the demo model."
            )
        elif calib and calib != "demo":
            self.calib_label.setText(f"Calibration: {calib}")
        else:
            self.calib_label.setText(
                "⚠ No calibration samples chosen: the studio will use random inputs, which can make "
                "the INT8 model less accurate. Tick Advanced to pick real samples."
            )

    def _model_changed(self) -> None:
        if (
            self.state.recipe.model.source != "demo"
            and self.state.recipe.optimize.calibration == "demo"
        ):
            self.state.recipe.optimize.calibration = None
        self.result_card.hide()
        self._show_calibration()

    def _method_chosen(self, button: QRadioButton, checked: bool) -> None:
        if checked:
            self.state.recipe.optimize.method = Method(button.property("method"))
            self._show_calibration()

    def _pick_calibration(self, on: bool) -> None:
        if not on:
            self.state.recipe.optimize.calibration = (
                "demo" if self.state.recipe.model.source == "demo" else None
            )
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, "Calibration samples", "", "NumPy arrays (*.npz *.npy)"
            )
            if path:
                self.state.recipe.optimize.calibration = path
            else:
                self.advanced.setChecked(False)
        self._show_calibration()

    def entered(self) -> None:
        if self.state.compress_result is None and (self.job is None or self.job.is_finished):
            self.start()

    def ready(self) -> tuple[bool, str]:
        if self.job is not None and not self.job.is_finished:
            return False, "Optimizing… (you can cancel it)"
        if self.state.compress_result is None:
            return False, "Optimize the model first."
        return True, ""

    def start(self) -> None:
        if self.job is not None and not self.job.is_finished:
            return
        recipe = self.state.recipe
        source = self.state.model_path()
        # A fresh folder per run: results never overwrite each other or the user's files.
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1000:03d}"
        out = default_output_dir() / f"{source.stem}-{stamp}" / f"{source.stem}.{recipe.optimize.method.value}.onnx"
        calib = recipe.calibration_path(self.state.recipe_base)
        spec = JobSpec(
            title=f"Optimize {source.stem} ({recipe.optimize.method.value})",
            target="studio.core.compress:compress_model",
            kwargs={
                "model": str(source),
                "method": recipe.optimize.method.value,
                "out": str(out),
                "calib": str(calib) if calib else None,
                "calib_limit": recipe.optimize.calib_limit,
            },
            outputs=[out],
        )
        self.state.reset_results()
        self.status.setText("")
        self.result_card.hide()
        self.job = self.jobs.start(spec)
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
        self.verdict.setText(
            f"{human_size(result.size_before)} → {human_size(result.size_after)}  "
            f"({result.ratio:.1f}× smaller)"
        )
        lines = [
            f"Method: {result.method.value}. Took {result.seconds:.1f} s.",
            f"Saved as {result.output} (your original is untouched).",
        ]
        lines += [f"⚠ {w}" for w in result.warnings]
        self.detail.setText("\n".join(lines))
        self.result_card.show()
        self.state.optimized.emit()

    def _failed(self, message: str) -> None:
        show_error(self, message, "Optimization failed")

    def _cancelled(self) -> None:
        self.status.setText('Cancelled. Nothing was written. Press "Optimize again" to restart.')
