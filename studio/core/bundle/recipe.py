"""The wizard's choices as a versioned, validated file that ``studio run`` replays headless."""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from studio.core.compress import CompressOptions, Method
from studio.core.errors import BadInput
from studio.core.paths import demo_model_path, demo_samples_path
from studio.core.schema import load_model_file

RECIPE_VERSION: Final = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSource(_Strict):
    source: Literal["demo", "local", "huggingface"] = "demo"
    path: str | None = Field(None, description="Local .onnx file or folder (source: local)")
    repo: str | None = Field(None, description="owner/name on the hub (source: huggingface)")
    revision: str | None = Field(None, description="Branch, tag or commit (default: main)")
    file: str | None = Field(
        None, description="The .onnx file inside the repo, e.g. onnx/model.onnx"
    )

    @model_validator(mode="after")
    def _hub_fields(self) -> ModelSource:
        if self.source == "huggingface" and (not self.repo or not self.file):
            raise ValueError("source: huggingface needs both repo (owner/name) and file")
        return self


class Target(_Strict):
    chip: str = "this-pc"


class Optimize(CompressOptions):
    """The method plus every option it reads (see studio.core.compress.options)."""

    method: Method = Method.INT8_STATIC
    calibration: str | None = Field(
        "demo",
        description="'demo' for the demo samples, an image folder, a prompts .txt, a .npz/.npy "
        "path, or null for random data",
    )
    calib_limit: int = Field(100, ge=1, le=100_000)
    evaluation: str | None = Field(
        None, description="Samples for the drift report, kept apart from calibration"
    )

    def options(self) -> CompressOptions:
        fields = CompressOptions.model_fields
        return CompressOptions.model_validate(
            {k: v for k, v in self.model_dump().items() if k in fields}
        )


class ProfileSettings(_Strict):
    runs: int = Field(20, ge=1, le=10_000)
    threads: int | None = Field(None, ge=1, le=256)


class Output(_Strict):
    name: str = "bundle"

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not value or "/" in value or "\\" in value or value in (".", ".."):
            raise ValueError("must be a plain folder name without slashes")
        return value


class Recipe(_Strict):
    version: Literal[1] = RECIPE_VERSION
    model: ModelSource = ModelSource()
    target: Target = Target()
    optimize: Optimize = Optimize()
    shapes: dict[str, list[int]] = Field(default_factory=dict)
    profile: ProfileSettings = ProfileSettings()
    output: Output = Output()

    def model_path(self, base: Path | None = None) -> Path:
        """The local .onnx this recipe starts from."""
        if self.model.source == "demo":
            return demo_model_path()
        if self.model.source == "huggingface":
            from studio.core.hubs.resolve import resolve_hub_file

            assert self.model.repo and self.model.file  # checked by the validator
            return resolve_hub_file(self.model.repo, self.model.file, self.model.revision)
        if not self.model.path:
            raise BadInput("The recipe's model.path is empty", "Set model.path to an .onnx file")
        path = Path(self.model.path).expanduser()
        return path if path.is_absolute() or base is None else base / path

    def calibration_path(self, base: Path | None = None) -> Path | None:
        calib = self.optimize.calibration
        if calib is None:
            return None
        if calib == "demo":
            return demo_samples_path()
        path = Path(calib).expanduser()
        return path if path.is_absolute() or base is None else base / path

    def evaluation_path(self, base: Path | None = None) -> Path | None:
        value = self.optimize.evaluation
        if value is None:
            return None
        if value == "demo":
            return demo_samples_path()
        path = Path(value).expanduser()
        return path if path.is_absolute() or base is None else base / path

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json", exclude_none=True)
        return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def load_recipe(path: str | Path) -> Recipe:
    path = Path(path).expanduser()
    if path.suffix not in (".yaml", ".yml", ".json"):
        raise BadInput(
            f"{path.name} is not a recipe file", "Recipes are .yaml files saved by the studio"
        )
    recipe = load_model_file(Recipe, path)
    return recipe


def save_recipe(recipe: Recipe, path: str | Path) -> Path:
    from studio.core.atomic import atomic_path

    path = Path(path).expanduser()
    with atomic_path(path, replace=True) as partial:
        partial.write_text(recipe.to_yaml(), encoding="utf-8")
    return path
