"""What the wizard knows so far: the recipe (the user's choices) and the results of each step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.bundle.recipe import Recipe


class WizardState(QObject):
    """Pages read and write this; it holds no Qt widgets and no ML logic."""

    model_changed = Signal()
    target_changed = Signal()
    optimized = Signal()
    profiled = Signal()
    bundled = Signal()
    recipe_replaced = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.recipe = Recipe()
        self.recipe_base: Path | None = None
        self.summary: Any = None
        self.compress_result: Any = None
        self.profile_result: Any = None
        self.bundle_path: Path | None = None
        self.manifest: Any = None

    def model_path(self) -> Path:
        return self.recipe.model_path(self.recipe_base)

    def optimized_path(self) -> Path | None:
        if self.compress_result is None:
            return None
        return Path(self.compress_result.output)

    def deployable_model(self) -> Path:
        return self.optimized_path() or self.model_path()

    def set_model(
        self,
        source: str,
        path: Path | None = None,
        summary: Any = None,
        hub: dict[str, str] | None = None,
    ) -> None:
        """``hub``: repo, revision (a commit) and file when the model came from a hub."""
        hub = hub or {}
        model = self.recipe.model
        if source != "huggingface":  # leave the hub first: a hub source needs repo and file
            model.source = source  # type: ignore[assignment]
        model.repo, model.revision, model.file = (
            hub.get("repo"),
            hub.get("revision"),
            hub.get("file"),
        )
        self.recipe.model.source = source  # type: ignore[assignment]
        self.recipe.model.path = str(path) if path else None
        self.summary = summary
        self.reset_results()
        self.model_changed.emit()

    def reset_results(self) -> None:
        self.compress_result = None
        self.profile_result = None
        self.bundle_path = None
        self.manifest = None

    def replace_recipe(self, recipe: Recipe, base: Path | None) -> None:
        self.recipe = recipe
        self.recipe_base = base
        self.summary = None
        self.reset_results()
        self.recipe_replaced.emit()
        self.model_changed.emit()
