"""The Inspect step with graph, charts and Compare: selection syncs table ↔ graph, exports work."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

pytest.importorskip("PySide6.QtWebEngineWidgets")

from studio.core.compress import compress_model
from studio.ui.main_window import MainWindow
from studio.ui.pages.inspect.profile_charts import chart_rows, display_name

JOB_TIMEOUT = 120_000


@pytest.fixture
def inspect(qtbot: Any, demo_model: Path, tmp_path: Path) -> Iterator[Any]:
    """The Inspect page of a main window whose model was optimized (int8) and measured."""
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 900)
    win.show()
    # Let the Model step finish reading the demo model first (it resets later results).
    qtbot.waitUntil(lambda: win.next_button.isEnabled(), timeout=JOB_TIMEOUT)
    win.state.compress_result = compress_model(demo_model, "int8-dynamic", tmp_path / "q.onnx")
    page = win.pages[3]
    win.stack.setCurrentWidget(page)
    page.start()
    qtbot.waitUntil(lambda: win.state.profile_result is not None, timeout=JOB_TIMEOUT)
    yield page
    page.views.shutdown()
    win.jobs.shutdown()


def js(qtbot: Any, view: Any, script: str) -> Any:
    with qtbot.waitCallback(timeout=10_000) as callback:
        view.run_js(f"JSON.stringify({script})", callback)
    return json.loads(callback.args[0]) if callback.args[0] else None


def _selected_row_name(page: Any) -> str | None:
    node = page.table.selected_object()
    return node.name if node is not None else None


def test_table_and_graph_selection_sync_both_ways(qtbot: Any, inspect: Any) -> None:
    page, views = inspect, inspect.views
    views.setCurrentWidget(views.graph)
    view = views.graph.graph
    if not view.node_count:
        qtbot.waitSignal(view.ready, timeout=60_000).wait()
    profile = page.state.profile_result
    # graph → table: clicking the slowest layer's node selects the kernel that ran it.
    slowest = profile.nodes[0]
    node = (slowest.fused_from or [slowest.name])[0]
    with qtbot.waitSignal(view.nodeClicked, timeout=5_000):
        js(
            qtbot,
            view,
            f"document.getElementById('node-name-{node}').querySelector("
            "'.node-item path').dispatchEvent(new MouseEvent('click', "
            "{bubbles: true}))",
        )
    assert _selected_row_name(page) == slowest.name
    # table → graph: selecting another row selects its (first) node in the graph.
    other = next(n for n in profile.nodes[1:] if n.kind.value != "inserted")
    row = next(r for r in range(page.table.rowCount()) if page.table.row_object(r) is other)
    page.table.selectRow(row)  # as a click on the row does
    wanted = (other.fused_from or [other.name])[0]
    qtbot.waitUntil(lambda: js(qtbot, view, "window.studio.selected()") == [wanted], timeout=5_000)
    # The heat-map is on and explained; the slowest node has the deepest colour.
    assert view.legend.isVisible()
    colour = js(
        qtbot,
        view,
        f"document.getElementById('node-name-{node}').getAttribute('data-studio-colour')",
    )
    assert colour == "#b91c1c"


def test_charts_draw_and_export(qtbot: Any, inspect: Any, tmp_path: Path) -> None:
    views = inspect.views
    views.setCurrentWidget(views.charts)
    charts = views.charts
    for index in range(charts.choice.count()):
        charts.choice.setCurrentIndex(index)
        png = charts.save_png(tmp_path / f"chart{index}.png")
        assert png.stat().st_size > 1000
        rows = list(csv.reader(charts.save_csv(tmp_path / f"chart{index}.csv").open()))
        assert len(rows) > 1
    charts.choice.setCurrentIndex(0)
    with qtbot.waitSignal(charts.layerClicked, timeout=2_000) as clicked:
        charts.layerClicked.emit(inspect.state.profile_result.nodes[0].name)
    assert _selected_row_name(inspect) == clicked.args[0]


def test_threads_runs_and_shapes_are_settable(qtbot: Any, inspect: Any) -> None:
    settings = inspect.views.settings
    settings.runs.setValue(3)
    settings.threads.setValue(1)
    settings.shapes.setText("image=2x1x16x16")
    assert settings.store()
    inspect.start()
    qtbot.waitUntil(lambda: inspect.job.is_finished, timeout=JOB_TIMEOUT)
    result = inspect.state.profile_result
    assert (result.runs, result.threads) == (3, 1)
    assert result.input_shapes == {"image": [2, 1, 16, 16]}
    settings.shapes.setText("image=two")
    assert not settings.store() and "NAME=DIMS" in settings.error.text()


def test_compare_original_and_optimized(qtbot: Any, inspect: Any) -> None:
    views = inspect.views
    views.setCurrentWidget(views.compare)  # Compare runs by itself when first shown
    compare = views.compare
    assert not compare.button.isEnabled()  # while it runs
    qtbot.waitUntil(lambda: compare.diff is not None, timeout=JOB_TIMEOUT)
    diff = compare.diff
    assert "smaller" in compare.verdict.text() and "Speed on this PC" in compare.verdict.text()
    assert compare.layers.rowCount() == len(diff.latency) > 0
    assert compare.changes.rowCount() == len(diff.changed) + len(diff.added) + len(diff.removed)
    assert compare.changes.text(0, 0).startswith("~ ")  # in the diff's order: changes first
    # The optimized graph is shown with the changes highlighted.
    view = compare.graph
    qtbot.waitUntil(lambda: view.node_count > 0, timeout=60_000)
    replaced = next(c for c in diff.changed if c.replaced_by)
    name = replaced.replaced_by[0].name
    qtbot.waitUntil(
        lambda: (
            js(
                qtbot,
                view,
                f"document.getElementById('node-name-{name}').getAttribute('data-studio-colour')",
            )
            == "#f59e0b"
        ),
        timeout=10_000,
    )
    # Slowest original layers first; choosing one shows it in the original graph.
    before = [row.delta.ms_a for row in compare.layers.rows.rows]
    assert before == sorted(before, reverse=True)
    compare.layers.selectRow(0)
    assert compare.showing == "a"
    wanted = compare.layers.row_object(0).delta.names[0]
    qtbot.waitUntil(lambda: js(qtbot, view, "window.studio.selected()") == [wanted], timeout=10_000)
    # Choosing a change that is in the optimized graph switches back to it.
    changes = compare.changes
    row = next(r for r in range(changes.rowCount()) if changes.row_object(r).kind != "removed")
    changes.selectRow(row)
    assert compare.showing == "b"


def test_graph_can_be_coloured_by_the_prediction_for_the_target_chip(
    qtbot: Any, inspect: Any
) -> None:
    state, views = inspect.state, inspect.views
    state.recipe.target.chip = "raspberry-pi-5"
    state.target_changed.emit()
    panel = views.graph
    views.setCurrentWidget(panel)
    assert panel.heat_source.count() == 2 and "Raspberry Pi 5" in panel.heat_source.itemText(1)
    view = panel.graph
    qtbot.waitUntil(lambda: view.node_count > 0, timeout=60_000)
    panel.heat_source.setCurrentIndex(1)
    qtbot.waitUntil(lambda: "predicted for" in panel.headline.text(), timeout=JOB_TIMEOUT)
    assert view.legend.isVisible()
    painted = js(qtbot, view, "document.querySelectorAll('[data-studio-colour]').length")
    assert painted > 0
    state.recipe.target.chip = "this-pc"
    state.target_changed.emit()
    assert panel.heat_source.count() == 1


def test_compare_one_model_on_two_chips(qtbot: Any, inspect: Any) -> None:
    views = inspect.views
    views.setCurrentWidget(views.compare)
    compare = views.compare
    assert compare.chip_a.count() >= 2  # the catalogue is listed when Compare is shown
    compare.chip_a.setCurrentIndex(compare.chip_a.findData("raspberry-pi-5"))
    compare.chip_b.setCurrentIndex(compare.chip_b.findData("intel-core-ultra-meteor-lake"))
    compare.chips_button.click()
    qtbot.waitUntil(
        lambda: "predicted from the chip profiles" in compare.status.text(), timeout=JOB_TIMEOUT
    )
    assert compare.layers.rowCount() > 0
    tip = compare.layers.model().headerData(
        1, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
    )
    assert "Raspberry Pi 5" in tip
    assert "A = Raspberry Pi 5" in compare.verdict.text()
    assert "ms" in compare.verdict.text()


def test_verdict_leads_with_the_faster_of_one_thread_and_all_cores(
    qtbot: Any, inspect: Any
) -> None:
    measured = inspect.state.profile_result
    # How steady it was is pinned: the real profile may have run on a busy CI machine.
    slower_on_all = measured.model_copy(
        update={
            "threads": 1,
            "end_to_end_ms": 0.08,
            "all_cores": 2,
            "end_to_end_all_cores_ms": 0.15,
            "halves_moved": 0.0,
            "sessions_set_aside": 0,
            "runs_set_aside": 0,
        }
    )
    inspect._show(slower_on_all)
    text = inspect.verdict.text()
    assert text.startswith("0.080 ms per run on this PC, on 1 thread") and "0.150" in text
    assert "Layers are timed on 1 thread" in inspect.detail.text()
    faster_on_all = slower_on_all.model_copy(update={"end_to_end_all_cores_ms": 0.05})
    inspect._show(faster_on_all)
    assert inspect.verdict.text().startswith("0.050 ms per run on this PC's 2 cores")
    fixed = slower_on_all.model_copy(
        update={"threads": 2, "all_cores": 0, "end_to_end_all_cores_ms": None}
    )
    inspect._show(fixed)
    assert inspect.verdict.text() == "0.080 ms per run on this PC"
    assert "on 2 threads;" in inspect.detail.text()
    inspect._show(slower_on_all)
    assert "on 1 thread;" in inspect.detail.text()
    assert inspect.unsteady.isHidden()
    inspect._show(slower_on_all.model_copy(update={"halves_moved": 0.42}))
    assert not inspect.unsteady.isHidden()
    assert inspect.unsteady.text().startswith("⚠ Layer times moved by up to 42% between the first")
    assert "Measure again" in inspect.unsteady.text()
    inspect._show(slower_on_all)
    assert inspect.unsteady.isHidden()


def test_detail_says_how_many_slowed_sessions_were_left_out(qtbot: Any, inspect: Any) -> None:
    measured = inspect.state.profile_result.model_copy(
        update={
            "sessions": 16,
            "layer_runs": 160,
            "sessions_set_aside": 0,
            "runs_set_aside": 0,
            "halves_moved": 0.0,
        }
    )  # pinned: the real profile may have run on a busy machine
    inspect._show(measured)
    assert "medians of 160 profiled runs over 16 fresh sessions" in inspect.detail.text()
    assert "left out" not in inspect.detail.text()
    inspect._show(measured.model_copy(update={"sessions_set_aside": 3, "runs_set_aside": 30}))
    text = inspect.detail.text()
    assert "medians of 130 profiled runs over 13 fresh sessions" in text
    assert (
        "3 more sessions ran over 10% slower than the fastest" in text and "were left out" in text
    )
    assert inspect.unsteady.isHidden()
    inspect._show(measured.model_copy(update={"sessions": 24, "sessions_set_aside": 13}))
    assert not inspect.unsteady.isHidden()
    assert inspect.unsteady.text().startswith("⚠ Most of the profiling ran while something else")
    assert "13 of 24 sessions" in inspect.unsteady.text()
    inspect._show(measured.model_copy(update={"sessions_set_aside": 15, "runs_set_aside": 150}))
    assert "fresh sessions" not in inspect.detail.text()  # one kept: no "over 1 fresh sessions"
    assert "15 more sessions ran over 10% slower" in inspect.detail.text()


def test_rows_of_fused_kernels_say_which_of_your_layers_they_ran(qtbot: Any, inspect: Any) -> None:
    table = inspect.table
    nodes = [table.row_object(row) for row in range(table.rowCount())]
    merged = next(n for n in nodes if len(n.fused_from) > 1)
    row = nodes.index(merged)
    tip = table.model().data(table.model().index(row, 0), Qt.ItemDataRole.ToolTipRole)
    assert tip == (
        "onnxruntime merged these layers of your model into this one step: "
        + ", ".join(merged.fused_from)
    )
    plain = next(n for n in nodes if not n.fused_from)
    row = nodes.index(plain)
    assert table.model().data(table.model().index(row, 0), Qt.ItemDataRole.ToolTipRole) is None


def test_views_follow_the_table_unless_the_result_was_replaced_meanwhile(
    qtbot: Any, inspect: Any
) -> None:
    measured = inspect.state.profile_result.model_copy()
    inspect._show(measured)
    inspect._stale()  # e.g. another model chosen before the colours and charts came
    qtbot.wait(50)
    assert inspect.views.profile is None and inspect.table.rowCount() == 0
    inspect._show(measured)
    assert inspect.table.rowCount() == len(measured.nodes)  # at once
    qtbot.waitUntil(lambda: inspect.views.profile is measured, timeout=5_000)  # next turn


def test_the_slowest_layer_has_one_name_on_every_tab(qtbot: Any, inspect: Any) -> None:
    """Summary, table, chart and Compare name a fused kernel by the user's node, "+N fused"."""
    profile = inspect.state.profile_result
    slowest = profile.nodes[0]
    name = display_name(slowest)
    if slowest.fused_from:
        assert name.startswith(slowest.fused_from[0]) and slowest.name not in name
    assert f"Slowest layer: {name} (" in inspect.slowest.text()
    row = next(r for r in range(inspect.table.rowCount()) if inspect.table.row_object(r) is slowest)
    assert inspect.table.text(row, 0) == name
    assert chart_rows(profile, "top")[1][0][0] == name
    fused = next(n for n in profile.nodes if len(n.fused_from) > 1)
    assert display_name(fused) == f"{fused.fused_from[0]} (+{len(fused.fused_from) - 1} fused)"


