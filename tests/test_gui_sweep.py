"""The Sweep page: defaults from the wizard, a background run with rows and the front, cancel,
and "Use this one" making the chosen row the wizard's recipe."""

from __future__ import annotations

import multiprocessing
from typing import Any

from PySide6.QtCore import Qt

from studio.core.compress import Method
from studio.ui.pages.sweep.sweep_page import SweepPage
from studio.ui.state import WizardState

TIMEOUT = 240_000
NPU_CHIP = "intel-core-ultra-meteor-lake"


def _page(qtbot: Any) -> SweepPage:
    state = WizardState()
    state.recipe.target.chip = NPU_CHIP
    page = SweepPage(state)
    qtbot.addWidget(page)
    return page


def _only(page: SweepPage, box: Any, values: set[str]) -> None:
    for i in range(box.count()):
        item = box.item(i)
        checked = item.data(Qt.ItemDataRole.UserRole) in values
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)


def test_defaults_are_the_current_model_this_pc_and_the_chosen_chip_int8_and_fp16(
    qtbot: Any, demo_model: Any
) -> None:
    page = _page(qtbot)
    assert page.checked(page.models) == [str(demo_model)]
    assert set(page.checked(page.chips)) == {"this-pc", NPU_CHIP}
    assert page.checked(page.methods) == ["int8-static", "fp16"]
    assert page.measure.isChecked()


def test_a_sweep_runs_in_the_background_and_the_chosen_row_becomes_the_recipe(
    qtbot: Any,
) -> None:
    page = _page(qtbot)
    _only(page, page.chips, {NPU_CHIP})
    _only(page, page.methods, {"fp16", "int8-dynamic"})
    page.measure.setChecked(False)
    with qtbot.waitSignal(page._relay.finished, timeout=TIMEOUT):
        page.start()
        assert not page.run_button.isEnabled() and page.cancel_button.isEnabled()
    assert page.table.rowCount() == 2 and page.run_button.isEnabled()
    stars = [page.table.item(r, 0).text() for r in range(2)]
    assert "★" in stars
    assert "2 of 2 trials finished" in page.status.text()
    page.table.selectRow(1)
    assert page.use_button.isEnabled()
    assert page.table.item(1, 3).text() == "fp16"  # the spec's order: Method's order
    with qtbot.waitSignal(page.state.recipe_replaced):
        page.use_button.click()
    assert page.state.recipe.optimize.method is Method.FP16
    assert page.state.recipe.target.chip == NPU_CHIP and page.state.recipe.model.source == "demo"


def test_cancel_stops_every_trial(qtbot: Any) -> None:
    page = _page(qtbot)
    _only(page, page.methods, {"fp16", "int8-dynamic", "cleanup"})
    page.measure.setChecked(False)
    with qtbot.waitSignal(page._relay.finished, timeout=TIMEOUT):
        page.start()
        qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=TIMEOUT)
        page.cancel_button.click()
    statuses = [page.table.item(r, 4).text() for r in range(page.table.rowCount())]
    assert "cancelled" in statuses
    assert not multiprocessing.active_children()
