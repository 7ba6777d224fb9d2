"""Channel pruning from the Optimize step's Advanced options, with the result card's warnings."""

from __future__ import annotations

from studio.core.compress import Method
from studio.ui.pages.optimize.optimize_page import OptimizePage
from tests.support.gui_pages import optimize_page  # noqa: F401 (the `page` fixture)

JOB_TIMEOUT = 120_000


def test_prune_channels_is_selectable_and_shows_measured_speed(qtbot, page: OptimizePage) -> None:
    page.advanced.toggle.click()
    combo = page.advanced.method
    combo.setCurrentIndex(combo.findData("prune-channels"))
    assert page.state.recipe.optimize.method is Method.PRUNE_CHANNELS
    assert "Remove channels" in combo.currentText()
    page.advanced.editors["channels.ratio"].setValue(0.25)
    page.advanced.editors["channels.multiple_of"].setValue(4)
    assert page.state.recipe.optimize.channels.ratio == 0.25
    assert page.state.recipe.optimize.channels.multiple_of == 4
    page.start()
    qtbot.waitUntil(lambda: page.state.compress_result is not None, timeout=JOB_TIMEOUT)
    result = page.state.compress_result
    assert result.channels is not None and result.channels.layers
    card = page.result_card
    assert "fine-tuned" in card.slower.text()
    assert "Measured on this PC" in card.notes.text()
    assert "Removed channels in" in card.notes.text()
    page.grab().save("/tmp/optimize_prune_channels.png")
