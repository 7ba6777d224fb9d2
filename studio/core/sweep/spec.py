"""The sweep file: models × chips × methods × option sets, validated like a recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from studio.core.compress import CompressOptions, Method
from studio.core.errors import BadInput
from studio.core.schema import load_model_file, shorten
from studio.core.this_pc import THIS_PC_ID

SWEEP_VERSION: Final = 1
# Each trial is a compress (seconds to minutes): a file asking for more is a typo in a list.
MAX_TRIALS = 500


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = SWEEP_VERSION
    models: list[str] = Field(min_length=1, description="Local .onnx files ('demo' for the demo)")
    chips: list[str] = Field([THIS_PC_ID], min_length=1)
    methods: list[Method] = Field([Method.INT8_STATIC, Method.FP16], min_length=1)
    options: list[CompressOptions] = Field(
        default_factory=lambda: [CompressOptions()],
        min_length=1,
        description="Option sets; each is tried with every method",
    )
    calibration: str | None = Field(
        None, description="'demo', an image folder, a .npz/.npy path, or null for random data"
    )
    calib_limit: int = Field(100, ge=1, le=100_000)
    measure: bool = Field(True, description="Time every result on this PC (one trial at a time)")
    runs: int = Field(20, ge=1, le=10_000, description="Timed runs per result")

    @field_validator("models", "chips")
    @classmethod
    def _no_duplicates(cls, values: list[str]) -> list[str]:
        seen = [v for i, v in enumerate(values) if v in values[:i]]
        if seen:
            raise ValueError(f"{shorten(seen[0])} is listed twice")
        return values

    def trial_count(self) -> int:
        return len(self.models) * len(self.chips) * len(self.methods) * len(self.options)


def load_sweep(path: str | Path) -> SweepSpec:
    """The spec at ``path``, with every model and chip checked to exist (BadInput naming it)."""
    path = Path(path).expanduser()
    if path.suffix not in (".yaml", ".yml", ".json"):
        raise BadInput(f"{path.name} is not a sweep file", "Sweeps are .yaml files (version: 1)")
    spec = load_model_file(SweepSpec, path)
    check_spec(spec, path.name, path.parent)
    return spec


def check_spec(spec: SweepSpec, source: str, base: Path) -> None:
    from studio.core.chips.catalogue import get_chip

    if spec.trial_count() > MAX_TRIALS:
        raise BadInput(
            f"{source} asks for {spec.trial_count():,} trials (at most {MAX_TRIALS})",
            "List fewer models, chips, methods or option sets",
        )
    for index, model in enumerate(spec.models):
        found = model_path(model, base)
        if not found.exists():
            raise BadInput(
                f"{source}: 'models.{index}' {shorten(model)} does not exist",
                "Fix the path (a relative path is read from the sweep file's folder)",
            )
    for index, chip in enumerate(spec.chips):
        try:
            get_chip(chip)
        except BadInput as exc:
            raise BadInput(f"{source}: 'chips.{index}': {exc.what}", exc.fix) from exc


def model_path(model: str, base: Path | None) -> Path:
    from studio.core.paths import demo_model_path

    if model == "demo":
        return demo_model_path()
    path = Path(model).expanduser()
    return path if path.is_absolute() or base is None else base / path


def calibration_path(spec: SweepSpec, base: Path | None) -> Path | None:
    from studio.core.paths import demo_samples_path

    if spec.calibration is None:
        return None
    if spec.calibration == "demo":
        return demo_samples_path()
    path = Path(spec.calibration).expanduser()
    return path if path.is_absolute() or base is None else base / path
