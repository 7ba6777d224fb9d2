"""Step 4, Inspect: where the time goes, layer by layer, measured on this PC."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from studio.core.analyze.profile import NodeTiming, ProfileResult
from studio.core.bundle.steps import MeasureRequest, measure, step_target
from studio.core.jobs import JobSpec
from studio.ui.i18n import N_, join_sentences, tr, tr_core, trn
from studio.ui.jobs_qt import JobManager
from studio.ui.messages import show
from studio.ui.pages.inspect.inspect_views import InspectViews
from studio.ui.pages.inspect.profile_charts import display_name
from studio.ui.pages.inspect.row_table import Column, RowTable
from studio.ui.state import WizardState
from studio.ui.widgets import (
    Card,
    JobProgress,
    JobStepPage,
    big_label,
    show_error,
    warning_label,
)


def fused_tooltip(node: NodeTiming) -> str:
    """What onnxruntime did with the user's layers to get this kernel, if anything."""
    if len(node.fused_from) > 1:
        return tr(
            "onnxruntime merged these layers of your model into this one step: {layers}",
            layers=", ".join(node.fused_from),
        )
    if node.fused_from:
        return tr(
            "Your layer {layer}, run by onnxruntime in a faster form", layer=node.fused_from[0]
        )
    return ""


def _name(node: NodeTiming) -> str:
    return node.name


def layer_columns() -> list[Column]:
    return [
        Column(tr("Layer (node)"), display_name, tooltip=fused_tooltip),
        Column(tr("Operation"), lambda n: n.op_type),
        Column(tr("Median ms"), lambda n: f"{n.median_ms:.4f}", number=lambda n: n.median_ms),
        Column(tr("Share of time"), lambda n: f"{n.share:.1%}", number=lambda n: n.share),
    ]


