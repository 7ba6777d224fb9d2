"""The NPU parts of the wizard: the compiler's placement on the Target step (Qualcomm's real
compiler from the qnn extra, in a job child), the Optimize step's NPU compile, Inspect's
NPU / CPU colouring and the Axera kit's plain words."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from studio.core.chips.catalogue import get_chip
from studio.ui.npu_placement import PlacementPanel, predicted_text
from tests.support.chip_models import make_conv_then
from tests.support.gui_pages import optimize_page  # noqa: F401 (the `page` fixture)

SNAPDRAGON = "qualcomm-snapdragon-8-gen-3"


def _require_qnn() -> None:
    if importlib.util.find_spec("onnxruntime_qnn") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("onnxruntime-qnn (the [qnn] extra) is not installed: .ci/run installs it")
        pytest.skip("onnxruntime-qnn (the [qnn] extra) is not installed")


def test_target_shows_the_compilers_placement_with_each_cpu_node_and_why(
    qtbot, tmp_path: Path
) -> None:
    _require_qnn()
    model = make_conv_then(tmp_path / "hardmax.onnx", "Hardmax")
    panel = PlacementPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.placed, timeout=180_000) as done:
        panel.show_for(model, None, SNAPDRAGON)
        assert "Asking Qualcomm's compiler" in panel.label.text()
        assert panel.progress.isVisibleTo(panel)  # in a job: the window is free meanwhile
    check = done.args[0]
    assert check.placement is not None and 0 < check.placement.npu_share < 1
    text = panel.label.text()
    assert text.startswith("Checked by Qualcomm's compiler: 50% of the model's nodes run on the")
    assert "(1 of 2)" in text
    assert "CPU fallback: tested (Hardmax) — " in text and "not supported" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hardmax.onnx"]  # nothing left here
    panel.shutdown()


def test_chips_without_a_compiler_here_say_the_placement_is_predicted() -> None:
    axera = predicted_text(get_chip("axera-ax650n"), None)
    assert "final compile runs in Axera's Pulsar2 (Docker, on your PC)" in axera
    intel = predicted_text(get_chip("intel-core-ultra-meteor-lake"), None)
    assert intel == "Where each node runs is predicted from the published op list."
    assert predicted_text(get_chip("this-pc"), None) == ""


def test_deploy_says_where_axeras_final_compile_runs_and_what_to_run() -> None:
    from studio.ui.pages.deploy.deploy_page import kit_note

    note = kit_note("axera-ax650n")
    assert "final compile runs in Axera's Pulsar2 (Docker, on your PC)" in note
    assert "studio compile MODEL --chip axera-ax650n --out KIT" in note
    assert "pulsar2/build.sh" in note and ".axmodel" in note
    assert kit_note(SNAPDRAGON) == "" and kit_note("no-such-chip") == ""


def test_inspect_colours_the_graph_by_where_the_compiler_puts_each_node(
    qtbot, tmp_path: Path
) -> None:
    _require_qnn()
    from studio.core.compile.probe import check_placement
    from studio.ui.npu_placement import PLACE_COLOURS
    from studio.ui.pages.inspect.graph_panel import MEASURED, PLACE, GraphPanel

    model = make_conv_then(tmp_path / "hardmax.onnx", "Hardmax")
    panel = GraphPanel()
    qtbot.addWidget(panel)
    panel.set_target_chip(SNAPDRAGON, "Snapdragon 8 Gen 3")
    index = panel.heat_source.findData(PLACE + SNAPDRAGON)
    assert panel.heat_source.itemText(index) == (
        "Colour by where each node runs on Snapdragon 8 Gen 3 (NPU / CPU)"
    )
    with qtbot.waitSignal(panel.placementRequested) as asked:
        panel.heat_source.setCurrentIndex(index)
    assert asked.args == [SNAPDRAGON]
    check = check_placement(str(model), SNAPDRAGON)  # what Inspect's job runs
    panel.show_placement(check)
    assert panel.graph._colours == {"conv": PLACE_COLOURS["npu"], "tested": PLACE_COLOURS["cpu"]}
    assert panel.place_legend.isVisibleTo(panel)
    assert "checked by Qualcomm's compiler (50% on the NPU)" in panel.place_legend.title.text()
    panel.heat_source.setCurrentIndex(panel.heat_source.findData(MEASURED))
    assert not panel.place_legend.isVisibleTo(panel)
    # Intel has no compiler here: no placement colouring is offered for it.
    panel.set_target_chip("intel-core-ultra-meteor-lake", "Core Ultra")
    assert panel.heat_source.findData(PLACE + "intel-core-ultra-meteor-lake") == -1
    panel.shutdown()


def test_optimize_compiles_for_the_chosen_npu_in_a_job_and_says_what_the_drift_is(
    qtbot, page
) -> None:
    _require_qnn()
    npu = page.npu
    assert not npu.isVisibleTo(page)  # This PC: nothing to compile for
    page.state.recipe.target.chip = "axera-ax650n"
    page.state.target_changed.emit()
    assert npu.button.text() == "Build the Pulsar2 kit for AX650N"
    page.state.recipe.target.chip = SNAPDRAGON
    page.state.target_changed.emit()
    assert npu.isVisibleTo(page) and npu.button.text() == "Compile for the Snapdragon 8 Gen 3 NPU"
    npu.button.click()
    assert npu.progress.isVisibleTo(page)  # a job: progress and Cancel
    qtbot.waitUntil(lambda: npu.result is not None, timeout=240_000)
    text = npu.label.text()
    assert text.startswith("Compiled for the NPU (HTP v75): ")
    assert "100% of the model's nodes run on the NPU." in text
    assert "The NPU's arithmetic, on the NPU emulator on this PC: cosine 0.9" in text
    assert " ms" not in text  # emulator time is never shown as latency
    assert Path(npu.result.output, npu.result.model_file).is_file()
