"""Target step content: chip cards and the model's verdict on every chip side by side.

Cards show what a chip is (vendor, NPU speed, memory, runtime); clicking one sets
recipe.target.chip. The comparison table runs `studio.core.chips.compare:compare_chips` as a background
job, so the window never waits for it; its rows can be clicked to choose a chip too.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.chips.catalogue import ChipProfile, list_chips
from studio.core.compress.method_ids import Method
from studio.core.jobs import JobSpec
from studio.core.this_pc import THIS_PC_ID
from studio.core.units import gb_text
from studio.ui.i18n import N_, tr, tr_core
from studio.ui.jobs_qt import QtJob
from studio.ui.messages import show_parts, this_pc
from studio.ui.npu_placement import PlacementPanel
from studio.ui.widgets import JobProgress

LEVEL_COLOURS = {"good": "#1e8e3e", "warning": "#b06000", "bad": "#c5221f"}
LEVEL_MARKS = {"good": "✔", "warning": "▲", "bad": "✖"}
CARD_STYLE = """
QFrame#chipCard {
    border: 1px solid palette(midlight); border-radius: 8px; background: palette(base);
}
QFrame#chipCard[selected="true"] { border: 2px solid %s; }
QLabel#chipName { font-size: 12pt; font-weight: 600; }
"""


class ElidedLabel(QLabel):
    """One line that shortens itself with "…" to fit; the full text is the tooltip.

    Word-wrapped labels make grid rows inside a scroll area collapse onto each other, so cards
    use fixed-height single lines instead.
    """

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.full = text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        text = self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight, self.width())
        if text != self.text():  # setText re-lays the card out; the Target step has ~100 of these
            self.setText(text)
        super().resizeEvent(event)


class ChipCard(QFrame):
    """One chip: name, vendor, NPU speed, memory and runtime; click to choose it."""

    clicked = Signal(str)

    def __init__(self, chip: ChipProfile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chip_id = chip.id
        self.setObjectName("chipCard")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        name = ElidedLabel(chip_name(chip.id, chip.name))
        name.setObjectName("chipName")
        name.setToolTip(chip_name(chip.id, chip.name))
        layout.addWidget(name)
        for text, tip in (
            (chip_vendor(chip), tr("Who makes it")),
            (
                _npu_text(chip),
                tr(
                    "Peak speed of the neural processing unit (NPU) in trillions of "
                    "operations per second, as published"
                ),
            ),
            (_memory_text(chip), tr("Memory the model must fit in, and how fast it can be read")),
            (
                chip.runtime.split(" (")[0],
                tr("The software that runs the model: {runtime}", runtime=chip.runtime),
            ),
        ):
            label = ElidedLabel(text)
            label.setObjectName("factLabel")
            label.setToolTip(f"{text}\n{tip}")
            layout.addWidget(label)
        self.setToolTip(chip.description)
        self.set_selected(False)

    def set_selected(self, selected: bool) -> None:
        self.setProperty("selected", "true" if selected else "false")
        self.style().unpolish(self)
        self.style().polish(self)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.chip_id)
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.clicked.emit(self.chip_id)
        else:
            super().keyPressEvent(event)


# Catalogue entries the studio wrote itself (not a maker's product name), so they are translated.
OWN_NAMES = {"generic-arm64-android-cpu": N_("Any Android phone (CPU)")}
OWN_VENDORS = {"generic": N_("generic")}


def chip_name(chip_id: str, name: str) -> str:
    """The chip's name as its maker writes it; "This PC" and the generic ones are ours, so they
    are translated."""
    if chip_id == THIS_PC_ID:
        return this_pc()
    return tr(OWN_NAMES[chip_id]) if chip_id in OWN_NAMES else name


def chip_vendor(chip: ChipProfile) -> str:
    """Who makes it; for this PC, "This PC (Linux)" in the current language."""
    if chip.id == THIS_PC_ID:
        return tr("{this_pc} ({system})", this_pc=this_pc(), system=platform.system())
    return tr(OWN_VENDORS[chip.vendor]) if chip.vendor in OWN_VENDORS else chip.vendor


def _npu_text(chip: ChipProfile) -> str:
    if chip.npu is None:
        return tr("CPU only (no NPU)")
    speed = chip.npu_tops_text()
    if speed == "NPU (speed not published)":
        return tr("NPU: speed not published")
    return tr("NPU: {speed}", speed=speed)


def _memory_text(chip: ChipProfile) -> str:
    cap, bw = chip.memory.capacity_gb, chip.memory.bandwidth_gbs
    speed = f"{bw.value:g} GB/s" if bw.known else ""
    if cap.known and speed:
        return tr("Memory: {size:g} GB, {speed}", size=cap.value, speed=speed)
    if cap.known:
        return tr("Memory: {size:g} GB", size=cap.value)
    if speed:
        return tr("Memory: {speed} (size not published)", speed=speed)
    return tr("Memory: not published")


def _row_memory(row: Any) -> str:
    """The memory column in the UI's language (a row from an older job has the text only)."""
    if not row.memory_bytes:
        return row.memory
    need = gb_text(row.memory_bytes)
    if row.capacity_bytes:
        return tr("{need} of {capacity}", need=need, capacity=gb_text(row.capacity_bytes))
    return tr("{need} (chip size not published)", need=need)


