"""Charts of where the time goes: slowest layers, time per kind of operation, time vs weights.

pyqtgraph is imported when the charts are first shown, so it does not slow the app's start.
Each chart can be saved as PNG, and its numbers as CSV.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from studio.core.analyze.profile import NodeTiming, ProfileResult
from studio.core.atomic import atomic_path
from studio.core.units import human_count
from studio.ui.i18n import N_, tr

TOP_N = 15
BAR_COLOUR = "#d97706"

CHARTS = {
    "top": N_("Slowest layers"),
    "ops": N_("Time per kind of operation"),
    "params": N_("Time vs number of weights"),
}
TOOLTIPS = {
    "top": N_("The layers that take the most time, in milliseconds (median of the timed runs)."),
    "ops": N_("All layers of each operation type added together."),
    "params": N_(
        "Each dot is a layer: how many weights it reads against how long it takes. Slow "
        "layers with few weights are limited by memory or by their shape, not by "
        "compute."
    ),
}


def chart_rows(result: ProfileResult, chart: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The numbers behind a chart, as CSV header and rows (also used to draw it)."""
    if chart == "top":
        return (
            ["layer", "op_type", "median_ms", "share"],
            [(display_name(n), n.op_type, n.median_ms, n.share) for n in result.nodes[:TOP_N]],
        )
    if chart == "ops":
        total = result.profiled_total_ms or 1.0
        return (
            ["op_type", "ms", "share"],
            [(op, ms, ms / total) for op, ms in result.by_op_type().items()],
        )
    return (
        ["layer", "op_type", "parameters", "median_ms"],
        [(display_name(n), n.op_type, n.parameters, n.median_ms) for n in result.nodes],
    )


def display_name(node: NodeTiming) -> str:
    """The user's node name for a kernel onnxruntime renamed or fused."""
    if not node.fused_from:
        return node.name
    more = len(node.fused_from) - 1
    if not more:
        return node.fused_from[0]
    return tr("{name} (+{count} fused)", name=node.fused_from[0], count=more)


def write_chart_csv(result: ProfileResult, chart: str, path: str | Path) -> Path:
    header, rows = chart_rows(result, chart)
    target = Path(path)
    # The file dialog already asked before replacing a file the user picked.
    with (
        atomic_path(target, replace=True) as temp,
        temp.open("w", newline="", encoding="utf-8") as handle,
    ):
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return target


def _short(name: str, width: int = 38) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]


