"""Optimize step: compile for the chosen chip's NPU with its own stack (`studio compile`).

The core entry point `studio.core.compile:compile_model` runs in a job child (the compilers are
native code) with progress and cancel. Qualcomm: the compiled model, its share on the NPU and the
emulator's drift, which is the NPU's arithmetic and never shown as latency. Intel: the OpenVINO
IR. Axera: the Pulsar2 kit and the plain words on where its final compile runs.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.core.chips.catalogue import get_chip
from studio.core.errors import StudioError
from studio.core.jobs import JobSpec
from studio.core.paths import data_dir
from studio.ui.i18n import tr
from studio.ui.jobs_qt import QtJob
from studio.ui.npu_placement import pulsar2_note
from studio.ui.state import WizardState
from studio.ui.widgets import JobProgress

# Backends that produce what the NPU's own stack loads (NNAPI keeps plain ONNX: no compile).
COMPILING = {"qualcomm", "openvino", "pulsar2"}


def compiling_backend(chip: str) -> str | None:
    """The compile backend's short name for ``chip``, or None when nothing is compiled for it."""
    try:
        from studio.core.compile import backend_for  # pydantic: not at start-up

        name = backend_for(chip).rsplit(".", 1)[-1]
    except StudioError:
        return None
    return name if name in COMPILING else None


def result_text(result: Any) -> str:
    """What the compile produced, in the UI's language."""
    if result.backend == "qnn" or hasattr(result, "placement"):
        lines = [
            tr(
                "Compiled for the NPU (HTP {arch}): {file}",
                arch=result.arch,
                file=result.model_file,
            ),
            tr("{share} of the model's nodes run on the NPU.", share=f"{result.npu_share:.0%}"),
        ]
        if result.drift is not None and result.drift.outputs:
            lines.append(
                tr(
                    "The NPU's arithmetic, on the NPU emulator on this PC: cosine {cosine:.4f} "
                    "against the float model (the emulator's time says nothing about speed on "
                    "the device).",
                    cosine=result.drift.outputs[0].cosine,
                )
            )
        lines.append(tr("Folder: {path}", path=result.output))
        return "\n".join(lines)
    if result.backend == "pulsar2":
        return "\n".join(
            [
                pulsar2_note(),
                tr("Run in the kit folder: {command}", command=result.build_command),
                tr("Folder: {path}", path=result.bundle),
            ]
        )
    return "\n".join(
        [
            tr(
                "OpenVINO model for the Intel NPU ({precision}); checked here on OpenVINO's CPU.",
                precision=result.precision,
            ),
            tr("Intel's driver compiles it for the NPU on the target PC, the first time it runs."),
            tr("Folder: {path}", path=result.bundle),
        ]
    )


class NpuCompilePanel(QWidget):
    """ "Compile for the NPU" for the chosen chip, and what came out."""

    def __init__(self, state: WizardState, jobs: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.jobs = jobs
        self.job: QtJob | None = None
        self.result: Any = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.button = QPushButton()
        self.button.clicked.connect(self.start)
        row.addWidget(self.button)
        row.addStretch()
        layout.addLayout(row)
        self.progress = JobProgress()
        layout.addWidget(self.progress)
        self.label = QLabel("")
        self.label.setObjectName("factLabel")
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        self.refresh()

    def refresh(self) -> None:
        chip = self.state.recipe.target.chip
        backend = compiling_backend(chip)
        self.setVisible(backend is not None)
        if backend is None:
            return
        name = get_chip(chip).name
        self.button.setText(
            tr("Build the Pulsar2 kit for {chip}", chip=name)
            if backend == "pulsar2"
            else tr("Compile for the {chip} NPU", chip=name)
        )

    def start(self) -> None:
        if self.job is not None and not self.job.is_finished:
            return
        recipe = self.state.recipe
        source = self.state.model_path()
        chip = recipe.target.chip
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1000:03d}"
        out = data_dir() / "compiled" / f"{source.stem}-{chip}-{stamp}"
        calib = recipe.optimize.calibration
        spec = JobSpec(
            title=tr("Compile {name} for {chip}", name=source.stem, chip=get_chip(chip).name),
            target="studio.core.compile:compile_model",
            kwargs={
                "model": str(source),
                "chip": chip,
                "out": str(out),
                "calib": calib if calib and calib != "demo" else None,
                "shapes": recipe.shapes or None,
            },
            outputs=[out],
        )
        job = self.jobs.start(spec) if self.jobs is not None else QtJob(spec, self).start()
        self.job = job
        self.label.setText("")
        self.progress.track(job)
        self.button.setEnabled(False)
        job.succeeded.connect(self._done)
        job.failed.connect(lambda message: self.label.setText(message))
        job.finished.connect(lambda: self.button.setEnabled(True))

    def _done(self, result: Any) -> None:
        self.result = result
        self.label.setText(result_text(result))