def _advice(row: Any) -> str:
    """What to do before the model runs on this chip, and the recommended method."""
    lines = [tr("To do: {step}", step=step) for step in row.todo]
    lines.append(tr("Recommended: {method}", method=row.recommended))
    return "\n".join(lines)


class ChipCards(QWidget):
    """Cards for every chip plus the comparison table for the current model."""

    chip_chosen = Signal(str)
    compared = Signal(object)  # the Comparison, once the background job answered
    compare_failed = Signal(str)
    fix_shapes_requested = Signal(dict)  # input name → the sizes to fix it at
    method_requested = Signal(str)  # the recommended method's id

    def __init__(self, chosen: str, jobs: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from studio.ui.theme import ACCENT

        self.setStyleSheet(CARD_STYLE % ACCENT)
        self.jobs = jobs
        self.job: QtJob | None = None
        self.comparison: Any = None
        self._compared_for: tuple[str, float, str] | None = None
        self.chosen = chosen
        self.current_method = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)

        self.verdict = QLabel("")
        self.verdict.setObjectName("bigValue")
        self.verdict.setWordWrap(True)
        layout.addWidget(self.verdict)
        self.verdict_detail = QLabel("")
        self.verdict_detail.setObjectName("factLabel")
        self.verdict_detail.setWordWrap(True)
        layout.addWidget(self.verdict_detail)
        self.placement = PlacementPanel(jobs)  # the chip's compiler placement, when it is here
        layout.addWidget(self.placement)
        self._model: tuple[Path, dict[str, list[int]] | None] | None = None
        layout.addLayout(self._fix_buttons())

        grid = QGridLayout()
        grid.setSpacing(8)
        self.cards: dict[str, ChipCard] = {}
        for index, chip in enumerate(list_chips()):
            card = ChipCard(chip)
            card.clicked.connect(self.choose)
            grid.addWidget(card, index // 3, index % 3)
            self.cards[chip.id] = card
        layout.addLayout(grid)

        heading = QLabel(tr("Your model on every chip"))
        heading.setObjectName("cardTitle")
        layout.addWidget(heading)
        note = QLabel(
            tr(
                "Latency is predicted from published specs (This PC: from measurements on "
                "this computer) — an estimate, not a measurement. Hover a row for details."
            )
        )
        note.setObjectName("factLabel")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.progress = JobProgress()
        layout.addWidget(self.progress)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("chipTable")
        self.table.setHorizontalHeaderLabels(
            [tr("Chip"), tr("Verdict"), tr("Predicted latency"), tr("Memory (model of chip)")]
        )
        self.table.verticalHeader().setVisible(False)
        # Verdicts wrap onto as many lines as they need: a cut-off verdict hides its condition.
        self.table.setWordWrap(True)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(340)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.cellClicked.connect(
            lambda row, _col: self.choose(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole))
        )
        layout.addWidget(self.table)
        self.choose(chosen, emit=False)

    def _fix_buttons(self) -> QHBoxLayout:
        """The verdict's fixes, one click each: fix the input sizes, use the recommended method."""
        row = QHBoxLayout()
        self.fix_shapes_button = QPushButton()
        self.fix_shapes_button.clicked.connect(
            lambda: self.fix_shapes_requested.emit(dict(self.comparison.fixed_shapes))
        )
        self.method_button = QPushButton()
        self.method_button.clicked.connect(
            lambda: self.method_requested.emit(self.method_button.property("method"))
        )
        for button in (self.fix_shapes_button, self.method_button):
            button.hide()
            row.addWidget(button)
        row.addStretch()
        return row

    def _show_fixes(self, row: Any) -> None:
        shapes = self.comparison.fixed_shapes if self.comparison is not None else {}
        needs = row is not None and row.needs_shapes and bool(shapes)
        if needs:
            sizes = ", ".join(f"{n} {'×'.join(map(str, d))}" for n, d in shapes.items())
            self.fix_shapes_button.setText(tr("Fix the input sizes at {sizes}", sizes=sizes))
            self.fix_shapes_button.setToolTip(
                tr(
                    "The chip compiles the model for one size. Optimize will fix the flexible "
                    "sizes at these values (you can change them on the Inspect step)."
                )
            )
        self.fix_shapes_button.setVisible(needs)
        method = row.recommended_method if row is not None else ""
        offer = method in set(Method) and method != self.current_method
        if offer:
            self.method_button.setText(tr("Use the recommended method ({method})", method=method))
            self.method_button.setProperty("method", method)
        self.method_button.setVisible(offer)

    def set_method(self, method: str) -> None:
        """The recipe's current method: the recommended one is only offered when it differs."""
        self.current_method = method
        self._show_fixes(self._row(self.chosen))

    # choosing -----------------------------------------------------------------------------
    def choose(self, chip_id: str, emit: bool = True) -> None:
        if chip_id not in self.cards:
            return
        self.chosen = chip_id
        for cid, card in self.cards.items():
            card.set_selected(cid == chip_id)
        self._show_verdict()
        self._show_placement()
        if emit:
            self.chip_chosen.emit(chip_id)

    def _show_placement(self) -> None:
        model, shapes = self._model or (None, None)
        self.placement.show_for(model, shapes, self.chosen)

    def _show_verdict(self) -> None:
        card_name = self.cards[self.chosen].findChild(ElidedLabel, "chipName").full
        row = self._row(self.chosen)
        self._show_fixes(row)
        if row is None:
            self.verdict.setText(card_name)
            self.verdict_detail.setText(tr("Checking your model on this chip…") if self.job else "")
            return
        if row.latency == "cannot predict":
            self.verdict.setText(
                tr(
                    "{chip}: {verdict}",
                    chip=card_name,
                    verdict=show_parts(row.verdict_parts, row.verdict),
                )
            )
        else:
            self.verdict.setText(
                tr(
                    "{chip}: {verdict} — predicted {latency}",
                    chip=card_name,
                    verdict=show_parts(row.verdict_parts, row.verdict),
                    latency=row.latency,
                )
            )
        self.verdict.setStyleSheet(f"color: {LEVEL_COLOURS.get(row.level, '')}")
        self.verdict_detail.setText(_advice(row))

    def _row(self, chip_id: str) -> Any:
        if self.comparison is None:
            return None
        return next((r for r in self.comparison.rows if r.chip == chip_id), None)

    # comparing ----------------------------------------------------------------------------
    def compare(self, model: Path, shapes: dict[str, list[int]] | None = None) -> None:
        """Check ``model`` on every chip in a background job (skipped if already done)."""
        try:
            key = (str(model), model.stat().st_mtime, repr(shapes))
        except OSError:
            key = None
        self._model = (model, shapes)
        self._show_placement()
        if key is not None and key == self._compared_for and self.comparison is not None:
            return
        if self.job is not None and not self.job.is_finished:
            self.job.cancel()  # off the main thread; its late answer is ignored below
        spec = JobSpec(
            title=tr("Check {name} on every chip", name=model.name),
            target="studio.core.chips.compare:compare_chips",
            kwargs={"model": str(model), "shapes": shapes or None},
        )
        # Its first run on this PC calibrates this PC with seconds of micro-benchmarks.
        self.job = (
            self.jobs.start(spec, measures=True)
            if self.jobs is not None
            else QtJob(spec, self).start()
        )
        self._compared_for = key
        self.progress.track(self.job)
        job = self.job
        job.succeeded.connect(lambda value: self._on_result(job, value))
        job.failed.connect(lambda message: self._on_failed(job, message))
        self._show_verdict()

    def _on_result(self, job: QtJob, comparison: Any) -> None:
        if job is not self.job:
            return  # an older model's answer
        self.progress.hide()
        self.comparison = comparison
        self.table.setRowCount(len(comparison.rows))
        for index, row in enumerate(comparison.rows):
            mark = LEVEL_MARKS.get(row.level, "")
            cells = [
                chip_name(row.chip, row.name),
                f"{mark} {show_parts(row.verdict_parts, row.verdict)}",
                tr_core(row.latency),
                _row_memory(row),
            ]
            tip = _advice(row)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                if col == 0:
                    item.setData(Qt.ItemDataRole.UserRole, row.chip)
                if col == 1:
                    item.setForeground(QColor(LEVEL_COLOURS.get(row.level, "#000000")))
                self.table.setItem(index, col, item)
        self._show_verdict()
        self.compared.emit(comparison)

    def _on_failed(self, job: QtJob, message: str) -> None:
        if job is not self.job:
            return
        self.progress.hide()
        self._compared_for = None
        self.verdict_detail.setText(tr("Could not check the model: {error}", error=message))
        self.compare_failed.emit(message)

    def shutdown(self) -> None:
        self.placement.shutdown()
        if self.job is not None and not self.job.is_finished:
            self.job.handle.cancel()
            self.job.wait(5000)