class InspectPage(JobStepPage):
    title = N_("4 · Inspect")
    explanation = N_(
        "The studio runs the optimized model many times on this PC and times every layer, so "
        "you can see which parts are slow. Click a column header to sort."
    )

    def __init__(self, state: WizardState, jobs: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(state, jobs, parent)
        summary = Card()
        self.verdict = big_label(tr("Not measured yet."))
        self.slowest = QLabel()
        self.slowest.setWordWrap(True)
        # How the figures were taken is for specialists: one click away, not in everyone's way.
        self.details_toggle = QToolButton()
        self.details_toggle.setObjectName("detailsToggle")
        self.details_toggle.setText(tr("Details ▸"))
        self.details_toggle.setCheckable(True)
        self.details_toggle.toggled.connect(self._expand)
        self.details_toggle.hide()
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setObjectName("factLabel")
        self.detail.hide()
        # Shown only when the machine changed speed while profiling: the figures may not repeat.
        self.unsteady = warning_label("unsteadyWarning")
        self.unsteady.hide()
        summary.body.addWidget(self.verdict)
        summary.body.addWidget(self.unsteady)
        summary.body.addWidget(self.slowest)
        summary.body.addWidget(self.details_toggle)
        summary.body.addWidget(self.detail)
        self.outer.addWidget(summary)
        row = QHBoxLayout()
        self.run_button = QPushButton(tr("Measure again"))
        self.run_button.clicked.connect(self.start)
        row.addWidget(self.run_button)
        row.addStretch()
        self.outer.addLayout(row)
        self.progress = JobProgress()
        self.outer.addWidget(self.progress)
        self.table = RowTable()
        self.table.setObjectName("profileTable")
        self.table.set_rows(layer_columns(), [], key=_name, sort_column=2)
        self.views = InspectViews(self.table, state, jobs)
        row.insertWidget(1, self.views.settings)
        self.outer.addWidget(self.views, 1)  # the table is its first tab
        state.optimized.connect(self._stale)
        state.model_changed.connect(self._stale)

    def _expand(self, on: bool) -> None:
        self.details_toggle.setText(tr("Details ▾") if on else tr("Details ▸"))
        self.detail.setVisible(on)

    def _stale(self) -> None:
        self.state.profile_result = None
        self.table.clear()
        self.verdict.setText(tr("Not measured yet."))
        self.slowest.setText("")
        self.detail.setText("")
        self.details_toggle.hide()
        self.unsteady.hide()
        self.views.clear()

    def entered(self) -> None:
        if self.state.profile_result is None and not self.job_running():
            self.start()

    def ready(self) -> tuple[bool, str]:
        if self.job_running():
            return False, tr("Measuring…")
        return True, ""

    def start(self) -> None:
        if not self.views.settings.store():
            return
        model = self.state.deployable_model()
        self.views.measuring(model)
        recipe = self.state.recipe
        self.job = self.jobs.start(
            JobSpec(
                title=tr("Measure {name}", name=model.stem),
                target=step_target(measure),
                kwargs={"request": MeasureRequest.from_recipe(recipe, model)},
            ),
            measures=True,
        )
        self.progress.track(self.job)
        self.run_button.setEnabled(False)
        self.job.succeeded.connect(self._show)
        self.job.failed.connect(lambda message: show_error(self, message, tr("Measuring failed")))
        self.job.finished.connect(
            lambda: (self.run_button.setEnabled(True), self.ready_changed.emit())
        )
        self.ready_changed.emit()

    def _show(self, result: ProfileResult) -> None:
        self.state.profile_result = result
        self.state.profiled.emit()
        slowest = result.nodes[0] if result.nodes else None
        all_cores = result.end_to_end_all_cores_ms
        if all_cores is not None and all_cores < result.end_to_end_ms:
            self.verdict.setText(
                tr(
                    "{fast:.3f} ms per run on this PC's {n} cores ({ms:.3f} ms on 1 thread)",
                    fast=all_cores,
                    n=result.all_cores,
                    ms=result.end_to_end_ms,
                )
            )
        elif all_cores is not None:
            # Small models often run faster on one thread: waking others costs more than it saves.
            self.verdict.setText(
                tr(
                    "{ms:.3f} ms per run on this PC, on 1 thread ({slow:.3f} ms on all {n} cores)",
                    ms=result.end_to_end_ms,
                    n=result.all_cores,
                    slow=all_cores,
                )
            )
        else:
            self.verdict.setText(tr("{ms:.3f} ms per run on this PC", ms=result.end_to_end_ms))
        shapes = ", ".join(f"{k} {'×'.join(map(str, v))}" for k, v in result.input_shapes.items())
        parts = [
            trn(
                "Median of {n} run on {threads}; input shapes {shapes}.",
                "Median of {n} runs on {threads}; input shapes {shapes}.",
                result.runs,
                threads=trn("{n} thread", "{n} threads", result.threads),
                shapes=shapes,
            )
        ]
        if result.end_to_end_all_cores_ms is not None:
            parts.append(
                tr(
                    "Layers are timed on 1 thread, where their times repeat from run to "
                    "run; their shares say which layers cost the most."
                )
            )
        if result.sessions_used > 1:  # "over 1 fresh sessions" reads wrong
            parts.append(
                tr(
                    "Layer times are medians of {n} profiled runs over {k} fresh sessions, so "
                    "no one memory layout skews them.",
                    n=result.runs_used,
                    k=result.sessions_used,
                )
            )
        if result.sessions_set_aside:
            parts.append(
                trn(
                    "{n} more session ran over 10% slower than the fastest, while something else "
                    "was using this PC, and was left out.",
                    "{n} more sessions ran over 10% slower than the fastest, while something else "
                    "was using this PC, and were left out.",
                    result.sessions_set_aside,
                )
            )
        self.slowest.setText(
            tr(
                "Slowest layer: {name} ({op}), {share:.0%} of the time.",
                name=display_name(slowest),
                op=slowest.op_type,
                share=slowest.share,
            )
            if slowest
            else ""
        )
        parts.append(tr("Profiled total {ms:.3f} ms.", ms=result.profiled_total_ms))
        note = result.note_message
        parts.append(show(note) if note else tr_core(result.note))
        self.unsteady.setVisible(not result.steady)
        if result.mostly_slowed:
            self.unsteady.setText(
                tr(
                    "⚠ Most of the profiling ran while something else was using this PC's processor "
                    "or memory: {k} of {n} sessions ran over 10% slower than the fastest. Measure "
                    "again when it is quieter for steadier figures.",
                    k=result.sessions_set_aside,
                    n=result.sessions,
                )
            )
        else:
            self.unsteady.setText(
                ""
                if result.steady
                else tr(
                    "⚠ Layer times moved by up to {moved:.0%} between the first and second half of "
                    "profiling: something else was using this PC's processor or memory. Measure "
                    "again when it is quieter for steadier figures.",
                    moved=result.halves_moved,
                )
            )
        self.detail.setText(join_sentences(parts))
        self.details_toggle.show()
        # Slowest first; the op types and numbers show whole, the names take what is left.
        self.table.set_rows(layer_columns(), result.nodes, key=_name, sort_column=2, fit=(1, 2, 3))
        # The graph colours and charts follow in the next turn of the event loop: for a large
        # graph the table and they together hold the window too long in one turn.
        QTimer.singleShot(0, lambda: self._show_views(result))

    def _show_views(self, result: ProfileResult) -> None:
        if result is self.state.profile_result:  # not replaced or cleared meanwhile
            self.views.show_profile(result)