def test_how_it_was_measured_is_behind_details(qtbot: Any, inspect: Any) -> None:
    assert inspect.slowest.isVisible() and inspect.details_toggle.isVisible()
    assert not inspect.detail.isVisible() and "Median of" in inspect.detail.text()
    inspect.details_toggle.click()
    assert inspect.detail.isVisible() and inspect.details_toggle.text() == "Details ▾"
    inspect._stale()
    assert inspect.details_toggle.isHidden()


def test_compare_fills_itself_when_shown_and_nothing_is_cut_off(qtbot: Any, inspect: Any) -> None:
    views = inspect.views
    inspect.window().resize(1366, 768)
    views.setCurrentWidget(views.compare)  # no click on "Compare"
    qtbot.waitUntil(lambda: views.compare.diff is not None, timeout=JOB_TIMEOUT)
    qtbot.wait(50)
    for label in views.compare.findChildren(QLabel):
        if label.isVisible() and not label.wordWrap():
            assert label.sizeHint().width() <= label.width(), label.text()
    chips = views.compare.chip_a
    assert chips.itemText(chips.findData("this-pc")) == "This PC"  # as on Target, translated
    job = views.compare_job
    qtbot.waitUntil(lambda: job.is_finished, timeout=JOB_TIMEOUT)
    views.setCurrentIndex(0)
    views.setCurrentWidget(views.compare)  # shown again: the result stays, no second run
    assert views.compare_job is job and views.compare.diff is not None
