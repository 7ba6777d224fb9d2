"""The Demo step's chat and presentation mode, driven like a user would, on a tiny INT4 model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.ui.jobs_qt import JobManager
from studio.ui.pages.demo.chat_demo import ChatDemo
from studio.ui.pages.demo.presentation import PresentationWindow
from tests.support.crash import killed_mid_answer

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
    yield widget
    widget.shutdown()


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
    # It ran in the model's worker process (not the GUI), which stays for the next prompt.
    worker = chat.workers[chat.models[0]]
    assert worker.pid is not None and worker.pid != os.getpid() and worker.core.alive
    chat.grab().save("/tmp/chat_demo.png")


def test_compare_runs_both_models_one_after_the_other(qtbot, chat: ChatDemo) -> None:
    chat.compare.setChecked(True)
    chat.settings_panel.max_tokens.setValue(10)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("The quick brown")
    for pane in chat.panes:
        assert "The quick brown" in pane.history.toPlainText()
        assert pane.memory.value.text().endswith("MB")
    # Both panes show the same model here, so one worker (one model load) served both answers.
    assert list(chat.workers) == [chat.models[0]]
    assert chat.workers[chat.models[0]].core.loads == 1


def test_stop_ends_the_run_and_frees_the_buttons(qtbot, chat: ChatDemo) -> None:
    chat.settings_panel.max_tokens.setValue(200)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("In the")
        chat.stop()
    assert chat.send_button.isEnabled() and not chat.stop_button.isEnabled()
    assert not chat.running()


@pytest.mark.parametrize("label", ["<b>Model:</b> ", "<b>模型：</b>"])
def test_the_answer_is_plain_text_after_a_bold_label(
    chat: ChatDemo, label: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.ui.pages.demo import chat_demo

    monkeypatch.setattr(chat_demo, "tr", lambda text, **kw: label if "Model:" in text else text)
    pane = chat.panes[0]
    pane.begin("In the beginning")
    pane.add_text("was the Word")
    cursor = pane.history.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    assert pane.history.toPlainText().endswith("was the Word")
    assert not cursor.charFormat().font().bold()


def test_one_line_says_what_the_demo_model_is_while_it_is_in_use(
    qtbot, jobs: JobManager, tiny_bundle: Path
) -> None:
    widget = ChatDemo(jobs)
    qtbot.addWidget(widget)
    widget.show()
    assert widget.about_demo.isVisible() and "King James" in widget.about_demo.text()
    widget.set_model(0, str(tiny_bundle))
    assert not widget.about_demo.isVisible()
    widget.set_model(0, None)
    assert widget.about_demo.isVisible()
    widget.shutdown()


def test_empty_prompt_does_nothing(chat: ChatDemo) -> None:
    chat.send("   ")
    assert not chat.running() and chat.jobs.jobs == [] and chat.workers == {}


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
    import studio.ui.pages.demo.presentation as presentation

    monkeypatch.setattr(presentation, "LOOP_PAUSE_MS", 10)
    window = PresentationWindow(str(tiny_bundle))
    qtbot.addWidget(window)
    window.show_presentation()
    window.set_auto_loop(True)
    qtbot.waitUntil(lambda: window.answers >= 2, timeout=TIMEOUT)
    window.set_auto_loop(False)
    qtbot.waitUntil(lambda: window.run is None, timeout=TIMEOUT)
    window.leave()


def test_answers_reuse_one_worker_and_stop_keeps_the_model_loaded(qtbot, chat: ChatDemo) -> None:
    chat.settings_panel.max_tokens.setValue(200)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("In the")
        chat.stop()
    assert "(stopped)" in chat.panes[0].history.toPlainText()
    worker = chat.workers[chat.models[0]]
    pid = worker.pid
    chat.settings_panel.max_tokens.setValue(8)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("The quick brown")
    assert worker.pid == pid and worker.core.loads == 1
    assert chat.panes[0].history.toPlainText().count("tokens") >= 2


def test_a_crashed_worker_is_one_line_in_the_chat_and_the_next_prompt_works(
    qtbot, chat: ChatDemo
) -> None:
    chat.settings_panel.max_tokens.setValue(8)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("In the")
    worker = chat.workers[chat.models[0]]
    first_pid = worker.pid
    assert first_pid is not None
    # Killed while an answer is in flight: pause the reader's sends until the kill landed.
    chat.settings_panel.max_tokens.setValue(200)
    real_send = worker.core.send
    worker.core.send = killed_mid_answer(real_send, first_pid)  # type: ignore[method-assign]
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("In the beginning")
    worker.core.send = real_send  # type: ignore[method-assign]
    text = chat.panes[0].history.toPlainText()
    assert "The model stopped unexpectedly" in text and "next prompt starts it again" in text
    assert chat.send_button.isEnabled()
    chat.settings_panel.max_tokens.setValue(8)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("The quick brown")
    assert worker.pid not in (None, first_pid) and worker.core.loads == 2


def test_switching_model_and_shutdown_end_the_worker(
    qtbot, chat: ChatDemo, tiny_bundle: Path
) -> None:
    chat.settings_panel.max_tokens.setValue(5)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("In the")
    worker = chat.workers[chat.models[0]]
    pid = worker.pid
    assert pid is not None
    chat.set_model(0, None)  # back to the shipped demo model: the tiny one is unloaded
    assert str(tiny_bundle) not in chat.workers and not worker.core.alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with qtbot.waitSignal(chat.run_finished, timeout=TIMEOUT):
        chat.send("In the")
    demo_pid = chat.workers[None].pid
    chat.shutdown()
    assert chat.workers == {}
    with pytest.raises(ProcessLookupError):
        os.kill(demo_pid, 0)


def test_presentation_shares_the_chat_worker(qtbot, chat: ChatDemo) -> None:
    chat.open_presentation()
    window = chat.presentation
    assert window is not None
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.answer_finished, timeout=TIMEOUT) as blocker:
        window.ask("In the")
    assert blocker.args[0] is not None
    assert window.worker is chat.workers[chat.models[0]]
    with qtbot.waitSignal(window.closed, timeout=5000):
        window.leave()
    assert chat.workers[chat.models[0]].core.alive  # lent, so still the chat's


def test_presentation_says_so_when_its_worker_crashes_and_keeps_playing(
    qtbot, tiny_bundle: Path
) -> None:
    window = PresentationWindow(str(tiny_bundle))
    qtbot.addWidget(window)
    window.show_presentation()
    with qtbot.waitSignal(window.answer_finished, timeout=TIMEOUT):
        window.ask("In the")
    worker = window.worker
    assert worker is not None
    first_pid = worker.pid
    assert first_pid is not None
    real_send = worker.core.send
    worker.core.send = killed_mid_answer(real_send, first_pid)  # type: ignore[method-assign]
    with qtbot.waitSignal(window.answer_finished, timeout=TIMEOUT) as blocker:
        window.ask("In the beginning")
    worker.core.send = real_send  # type: ignore[method-assign]
    assert blocker.args[0] is None
    assert window.text.toPlainText().startswith("The model stopped unexpectedly")
    with qtbot.waitSignal(window.answer_finished, timeout=TIMEOUT) as blocker:
        window.ask("In the")
    assert blocker.args[0] is not None and worker.pid != first_pid
    with qtbot.waitSignal(window.closed, timeout=5000):
        window.leave()
    assert not worker.core.alive  # its own worker ends with the window
