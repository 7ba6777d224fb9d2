"""Target step: where the chosen chip's compiler puts each node of the model.

For a chip whose NPU compiler is installed here (Qualcomm's, from the qnn extra) a background job
quantizes and compiles the model in a temporary folder (`studio.core.compile.probe:check_placement`)
and the panel shows the share of nodes on the NPU and each node left to the CPU with the compiler's
reason. Otherwise it says the placement is predicted from the published op list, and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.core.chips.catalogue import ChipProfile, get_chip
from studio.core.jobs import JobSpec
from studio.ui.i18n import tr
from studio.ui.jobs_qt import QtJob
from studio.ui.widgets import JobProgress

if TYPE_CHECKING:
    from studio.core.compile.probe import PlacementCheck


def compiler_state(chip: ChipProfile) -> str:
    """Whether the chip's compiler is installed (imported on first use: the probe module loads
    numpy and onnx, which the window must not wait for at start-up)."""
    from studio.core.compile.probe import compiler_state as state

    return state(chip)


SHOWN_FALLBACK = 6  # nodes named one per line; the rest are counted


def _is_pulsar2(chip: ChipProfile) -> bool:
    return chip.npu is not None and "pulsar2" in chip.npu.runtime.lower()


def pulsar2_note() -> str:
    """Where an Axera model is really compiled: the Target and Deploy steps say it plainly."""
    return tr(
        "The final compile runs in Axera's Pulsar2 (Docker, on your PC); the studio builds the "
        "kit for it (model, config.json, calibration set and build.sh)."
    )


def predicted_text(chip: ChipProfile, check: PlacementCheck | None) -> str:
    """The line for a placement the compiler did not check, with the reason."""
    if chip.npu is None or chip.main.kind != "npu":
        return ""
    if _is_pulsar2(chip):
        return pulsar2_note()
    if check is not None and check.predicted == "rejected":
        return tr(
            "Predicted from the published op list: {vendor}'s compiler could not take the "
            "model ({error}).",
            vendor=chip.vendor,
            error=check.detail,
        )
    if compiler_state(chip) == "missing":
        return tr(
            "Predicted from the published op list. Install the qnn extra (pip install "
            "'edge-deploy-studio[qnn]') to have {vendor}'s compiler check it.",
            vendor=chip.vendor,
        )
    return tr("Where each node runs is predicted from the published op list.")


def placement_text(chip: ChipProfile, check: PlacementCheck) -> str:
    """The compiler's answer: the share on the NPU, then each node it left to the CPU."""
    placement = check.placement
    if placement is None:
        return predicted_text(chip, check)
    compute = placement.compute
    on_npu = sum(n.on_npu for n in compute)
    lines = [
        tr(
            "Checked by {vendor}'s compiler: {share} of the model's nodes run on the NPU "
            "({on} of {total}).",
            vendor=chip.vendor,
            share=f"{placement.npu_share:.0%}",
            on=on_npu,
            total=len(compute),
        )
    ]
    if placement.all_on_npu:
        lines.append(tr("Every node runs on the NPU; nothing falls back to the CPU."))
    fallback = placement.fallback
    for node in fallback[:SHOWN_FALLBACK]:
        lines.append(
            tr(
                "CPU fallback: {node} ({op}) — {reason}",
                node=node.name,
                op=node.op_type,
                reason=node.reason or tr("left to the CPU by the compiler"),
            )
        )
    if len(fallback) > SHOWN_FALLBACK:
        lines.append(tr("…and {n} more nodes on the CPU", n=len(fallback) - SHOWN_FALLBACK))
    return "\n".join(lines)


