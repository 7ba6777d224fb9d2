"""Step 2, Target: where the model will run (chip cards and the model on every chip)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from studio.core.errors import StudioError
from studio.ui.chip_cards import ChipCards
from studio.ui.i18n import N_, tr
from studio.ui.state import WizardState
from studio.ui.widgets import StepPage


class TargetPage(StepPage):
    title = N_("2 · Choose where it runs")
    explanation = N_(
        "Pick the chip the model will run on. The table below shows how your model would do on "
        'every chip; "This PC" numbers come from measurements on this computer.'
    )

    def __init__(self, state: WizardState, jobs: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.chips = ChipCards(state.recipe.target.chip, jobs)
        self.chips.chip_chosen.connect(self._chosen)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.chips)
        self.outer.addWidget(scroll, 1)
        state.recipe_replaced.connect(self._sync_from_recipe)

    def entered(self) -> None:
        try:
            model = self.state.model_path()
        except StudioError:
            return  # the Model step explains a bad model; nothing to compare yet
        self.chips.compare(model, self.state.recipe.shapes or None)

    def _sync_from_recipe(self) -> None:
        self.chips.choose(self.state.recipe.target.chip, emit=False)
        self.ready_changed.emit()

    def _chosen(self, chip_id: str) -> None:
        self.state.recipe.target.chip = chip_id
        self.state.target_changed.emit()
        self.ready_changed.emit()

    def ready(self) -> tuple[bool, str]:
        if self.state.recipe.target.chip not in self.chips.cards:
            return False, tr(
                "Chip '{chip}' is unknown; choose a target.", chip=self.state.recipe.target.chip
            )
        return True, ""
