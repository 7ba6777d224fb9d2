"""Preset cards for the Optimize step: Smallest, Fastest on NPU, Most accurate, Auto."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QPushButton, QSizePolicy, QWidget

from studio.core.compress.presets import Preset
from studio.ui.i18n import CHINESE, current_language, tr

CARD_STYLE = (
    'QPushButton[presetCard="true"] { text-align: left; padding: 10px 12px; border-radius: 8px;'
    " border: 1px solid palette(midlight); background: palette(base); }"
    'QPushButton[presetCard="true"]:checked { border: 2px solid #2f6fde;'
    " background: palette(alternate-base); }"
)


class PresetCards(QWidget):
    """A row of big checkable cards; each says what it does in plain words (and Chinese).

    When the row does not fit (a laptop screen, the jobs panel wide open, longer Chinese
    lines) the cards wrap into two columns instead of being cut off."""

    chosen = Signal(object)  # Preset

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = QGridLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(10)
        self.columns = 0
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.presets: list[Preset] = []
        self.buttons: dict[str, QPushButton] = {}
        # One style sheet for all cards, set once: a sheet per button made every new card
        # re-polish (the cards are rebuilt whenever the model or target changes).
        self.setStyleSheet(CARD_STYLE)

    def set_presets(self, presets: list[Preset], selected: str | None) -> None:
        if [p.id for p in presets] == [p.id for p in self.presets]:
            # Same cards (e.g. another chip with the same choices): update them in place, as
            # deleting and re-creating them costs a re-layout and a full repaint.
            self.presets = presets
            for preset in presets:
                button = self.buttons[preset.id]
                button.setText(self._text(preset))
                button.setToolTip(tr(preset.tooltip))  # core text, see studio/ui/core_texts.py
            self._arrange(self.width())
            self.select(selected)
            return
        for button in self.buttons.values():
            self.group.removeButton(button)
            button.deleteLater()
        self.buttons.clear()
        self.presets = presets
        for preset in presets:
            button = QPushButton(self._text(preset))
            button.setObjectName(f"preset-{preset.id}")
            button.setProperty("presetCard", True)
            button.setCheckable(True)
            button.setToolTip(tr(preset.tooltip))  # core text, see studio/ui/core_texts.py
            button.setMinimumHeight(104)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            button.clicked.connect(lambda _=False, p=preset: self.chosen.emit(self._current(p)))
            self.group.addButton(button)
            self.buttons[preset.id] = button
        self.columns = 0
        self._arrange(self.width())
        if selected in self.buttons:
            self.buttons[selected].setChecked(True)

    def _row_width(self, columns: int) -> int:
        """Width that ``columns`` columns of the cards need (each column its widest card)."""
        widths = [b.minimumSizeHint().width() for b in self.buttons.values()]
        needed = [max(widths[c::columns], default=0) for c in range(columns)]
        return sum(needed) + (columns - 1) * self.row.spacing()

    def _arrange(self, width: int) -> None:
        """Lay the cards out in one row if they fit at ``width``, else in two columns."""
        count = len(self.buttons)
        columns = count if count <= 2 or width >= self._row_width(count) else 2
        # Never narrower than two columns of cards; wider content scrolls (see StepPage).
        self.setMinimumWidth(self._row_width(min(count, 2)) if count else 0)
        if columns == self.columns:
            return
        self.columns = columns
        for button in self.buttons.values():
            self.row.removeWidget(button)
        for i, button in enumerate(self.buttons.values()):
            self.row.addWidget(button, i // columns, i % columns)
        for column in range(max(count, 1)):
            self.row.setColumnStretch(column, 1 if column < columns else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(event.size().width())

    def select(self, preset_id: str | None) -> None:
        """Check a card without emitting (the recipe already says what was chosen)."""
        if preset_id in self.buttons:
            self.buttons[preset_id].setChecked(True)
        else:
            self.group.setExclusive(False)
            for button in self.buttons.values():
                button.setChecked(False)
            self.group.setExclusive(True)

    def _current(self, preset: Preset) -> Preset:
        """The latest preset with this id (cards are updated in place when presets change)."""
        return next((p for p in self.presets if p.id == preset.id), preset)

    @staticmethod
    def _text(preset: Preset) -> str:
        # Both titles on every card (booth visitors read either); the language shown first.
        if current_language() == CHINESE:
            titles = f"{preset.title_zh}  ·  {preset.title}"
        else:
            titles = f"{preset.title}  ·  {preset.title_zh}"
        return (
            titles
            + "\n"
            + tr(
                "Size: {size}\nSpeed: {speed}\nAccuracy: {accuracy}",
                size=tr(preset.size),
                speed=tr(preset.speed),
                accuracy=tr(preset.accuracy),
            )
        )
