"""Graph panel: a quick summary of the model's structure and time, and the Netron graph.

Small graphs are drawn at once. Large ones (thousands of nodes) would keep Netron busy for a long
time, so the panel opens with the summary (groups by op type and by block, with their time) and
draws the full graph only when the user asks. The summary is computed on a worker thread.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.analyze.graph_summary import GraphSummary, Group, summarize_graph
from studio.core.analyze.profile import ProfileResult
from studio.core.chips.catalogue import get_chip
from studio.core.chips.heat import PredictedHeat
from studio.core.errors import StudioError
from studio.ui.background import run_in_thread
from studio.ui.i18n import tr, trn
from studio.ui.npu_placement import PlacementLegend, compiler_state, placement_colours
from studio.ui.pages.inspect.netron_view import NetronView

if TYPE_CHECKING:
    from studio.core.compile.probe import PlacementCheck

MEASURED = "measured"
PLACE = "place:"  # heat_source data for "where each node runs on <chip>"
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class GroupTable(QTableWidget):
    def __init__(self, title: str, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels([title, tr("Nodes"), tr("Share of time")])
        self.horizontalHeaderItem(0).setToolTip(tooltip)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)

    def show_groups(self, groups: list[Group]) -> None:
        self.setRowCount(len(groups))
        for row, group in enumerate(groups):
            share = "" if group.share is None else f"{group.share:.1%}"
            for column, text in enumerate([group.name, f"{group.nodes:,}", share]):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(RIGHT)
                self.setItem(row, column, item)


class GraphPanel(QWidget):
    """Signals: ``summaryReady(summary)``, ``nodeClicked(name)``; ``graph`` is the NetronView."""

    summaryReady = Signal(object)
    nodeClicked = Signal(str)
    predictionRequested = Signal(str)  # a chip id
    placementRequested = Signal(str)  # a chip id: its compiler places the nodes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._draw_when_shown = False
        self.model: Path | None = None
        self.summary: GraphSummary | None = None
        self.profile: ProfileResult | None = None
        self._calls = 0  # background calls not answered yet
        self.headline = QLabel(tr("No model yet."))
        self.headline.setWordWrap(True)
        self.draw_button = QPushButton(tr("Draw the full graph"))
        self.draw_button.setToolTip(
            tr(
                "Large graphs can take Netron a minute or more to lay out; "
                "the app stays usable meanwhile."
            )
        )
        self.draw_button.clicked.connect(self.draw_graph)
        self.draw_button.hide()
        self.heat_source = QComboBox()
        self.heat_source.addItem(tr("Colour by time measured on this PC"), MEASURED)
        self.heat_source.setToolTip(
            tr(
                "Measured: real times on this computer. Predicted: the chip "
                "profile's estimate per layer (a rough guide, not a "
                "measurement)."
            )
        )
        self.heat_source.currentIndexChanged.connect(self._heat_source_changed)
        top = QHBoxLayout()
        top.addWidget(self.headline, 1)
        top.addWidget(self.heat_source)
        top.addWidget(self.draw_button)
        self.by_op = GroupTable(tr("Operation"), tr("Nodes grouped by what they compute"))
        self.by_block = GroupTable(
            tr("Block"),
            tr(
                "Nodes grouped by the start of their names, which "
                "exporters build from the model's modules (layers, blocks)"
            ),
        )
        tables = QSplitter(Qt.Orientation.Horizontal)
        tables.addWidget(self.by_op)
        tables.addWidget(self.by_block)
        self.summary_box = tables
        self.graph = NetronView()
        self.graph.nodeClicked.connect(self.nodeClicked)
        self.graph.notice.connect(
            lambda text: self.headline.setText(
                tr("{headline} Netron: {notice}", headline=self._headline_text(), notice=text)
            )
        )
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(tables)
        self.split.addWidget(self.graph)
        self.place_legend = PlacementLegend(self.graph)
        self.graph.layout().addWidget(self.place_legend)
        self.split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.split, 1)

    # -- model and summary --------------------------------------------------------------------
    def set_model(self, path: str | Path, profile: ProfileResult | None = None) -> None:
        self.model = Path(path)
        self.profile = profile
        self.summary = None
        self.headline.setText(tr("Reading {name}…", name=self.model.name))
        self.draw_button.hide()
        self.graph.clear(tr("Reading {name}…", name=self.model.name))
        self._start(lambda: summarize_graph(self.model, profile), self._on_summary)

    def set_profile(self, profile: ProfileResult | None) -> None:
        """New timings: recolour the graph and recompute the groups' time."""
        self.profile = profile
        if profile is not None:
            self.set_profile_colours()
        elif self.heat_source.currentData() == MEASURED:
            self.graph.clear_colours()
        if self.model is not None:
            model = self.model
            self._start(lambda: summarize_graph(model, profile), self._on_summary)

    def _start(self, fn: Callable[[], Any], on_done: Callable[[Any, Any], None]) -> None:
        """``on_done(value, None)`` or ``on_done(None, error message)``, on the main thread."""
        self._calls += 1

        def answered(value: Any, error: str | None) -> None:
            self._calls -= 1
            if shiboken6.isValid(self):  # the panel may have closed while the call ran
                on_done(value, error)

        run_in_thread(fn, lambda value: answered(value, None), lambda error: answered(None, error))

    def _headline_text(self) -> str:
        if self.summary is None or self.model is None:
            return ""
        if self.summary.large:
            return tr(
                "{name}: {count:,} nodes (a large graph).",
                name=self.model.name,
                count=self.summary.node_count,
            )
        return tr("{name}: {count:,} nodes.", name=self.model.name, count=self.summary.node_count)

    def _on_summary(self, summary: GraphSummary | None, error: str | None) -> None:
        if summary is None:
            self.headline.setText(tr("Could not read the model: {error}", error=error))
            # Not "Reading…" under it any more, and no empty tables that look like a result.
            self.summary_box.setVisible(False)
            self.graph.clear(tr("No graph to show: the model could not be read (see above)."))
            return
        first = self.summary is None
        self.summary = summary
        self.by_op.show_groups(summary.by_op_type)
        self.by_block.show_groups(summary.by_prefix)
        text = self._headline_text()
        if summary.large and not self.graph.node_count:
            text += " " + tr(
                "The summary shows where its nodes and time are; drawing every node "
                "takes a while, so it is drawn when you ask."
            )
            self.draw_button.show()
            self.graph.clear(
                tr(
                    "This graph is large. Press “Draw the full graph” to see every "
                    "node (the app stays usable while it is drawn)."
                )
            )
        self.headline.setText(text)
        self.summary_box.setVisible(True)
        if first:
            # Small graphs: the drawing matters most. Large ones: the summary, until drawn.
            total = max(self.split.height(), 400)
            share = 0.6 if summary.large else 0.22
            self.split.setSizes([int(total * share), int(total * (1 - share))])
        if first and not summary.large:
            # Starting QtWebEngine stalls the UI thread: only pay it once the graph is seen.
            if self.isVisible():
                self.draw_graph()
            else:
                self._draw_when_shown = True
        self.summaryReady.emit(summary)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._draw_when_shown:
            self._draw_when_shown = False
            self.draw_graph()

    def draw_graph(self) -> None:
        if self.model is None:
            return
        self.draw_button.hide()
        self.graph.load_model(self.model)
        if self.profile is not None:
            self.set_profile_colours()

    def set_target_chip(self, chip: str | None, name: str = "") -> None:
        """Offer "predicted for <chip>" colouring (not for This PC: that one is measured)."""
        if chip and chip != "this-pc":
            text = tr("Colour by time predicted for {chip}", chip=name or chip)
            if self.heat_source.count() > 1 and self.heat_source.itemData(1) == chip:
                self.heat_source.setItemText(1, text)  # keep the user's choice
                return
        while self.heat_source.count() > 1:
            self.heat_source.removeItem(1)
        if chip and chip != "this-pc":
            self.heat_source.addItem(text, chip)
            with contextlib.suppress(StudioError):
                profile = get_chip(chip)
                if compiler_state(profile) == "ready":
                    self.heat_source.addItem(
                        tr(
                            "Colour by where each node runs on {chip} (NPU / CPU)",
                            chip=name or chip,
                        ),
                        PLACE + chip,
                    )

    def _heat_source_changed(self) -> None:
        source = self.heat_source.currentData()
        self.place_legend.setVisible(False)
        if str(source).startswith(PLACE):
            self.graph.clear_colours()
            self.placementRequested.emit(str(source)[len(PLACE) :])
            return
        if source == MEASURED:
            if self.profile is not None:
                self.set_profile_colours()
            else:
                self.graph.clear_colours()
        elif source:
            self.predictionRequested.emit(str(source))

    def show_placement(self, check: PlacementCheck) -> None:
        """Colour the nodes by where the chip's compiler put them (NPU / CPU fallback)."""
        if self.heat_source.currentData() != PLACE + check.chip:
            return  # the user switched away meanwhile
        self.graph.set_colours(placement_colours(check))
        self.graph.legend.setVisible(False)
        self.place_legend.show_for(get_chip(check.chip), check)

    def show_predicted(self, heat: PredictedHeat) -> None:
        if self.heat_source.currentData() != heat.chip:
            return  # the user switched back meanwhile
        self.graph.set_heat(heat.shares)
        missing = (
            " "
            + trn(
                "{n} layer has no published figure for this chip and stays grey.",
                "{n} layers have no published figure for this chip and stay grey.",
                len(heat.missing),
            )
            if heat.missing
            else ""
        )
        self.headline.setText(
            tr(
                "{headline} Colours: predicted for {chip}.",
                headline=self._headline_text(),
                chip=heat.chip_name,
            )
            + missing
        )

    def set_profile_colours(self) -> None:
        if self.heat_source.currentData() != MEASURED:
            return
        if self.profile is not None:
            shares = {n: share for n, (share, _) in self.profile.original_shares().items()}
            self.graph.set_heat(shares)

    def wait_idle(self, msecs: int = 10_000) -> None:
        deadline = time.monotonic() + msecs / 1000
        while self._calls and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def shutdown(self) -> None:
        self.wait_idle()
        self.graph.shutdown()