class ProfileCharts(QWidget):
    """Signal ``layerClicked(name)`` when a bar or dot of a layer is clicked."""

    layerClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: ProfileResult | None = None
        self.plot: Any = None
        self._drawn = True  # the chart on screen matches self.result and the choice
        self.choice = QComboBox()
        for key, label in CHARTS.items():
            self.choice.addItem(tr(label), key)
        self.choice.currentIndexChanged.connect(self.redraw)
        self.png_button = QPushButton(tr("Save picture…"))
        self.png_button.clicked.connect(self.save_png_dialog)
        self.csv_button = QPushButton(tr("Save numbers (CSV)…"))
        self.csv_button.clicked.connect(self.save_csv_dialog)
        self.explain = QLabel()
        self.explain.setWordWrap(True)
        self.explain.setObjectName("factLabel")
        row = QHBoxLayout()
        row.addWidget(self.choice)
        row.addStretch(1)
        row.addWidget(self.png_button)
        row.addWidget(self.csv_button)
        self.empty = QLabel(tr("Charts appear once the layers are measured."))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedLayout()
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.explain)
        layout.addLayout(self.stack, 1)
        self._set_enabled(False)

    @property
    def chart(self) -> str:
        return str(self.choice.currentData())

    def _set_enabled(self, enabled: bool) -> None:
        self.png_button.setEnabled(enabled)
        self.csv_button.setEnabled(enabled)

    def _ensure_plot(self) -> Any:
        if self.plot is None:
            self._new_plot()
        return self.plot

    def _new_plot(self) -> Any:
        """A fresh plot per chart: axes keep scale and tick state across charts otherwise."""
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=True, background="w", foreground="#374151")
        if self.plot is not None:
            self.stack.removeWidget(self.plot)
            self.plot.deleteLater()
        self.plot = pg.PlotWidget()
        self.stack.addWidget(self.plot)
        return self.plot

    def show_profile(self, result: ProfileResult | None) -> None:
        self.result = result
        self._drawn = False
        if self.isVisible():
            self.redraw()

    def showEvent(self, event: QShowEvent) -> None:
        # Building a pyqtgraph plot stalls the UI thread: done when the user looks at the
        # charts, not when a measurement arrives (the main thread must not stall while jobs run).
        super().showEvent(event)
        if not self._drawn:
            self.redraw()

    def redraw(self) -> None:
        self._drawn = True
        if self.result is None or not self.result.nodes:
            self.stack.setCurrentWidget(self.empty)
            self._set_enabled(False)
            return
        plot = self._new_plot()
        item = plot.getPlotItem()
        self.explain.setText(tr(TOOLTIPS[self.chart]))
        _, rows = chart_rows(self.result, self.chart)
        for axis in ("left", "bottom"):
            item.getAxis(axis).enableAutoSIPrefix(False)
        if self.chart in ("top", "ops"):
            self._draw_bars(plot, item, rows)
        else:
            self._draw_scatter(plot, item, rows)
        item.autoRange()
        self.stack.setCurrentWidget(plot)
        self._set_enabled(True)

    def _draw_bars(self, plot: Any, item: Any, rows: list[tuple[Any, ...]]) -> None:
        import pyqtgraph as pg

        values = [row[2] if self.chart == "top" else row[1] for row in rows]
        names = [str(row[0]) for row in rows]
        # Horizontal bars, slowest at the top, each labelled inside the chart (long layer names
        # do not fit on an axis).
        ys = list(range(len(rows)))[::-1]
        bars = pg.BarGraphItem(x0=0, y=ys, height=0.7, width=values, brush=BAR_COLOUR)
        plot.addItem(bars)
        top = max(values, default=0.0) or 1.0
        for y, name, value in zip(ys, names, values, strict=True):
            label = pg.TextItem(
                f"{_short(name, 60)}  {value:.3f} ms", color="#111827", anchor=(0, 0.5)
            )
            label.setPos(0.01 * top, y)
            plot.addItem(label)
        item.getAxis("left").setTicks([[]])  # the bars carry their own labels
        item.setLabel("bottom", tr("milliseconds (median of the timed runs)"))
        item.setLabel("left", "")
        item.showGrid(x=True, y=False)
        if self.chart == "top" and self.result is not None:
            kernels = [n.name for n in self.result.nodes[:TOP_N]]
            bars.mouseClickEvent = lambda ev: self._bar_clicked(ev, ys, kernels)  # type: ignore[method-assign]

    def _draw_scatter(self, plot: Any, item: Any, rows: list[tuple[Any, ...]]) -> None:
        import pyqtgraph as pg

        # log10 by hand: pyqtgraph's log mode mis-scales scatter items added before it is set.
        xs = [math.log10(max(row[2], 1)) for row in rows]
        ys = [row[3] for row in rows]
        scatter = pg.ScatterPlotItem(
            x=xs,
            y=ys,
            size=10,
            brush=BAR_COLOUR,
            pen=None,
            data=[n.name for n in self.result.nodes],
            hoverable=True,
            tip=lambda x, y, data: f"{data}\n{y:.4f} ms",
        )
        scatter.sigClicked.connect(
            lambda _item, points, _ev: len(points) and self.layerClicked.emit(str(points[0].data()))
        )
        plot.addItem(scatter)
        top = math.ceil(max(xs, default=1.0)) + 1
        ticks = [(p, human_count(10**p)) for p in range(0, top + 1)]
        item.getAxis("bottom").setTicks([ticks])
        item.setLabel("bottom", tr("weights the layer reads (each step is 10× more)"))
        item.setLabel("left", tr("milliseconds"))
        item.showGrid(x=True, y=True)

    def _bar_clicked(self, event: Any, ys: list[int], names: list[str]) -> None:
        y = event.pos().y()
        index = min(range(len(ys)), key=lambda i: abs(ys[i] - y)) if ys else None
        if index is not None and self.chart == "top":
            self.layerClicked.emit(names[index])
        event.accept()

    # -- export ---------------------------------------------------------------------------------
    def save_png(self, path: str | Path) -> Path:
        from pyqtgraph.exporters import ImageExporter

        target = Path(path)
        if target.suffix.lower() != ".png":
            target = target.with_suffix(".png")
        if not self._drawn:
            self.redraw()
        with atomic_path(target, replace=True) as temp:  # temp keeps the .png ending
            exporter = ImageExporter(self._ensure_plot().getPlotItem())
            exporter.parameters()["width"] = 1200
            exporter.export(str(temp))
        return target

    def save_csv(self, path: str | Path) -> Path:
        assert self.result is not None
        return write_chart_csv(self.result, self.chart, path)

    def save_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Save chart"), f"{self.chart}.png", tr("PNG image (*.png)")
        )
        if path:
            self.save_png(path)

    def save_csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Save chart numbers"), f"{self.chart}.csv", tr("CSV (*.csv)")
        )
        if path:
            self.save_csv(path)
