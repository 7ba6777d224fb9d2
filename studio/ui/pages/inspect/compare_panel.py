"""Compare: the original model and the optimized one side by side.

Sizes and speed first (the verdict), then per-layer time before/after with the compression
report's drift, then the list of graph changes, highlighted in the graph below. Profiling both
models runs as a background job (``studio.core.analyze.diff:compare_original_and_optimized``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.core.units import human_size
from studio.ui.i18n import tr, trn
from studio.ui.pages.inspect.netron_view import DIFF_COLOURS, NetronView, with_text
from studio.ui.pages.inspect.row_table import Column, RowTable

if TYPE_CHECKING:  # the diff module pulls in onnxruntime helpers; not needed at start-up
    from studio.core.analyze.diff import DiffResult, LayerDelta
    from studio.core.chips.heat import TwoChips


@dataclass(frozen=True)
class _DiffRow:
    delta: LayerDelta
    drift: float | None  # the compression report's figure for this layer, if it has one


@dataclass(frozen=True)
class _Change:
    kind: str  # "changed", "added", "removed"; "" for a line that is not a change
    name: str
    text: str


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _change(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.4f}"


def diff_columns() -> list[Column]:
    def label(row: _DiffRow) -> str:
        names = row.delta.names
        return (
            tr("{name} (+{count} fused)", name=names[0], count=len(names) - 1)
            if len(names) > 1
            else names[0]
        )

    def change(row: _DiffRow) -> float:
        return row.delta.delta_ms

    return [
        Column(tr("Layers"), label, tooltip=lambda row: ", ".join(row.delta.names)),
        Column(tr("Before ms"), lambda row: _ms(row.delta.ms_a), number=lambda row: row.delta.ms_a),
        Column(tr("After ms"), lambda row: _ms(row.delta.ms_b), number=lambda row: row.delta.ms_b),
        Column(
            tr("Change"),
            lambda row: _signed(change(row)),
            number=change,
            colour=lambda row: DIFF_COLOURS["removed"] if change(row) > 0 else None,
        ),
        Column(
            tr("Drift"),
            lambda row: "" if row.drift is None else f"{row.drift:.4f}",
            number=lambda row: row.drift,
            header_tip=tr(
                "How closely this layer's output still matches the original "
                "(1.0 = identical), from the compression report."
            ),
        ),
    ]


def chip_columns(result: TwoChips) -> list[Column]:
    return [
        Column(tr("Layer"), lambda layer: layer.name, tooltip=lambda layer: layer.name),
        Column(
            "A ms",
            lambda layer: _ms(layer.ms_a),
            number=lambda layer: layer.ms_a,
            header_tip=tr("Predicted on {chip}", chip=result.name_a),
        ),
        Column(
            "B ms",
            lambda layer: _ms(layer.ms_b),
            number=lambda layer: layer.ms_b,
            header_tip=tr("Predicted on {chip}", chip=result.name_b),
        ),
        Column(
            "B − A",
            lambda layer: _signed(_change(layer.ms_a, layer.ms_b)),
            number=lambda layer: _change(layer.ms_a, layer.ms_b),
        ),
    ]


def verdict_lines(diff: DiffResult) -> list[str]:
    """Plain sentences for the top of the view."""
    a, b = diff.a, diff.b
    sizes = {"before": human_size(a.file_size), "after": human_size(b.file_size)}
    lines = [
        tr(
            "Size: {before} → {after} ({ratio:.1f}× smaller)",
            ratio=a.file_size / max(b.file_size, 1),
            **sizes,
        )
        if b.file_size < a.file_size
        else tr("Size: {before} → {after} (not smaller)", **sizes)
    ]
    if diff.end_to_end_ms:
        before, after = diff.end_to_end_ms
        if after <= before:
            lines.append(
                tr(
                    "Speed on this PC: {before:.3f} ms → {after:.3f} ms ({ratio:.2f}× faster)",
                    before=before,
                    after=after,
                    ratio=before / max(after, 1e-9),
                )
            )
        else:
            lines.append(
                tr(
                    "Speed on this PC: {before:.3f} ms → {after:.3f} ms "
                    "— {ratio:.2f}× SLOWER than the original",
                    before=before,
                    after=after,
                    ratio=after / max(before, 1e-9),
                )
            )
    lines.append(
        trn(
            "Graph: {n} layer changed, {added} added, {removed} removed, {unchanged} unchanged",
            "Graph: {n} layers changed, {added} added, {removed} removed, {unchanged} unchanged",
            len(diff.changed),
            added=len(diff.added),
            removed=len(diff.removed),
            unchanged=diff.unchanged,
        )
    )
    return lines


class ComparePanel(QWidget):
    """Signals: ``compareRequested()`` (the page starts the job), ``layerChosen(name)``."""

    compareRequested = Signal()
    layerChosen = Signal(str)
    chipsRequested = Signal(str, str)  # chip ids A, B

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.diff: DiffResult | None = None
        self.showing = "b"
        self.status = QLabel(
            tr("Optimize the model first; then compare it here with the original.")
        )
        self.status.setWordWrap(True)
        self.button = QPushButton(tr("Compare original and optimized"))
        self.button.setToolTip(
            tr(
                "Measures both models on this PC (a minute at most for small "
                "models) and lists every difference in their graphs."
            )
        )
        self.button.clicked.connect(self.compareRequested)
        self.button.setEnabled(False)
        self.verdict = QLabel()
        self.verdict.setObjectName("factLabel")
        self.verdict.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.button)
        self.chip_a = QComboBox()
        self.chip_b = QComboBox()
        self.chips_button = QPushButton(tr("Compare on two chips"))
        self.chips_button.setToolTip(
            tr(
                "Predicted from the chips' published profiles, layer by "
                "layer — a guide, not a measurement."
            )
        )
        self.chips_button.clicked.connect(
            lambda: self.chipsRequested.emit(
                str(self.chip_a.currentData()), str(self.chip_b.currentData())
            )
        )
        chips_row = QHBoxLayout()
        chips_row.addWidget(QLabel(tr("Or this model on two chips:")))
        chips_row.addWidget(self.chip_a, 1)
        chips_row.addWidget(QLabel(tr("vs")))
        chips_row.addWidget(self.chip_b, 1)
        chips_row.addWidget(self.chips_button)

        self.layers = RowTable()
        self._diff_headers()
        self.layers.rowSelected.connect(self._layer_selected)
        self.changes = RowTable()  # lists run to thousands for a quantized large model
        self._change_rows([])
        self.changes.setToolTip(
            tr("Green: added by the optimization; amber: changed; red: removed.")
        )
        self.changes.rowSelected.connect(self._change_selected)
        self.switch = QPushButton(tr("Show the original graph"))
        self.switch.clicked.connect(self.toggle_graph)
        self.switch.setEnabled(False)
        self.graph = NetronView()
        lists = QSplitter(Qt.Orientation.Horizontal)
        lists.addWidget(self.layers)
        lists.addWidget(self.changes)
        lists.setStretchFactor(0, 2)
        lists.setStretchFactor(1, 1)
        graph_box = QWidget()
        graph_layout = QVBoxLayout(graph_box)
        graph_layout.setContentsMargins(0, 0, 0, 0)
        graph_layout.addWidget(self.switch, 0, Qt.AlignmentFlag.AlignLeft)
        graph_layout.addWidget(self.graph, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(lists)
        split.addWidget(graph_box)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(chips_row)
        layout.addWidget(self.verdict)
        layout.addWidget(split, 1)

    def _diff_headers(self) -> None:
        self.layers.set_rows(diff_columns(), [], key=id, sort_column=1)

    def set_chips(self, chips: list[tuple[str, str]]) -> None:
        """(id, name) of every chip in the catalogue, for the two-chip comparison."""
        for index, combo in enumerate((self.chip_a, self.chip_b)):
            combo.clear()
            for chip, name in chips:
                combo.addItem(name, chip)
            combo.setCurrentIndex(min(index, combo.count() - 1))

    def show_two_chips(self, result: TwoChips) -> None:
        """One model on two chips: the layer table shows each chip's predicted time."""
        self.clear()
        self.status.setText(
            tr(
                "{name} on {chip_a} vs {chip_b} (predicted from the chip profiles)",
                name=Path(result.model).name,
                chip_a=result.name_a,
                chip_b=result.name_b,
            )
        )

        def span(pair: tuple[float | None, float | None]) -> str:
            low, high = pair
            return (
                tr("cannot predict") if low is None or high is None else f"{low:.3f}–{high:.3f} ms"
            )

        self.verdict.setText(
            f"A = {result.name_a}: {span(result.range_a)}\n"
            f"B = {result.name_b}: {span(result.range_b)}"
        )
        self.graph.clear(
            tr(
                "The per-layer predictions are listed above. The graph here shows "
                "original-vs-optimized comparisons."
            )
        )
        self.layers.set_rows(
            chip_columns(result), result.layers, key=id, sort_column=1, fit=(1, 2, 3)
        )

    def set_available(self, available: bool, reason: str = "") -> None:
        self.button.setEnabled(available)
        if reason:
            self.status.setText(reason)

    def set_running(self, running: bool) -> None:
        self.button.setEnabled(not running)
        if running:
            self.status.setText(tr("Measuring both models on this PC…"))

    def clear(self) -> None:
        self.diff = None
        self._diff_headers()
        self._change_rows([])
        self.verdict.setText("")
        self.switch.setEnabled(False)

    # -- showing a result -----------------------------------------------------------------------
    def show_diff(self, diff: DiffResult) -> None:
        self.diff = diff
        self.status.setText(
            tr(
                "{original} (original) vs {optimized}",
                original=Path(diff.a.path).name,
                optimized=Path(diff.b.path).name,
            )
        )
        self.verdict.setText("\n".join(verdict_lines(diff)))
        self._fill_layers(diff)
        self._fill_changes(diff)
        self.showing = "a"
        self.switch.setEnabled(True)
        self.toggle_graph()

    def _fill_layers(self, diff: DiffResult) -> None:
        drift = {row.name: row.value for row in diff.drift}
        rows = [
            _DiffRow(delta, next((drift[n] for n in delta.names if n in drift), None))
            for delta in diff.latency
        ]
        # Slowest original layers first.
        self.layers.set_rows(diff_columns(), rows, key=id, sort_column=1, fit=(1, 2, 3, 4))

    def _fill_changes(self, diff: DiffResult) -> None:
        entries = (
            [
                _Change("changed", c.name, f"~ {c.name} ({c.op_type}): {'; '.join(c.changes)}")
                for c in diff.changed
            ]
            + [_Change("added", n.name, f"+ {n.name} ({n.op_type})") for n in diff.added]
            + [_Change("removed", n.name, f"− {n.name} ({n.op_type})") for n in diff.removed]
        )
        self._change_rows(
            entries
            or [_Change("", "", tr("The two graphs have the same layers with the same settings."))]
        )

    def _change_rows(self, entries: list[_Change]) -> None:
        column = Column(
            tr("Graph changes"),
            lambda change: change.text,
            tooltip=lambda change: change.text,
            colour=lambda change: DIFF_COLOURS.get(change.kind),
        )
        self.changes.set_rows([column], entries, key=id, sort_column=-1)  # in the diff's order

    # -- graph ----------------------------------------------------------------------------------
    def highlight_colours(self, side: str) -> dict[str, tuple[str, str]]:
        """What to colour on each side: the optimized graph shows additions and changes, the
        original shows removals and the layers that were changed or replaced."""
        assert self.diff is not None
        diff = self.diff
        colours: dict[str, tuple[str, str]] = {}
        kind = {name: with_text(colour) for name, colour in DIFF_COLOURS.items()}
        if side == "b":
            for node in diff.added:
                colours[node.name] = kind["added"]
            for change in diff.changed:
                colours[change.name] = kind["changed"]
                for successor in change.replaced_by:
                    colours[successor.name] = kind["changed"]
        else:
            for node in diff.removed:
                colours[node.name] = kind["removed"]
            for change in diff.changed:
                colours[change.name] = kind["changed"]
        return colours

    def toggle_graph(self) -> None:
        if self.diff is None:
            return
        self.showing = "b" if self.showing == "a" else "a"
        side = self.diff.b if self.showing == "b" else self.diff.a
        self.switch.setText(
            tr("Show the original graph") if self.showing == "b" else tr("Show the optimized graph")
        )
        self.graph.load_model(side.path)
        self.graph.set_colours(self.highlight_colours(self.showing))

    def _layer_selected(self, row: object) -> None:
        if isinstance(row, _DiffRow):  # two-chip predictions have no graph to show
            if self.showing != "a":
                self.toggle_graph()
            self._select_when_ready(row.delta.names[0])

    def _change_selected(self, change: _Change) -> None:
        if not change.kind:
            return
        kind, name = change.kind, change.name
        wanted = "a" if kind == "removed" else "b"
        if self.showing != wanted:
            self.toggle_graph()
        self._select_when_ready(name)
        self.layerChosen.emit(name)

    def _select_when_ready(self, name: str) -> None:
        if self.graph.node_count:
            self.graph.select_node(name)
        else:
            self.graph.ready.connect(
                lambda _n: self.graph.select_node(name), Qt.ConnectionType.SingleShotConnection
            )

    def shutdown(self) -> None:
        self.graph.shutdown()
