"""A sortable table over a list of Python objects, for lists that can run to 10,000 rows.

A QTableWidget makes an item per cell and sorts by calling a Python comparison per pair: showing
a 10,000-layer profile held the UI thread for 0.5–1.3 s, most of it sorting. Here the view asks
only for the cells it paints, and a sort is one Python ``list.sort`` by key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QStyle, QTableView, QWidget

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
AnyIndex = QModelIndex | QPersistentModelIndex
AIR = 12  # px beside a fitted column's widest text


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    # A number to sort by (None or NaN: no value, always listed last); None sorts by the text.
    number: Callable[[Any], float | None] | None = None
    tooltip: Callable[[Any], str] | None = None
    colour: Callable[[Any], str | None] | None = None  # the text's colour, e.g. "#c5221f"
    header_tip: str = ""


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


class RowModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns: list[Column] = []
        self.rows: list[Any] = []
        self._key: Callable[[Any], Any] = id
        self._row_of: dict[Any, int] | None = None

    def set_rows(
        self, columns: Sequence[Column], rows: Sequence[Any], key: Callable[[Any], Any]
    ) -> None:
        self.beginResetModel()
        self.columns, self.rows, self._key = list(columns), list(rows), key
        self._row_of = None
        self.endResetModel()

    def row_of(self, key: Any) -> int | None:
        if self._row_of is None:  # built on first use after a change: most lists are not searched
            self._row_of = {self._key(row): index for index, row in enumerate(self.rows)}
        return self._row_of.get(key)

    # -- QAbstractTableModel ------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column, row = self.columns[index.column()], self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column.number is not None:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column.colour is not None:
            colour = column.colour(row)
            return QBrush(QColor(colour)) if colour else None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section].header_tip or None
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        spec = self.columns[column]
        descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        before = self.rows
        if spec.number is None:
            keyed = [(spec.text(row).casefold(), index) for index, row in enumerate(before)]
            missing: list[int] = []
        else:
            numbers = [spec.number(row) for row in before]
            keyed = [(value, index) for index, value in enumerate(numbers) if not _missing(value)]
            missing = [index for index, value in enumerate(numbers) if _missing(value)]
        keyed.sort(key=itemgetter(0), reverse=descending)
        new_order = [index for _, index in keyed] + missing
        self.rows = [before[index] for index in new_order]
        moved = self.persistentIndexList()  # the selection and current row: keep them on
        if moved:  # the same objects after the reorder
            new_row = [0] * len(new_order)
            for new, old in enumerate(new_order):
                new_row[old] = new
            self.changePersistentIndexList(
                moved, [self.index(new_row[i.row()], i.column()) for i in moved]
            )
        self._row_of = None
        self.layoutChanged.emit()


class RowTable(QTableView):
    """Rows of objects, one per line, sortable by clicking a header; the first column stretches.

    ``rowSelected`` carries the object on the line the user selected.
    """

    rowSelected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows = RowModel(self)
        self.setModel(self.rows)
        self.verticalHeader().hide()
        self.setSortingEnabled(True)
        self.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long layer paths keep both ends
        self.selectionModel().selectionChanged.connect(self._selection_changed)

    def set_rows(
        self,
        columns: Sequence[Column],
        rows: Sequence[Any],
        key: Callable[[Any], Any],
        sort_column: int,
        order: Qt.SortOrder = Qt.SortOrder.DescendingOrder,
        fit: Sequence[int] = (),
    ) -> None:
        """Show ``rows`` sorted by ``sort_column`` (-1: in the order given); ``key(row)`` names a
        row for select_key. The ``fit`` columns are sized to their text; the first column takes what is left."""
        self.rows.set_rows(columns, rows, key)
        if columns:  # a section's mode is kept only once the section exists
            self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.sortByColumn(sort_column, order)
        for column in fit:
            self.fit_column(column)

    def fit_column(self, column: int) -> None:
        """Size a column to its widest text, plus a little air.

        Qt's resizeColumnToContents lays out every sampled cell through the style: 60–700 ms of
        the UI thread for three columns of a 10,000-row list here. The widest text is nearly
        always among the longest strings, so only those are measured, on a sample of the rows
        (the first 300, the top of the sort, and 1,000 spread over the rest).
        """
        rows, spec = self.rows.rows, self.rows.columns[column]
        sample = rows[:300] + rows[300 :: max(1, len(rows) // 1000)]
        texts = {spec.text(row) for row in sample}
        longest = max((len(text) for text in texts), default=0)
        metrics = self.fontMetrics()
        widest = max(
            (metrics.horizontalAdvance(text) for text in texts if len(text) >= longest - 1),
            default=0,
        )
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 1
        header = self.horizontalHeader().sectionSizeFromContents(column).width()
        self.setColumnWidth(column, max(widest + 2 * margin + AIR, header))

    def clear(self) -> None:
        self.rows.set_rows(self.rows.columns, [], id)

    def rowCount(self) -> int:
        return len(self.rows.rows)

    def row_object(self, row: int) -> Any:
        return self.rows.rows[row]

    def text(self, row: int, column: int) -> str:
        return self.rows.columns[column].text(self.rows.rows[row])

    def selected_object(self) -> Any | None:
        selected = self.selectionModel().selectedRows()
        return self.rows.rows[selected[0].row()] if selected else None

    def select_key(self, key: Any) -> bool:
        """Select and show the row whose key is ``key``; False when there is none."""
        row = self.rows.row_of(key)
        if row is None:
            return False
        index = self.rows.index(row, 0)
        self.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.scrollTo(index)
        return True

    def _selection_changed(self) -> None:
        chosen = self.selected_object()
        if chosen is not None:
            self.rowSelected.emit(chosen)
