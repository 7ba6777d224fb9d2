"""The wizard as a person uses it: click Next through all six steps to a verified bundle."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.core.bundle.folder import MANIFEST, verify_bundle
from studio.core.bundle.layout import MANIFEST_VERSION
from studio.core.bundle.pipeline import run_recipe
from studio.core.jobs import JobSpec, JobState
from studio.ui.main_window import MainWindow

JOB_TIMEOUT = 120_000


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    win.jobs.shutdown()


def _dialogs() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def _next_ready(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: win.next_button.isEnabled(), timeout=JOB_TIMEOUT)


def _layout(value: Any) -> Any:
    """The keys at every level (one record of a list of records), without measured values."""
    if isinstance(value, dict):
        return {key: _layout(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_layout(value[0])]
    return type(value).__name__


def _same_manifest_as_studio_run(win: MainWindow, tmp_path: Path) -> None:
    # The wizard kept the drift report inside reports["compress"], `studio run` in
    # reports["drift"]: one bundle, two layouts depending on the face that made it.
    wizard = json.loads((win.state.bundle_path / MANIFEST).read_text(encoding="utf-8"))
    run_recipe(win.state.recipe, tmp_path / "run")
    run = json.loads((tmp_path / "run" / MANIFEST).read_text(encoding="utf-8"))
    assert _layout(wizard) == _layout(run)
    assert wizard["schema_version"] == run["schema_version"] == MANIFEST_VERSION
    assert sorted(wizard["reports"]) == ["check", "compress", "drift", "profile"]
    for key in ("model", "chip", "method", "precision", "entry", "inputs", "outputs", "recipe"):
        assert wizard[key] == run[key], key
    assert [f["path"] for f in wizard["files"]] == [f["path"] for f in run["files"]]


def test_click_through_all_six_steps_to_a_verified_bundle(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    win = window
    assert win.stack.currentIndex() == 0
    _next_ready(qtbot, win)  # the demo model is preselected and summarised
    assert win.state.summary is not None and win.state.summary.name == "digits_cnn"
    assert win.pages[0].fact_values["Parameters"].text().endswith("K")
    io = win.pages[0].io_table
    shape = io.item(0, 3).text()
    assert shape == "batch×1×16×16"
    assert io.columnWidth(3) >= io.fontMetrics().horizontalAdvance(shape)  # shown whole

    win.next_button.click()  # → Target (This PC preselected)
    assert win.stack.currentIndex() == 1
    _next_ready(qtbot, win)
    win.next_button.click()  # → Optimize starts by itself
    assert win.stack.currentIndex() == 2
    assert not win.next_button.isEnabled()
    _next_ready(qtbot, win)
    result = win.state.compress_result
    assert result is not None and result.size_after < result.size_before
    assert "smaller" in win.pages[2].verdict.text()

    win.next_button.click()  # → Inspect measures by itself (it starts a moment after it shows)
    qtbot.waitUntil(lambda: win.state.profile_result is not None, timeout=JOB_TIMEOUT)
    _next_ready(qtbot, win)
    table = win.pages[3].table
    assert table.rowCount() == len(win.state.profile_result.nodes) > 0
    widest = max(
        table.fontMetrics().horizontalAdvance(table.text(r, 1)) for r in range(table.rowCount())
    )
    assert table.columnWidth(1) >= widest  # "DequantizeLinear" shown whole

    win.next_button.click()  # → Deploy
    deploy = win.pages[4]
    qtbot.waitUntil(lambda: win.reason.isVisible())
    assert not win.next_button.isEnabled() and "Create bundle" in win.reason.text()
    assert deploy.folder.text()
    deploy.write_button.click()
    qtbot.waitUntil(lambda: win.state.bundle_path is not None, timeout=JOB_TIMEOUT)
    assert "Verified" in deploy.verdict.text()
    assert verify_bundle(win.state.bundle_path).ok
    _same_manifest_as_studio_run(win, tmp_path)

    _next_ready(qtbot, win)
    win.next_button.click()  # → Demo runs the bundle by itself
    demo = win.pages[5]
    qtbot.waitUntil(lambda: "It reads" in demo.answer.text(), timeout=JOB_TIMEOUT)
    assert "ms per run" in demo.speed.text()
    states = {job.title: job.handle.state for job in win.jobs.jobs}
    # The Target step's comparison on every chip may still be running; nothing may have failed.
    assert JobState.FAILED not in states.values(), states
    assert states["Demo run on this PC"] is JobState.SUCCEEDED


def _click_step(win: MainWindow, row: int) -> None:
    rect = win.steps.visualItemRect(win.steps.item(row))
    QTest.mouseClick(win.steps.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_the_sidebar_shows_the_step_it_highlights_or_says_why_not(
    qtbot, window: MainWindow
) -> None:
    win = window
    _next_ready(qtbot, win)

    def shown() -> tuple[int, int, list[int]]:
        selected = [win.steps.row(item) for item in win.steps.selectedItems()]
        return win.stack.currentIndex(), win.steps.currentRow(), selected

    _click_step(win, 5)  # Demo, with Optimize not done: refused, and step 1 stays highlighted
    qtbot.wait(50)
    assert shown() == (0, 0, [0])
    assert "Step 3 is not done yet" in win.reason.text()
    _click_step(win, 1)
    qtbot.waitUntil(lambda: shown() == (1, 1, [1]))


def test_bad_model_shows_one_line_and_keeps_the_previous_choice(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    win = window
    _next_ready(qtbot, win)
    bad = tmp_path / "broken.onnx"
    bad.write_text("definitely not onnx")
    win.pages[0].use_model("local", bad)
    qtbot.waitUntil(lambda: bool(_dialogs()), timeout=10_000)
    dialog = _dialogs()[0]
    assert "broken.onnx" in dialog.text() and "\n" not in dialog.text()
    dialog.close()
    assert win.state.recipe.model.source == "demo"
    assert win.next_button.isEnabled()


def test_crashing_job_is_reported_and_the_window_survives(qtbot, window: MainWindow) -> None:
    win = window
    job = win.jobs.start(JobSpec("Crash test", "tests.support.job_targets:segfault"))
    with qtbot.waitSignal(job.finished, timeout=JOB_TIMEOUT):
        pass
    assert job.handle.state is JobState.FAILED
    item_text = win.job_panel.list.item(0).text()
    assert "failed:" in item_text and "segmentation fault" in item_text
    assert win.isVisible()


def test_cancel_from_the_optimize_step_leaves_nothing(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    win = window
    out = tmp_path / "slow.bin"
    job = win.jobs.start(
        JobSpec("Slow", "tests.support.job_targets:slow_writer", {"out": str(out)}, [out])
    )
    win.pages[2].progress.track(job)
    with qtbot.waitSignal(job.progress, timeout=JOB_TIMEOUT):
        pass
    with qtbot.waitSignal(job.cancelled, timeout=JOB_TIMEOUT):
        win.pages[2].progress.cancel_button.click()
    qtbot.waitUntil(lambda: job.is_finished, timeout=JOB_TIMEOUT)
    assert job.handle.state is JobState.CANCELLED
    assert list(tmp_path.iterdir()) == []


def test_save_and_open_recipe(qtbot, window: MainWindow, tmp_path: Path) -> None:
    win = window
    _next_ready(qtbot, win)
    win.state.recipe.profile.runs = 7
    path = tmp_path / "mine.yaml"
    win.save_recipe(path)
    win.state.recipe.profile.runs = 20
    win.open_recipe(path)
    assert win.state.recipe.profile.runs == 7
    (tmp_path / "typo.yaml").write_text("version: 1\noptimise: {}\n")
    win.open_recipe(tmp_path / "typo.yaml")
    qtbot.waitUntil(lambda: bool(_dialogs()), timeout=5_000)
    assert "unknown key 'optimise'" in _dialogs()[0].text()
    _dialogs()[0].close()


def test_a_step_is_shown_first_and_starts_its_work_a_moment_later(
    qtbot, window: MainWindow
) -> None:
    win = window
    _next_ready(qtbot, win)
    win.go_to(1)
    _next_ready(qtbot, win)
    win.go_to(2)
    assert win.stack.currentIndex() == 2 and win.pages[2].job is None  # painted before working
    qtbot.waitUntil(lambda: win.pages[2].job is not None, timeout=5_000)
    first = win.pages[2].job
    first.cancel()
    qtbot.waitUntil(lambda: first.is_finished, timeout=JOB_TIMEOUT)
    # Passing through a step quickly does not start its work.
    win.go_to(1)
    win.go_to(2)
    win.go_to(1)
    qtbot.wait(200)
    assert win.pages[2].job is first


def test_an_empty_bundle_folder_gets_the_suggested_one_not_the_current_folder(
    qtbot, window: MainWindow
) -> None:
    win = window
    _next_ready(qtbot, win)
    deploy = win.pages[4]
    deploy.folder.clear()  # the page was never shown, or the user emptied the field
    deploy.start()
    qtbot.waitUntil(lambda: deploy.job.is_finished, timeout=JOB_TIMEOUT)
    assert win.state.bundle_path is not None
    assert win.state.bundle_path.resolve() != Path.cwd().resolve()
    assert win.state.bundle_path.name.startswith("digits_cnn-")
