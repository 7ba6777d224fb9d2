"""The demo LM generating on the virtual phone through the real adb server, streamed back live."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.core.errors import BadInput
from studio.core.generate.llm_bundle import demo_lm_path
from studio.core.generate.on_device import generate_on_device
from studio.core.generate.session import GenerationStart, GenerationSummary, TokenChunk
from studio.core.generate.settings import GenerationSettings
from tests.support.virtual_adb import VirtualDevice


def test_demo_lm_generates_on_the_phone(phone: VirtualDevice) -> None:
    settings = GenerationSettings(max_new_tokens=16)
    events = list(generate_on_device(None, "In the beginning", phone.address, settings))
    assert isinstance(events[0], GenerationStart) and events[0].where == phone.address
    summary = events[-1]
    assert isinstance(summary, GenerationSummary) and summary.where == phone.address
    chunks = [e for e in events if isinstance(e, TokenChunk)]
    assert chunks and summary.text == "".join(c.text for c in chunks)
    assert 0 < summary.tokens <= 16 and summary.ttft_s is not None
    assert summary.decode_tokens_per_s


def test_stop_on_the_phone_still_gives_a_summary(phone: VirtualDevice) -> None:
    settings = GenerationSettings(max_new_tokens=400)
    seen: list[TokenChunk] = []
    summary = None
    for event in generate_on_device(
        None, "In the beginning", phone.address, settings, lambda: bool(seen)
    ):
        if isinstance(event, TokenChunk):
            seen.append(event)
        summary = event
    assert isinstance(summary, GenerationSummary)
    assert summary.tokens < 400


def test_cli_generate_on_the_phone_json(
    phone: VirtualDevice, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.cli import main

    code = main(
        [
            "generate",
            "--device",
            phone.address,
            "--prompt",
            "床前明月光，",
            "--max-new-tokens",
            "8",
            "--json",
        ]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert lines[0]["type"] == "start" and lines[-1]["type"] == "summary"
    assert lines[-1]["where"] == phone.address


def test_phone_without_onnxruntime_says_what_to_install(adb, tmp_path: Path) -> None:
    from tests.devices.conftest import attach

    with VirtualDevice(tmp_path / "bare", python_has_onnxruntime=False) as device:
        attach(adb, device)
        try:
            with pytest.raises(BadInput, match="onnxruntime"):
                list(generate_on_device(None, "hi", device.address))
        finally:
            adb.client().disconnect(device.address)


def test_a_plain_genai_folder_cannot_be_sent(phone: VirtualDevice, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "plain"
    shutil.copytree(demo_lm_path(), folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(BadInput, match="not a studio bundle"):
        list(generate_on_device(folder, "hi", phone.address))


def test_demo_step_chat_runs_on_the_phone(qtbot, phone: VirtualDevice) -> None:
    from studio.ui.jobs_qt import JobManager
    from studio.ui.pages.demo.chat_demo import ChatDemo

    jobs = JobManager()
    chat = ChatDemo(jobs)
    qtbot.addWidget(chat)
    chat.show()
    try:
        qtbot.waitUntil(lambda: chat.where.findData(phone.address) >= 0, timeout=20_000)
        chat.where.setCurrentIndex(chat.where.findData(phone.address))
        chat.settings_panel.max_tokens.setValue(12)
        with qtbot.waitSignal(chat.run_finished, timeout=60_000):
            chat.send("In the beginning")
        pane = chat.panes[0]
        assert phone.address in pane.where.text()
        assert "tokens" in pane.history.toPlainText()
        assert pane.speed.value.text() not in ("–", "…")
    finally:
        chat.stop_watching()
        jobs.shutdown()
