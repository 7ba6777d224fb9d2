"""The sizes compress measures at, and the drift verdict at a second size.

A model with flexible spatial dims runs at whatever size its user feeds it: on made-up inputs
its drift is measured at the chosen size and at a second typical one, and the worse wins.
"""

from __future__ import annotations

import math
from pathlib import Path

import onnx

from studio.core.analyze.drift import DriftReport, Sessions, compare_models
from studio.core.samples.calibration import synthetic_samples
from studio.core.samples.sizes import InputSizes

# Made-up samples are costly at real sizes (a 1×3×640×640 image is 1.2 M values) and say
# nothing more per sample than a few do: big inputs get half as many.
BIG_SAMPLE = 1 << 20
SECOND_SIZE_SAMPLES = 4


def synthetic_count(sizes: InputSizes, wanted: int) -> int:
    values = sum(math.prod(dims) for dims in sizes.shapes.values())
    return max(1, wanted // 2) if values > BIG_SAMPLE else wanted


def worse_of_two_sizes(
    report: DriftReport,
    model: onnx.ModelProto,
    sizes: InputSizes,
    original: Path,
    compressed: Path,
    sessions: Sessions | None = None,
) -> DriftReport:
    """Measure the drift again at a second typical size; keep the worse of the two."""
    report.measured_at = sizes.text()
    second = sizes.second()
    if second is None:
        return report
    samples = synthetic_samples(model, second, SECOND_SIZE_SAMPLES, first_seed=2000)
    other = compare_models(
        original,
        compressed,
        samples,
        sample_source="random inputs",
        measure_latency=False,
        per_layer=False,
        sessions=sessions,
    )
    first, second_text = sizes.text().removeprefix("measured at "), second.text()
    if other.min_cosine < report.min_cosine:
        report.outputs = other.outputs
        report.measured_at = second_text
        report.sizes_note = (
            f"Checked at two sizes ({first} and {second_text.removeprefix('measured at ')}); "
            "the verdict is the worse one, at the second size"
        )
    else:
        report.sizes_note = (
            f"Checked at two sizes ({first} and {second_text.removeprefix('measured at ')}); "
            "the verdict is the worse one, at the first size"
        )
    return report
