"""The window fits a laptop screen, and no page can grow it (a result appearing used to)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget

from studio.core.compress.presets import Preset
from studio.ui.main_window import DEFAULT_SIZE, MainWindow, default_size
from studio.ui.pages.optimize.optimize_presets import PresetCards

JOB_TIMEOUT = 120_000


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    yield win
    win.jobs.shutdown()


def test_the_whole_window_fits_a_1366_by_768_screen(window: MainWindow) -> None:
    need = window.minimumSizeHint()
    assert need.width() <= 1366 and need.height() <= 768, need


def test_first_size_is_bounded_by_the_screen() -> None:
    assert default_size(QSize(1366, 728)) == QSize(1366, 728)
    assert default_size(QSize(2560, 1400)) == DEFAULT_SIZE
    assert default_size(QSize()) == DEFAULT_SIZE


def test_an_optimize_result_does_not_resize_the_window(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.next_button.isEnabled(), timeout=JOB_TIMEOUT)
    window.next_button.click()
    qtbot.waitUntil(lambda: window.next_button.isEnabled(), timeout=JOB_TIMEOUT)
    before = window.size()
    window.next_button.click()  # Optimize starts by itself and shows its result card
    qtbot.waitUntil(lambda: window.state.compress_result is not None, timeout=JOB_TIMEOUT)
    qtbot.waitUntil(lambda: window.pages[2].result_card.isVisible(), timeout=JOB_TIMEOUT)
    assert window.size() == before


def _presets() -> list[Preset]:
    from studio.core.compress.presets import presets_for

    return presets_for({"Conv": 3, "Gemm": 2}, 180_000, "this-pc")


def _clipped(cards: PresetCards) -> list[str]:
    return [
        name
        for name, b in cards.buttons.items()
        if b.width() < b.minimumSizeHint().width() or b.height() < b.minimumSizeHint().height()
    ]


@pytest.mark.parametrize("width, columns", [(1200, 4), (700, 2)])
def test_preset_cards_wrap_instead_of_being_cut_off(qtbot, width: int, columns: int) -> None:
    cards = PresetCards()
    qtbot.addWidget(cards)
    cards.set_presets(_presets(), None)
    cards.resize(width, 300)
    cards.show()
    qtbot.waitUntil(lambda: cards.columns == columns)
    qtbot.waitUntil(lambda: not _clipped(cards))
    rows = {cards.row.getItemPosition(cards.row.indexOf(b))[0] for b in cards.buttons.values()}
    assert len(rows) == len(cards.buttons) // columns
    assert cards.minimumWidth() < 700  # two columns is as narrow as the row asks to be


def test_page_content_keeps_the_height_its_wrapped_text_needs(qtbot) -> None:
    """QScrollArea sizes its widget from the minimum size hint, which ignores height-for-width:
    a card's long wrapped summary was squeezed and cut off when the page was short of room."""
    from PySide6.QtWidgets import QLabel

    from studio.ui.widgets import StepPage

    page = StepPage()
    qtbot.addWidget(page)
    label = QLabel("A long sentence that wraps over several lines. " * 12)
    label.setWordWrap(True)
    page.outer.addWidget(label)
    page.resize(500, 150)
    page.show()
    layout = page.content.layout()
    scroll = page.findChild(QWidget, "pageScroll")
    for width in (500, 320):
        page.resize(width, 150)
        qtbot.waitUntil(
            lambda: (
                page.content.minimumHeight()
                == layout.totalHeightForWidth(scroll.viewport().width())
            )
        )
        assert page.content.minimumHeight() > 150  # taller than the page: it scrolls instead
