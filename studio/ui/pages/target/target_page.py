"""Step 2, Target: where the model will run (chip cards and the model on every chip)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from studio.core.compress.method_ids import Method
from studio.core.compress.presets import apply_preset, presets_for
from studio.core.errors import StudioError
from studio.ui.i18n import N_, tr
from studio.ui.pages.target.chip_cards import ChipCards
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
        self.chips.fix_shapes_requested.connect(self._fix_shapes)
        self.chips.method_requested.connect(self._use_method)
        self.chips.set_method(state.recipe.optimize.method.value)
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
        self.chips.set_method(self.state.recipe.optimize.method.value)
        self.ready_changed.emit()

    def _fix_shapes(self, shapes: dict[str, list[int]]) -> None:
        """Optimize fixes these sizes (recipe.shapes); the verdicts are checked again with them."""
        self.state.recipe.shapes = {**self.state.recipe.shapes, **shapes}
        self.state.reset_results()
        self.state.recipe_replaced.emit()  # Inspect's Shapes field shows the new sizes
        self.entered()

    def _use_method(self, method: str) -> None:
        """The chip's recommended method, as the matching preset sets it on the Optimize step."""
        recipe = self.state.recipe
        summary = self.state.summary
        presets = presets_for(
            summary.op_histogram if summary is not None else {},
            summary.parameter_count if summary is not None else 0,
            recipe.target.chip,
        )
        preset = next((p for p in presets if p.method.value == method), None)
        if preset is not None:
            recipe.optimize = apply_preset(recipe.optimize, preset)
        else:
            recipe.optimize.method = Method(method)
        self.state.reset_results()
        self.state.recipe_replaced.emit()  # the Optimize step shows the chosen method

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
