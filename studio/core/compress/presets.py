"""The Optimize step's plain-language presets: what each one does for this model on this chip.

A preset is a method plus option changes, with the expected effect in words a non-specialist
reads in a second. Which method a preset means depends on the model (language models get INT4,
image models INT8) and the chip (QNN NPUs get the QNN-style config, CPUs skip FP16).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from studio.core.compress.method_ids import Method


class Preset(BaseModel):
    id: str
    title: str
    title_zh: str
    method: Method
    options: dict[str, Any] = {}
    size: str
    speed: str
    accuracy: str
    tooltip: str


def _is_language_model(op_histogram: dict[str, int], parameter_count: int) -> bool:
    convs = op_histogram.get("Conv", 0)
    matmuls = op_histogram.get("MatMul", 0) + op_histogram.get("Gemm", 0)
    return convs == 0 and matmuls >= 8 and parameter_count >= 20_000_000


def _chip_traits(chip: str) -> tuple[bool, bool, str]:
    """(has an NPU/GPU, runs through QNN, name of the fast unit)."""
    from studio.core.chips.catalogue import get_chip

    try:
        profile = get_chip(chip)
    except Exception:  # an unknown chip: describe the CPU case
        return False, False, "CPU"
    main = profile.main
    return main.kind in ("npu", "gpu"), "qnn" in main.runtime.lower(), main.kind.upper()


def presets_for(op_histogram: dict[str, int], parameter_count: int, chip: str) -> list[Preset]:
    accelerated, qnn, unit = _chip_traits(chip)
    llm = _is_language_model(op_histogram, parameter_count)
    int8_opts: dict[str, Any] = {"int8": {"qnn": True}} if qnn else {}
    if llm:
        smallest = Preset(
            id="smallest",
            title="Smallest",
            title_zh="最小",
            method=Method.INT4,
            size="about 7× smaller",
            speed="faster text generation (less memory to read)",
            accuracy="small quality change",
            tooltip="INT4: MatMul weights stored in 4 bits with one scale per 32 weights.",
        )
    else:
        smallest = Preset(
            id="smallest",
            title="Smallest",
            title_zh="最小",
            method=Method.INT8_STATIC,
            options=int8_opts,
            size="about 4× smaller",
            speed="usually faster",
            accuracy="usually < 1% change",
            tooltip="INT8 static: weights and activations in 8 bits, calibrated on your samples.",
        )
    fastest = Preset(
        id="fastest",
        title=f"Fastest on {unit}" if accelerated else "Fastest on NPU",
        title_zh="NPU 最快",
        method=Method.INT8_STATIC,
        options=int8_opts,
        size="about 4× smaller",
        speed=f"runs fully in 8-bit on the {unit}"
        if accelerated
        else "no NPU here: 8-bit on the CPU",
        accuracy="usually < 1% change",
        tooltip="NPUs compute in 8-bit integers; every layer is quantized so nothing falls back "
        "to the slower CPU.",
    )
    if accelerated:
        accurate = Preset(
            id="accurate",
            title="Most accurate",
            title_zh="最准确",
            method=Method.FP16,
            size="about 2× smaller",
            speed=f"fast on the {unit}",
            accuracy="outputs almost identical",
            tooltip="FP16: 16-bit floats; inputs and outputs stay 32-bit.",
        )
    else:
        accurate = Preset(
            id="accurate",
            title="Most accurate",
            title_zh="最准确",
            method=Method.CLEANUP,
            size="same size",
            speed="same or a little faster",
            accuracy="identical outputs",
            tooltip="Only tidies the graph (folds constants, removes dead nodes). FP16 is "
            "usually slower on a plain CPU, so it is not used here.",
        )
    auto = Preset(
        id="auto",
        title="Auto",
        title_zh="自动选择",
        method=Method.AUTO,
        options=int8_opts,
        size="the smallest that passes",
        speed="measured on this PC",
        accuracy="stays within 1% drift",
        tooltip="Tries the methods that suit this model and chip, measures each, and keeps the "
        "best one within the accuracy budget. Takes a few times longer.",
    )
    return [smallest, fastest, accurate, auto]


def apply_preset(optimize: Any, preset: Preset) -> Any:
    """A copy of the recipe's optimize section set to ``preset``: method and method options from
    the preset, while the user's data choices (samples, image settings, kept layers) stay."""
    keep = {
        "calibration",
        "calib_limit",
        "evaluation",
        "keep_float",
        "image",
        "eval_limit",
        "measure_latency",
    }
    data = {k: v for k, v in optimize.model_dump().items() if k in keep}
    data["method"] = preset.method
    data.update(preset.options)
    return type(optimize).model_validate(data)


def matching_preset(optimize: Any, presets: list[Preset]) -> str | None:
    """Which preset the recipe's choices correspond to, if any (first match wins)."""
    for preset in presets:
        if optimize.method != preset.method:
            continue
        if all(
            getattr(getattr(optimize, group), key) == value
            for group, values in preset.options.items()
            for key, value in values.items()
        ):
            return preset.id
    return None
