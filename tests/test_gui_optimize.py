"""The Optimize step's presets, Advanced form, result card and "keep in float and re-run"."""

from __future__ import annotations

from pathlib import Path

from studio.core.compress import Method, compress_model
from studio.ui.pages.optimize.optimize_page import OptimizePage
from tests.support.compress_models import cnn_samples, make_cnn
from tests.support.gui_pages import optimize_page  # noqa: F401 (the `page` fixture)

JOB_TIMEOUT = 120_000


def test_preset_cards_set_the_recipe(page: OptimizePage) -> None:
    buttons = page.presets.buttons
    assert set(buttons) == {"smallest", "fastest", "accurate", "auto"}
    assert "最小" in buttons["smallest"].text() and "Size:" in buttons["smallest"].text()
    assert buttons["smallest"].isChecked()  # the demo recipe is INT8 static
    buttons["accurate"].click()
    assert page.state.recipe.optimize.method is Method.CLEANUP  # this PC: no FP16 on a CPU
    assert page.state.recipe.optimize.calibration == "demo", "data choices survive a preset"
    buttons["auto"].click()
    assert page.state.recipe.optimize.method is Method.AUTO


def test_advanced_form_is_built_from_the_method_parameters(page: OptimizePage) -> None:
    page.advanced.toggle.click()
    assert page.advanced.body.isVisible()
    combo = page.advanced.method
    combo.setCurrentIndex(combo.findData("int4"))
    assert page.state.recipe.optimize.method is Method.INT4
    spin = page.advanced.editors["int4.block_size"]
    spin.setValue(64)
    assert page.state.recipe.optimize.int4.block_size == 64
    assert not any(b.isChecked() for b in page.presets.buttons.values())
    combo.setCurrentIndex(combo.findData("int8-static"))
    page.advanced.editors["int8.calibrate_method"].setCurrentIndex(1)
    assert page.state.recipe.optimize.int8.calibrate_method == "entropy"


def test_auto_runs_as_a_job_and_shows_the_result_card(qtbot, page: OptimizePage) -> None:
    page.presets.buttons["auto"].click()
    page.start()
    qtbot.waitUntil(lambda: page.state.compress_result is not None, timeout=JOB_TIMEOUT)
    card = page.result_card
    assert card.isVisible()
    assert "smaller" in page.verdict.text() and "Auto chose" in page.verdict.text()
    assert "cosine" in card.drift.text()
    assert card.findChild(object, "candidatesTable") is not None
    assert card.findChild(object, "outputsTable").rowCount() == 1
    page.grab().save("/tmp/optimize_auto.png")


def test_keep_in_float_button_reruns_with_those_layers(
    qtbot, page: OptimizePage, tmp_path: Path
) -> None:
    model = make_cnn(tmp_path / "cnn.onnx")
    result = compress_model(
        model, "int8-static", tmp_path / "q.onnx", calib=cnn_samples(tmp_path / "s.npz")
    )
    result.report.suggest_keep_float = ["conv2", "fc"]
    page.result_card.show_result(result)
    button = page.result_card.keep_button
    assert button.isVisible() and "conv2" in button.text()
    started = []
    page.start = lambda: started.append(list(page.state.recipe.optimize.keep_float))  # type: ignore[method-assign]
    button.click()
    assert started == [["conv2", "fc"]]
    assert page.advanced.keep.text() == "conv2, fc"


def test_slower_result_is_flagged_loudly(page: OptimizePage, tmp_path: Path) -> None:
    model = make_cnn(tmp_path / "cnn.onnx")
    result = compress_model(model, "cleanup", tmp_path / "c.onnx")
    result.report.latency_before_ms, result.report.latency_after_ms = 1.0, 3.0
    result.report.slower = True
    page.result_card.show_result(result)
    assert "Slower than the original" in page.result_card.slower.text()
