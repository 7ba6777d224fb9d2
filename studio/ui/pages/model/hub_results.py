"""The search results table of the hub browser: one page of models, one row each."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from studio.core.hubs import ModelHit
from studio.core.units import human_count, human_size
from studio.ui.i18n import N_, tr

COLUMNS = [N_("Model"), N_("Downloads"), N_("Likes"), N_("Updated"), N_("Size")]


def _cells(hit: ModelHit) -> list[str]:
    name = tr("{name}  (gated)", name=hit.id) if hit.gated else hit.id
    name += "  ✓" if hit.cached else ""
    return [
        name,
        human_count(hit.downloads) if hit.downloads is not None else "–",
        str(hit.likes) if hit.likes is not None else "–",
        hit.last_modified.strftime("%Y-%m-%d") if hit.last_modified else "–",
        human_size(hit.size) if hit.size else "–",
    ]


def _tooltip(hit: ModelHit) -> str:
    tips = [tr("gated: needs access and sign-in")] if hit.gated else []
    tips += [tr("downloaded")] if hit.cached else []
    tips += [hit.task] if hit.task else []
    return ", ".join(tips)


class ResultsTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

    def show_hits(self, hits: list[ModelHit]) -> None:
        self.setUpdatesEnabled(False)
        self.setRowCount(len(hits))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, hit in enumerate(hits):
            for col, text in enumerate(_cells(hit)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, hit.id)
                if col:
                    item.setTextAlignment(right)
                else:
                    item.setToolTip(_tooltip(hit))
                self.setItem(row, col, item)
        self.setUpdatesEnabled(True)
        for col in range(1, len(COLUMNS)):
            self.resizeColumnToContents(col)

    def selected_repo(self) -> str | None:
        items = self.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None
