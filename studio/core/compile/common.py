"""What every chip backend of `studio compile` shares: a static-shape ONNX, samples, the bundle.

NPU compilers (OpenVINO's NPU plugin, Pulsar2, NNAPI) build for one input size, so every backend
starts from the same static copy of the user's model: the user's --shape, else the sizes their
samples have, else the studio's typical sizes (core/samples/sizes), written to a work folder.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from pydantic import BaseModel

from studio.core.atomic import partial_path_for, remove_path
from studio.core.bundle.folder import check_destination
from studio.core.errors import BadInput
from studio.core.messages import Fix, message
from studio.core.model.loader import load_model, resolve_model_path
from studio.core.model.shapes import apply_shapes, infer, value_dims
from studio.core.samples.calibration import load_samples, synthetic_samples
from studio.core.samples.sizes import InputSizes, choose_sizes

CALIB_LIMIT = 64
SYNTHETIC_CALIB = 16
RANDOM_SOURCE = "random inputs"
SYNTHETIC_NOTE = message("compile.random_calibration", Fix(option="calib")).english()


class CompileFile(BaseModel):
    path: str
    what: str


@dataclass
class StaticModel:
    """The user's model with every input at one size, saved in ``work``."""

    source: Path
    path: Path
    proto: onnx.ModelProto
    sizes: InputSizes
    calib: list[dict[str, np.ndarray]]
    evaluation: list[dict[str, np.ndarray]]
    sample_source: str
    warnings: list[str] = field(default_factory=list)

    @property
    def shapes(self) -> dict[str, list[int]]:
        return self.sizes.shapes


def check_out(out: str | Path, force: bool) -> Path:
    """The bundle folder: refused early (before any work) if it holds something of the user's."""
    out = Path(out).expanduser()
    check_destination(out, force)
    return out


@contextlib.contextmanager
def work_folder(out: Path) -> Iterator[Path]:
    """A hidden partial folder beside ``out`` for intermediate files: removed at the end, and by
    the job runner (it removes an output's partial siblings) if the job is cancelled."""
    work = partial_path_for(out)
    work.parent.mkdir(parents=True, exist_ok=True)
    work.mkdir()
    try:
        yield work
    finally:
        remove_path(work)


def _split(
    calib: list[dict[str, np.ndarray]], proto: onnx.ModelProto, sizes: InputSizes
) -> tuple[list[dict[str, np.ndarray]], list[dict[str, np.ndarray]], str]:
    """Held-out samples for the drift report, as `studio compress` picks them."""
    if len(calib) >= 2:
        held = max(1, min(8, len(calib) // 5))
        return calib[:-held], calib[-held:], "held-out calibration samples (not used to calibrate)"
    if calib:
        return calib, calib, "the single calibration sample (no separate evaluation data)"
    made = synthetic_samples(proto, sizes, SYNTHETIC_CALIB)
    return made, synthetic_samples(proto, sizes, 4, first_seed=1000), RANDOM_SOURCE


def static_model(
    model: str | Path,
    work: Path,
    *,
    calib: str | Path | None = None,
    shapes: dict[str, list[int]] | None = None,
    calib_limit: int = CALIB_LIMIT,
) -> StaticModel:
    """Load ``model``, give every input one size, load or make samples, save ``work/model.onnx``."""
    source = resolve_model_path(model)
    proto = load_model(source)
    shapes = dict(shapes or {})
    apply_shapes(proto, shapes)  # a name or rank the model does not have: BadInput, first
    warnings: list[str] = []
    samples = (
        load_samples(
            calib, proto, model_path=source, limit=calib_limit, shapes=shapes, warnings=warnings
        )
        if calib
        else []
    )
    sizes = choose_sizes(proto, shapes, samples)
    fixed = infer(apply_shapes(proto, sizes.shapes))
    _refuse_flexible(fixed)
    calib_samples, evaluation, source_text = _split(samples, fixed, sizes)
    if not samples:
        warnings.append(SYNTHETIC_NOTE)
    path = work / "model.onnx"
    onnx.save_model(fixed, str(path))
    return StaticModel(source, path, fixed, sizes, calib_samples, evaluation, source_text, warnings)


def _refuse_flexible(proto: onnx.ModelProto) -> None:
    from studio.core.model.loader import graph_inputs

    for value in graph_inputs(proto):
        dims = value_dims(value)
        if not all(isinstance(d, int) for d in dims):
            raise BadInput(
                msg=message(
                    "compile.flexible_size",
                    Fix(option="shape", example=f"{value.name}=1x..."),
                    name=value.name,
                    dims=str(dims),
                )
            )
