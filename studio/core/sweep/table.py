"""The comparison table: one row per trial, the Pareto front marked, a row as a recipe."""

from __future__ import annotations

import math
from pathlib import Path

from studio.core.bundle.recipe import ModelSource, Optimize, Recipe, Target
from studio.core.sweep.trial import TrialResult
from studio.core.this_pc import THIS_PC_ID

USABLE = ("done", "cached")


def speed_ms(result: TrialResult) -> float | None:
    """How fast it runs where it is meant to: measured on This PC, predicted on any other chip."""
    metrics = result.metrics
    if result.trial.chip == THIS_PC_ID and metrics.host_latency_ms is not None:
        return metrics.host_latency_ms
    return metrics.predicted_ms


def objectives(result: TrialResult) -> tuple[float, float, float]:
    """(size, speed, drift), all lower-is-better; an unknown figure counts as the worst."""
    metrics = result.metrics
    size = float(metrics.size_after) if metrics.size_after is not None else math.inf
    speed = speed_ms(result)
    drift = 1.0 - metrics.cosine if metrics.cosine is not None else math.inf
    return size, speed if speed is not None else math.inf, drift


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b


def mark_front(results: list[TrialResult]) -> list[TrialResult]:
    """The results with ``front`` set on those no other result beats on size, speed and drift
    at once. Failed and cancelled trials are never on it."""
    usable = [r for r in results if r.status in USABLE]
    points = {id(r): objectives(r) for r in usable}
    marked = []
    for result in results:
        on = result.status in USABLE and not any(
            _dominates(points[id(other)], points[id(result)]) for other in usable
        )
        marked.append(result.model_copy(update={"front": on}))
    return marked


def to_recipe(result: TrialResult) -> Recipe:
    """The row as a recipe: ``studio run`` (or the wizard) makes the same model for the chip."""
    from studio.core.paths import demo_model_path

    trial = result.trial
    model = Path(trial.model)
    demo = model.resolve() == demo_model_path().resolve()
    calibration = trial.calibration
    settings = trial.options.model_dump() | {
        "method": trial.method,
        "calibration": calibration,
        "calib_limit": trial.calib_limit,
    }
    return Recipe(
        model=ModelSource(source="demo") if demo else ModelSource(source="local", path=str(model)),
        target=Target(chip=trial.chip),
        optimize=Optimize.model_validate(settings),
    )