class PlacementPanel(QWidget):
    """The compiler's placement for the chosen chip, asked in a background job."""

    placed = Signal(object)  # the PlacementCheck once the job answered

    def __init__(self, jobs: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.job: QtJob | None = None
        self.check_result: PlacementCheck | None = None
        self._asked: tuple[str, str, str] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("")
        self.label.setObjectName("factLabel")
        self.label.setWordWrap(True)  # the whole verdict, never cut off
        layout.addWidget(self.label)
        self.progress = JobProgress()
        layout.addWidget(self.progress)

    def show_for(self, model: Path | None, shapes: dict[str, list[int]] | None, chip: str) -> None:
        """Show ``chip``'s placement of ``model``: asks the compiler when it is here."""
        profile = get_chip(chip)
        key = (str(model), repr(shapes), chip)
        if model is None or compiler_state(profile) != "ready":
            self._stop()
            self.label.setText(predicted_text(profile, None))
            self.label.setVisible(bool(self.label.text()))
            return
        if key == self._asked:
            return  # already shown or on its way
        self._stop()
        self._asked = key
        self.check_result = None
        self.label.setText(
            tr("Asking {vendor}'s compiler where each node runs…", vendor=profile.vendor)
        )
        self.label.show()
        spec = JobSpec(
            title=tr("Place {name} on {chip}", name=model.name, chip=profile.name),
            target="studio.core.compile.probe:check_placement",
            kwargs={"model": str(model), "chip": chip, "shapes": shapes or None},
        )
        job = self.jobs.start(spec) if self.jobs is not None else QtJob(spec, self).start()
        self.job = job
        self.progress.track(job)
        job.succeeded.connect(lambda value: self._on_result(job, profile, value))
        job.failed.connect(lambda message: self._on_failed(job, profile, message))

    def _on_result(self, job: QtJob, chip: ChipProfile, check: PlacementCheck) -> None:
        if job is not self.job:
            return  # another chip's or model's answer
        self.check_result = check
        self.label.setText(placement_text(chip, check))
        self.placed.emit(check)

    def _on_failed(self, job: QtJob, chip: ChipProfile, message: str) -> None:
        if job is not self.job:
            return
        self._asked = None  # asked again next time
        self.label.setText(predicted_text(chip, _rejected(chip.id, message)))

    def _stop(self) -> None:
        if self.job is not None and not self.job.is_finished:
            self.job.cancel()
        self.job = None
        self._asked = None
        self.progress.hide()

    def shutdown(self) -> None:
        if self.job is not None and not self.job.is_finished:
            self.job.handle.cancel()
            self.job.wait(5000)


# Inspect's graph coloured by where each node runs: blue on the NPU, red left to the CPU.
PLACE_COLOURS = {"npu": ("#2563eb", "#ffffff"), "cpu": ("#dc2626", "#ffffff")}


def placement_colours(check: PlacementCheck) -> dict[str, tuple[str, str]]:
    """Node name → (background, text) for the model's own nodes (not the Q/DQ pairs)."""
    if check.placement is None:
        return {}
    return {n.name: PLACE_COLOURS["npu" if n.on_npu else "cpu"] for n in check.placement.compute}


class PlacementLegend(QWidget):
    """What the placement colours mean, and who placed the nodes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.title = QLabel("")
        layout.addWidget(self.title)
        for kind, text in (("npu", tr("NPU")), ("cpu", tr("CPU fallback"))):
            swatch = QLabel("  ")
            swatch.setStyleSheet(f"background: {PLACE_COLOURS[kind][0]};")
            swatch.setFixedSize(14, 12)
            layout.addWidget(swatch)
            layout.addWidget(QLabel(text))
        layout.addStretch(1)
        self.setVisible(False)

    def show_for(self, chip: ChipProfile, check: PlacementCheck) -> None:
        share = check.placement.npu_share if check.placement else 0.0
        self.title.setText(
            tr(
                "Where each node runs on {chip}, checked by {vendor}'s compiler ({share} on the "
                "NPU):",
                chip=chip.name,
                vendor=chip.vendor,
                share=f"{share:.0%}",
            )
        )
        self.setVisible(True)


def _rejected(chip_id: str, detail: str) -> PlacementCheck:
    from studio.core.compile.probe import PlacementCheck

    return PlacementCheck(chip=chip_id, predicted="rejected", detail=detail)
