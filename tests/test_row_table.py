"""The sortable table behind the Inspect step's layer list and the Compare tab."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt

from studio.ui.pages.inspect.row_table import Column, RowTable


@dataclass
class Layer:
    name: str
    ms: float | None


COLUMNS = [
    Column("Layer", lambda layer: layer.name, tooltip=lambda layer: f"all of {layer.name}"),
    Column(
        "ms",
        lambda layer: "—" if layer.ms is None else f"{layer.ms:.4f}",
        number=lambda layer: layer.ms,
        colour=lambda layer: "#c5221f" if layer.ms else None,
    ),
]
LAYERS = [
    Layer("b/Conv", 2.0),
    Layer("A/Add", None),
    Layer("c/MatMul", 10.0),
    Layer("d/Relu", float("nan")),
    Layer("e/Gemm", 0.5),
]


def _names(table: RowTable) -> list[str]:
    return [table.text(row, 0) for row in range(table.rowCount())]


def _table(qtbot: Any) -> RowTable:
    table = RowTable()
    qtbot.addWidget(table)
    table.set_rows(COLUMNS, LAYERS, key=lambda layer: layer.name, sort_column=1, fit=(1,))
    return table


def test_numbers_sort_by_value_either_way_with_missing_values_last(qtbot: Any) -> None:
    table = _table(qtbot)
    assert _names(table) == ["c/MatMul", "b/Conv", "e/Gemm", "A/Add", "d/Relu"]
    table.sortByColumn(1, Qt.SortOrder.AscendingOrder)  # as a click on the header does
    assert _names(table) == ["e/Gemm", "b/Conv", "c/MatMul", "A/Add", "d/Relu"]
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert _names(table) == ["A/Add", "b/Conv", "c/MatMul", "d/Relu", "e/Gemm"]  # any case


def test_cells_show_text_alignment_tooltips_and_colours(qtbot: Any) -> None:
    table = _table(qtbot)
    model = table.model()
    top = model.index(0, 1)
    assert model.data(top) == "10.0000"
    assert model.data(top, Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert model.data(top, Qt.ItemDataRole.ForegroundRole).color().name() == "#c5221f"
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole) == "all of c/MatMul"
    assert model.data(model.index(3, 1)) == "—"
    assert model.headerData(1, Qt.Orientation.Horizontal) == "ms"


def test_selection_stays_on_the_same_layer_when_resorted(qtbot: Any) -> None:
    table = _table(qtbot)
    with qtbot.waitSignal(table.rowSelected) as chosen:
        table.selectRow(2)  # as a click does
    assert chosen.args == [LAYERS[4]]
    table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert table.selected_object() is LAYERS[4]
    assert table.select_key("b/Conv") and table.selected_object() is LAYERS[0]
    assert not table.select_key("no such layer")


def test_fitted_columns_show_their_widest_text_whole(qtbot: Any) -> None:
    table = _table(qtbot)
    table.resize(600, 300)
    table.show()
    qtbot.waitExposed(table)
    # The names take what is left.
    assert table.columnWidth(0) + table.columnWidth(1) >= table.viewport().width() - 1
    widest = max(table.fontMetrics().horizontalAdvance(t) for t in ("10.0000", "2.0000"))
    assert table.columnWidth(1) > widest
    table.clear()
    assert table.rowCount() == 0 and table.model().columnCount() == 2
