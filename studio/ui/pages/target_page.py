"""Step 2, Target: where the model will run."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QLabel, QRadioButton, QWidget

from studio.core.chips import list_chips
from studio.ui.state import WizardState
from studio.ui.widgets import Card, StepPage


class TargetPage(StepPage):
    title = "2 · Choose where it runs"
    explanation = (
        'Pick the chip the model will run on. "This PC" runs everything on this computer\'s '
        "processor, so every number you see later is measured, not estimated."
    )

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.group = QButtonGroup(self)
        self.cards = Card()
        for chip in list_chips():
            button = QRadioButton(f"{chip.name}")
            button.setObjectName(f"chip-{chip.id}")
            button.setProperty("chip_id", chip.id)
            detail = QLabel(f"{chip.description}\nRuns with: {chip.runtime}")
            detail.setObjectName("factLabel")
            detail.setIndent(24)
            self.group.addButton(button)
            self.cards.body.addWidget(button)
            self.cards.body.addWidget(detail)
            button.setChecked(chip.id == state.recipe.target.chip)
        self.group.buttonToggled.connect(self._chosen)
        self.outer.addWidget(self.cards)
        self.outer.addStretch()

    def _chosen(self, button: QRadioButton, checked: bool) -> None:
        if checked:
            self.state.recipe.target.chip = button.property("chip_id")
            self.state.target_changed.emit()

    def ready(self) -> tuple[bool, str]:
        return (self.group.checkedButton() is not None, "Choose a target.")
