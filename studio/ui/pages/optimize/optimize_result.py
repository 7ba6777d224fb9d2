"""Before/after card for the Optimize step: size, speed, a drift verdict, the outputs, the worst
layers with one-click "keep in float and re-run", and Auto's table of what it tried."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from studio.core.units import human_size
from studio.ui.i18n import N_, tr, tr_core
from studio.ui.messages import show, shown_warnings
from studio.ui.widgets import Card, big_label, warning_label

if TYPE_CHECKING:
    from studio.core.compress import CompressResult

FACTS = (N_("Method"), N_("Latency on this PC"), N_("Samples compared"))


def _table(name: str) -> QTableWidget:
    table = QTableWidget(0, 0)
    table.setObjectName(name)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(False)
    table.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
    table.hide()
    return table


def _fill(table: QTableWidget, headers: list[str], rows: list[list[str]]) -> None:
    """Fill a table made once: re-creating tables per result re-polished, re-laid out and
    deleted widgets on the UI thread each time a job finished."""
    table.setUpdatesEnabled(False)
    table.clearContents()
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeRowsToContents()
    header = table.horizontalHeader().sizeHint().height()
    table.setFixedHeight(header + table.verticalHeader().length() + 2 * table.frameWidth() + 2)
    table.setUpdatesEnabled(True)
    table.show()


def cosine_text(cosine: float, digits: int = 4) -> str:
    # The drift module pulls in numpy; load it when a result is shown, not at start-up.
    from studio.core.analyze.drift import cosine_text as text

    return text(cosine, digits)


def _warnings(result: CompressResult) -> list[str]:
    """The result's warnings in the GUI's words, less the slower-speed one (shown on its own)."""
    rep = result.report
    shown = shown_warnings(result.warnings, result.notices)
    if rep is not None:
        slower = [n for n in rep.notices if n.id in ("drift.slower", "drift.slower_not_target")]
        hidden = {n.english() for n in slower}
        others = [n for n in rep.notices if n not in slower]
        shown += shown_warnings([w for w in rep.warnings if w not in hidden], others)
    return shown


class ResultCard(Card):
    keep_float_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdict = big_label(name="hugeValue")
        self.drift = big_label(name="bigValue")
        self.body.addWidget(self.verdict)
        self.body.addWidget(self.drift)
        facts = QGridLayout()
        self.facts: dict[str, QLabel] = {}
        for col, name in enumerate(FACTS):
            title = QLabel(tr(name))
            title.setObjectName("factLabel")
            value = QLabel("—")
            value.setObjectName("factValue")
            facts.addWidget(title, 0, col)
            facts.addWidget(value, 1, col)
            self.facts[name] = value
        self.body.addLayout(facts)
        self.slower = warning_label("slowerWarning")
        self.body.addWidget(self.slower)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.body.addWidget(self.notes)
        self.tables = QWidget()
        self.tables_layout = QGridLayout(self.tables)
        self.tables_layout.setContentsMargins(0, 0, 0, 0)
        self.outputs_table = _table("outputsTable")
        self.outputs_table.setToolTip(
            tr(
                "Cosine 1.0 = identical direction; SNR in dB (higher = closer); "
                "Top-1/Top-5 same = the original's best class is still first/top 5."
            )
        )
        self.layers_table = _table("layersTable")
        self.candidates_table = _table("candidatesTable")
        # Outputs and worst layers side by side: both are narrow, and height is scarce.
        self.tables_layout.addWidget(self.outputs_table, 0, 0, Qt.AlignmentFlag.AlignTop)
        self.tables_layout.addWidget(self.layers_table, 0, 1, Qt.AlignmentFlag.AlignTop)
        self.tables_layout.addWidget(self.candidates_table, 1, 0, 1, 2)
        self.body.addWidget(self.tables)
        self.keep_button = QPushButton(tr("Keep these in float and re-run"))
        self.keep_button.setObjectName("keepFloatButton")
        self.keep_button.setToolTip(
            tr(
                "Leaves the layers that add the most error unquantized "
                "and optimizes again (mixed precision)."
            )
        )
        self.keep_button.clicked.connect(
            lambda: self.keep_float_requested.emit(list(self.suggested))
        )
        self.body.addWidget(self.keep_button)
        self.suggested: list[str] = []
        self.hide()

    def show_result(self, result: CompressResult) -> None:
        sizes = {
            "before": human_size(result.size_before),
            "after": human_size(result.size_after),
            "ratio": result.ratio,
        }
        if result.method.value == "auto":
            self.verdict.setText(
                tr(
                    "{before} → {after}  ({ratio:.1f}× smaller) — Auto chose {method}",
                    method=result.chosen.value,
                    **sizes,
                )
            )
        else:
            self.verdict.setText(tr("{before} → {after}  ({ratio:.1f}× smaller)", **sizes))
        self.facts["Method"].setText(result.chosen.value)
        rep = result.report
        for table in (self.outputs_table, self.layers_table, self.candidates_table):
            table.hide()
        self.slower.setText("")
        if result.channels:  # the fine-tune warning is the first thing to read
            self.slower.setText(f"⚠ {result.channels.note}")
        if rep is None:
            self.drift.setText(tr("Drift was not measured."))
            self.suggested = []
        else:
            verdict = show(rep.verdict_message()) + tr(".")
            labelled = [o for o in rep.outputs if o.accuracy_before is not None]
            if labelled:
                o = labelled[0]
                verdict += tr(
                    " Accuracy on labelled samples: {before:.1%} → {after:.1%}.",
                    before=o.accuracy_before,
                    after=o.accuracy_after,
                )
            self.drift.setText(verdict)
            if rep.latency_before_ms and rep.latency_after_ms:
                self.facts["Latency on this PC"].setText(
                    f"{rep.latency_before_ms:.2f} → {rep.latency_after_ms:.2f} ms"
                )
            target_note = next(
                (show(n) for n in rep.notices if n.id == "drift.slower_not_target"), None
            )
            if rep.slower:
                slower = (
                    f"⚠ {target_note}"
                    if target_note
                    else tr(
                        "⚠ Slower than the original on this PC "
                        "({after:.2f} ms vs {before:.2f} ms). Try another preset.",
                        after=rep.latency_after_ms,
                        before=rep.latency_before_ms,
                    )
                )
                self.slower.setText("\n".join(t for t in (slower, self.slower.text()) if t))
            self.facts["Samples compared"].setText(f"{rep.samples} ({tr_core(rep.sample_source)})")
            self._add_tables(result)
            self.suggested = list(rep.suggest_keep_float)
        self.keep_button.setVisible(bool(self.suggested))
        if self.suggested:
            self.keep_button.setText(
                tr("Keep {layers} in float and re-run", layers=", ".join(self.suggested[:3]))
            )
        notes = [f"⚠ {w}" for w in _warnings(result)]
        if result.sparsity:
            s = result.sparsity
            notes.append(
                tr(
                    "Sparsity: {before:.0%} → {after:.0%} of weights are zero.",
                    before=s.zeros_before,
                    after=s.zeros_after,
                )
                + f" {s.note}"
            )
        if result.channels:
            c = result.channels
            notes.append(f"{c.summary}. {c.speed}")  # from core: English
        if result.kept_float:
            notes.append(tr("Kept in float: {layers}", layers=", ".join(result.kept_float[:8])))
        notes.append(tr("Saved as {path} (your original is untouched).", path=result.output))
        self.notes.setText("\n".join(notes))
        self.show()

    def _add_tables(self, result: CompressResult) -> None:
        rep = result.report
        assert rep is not None
        rows = [
            [
                o.name,
                cosine_text(o.cosine, 5),
                f"{o.max_abs:.3g}",
                f"{o.mean_abs:.3g}",
                f"{o.snr_db:.1f}",
                "—" if o.top1 is None else f"{o.top1:.0%}",
                "—" if o.top5 is None else f"{o.top5:.0%}",
            ]
            for o in rep.outputs
        ]
        _fill(
            self.outputs_table,
            [
                tr("Output"),
                tr("Cosine"),
                tr("Max error"),
                tr("Mean error"),
                tr("SNR dB"),
                tr("Top-1 same"),
                tr("Top-5 same"),
            ],
            rows,
        )
        if rep.worst_layers:
            _fill(
                self.layers_table,
                [tr("Layer adding most drift"), tr("Op"), tr("Cosine there"), tr("Adds")],
                [
                    [w.node, w.op_type, cosine_text(w.cosine, 5), f"{w.added:.1e}"]
                    for w in rep.worst_layers[:5]
                ],
            )
        if result.candidates:
            _fill(
                self.candidates_table,
                [tr("Auto tried"), tr("Size"), "ms", tr("Cosine"), tr("Result")],
                [
                    [
                        c.method.value,
                        human_size(c.size) if c.size else "—",
                        f"{c.latency_ms:.2f}" if c.latency_ms else "—",
                        cosine_text(c.cosine) if c.cosine is not None else "—",
                        tr("chosen") if c.chosen else (c.note or tr("ok")),
                    ]
                    for c in result.candidates
                ],
            )
