"""The Demo step's chat and presentation mode, driven like a user would, on a tiny INT4 model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.ui.chat_demo import ChatDemo
from studio.ui.jobs_qt import JobManager
from studio.ui.presentation import PresentationWindow

TIMEOUT = 60_000


@pytest.fixture
def jobs(qtbot) -> JobManager:
    manager = JobManager()
    yield manager
    manager.shutdown()


@pytest.fixture
def chat(qtbot, jobs: JobManager, tiny_bundle: Path) -> ChatDemo:
    widget = ChatDemo(jobs)
    qtbot.addWidget(widget)
    widget.set_model(0, str(tiny_bundle))
    widget.set_model(1, str(tiny_bundle))
    widget.resize(1000, 640)
    widget.show()
    return widget


def test_send_streams_an_answer_with_speed_figures(qtbot, chat: ChatDemo) -> None:
    chat.settings_panel.max_tokens.setValue(30)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.prompt.setText("In the beginning")
        qtbot.mouseClick(chat.send_button, Qt.MouseButton.LeftButton)
        assert chat.stop_button.isEnabled() and not chat.send_button.isEnabled()
    pane = chat.panes[0]
    assert "In the beginning" in pane.history.toPlainText()
    assert "tokens" in pane.history.toPlainText()
    assert pane.ttft.value.text().endswith("ms")
    assert pane.memory.value.text().endswith("MB")
    assert chat.send_button.isEnabled() and not chat.stop_button.isEnabled()
    assert len(chat.jobs.jobs) == 1  # it ran as a background job, listed in the jobs panel
    chat.grab().save("/tmp/chat_demo.png")


def test_compare_runs_both_models_one_after_the_other(qtbot, chat: ChatDemo) -> None:
    chat.compare.setChecked(True)
    chat.settings_panel.max_tokens.setValue(10)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("The quick brown")
    for pane in chat.panes:
        assert "The quick brown" in pane.history.toPlainText()
        assert pane.memory.value.text().endswith("MB")
    assert len(chat.jobs.jobs) == 2


def test_stop_ends_the_run_and_frees_the_buttons(qtbot, chat: ChatDemo) -> None:
    chat.settings_panel.max_tokens.setValue(200)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("In the")
        chat.stop()
    assert chat.send_button.isEnabled() and not chat.stop_button.isEnabled()
    assert not chat.running()


def test_empty_prompt_does_nothing(chat: ChatDemo) -> None:
    chat.send("   ")
    assert not chat.running() and chat.jobs.jobs == []


def test_choosing_a_folder_without_a_model_is_refused(chat: ChatDemo, tmp_path: Path) -> None:
    chat.set_model(0, str(tmp_path))
    assert chat.models[0] != str(tmp_path)


def test_presentation_plays_presets_and_needs_a_deliberate_exit(qtbot, tiny_bundle: Path) -> None:
    window = PresentationWindow(str(tiny_bundle))
    qtbot.addWidget(window)
    window.show_presentation()
    assert window.isFullScreen()
    with qtbot.waitSignal(window.answer_finished, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(window.preset_buttons[0], Qt.MouseButton.LeftButton)
    assert blocker.args[0] is not None and blocker.args[0].tokens > 0
    assert window.speed.text() not in ("–", "…")
    window.grab().save("/tmp/presentation.png")
    # A quick Esc or a single corner click does not end the show; Alt+F4 is ignored too.
    qtbot.keyPress(window, Qt.Key.Key_Escape)
    qtbot.keyRelease(window, Qt.Key.Key_Escape)
    window.close()
    assert window.isVisible()
    # Holding Esc does.
    with qtbot.waitSignal(window.closed, timeout=5000):
        qtbot.keyPress(window, Qt.Key.Key_Escape)
    assert not window.isVisible()


def test_presentation_auto_loop_keeps_going(
    qtbot, tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.ui.presentation as presentation

    monkeypatch.setattr(presentation, "LOOP_PAUSE_MS", 10)
    window = PresentationWindow(str(tiny_bundle))
    qtbot.addWidget(window)
    window.show_presentation()
    window.set_auto_loop(True)
    qtbot.waitUntil(lambda: window.answers >= 2, timeout=TIMEOUT)
    window.set_auto_loop(False)
    qtbot.waitUntil(lambda: window.run is None, timeout=TIMEOUT)
    window.leave()
