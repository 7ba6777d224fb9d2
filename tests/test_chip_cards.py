"""Target step: chip cards choose the target; the comparison table fills off the main thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.core.chips.catalogue import list_chips
from studio.ui.pages.target.chip_cards import ChipCards, ElidedLabel
from tests.support.chip_models import make_convnet


@pytest.fixture
def cards(qtbot, _fresh_user_folders: None, gui_calibration_cache: Path, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(gui_calibration_cache))
    widget = ChipCards("this-pc")
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def test_cards_show_every_chip_and_clicking_one_chooses_it(qtbot, cards: ChipCards) -> None:
    assert set(cards.cards) == {c.id for c in list_chips()}
    assert cards.cards["this-pc"].property("selected") == "true"
    with qtbot.waitSignal(cards.chip_chosen) as chosen:
        qtbot.mouseClick(cards.cards["hailo-10h"], Qt.MouseButton.LeftButton)
    assert chosen.args == ["hailo-10h"]
    assert cards.cards["hailo-10h"].property("selected") == "true"
    assert cards.cards["this-pc"].property("selected") == "false"
    texts = [label.full for label in cards.cards["hailo-10h"].findChildren(ElidedLabel)]
    assert "NPU: 40 TOPS INT4, 20 TOPS INT8" in texts and "Memory: 8 GB" in texts


def test_comparison_table_fills_from_a_background_job(
    qtbot, cards: ChipCards, tmp_path: Path
) -> None:
    model = make_convnet(tmp_path / "m.onnx", erf=True)
    with qtbot.waitSignal(cards.compared, timeout=120_000) as done:
        cards.compare(model)
        assert cards.progress.isVisibleTo(cards)  # the window is free while the job runs
    comparison = done.args[0]
    assert not cards.progress.isVisibleTo(cards)
    assert cards.table.rowCount() == len(comparison.rows) == len(cards.cards)
    table = cards.table
    rows = {table.item(r, 0).data(Qt.ItemDataRole.UserRole): r for r in range(table.rowCount())}
    snap = rows["qualcomm-snapdragon-8-gen-3"]
    assert "1 op falls back to the CPU" in cards.table.item(snap, 1).text()
    assert cards.table.item(snap, 2).text() == "cannot predict"
    assert "ms" in cards.table.item(rows["this-pc"], 2).text()
    assert " of " in cards.table.item(rows["this-pc"], 3).text()  # "0.1 MB of 25.3 GB"
    # Clicking a row chooses that chip, and the headline shows its verdict.
    with qtbot.waitSignal(cards.chip_chosen):
        cards.table.cellClicked.emit(snap, 1)
    assert cards.chosen == "qualcomm-snapdragon-8-gen-3"
    assert cards.verdict.text().startswith("Snapdragon 8 Gen 3: Runs, 1 op falls back")
    # The same model again is not re-checked.
    first = cards.job
    cards.compare(model)
    assert cards.job is first


def test_comparison_of_a_broken_model_says_why(qtbot, cards: ChipCards, tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model at all")
    with qtbot.waitSignal(cards.compare_failed, timeout=120_000) as failed:
        cards.compare(broken)
    assert "broken.onnx" in failed.args[0]
    assert "Could not check the model" in cards.verdict_detail.text()


def test_the_memory_column_speaks_the_uis_language() -> None:
    from studio.core.chips.compare import ChipRow
    from studio.ui import i18n
    from studio.ui.pages.target.chip_cards import _row_memory

    row = ChipRow(
        chip="x",
        name="X",
        vendor="v",
        level="ok",
        verdict="",
        latency="",
        memory="1.0 MB of 8.0 GB",
        memory_bytes=1_000_000,
        capacity_bytes=8_000_000_000,
    )
    unpublished = row.model_copy(update={"capacity_bytes": None})
    i18n.set_language("zh_CN")
    try:
        assert _row_memory(row) == "1.0 MB（共 8.0 GB）"
        assert _row_memory(unpublished) == "1.0 MB（芯片容量未公开）"
    finally:
        i18n.set_language("en")
    assert _row_memory(row) == "1.0 MB of 8.0 GB"


def test_the_studios_own_card_texts_read_in_chinese() -> None:
    """ "This PC (Linux)" and the generic phone are the studio's words, not a maker's name."""
    import platform

    from studio.core.chips.catalogue import get_chip
    from studio.ui import i18n
    from studio.ui.pages.target.chip_cards import chip_name, chip_vendor

    this_pc, phone = get_chip("this-pc"), get_chip("generic-arm64-android-cpu")
    i18n.set_language("zh_CN")
    try:
        assert chip_vendor(this_pc) == f"这台电脑（{platform.system()}）"
        assert chip_name(phone.id, phone.name) == "任意 Android 手机（CPU）"
        assert chip_vendor(phone) == "通用"
        assert chip_vendor(get_chip("hailo-10h")) == "Hailo"  # a maker's name stays as written
    finally:
        i18n.set_language("en")
    assert chip_vendor(this_pc) == f"This PC ({platform.system()})" == this_pc.vendor
