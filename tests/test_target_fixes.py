"""Target step: verdicts are shown whole, and the fixes they name are one click away."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.core.compress.method_ids import Method
from studio.ui.jobs_qt import JobManager
from studio.ui.pages.target.target_page import TargetPage
from studio.ui.state import WizardState
from tests.support.chip_models import make_convnet

JOB_TIMEOUT = 120_000


@pytest.fixture
def page(
    qtbot, _fresh_user_folders: None, gui_calibration_cache: Path, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(gui_calibration_cache))
    state = WizardState()
    state.set_model("local", make_convnet(tmp_path / "flexible.onnx"))
    state.recipe.optimize.method = Method.CLEANUP
    jobs = JobManager()
    widget = TargetPage(state, jobs)
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    yield widget
    widget.chips.shutdown()
    jobs.shutdown()


def _compared(qtbot, page: TargetPage) -> None:
    with qtbot.waitSignal(page.chips.compared, timeout=JOB_TIMEOUT):
        page.entered()


def test_verdicts_show_whole_and_the_recommended_method_is_one_click(
    qtbot, page: TargetPage
) -> None:
    _compared(qtbot, page)
    table = page.chips.table
    metrics = table.fontMetrics()
    for row in range(table.rowCount()):
        item = table.item(row, 1)
        rect = table.visualItemRect(item)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
        need = metrics.boundingRect(rect.adjusted(4, 0, -4, 0), flags, item.text())
        assert need.height() <= rect.height(), item.text()
    # "choose the recommended method" is one click too.
    cards = page.chips
    cards.choose("hailo-10h")
    row = cards._row("hailo-10h")
    assert cards.method_button.isVisible() and row.recommended_method in cards.method_button.text()
    cards.method_button.click()
    assert page.state.recipe.optimize.method == row.recommended_method
    assert not cards.method_button.isVisible()  # already chosen: nothing left to offer


def test_fix_sizes_is_one_click_and_the_verdict_drops_the_condition(
    qtbot, page: TargetPage
) -> None:
    _compared(qtbot, page)
    cards = page.chips
    cards.choose("hailo-10h")
    assert "once its input sizes are fixed" in cards.verdict.text()
    assert cards.fix_shapes_button.isVisible()
    with qtbot.waitSignal(cards.compared, timeout=JOB_TIMEOUT):
        cards.fix_shapes_button.click()
    assert page.state.recipe.shapes == {"x": [1, 3, 32, 32]}
    assert "input sizes" not in cards.verdict.text()
    assert not cards.fix_shapes_button.isVisible()
