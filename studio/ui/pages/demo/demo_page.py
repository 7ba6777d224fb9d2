"""Step 6, Demo: run the bundled model on a sample and show what it says and how fast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.jobs import JobSpec
from studio.core.paths import demo_samples_path
from studio.ui.i18n import N_, tr, trn
from studio.ui.jobs_qt import JobManager
from studio.ui.pages.demo.chat_demo import ChatDemo
from studio.ui.pages.demo.serve_panel import ServePanel
from studio.ui.state import WizardState
from studio.ui.widgets import Card, JobProgress, JobStepPage, big_label, show_error

if TYPE_CHECKING:
    from studio.core.analyze.sample_run import SampleRun


def preview_pixmap(values: list[list[float]], size: int = 160) -> QPixmap:
    import numpy as np  # loaded on first use, not at start-up

    array = np.asarray(values, dtype=np.float64)
    span = float(array.max() - array.min()) or 1.0
    gray = (255 * (1.0 - (array - array.min()) / span)).astype(np.uint8)
    gray = np.ascontiguousarray(gray)
    image = QImage(
        gray.data, gray.shape[1], gray.shape[0], gray.strides[0], QImage.Format.Format_Grayscale8
    )
    return QPixmap.fromImage(image.copy()).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


class DemoPage(JobStepPage):
    title = N_("6 · Demo")
    explanation = N_(
        "Run the finished bundle on this PC with a sample input and see its answer and speed, "
        "or chat with a language model and watch its tokens per second."
    )

    def __init__(self, state: WizardState, jobs: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(state, jobs, parent)
        self.sample_index = 0
        row = QHBoxLayout()
        self.run_button = QPushButton(tr("Run on this PC"))
        self.run_button.setObjectName("primaryButton")
        self.run_button.clicked.connect(self.start)
        self.next_button = QPushButton(tr("Next sample"))
        self.next_button.clicked.connect(self._next_sample)
        row.addWidget(self.run_button)
        row.addWidget(self.next_button)
        row.addStretch()
        # Two demos share the step: this bundle on a sample, and text generation (chat_demo).
        sample_tab = QWidget()
        sample = QVBoxLayout(sample_tab)
        sample.addLayout(row)
        self.progress = JobProgress()
        sample.addWidget(self.progress)
        card = Card()
        inner = QHBoxLayout()
        self.picture = QLabel()
        self.picture.setFixedSize(170, 170)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        inner.addWidget(self.picture)
        text = QVBoxLayout()
        self.answer = big_label(tr("Press “Run on this PC”."), "hugeValue")
        self.speed = big_label("")
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setObjectName("factLabel")
        text.addWidget(self.answer)
        text.addWidget(self.speed)
        text.addWidget(self.detail)
        text.addStretch()
        inner.addLayout(text, 1)
        card.body.addLayout(inner)
        sample.addWidget(card)
        self.serve = ServePanel(jobs)
        self.serve.bundle = lambda: self.state.bundle_path
        sample.addWidget(self.serve)
        sample.addStretch()
        self.chat = ChatDemo(jobs)
        self.tabs = QTabWidget()
        self.tabs.addTab(sample_tab, tr("This bundle on a sample"))
        self.tabs.addTab(self.chat, tr("Chat with a language model"))
        self.outer.addWidget(self.tabs, 1)

    def _model(self) -> str:
        bundle = self.state.bundle_path
        return str(bundle / "model.onnx") if bundle else str(self.state.deployable_model())

    def entered(self) -> None:
        if self.job is None:
            self.start()

    def left(self) -> None:
        self.serve.stop()  # a server outlives no visit to the step

    def shutdown(self) -> None:
        self.chat.shutdown()  # ends the chat's model worker processes
        self.serve.stop()

    def _next_sample(self) -> None:
        self.sample_index += 1
        self.start()

    def start(self) -> None:
        if self.job_running():
            return
        samples = demo_samples_path() if self.state.recipe.model.source == "demo" else None
        self.job = self.jobs.start(
            JobSpec(
                title=tr("Demo run on this PC"),
                target="studio.core.analyze.sample_run:run_sample",
                kwargs={
                    "model": self._model(),
                    "samples": str(samples) if samples else None,
                    "index": self.sample_index % 100 if samples else self.sample_index,
                    "runs": 20,
                },
            ),
            measures=True,  # ms per run on this PC
        )
        self.progress.track(self.job)
        self.job.succeeded.connect(self._show)
        self.job.failed.connect(
            lambda message: show_error(self, message, tr("The demo run failed"))
        )

    def _show(self, run: SampleRun) -> None:
        if run.input_preview:
            self.picture.setPixmap(preview_pixmap(run.input_preview))
        else:
            self.picture.clear()
        first = run.outputs[0] if run.outputs else None
        if first and first.top_classes:
            best, prob = first.top_classes[0]
            if run.label is not None:
                self.answer.setText(
                    tr(
                        "It reads: {answer}   {sure:.0%} sure  (true answer: {label})",
                        answer=best,
                        sure=prob,
                        label=run.label,
                    )
                )
            else:
                self.answer.setText(
                    tr("It reads: {answer}   {sure:.0%} sure", answer=best, sure=prob)
                )
        elif first:
            values = " ".join(f"{v:.3g}" for v in first.first_values[:4])
            self.answer.setText(tr("Output {name}: {values} …", name=first.name, values=values))
        self.speed.setText(tr("{ms:.3f} ms per run on this PC", ms=run.latency_ms))
        self.detail.setText(
            trn(
                "Input: {sample}. Median of {n} run. Model: {model}",
                "Input: {sample}. Median of {n} runs. Model: {model}",
                run.runs,
                sample=run.sample,
                model=run.model,
            )
        )
