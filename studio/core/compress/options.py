"""Every compression option as typed, documented fields (the recipe stores these as they are)."""

from __future__ import annotations

import enum
import types
import typing
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.core.analyze.closeness import CLOSE_COSINE, CLOSE_TOP1
from studio.core.compress.methods import Param


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CalibrateMethod(enum.StrEnum):
    MINMAX = "minmax"
    ENTROPY = "entropy"
    PERCENTILE = "percentile"


class ActivationType(enum.StrEnum):
    UINT8 = "uint8"
    UINT16 = "uint16"
    INT8 = "int8"


class ImageSettings(_Strict):
    """How a folder of images becomes model input (stored in the recipe, editable in the GUI)."""

    size: list[int] | None = Field(
        None, description="Resize to [height, width]; empty = the model's input size"
    )
    layout: Literal["NCHW", "NHWC"] | None = Field(
        None, description="Channel order of the input tensor; empty = guess from the model"
    )
    color: Literal["RGB", "BGR", "GRAY"] = Field("RGB", description="Colour order of the pixels")
    scale: float = Field(1 / 255, description="Pixels are multiplied by this first (1/255 → 0..1)")
    mean: list[float] = Field([0.0, 0.0, 0.0], description="Subtracted per channel after scaling")
    std: list[float] = Field([1.0, 1.0, 1.0], description="Divided per channel after the mean")


class Int8Settings(_Strict):
    calibrate_method: CalibrateMethod = Field(
        CalibrateMethod.MINMAX,
        description="How activation ranges are chosen: minmax (fast), entropy or percentile "
        "(ignore outliers; slower, sometimes more accurate)",
    )
    per_channel: bool = Field(True, description="One scale per output channel of each weight")
    activations: ActivationType = Field(
        ActivationType.UINT8, description="Activation type; uint16 keeps more accuracy on NPUs"
    )
    reduce_range: bool = Field(
        False, description="7-bit weights; helps older x86 CPUs without VNNI avoid overflow"
    )
    qnn: bool | None = Field(
        None, description="Use the Qualcomm QNN-style configuration; empty = when the chip asks"
    )


class Int4Settings(_Strict):
    block_size: int = Field(32, ge=16, le=256, description="Weights sharing one scale (power of 2)")
    symmetric: bool = Field(True, description="Symmetric quantization (no zero point)")
    accuracy_level: int = Field(
        4, ge=0, le=4, description="Compute type on CPU: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8"
    )


class Fp16Settings(_Strict):
    keep_io_types: bool = Field(True, description="Inputs and outputs stay float32")


class PruneSettings(_Strict):
    sparsity: float = Field(
        0.0, ge=0.0, lt=1.0, description="Fraction of the smallest weights set to zero (0 = report)"
    )


class ChannelSettings(_Strict):
    ratio: float = Field(
        0.3,
        gt=0.0,
        lt=1.0,
        description="Fraction of each safe layer's output channels removed (0.3 = 30%)",
    )
    multiple_of: int = Field(
        1,
        ge=1,
        le=64,
        description="Keep a multiple of this many channels (8 or 16 suits many NPUs and SIMD)",
    )


class AutoSettings(_Strict):
    min_cosine: float = Field(
        CLOSE_COSINE, ge=0.0, le=1.0, description="Lowest accepted output cosine"
    )
    min_top1: float = Field(
        CLOSE_TOP1, ge=0.0, le=1.0, description="Lowest top-1 agreement (classifiers)"
    )
    goal: Literal["smallest", "fastest"] = Field(
        "smallest", description="Among results within budget, keep the smallest or the fastest"
    )


class CompressOptions(_Strict):
    """Everything a method may read. Defaults are what the GUI's plain presets use."""

    keep_float: list[str] = Field(
        default_factory=list, description="Node names or op types left in float"
    )
    opset: int | None = Field(None, ge=7, le=23, description="Convert to this opset first")
    eval_limit: int = Field(16, ge=1, le=10_000, description="Samples used for the drift report")
    measure_latency: bool = Field(True, description="Time the model before and after on this PC")
    image: ImageSettings = ImageSettings()
    int8: Int8Settings = Int8Settings()
    int4: Int4Settings = Int4Settings()
    fp16: Fp16Settings = Fp16Settings()
    prune: PruneSettings = PruneSettings()
    channels: ChannelSettings = ChannelSettings()
    auto: AutoSettings = AutoSettings()


def _kind(annotation: Any) -> tuple[str, list[str]]:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _kind(args[0])
    if origin is Literal:
        return "choice", [str(a) for a in typing.get_args(annotation)]
    if origin is list:
        return "list", []
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "choice", [m.value for m in annotation]
    if annotation is bool:
        return "bool", []
    if annotation is int:
        return "int", []
    if annotation is float:
        return "float", []
    return "text", []


def group_params(
    model: Any, prefix: str = "", only: list[str] | None = None, skip_groups: bool = False
) -> list[Param]:
    params = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not skip_groups:
                params += group_params(annotation, prefix=f"{prefix}{name}.")
            continue
        if only is not None and name not in only:
            continue
        kind, choices = _kind(annotation)
        bounds = {m.__class__.__name__: m for m in field.metadata}
        low = next(
            (getattr(m, a) for m in bounds.values() for a in ("ge", "gt") if hasattr(m, a)), None
        )
        high = next(
            (getattr(m, a) for m in bounds.values() for a in ("le", "lt") if hasattr(m, a)), None
        )
        default = field.get_default(call_default_factory=True)
        params.append(
            Param(
                name=f"{prefix}{name}",
                kind=kind,
                default=default.value if isinstance(default, enum.Enum) else default,
                description=field.description or "",
                choices=choices,
                minimum=low,
                maximum=high,
            )
        )
    return params
