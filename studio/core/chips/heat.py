"""Heat-map shares predicted for a chip (from its published profile), per node of the model.

The Inspect graph colours nodes by measured time on this PC; for a target chip it can colour them
by the chips catalogue's per-node prediction instead. Predictions come as a low–high range per
node; the share uses the geometric middle of each range.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel

from studio.core.progress import NULL_REPORTER, Reporter

SCHEMA_VERSION = 1


class PredictedHeat(BaseModel):
    version: int = SCHEMA_VERSION
    chip: str
    chip_name: str
    low_ms: float | None
    high_ms: float | None
    shares: dict[str, float]  # node name → share of the predicted time
    missing: list[str]  # nodes the chip profile cannot predict (no published figure)


def _middle(low: float | None, high: float | None) -> float | None:
    if low is None or high is None:
        return None
    return math.sqrt(low * high) if low > 0 else high


def predicted_heat(
    model: str | Path,
    chip: str,
    *,
    shapes: dict[str, list[int]] | None = None,
    report: Reporter = NULL_REPORTER,
) -> PredictedHeat:
    from studio.core.chips.check import check_model

    report.progress(0.1, "Predicting each layer on the chip")
    result = check_model(model, chip, shapes=shapes)
    prediction = result.latency
    middles = {n.name: _middle(n.low_ms, n.high_ms) for n in prediction.nodes}
    known = {name: ms for name, ms in middles.items() if ms is not None}
    total = sum(known.values()) or 1.0
    report.progress(1.0, "Predicted")
    return PredictedHeat(
        chip=result.chip,
        chip_name=result.chip_name,
        low_ms=prediction.low_ms,
        high_ms=prediction.high_ms,
        shares={n: ms / total for n, ms in known.items()},
        missing=[name for name, ms in middles.items() if ms is None],
    )


class ChipLayer(BaseModel):
    name: str
    op_type: str
    ms_a: float | None  # predicted (middle of the range) on chip A; None: no published figure
    ms_b: float | None


class TwoChips(BaseModel):
    """One model on two chips, layer by layer (predicted from the chips' profiles)."""

    version: int = SCHEMA_VERSION
    model: str
    chip_a: str
    chip_b: str
    name_a: str
    name_b: str
    range_a: tuple[float | None, float | None]
    range_b: tuple[float | None, float | None]
    layers: list[ChipLayer]


def compare_two_chips(
    model: str | Path,
    chip_a: str,
    chip_b: str,
    *,
    shapes: dict[str, list[int]] | None = None,
    report: Reporter = NULL_REPORTER,
) -> TwoChips:
    from studio.core.chips.check import check_model

    report.progress(0.05, f"Predicting on {chip_a}")
    first = check_model(model, chip_a, shapes=shapes)
    report.progress(0.5, f"Predicting on {chip_b}")
    second = check_model(model, chip_b, shapes=shapes)
    on_b = {n.name: _middle(n.low_ms, n.high_ms) for n in second.latency.nodes}
    layers = [
        ChipLayer(
            name=n.name, op_type=n.op_type, ms_a=_middle(n.low_ms, n.high_ms), ms_b=on_b.get(n.name)
        )
        for n in first.latency.nodes
    ]
    layers.sort(key=lambda row: -max(row.ms_a or 0.0, row.ms_b or 0.0))
    report.progress(1.0, "Predicted")
    return TwoChips(
        model=str(model),
        chip_a=first.chip,
        chip_b=second.chip,
        name_a=first.chip_name,
        name_b=second.chip_name,
        range_a=(first.latency.low_ms, first.latency.high_ms),
        range_b=(second.latency.low_ms, second.latency.high_ms),
        layers=layers,
    )
