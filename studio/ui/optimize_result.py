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

from studio.core.model import human_size
from studio.ui.widgets import Card, big_label

if TYPE_CHECKING:
    from studio.core.compress import CompressResult

WARN_STYLE = "color: #c5221f; font-weight: 600;"


def _table(headers: list[str], rows: list[list[str]], name: str) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(False)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeRowsToContents()
    header = table.horizontalHeader().sizeHint().height()
    table.setFixedHeight(header + table.verticalHeader().length() + 2 * table.frameWidth() + 2)
    table.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
    return table



def cosine_text(cosine: float, digits: int = 4) -> str:
    # The drift module pulls in numpy; load it when a result is shown, not at start-up.
    from studio.core.drift import cosine_text as text

    return text(cosine, digits)


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
        for col, name in enumerate(("Method", "Latency on this PC", "Samples compared")):
            title = QLabel(name)
            title.setObjectName("factLabel")
            value = QLabel("—")
            value.setObjectName("factValue")
            facts.addWidget(title, 0, col)
            facts.addWidget(value, 1, col)
            self.facts[name] = value
        self.body.addLayout(facts)
        self.slower = QLabel("")
        self.slower.setObjectName("slowerWarning")
        self.slower.setWordWrap(True)
        self.slower.setStyleSheet(WARN_STYLE)
        self.body.addWidget(self.slower)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.body.addWidget(self.notes)
        self.tables = QWidget()
        self.tables_layout = QGridLayout(self.tables)
        self.tables_layout.setContentsMargins(0, 0, 0, 0)
        self.body.addWidget(self.tables)
        self.keep_button = QPushButton("Keep these in float and re-run")
        self.keep_button.setObjectName("keepFloatButton")
        self.keep_button.setToolTip("Leaves the layers that add the most error unquantized and "
                                    "optimizes again (mixed precision).")
        self.keep_button.clicked.connect(
            lambda: self.keep_float_requested.emit(list(self.suggested)))
        self.body.addWidget(self.keep_button)
        self.suggested: list[str] = []
        self.hide()

    def show_result(self, result: CompressResult) -> None:
        self.verdict.setText(
            f"{human_size(result.size_before)} → {human_size(result.size_after)}  "
            f"({result.ratio:.1f}× smaller)" + (
                f" — Auto chose {result.chosen.value}" if result.method.value == "auto" else ""))
        self.facts["Method"].setText(result.chosen.value)
        rep = result.report
        while self.tables_layout.count():
            item = self.tables_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.slower.setText("")
        if result.channels:  # the fine-tune warning is the first thing to read
            self.slower.setText(f"⚠ {result.channels.note}")
        if rep is None:
            self.drift.setText("Drift was not measured.")
            self.suggested = []
        else:
            verdict = rep.verdict() + "."
            labelled = [o for o in rep.outputs if o.accuracy_before is not None]
            if labelled:
                o = labelled[0]
                verdict += (f" Accuracy on labelled samples: {o.accuracy_before:.1%} → "
                            f"{o.accuracy_after:.1%}.")
            self.drift.setText(verdict)
            if rep.latency_before_ms and rep.latency_after_ms:
                self.facts["Latency on this PC"].setText(
                    f"{rep.latency_before_ms:.2f} → {rep.latency_after_ms:.2f} ms")
            target_note = next((w for w in rep.warnings if w.startswith("On this PC's CPU")),
                               None)
            if rep.slower:
                slower = (f"⚠ {target_note}" if target_note else
                          f"⚠ Slower than the original on this PC "
                          f"({rep.latency_after_ms:.2f} ms vs "
                          f"{rep.latency_before_ms:.2f} ms). Try another preset.")
                self.slower.setText("\n".join(t for t in (slower, self.slower.text()) if t))
            self.facts["Samples compared"].setText(f"{rep.samples} ({rep.sample_source})")
            self._add_tables(result)
            self.suggested = list(rep.suggest_keep_float)
        self.keep_button.setVisible(bool(self.suggested))
        if self.suggested:
            self.keep_button.setText(f"Keep {', '.join(self.suggested[:3])} in float and re-run")
        notes = [f"⚠ {w}" for w in result.warnings + (rep.warnings if rep else [])
                 if not w.startswith(("The compressed model is SLOWER", "On this PC's CPU"))]
        if result.sparsity:
            s = result.sparsity
            notes.append(f"Sparsity: {s.zeros_before:.0%} → {s.zeros_after:.0%} of weights are "
                         f"zero. {s.note}")
        if result.channels:
            c = result.channels
            notes.append(f"{c.summary}. {c.speed}")
        if result.kept_float:
            notes.append(f"Kept in float: {', '.join(result.kept_float[:8])}")
        notes.append(f"Saved as {result.output} (your original is untouched).")
        self.notes.setText("\n".join(notes))
        self.show()

    def _add_tables(self, result: CompressResult) -> None:
        rep = result.report
        assert rep is not None
        rows = [[o.name, cosine_text(o.cosine, 5), f"{o.max_abs:.3g}", f"{o.mean_abs:.3g}",
                 f"{o.snr_db:.1f}", "—" if o.top1 is None else f"{o.top1:.0%}",
                 "—" if o.top5 is None else f"{o.top5:.0%}"] for o in rep.outputs]
        row = 0
        outputs = _table(["Output", "Cosine", "Max error", "Mean error", "SNR dB", "Top-1 same",
                          "Top-5 same"], rows, "outputsTable")
        outputs.setToolTip("Cosine 1.0 = identical direction; SNR in dB (higher = closer); "
                           "Top-1/Top-5 same = the original's best class is still first/top 5.")
        # Outputs and worst layers side by side: both are narrow, and height is scarce.
        self.tables_layout.addWidget(outputs, row, 0, Qt.AlignmentFlag.AlignTop)
        if rep.worst_layers:
            layers = _table(["Layer adding most drift", "Op", "Cosine there", "Adds"],
                            [[w.node, w.op_type, cosine_text(w.cosine, 5), f"{w.added:.1e}"]
                             for w in rep.worst_layers[:5]], "layersTable")
            self.tables_layout.addWidget(layers, row, 1, Qt.AlignmentFlag.AlignTop)
        row += 1
        if result.candidates:
            cands = _table(
                ["Auto tried", "Size", "ms", "Cosine", "Result"],
                [[c.method.value, human_size(c.size) if c.size else "—",
                  f"{c.latency_ms:.2f}" if c.latency_ms else "—",
                  cosine_text(c.cosine) if c.cosine is not None else "—",
                  "chosen" if c.chosen else (c.note or "ok")]
                 for c in result.candidates], "candidatesTable")
            self.tables_layout.addWidget(cands, row, 0, 1, 2)
