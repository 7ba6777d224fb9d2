"""The compression methods, in plain words, and the parameters each one declares.

This module imports nothing heavy, so the GUI can list methods and build its forms without
loading onnxruntime.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from studio.core.compress.method_ids import Method

METHOD_LABELS = {
    Method.CLEANUP: "Clean up the graph only (same precision, fewer nodes)",
    Method.INT8_DYNAMIC: "INT8 dynamic: weights to 8-bit, no calibration (best for transformers)",
    Method.INT8_STATIC: "INT8 static: weights and activations to 8-bit, calibrated (best for CNNs)",
    Method.INT4: "INT4 weights: about 7× smaller MatMul weights (for language models)",
    Method.FP16: "FP16: half-size weights, accuracy almost unchanged (best for GPUs/NPUs)",
    Method.PRUNE: "Sparsity report and optional magnitude pruning (no speed-up on CPU)",
    Method.PRUNE_CHANNELS: (
        "Remove channels (structured pruning): less compute, speed measured; needs fine-tuning"
    ),
    Method.AUTO: "Auto: try the likely methods, measure them, keep the best within budget",
}


class Param(BaseModel):
    """One option of a method, described well enough for the GUI to build a form field."""

    name: str
    """Dotted path inside CompressOptions, e.g. ``int8.calibrate_method``."""
    kind: str
    """bool | int | float | choice | text | list"""
    default: Any
    description: str
    choices: list[str] = []
    minimum: float | None = None
    maximum: float | None = None


class MethodInfo(BaseModel):
    method: Method
    title: str
    summary: str
    needs_calibration: bool
    groups: list[str]
    """Which option groups of CompressOptions this method reads (besides the common ones)."""


METHODS: dict[Method, MethodInfo] = {
    Method.CLEANUP: MethodInfo(
        method=Method.CLEANUP,
        title="Clean up",
        needs_calibration=False,
        groups=[],
        summary="Folds constants and removes dead nodes. Same size and accuracy, often a bit "
        "faster.",
    ),
    Method.INT8_DYNAMIC: MethodInfo(
        method=Method.INT8_DYNAMIC,
        title="INT8 dynamic",
        needs_calibration=False,
        groups=["int8"],
        summary="About 4× smaller weights, no sample data needed. Good for transformers and RNNs; "
        "can be slower than the original for convolution networks on a CPU.",
    ),
    Method.INT8_STATIC: MethodInfo(
        method=Method.INT8_STATIC,
        title="INT8 static",
        needs_calibration=True,
        groups=["int8", "image"],
        summary="About 4× smaller and fastest on NPUs. Needs 10–100 real samples to calibrate.",
    ),
    Method.INT4: MethodInfo(
        method=Method.INT4,
        title="INT4 weights",
        needs_calibration=False,
        groups=["int4"],
        summary="MatMul weights to 4-bit: the smallest language models. Only MatMul layers change.",
    ),
    Method.FP16: MethodInfo(
        method=Method.FP16,
        title="FP16",
        needs_calibration=False,
        groups=["fp16"],
        summary="Half-size weights with nearly unchanged outputs. Fast on GPUs and NPUs; "
        "usually slower on a plain CPU.",
    ),
    Method.PRUNE: MethodInfo(
        method=Method.PRUNE,
        title="Prune",
        needs_calibration=False,
        groups=["prune"],
        summary="Reports how many weights are near zero and can zero the smallest ones. "
        "onnxruntime's dense kernels gain no speed from zeros; the file compresses better.",
    ),
    Method.PRUNE_CHANNELS: MethodInfo(
        method=Method.PRUNE_CHANNELS,
        title="Remove channels",
        needs_calibration=False,
        groups=["channels"],
        summary="Removes the least important channels of Conv/Gemm/MatMul layers where that is "
        "safe, so the model really computes less (speed is measured, not promised). Accuracy "
        "drops until you fine-tune the result; the studio does not fine-tune.",
    ),
    Method.AUTO: MethodInfo(
        method=Method.AUTO,
        title="Auto",
        needs_calibration=False,
        groups=["auto", "int8", "int4", "image"],
        summary="Tries the methods that suit this model and chip, measures drift, size and speed, "
        "and keeps the best one that stays within the accuracy budget.",
    ),
}


def parse_method(value: Method | str) -> Method:
    from studio.core.errors import BadInput

    try:
        return Method(value)
    except ValueError:
        choices = ", ".join(m.value for m in Method)
        raise BadInput(f"Unknown method '{value}'", f"Use one of: {choices}") from None


def method_params(method: Method | str) -> list[Param]:
    """The options a method reads, each with type, default and description (for forms and docs)."""
    from studio.core.compress.options import CompressOptions, group_params

    info = METHODS[Method(method)]
    params = group_params(CompressOptions, prefix="", only=None, skip_groups=True)
    for group in info.groups:
        params += group_params(CompressOptions.model_fields[group].annotation, prefix=f"{group}.")
    return params
