"""One trial: a model, a chip, a method and an option set, run through the studio's own steps.

A trial has two phases, each a job target. ``work`` compresses (steps.optimize, drift without
timing) and checks the chip (placement, predicted latency): it may run beside other trials.
``timing`` times the result on this PC (steps.measure) and predicts This PC's latency, which
calibrates this PC: it holds the machine's timing slot, so nothing else runs meanwhile.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from studio.core.compress import CompressOptions, Method
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.this_pc import THIS_PC_ID
from studio.core.track.record import RunRecord

Status = Literal["done", "cached", "failed", "cancelled"]
CACHE_FORMAT = 1


class Trial(BaseModel):
    index: int
    model: str
    model_sha256: str
    chip: str
    method: Method
    options: CompressOptions
    option_set: int = 0
    """Which of the spec's option sets (0 for the first)."""
    calibration: str | None = None
    calib_limit: int = 100
    measure: bool = True
    runs: int = 20

    def key(self) -> str:
        """What the result depends on: the model's content and every setting (not its path)."""
        from studio import __version__

        settings = self.model_dump(mode="json", exclude={"index", "model", "option_set"})
        settings |= {"studio": __version__, "format": CACHE_FORMAT}
        text = json.dumps(settings, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def label(self) -> str:
        extra = f" #{self.option_set + 1}" if self.option_set else ""
        return f"{Path(self.model).name} · {self.chip} · {self.method.value}{extra}"

    @property
    def times_things(self) -> bool:
        return self.measure


class TrialMetrics(BaseModel):
    size_before: int | None = None
    size_after: int | None = None
    cosine: float | None = None
    top1: float | None = None
    host_latency_ms: float | None = None
    predicted_ms: float | None = None
    predicted_low_ms: float | None = None
    predicted_high_ms: float | None = None
    npu_share: float | None = None
    """Share of the work on the chip's accelerator (1.0 where the chip is a CPU)."""
    unit: str = ""
    verdict: str = ""


class TrialResult(BaseModel):
    trial: Trial
    status: Status
    metrics: TrialMetrics = TrialMetrics()
    output: str = ""
    error: str = ""
    seconds: float = 0.0
    front: bool = False
    spans: list[tuple[str, float, float]] = []
    """(phase, start, end) in time.time() seconds, as the runner saw each phase run."""
    run: RunRecord | None = None
    """The trial's tracking run (a RunRecord) when tracking is on; never cached."""


def work(trial: Trial, out: str, report: Reporter = NULL_REPORTER) -> TrialResult:
    """Compress and check on the chip; no timing (other trials may run meanwhile)."""
    from studio.core.bundle.recipe import Optimize
    from studio.core.bundle.steps import OptimizeRequest, optimize
    from studio.core.chips.check import check_model
    from studio.core.sweep.collect import collected_runs

    settings = Optimize.model_validate(
        trial.options.model_dump()
        | {"method": trial.method, "measure_latency": False}
        | {"calibration": trial.calibration, "calib_limit": trial.calib_limit}
    )
    request = OptimizeRequest(
        model=Path(trial.model),
        out=Path(out),
        settings=settings,
        chip=trial.chip,
        calibration=Path(trial.calibration) if trial.calibration else None,
        force=True,
    )
    with collected_runs(f"trial {trial.label()}") as run:
        result = optimize(request, report.sub(0.0, 0.8))
        metrics = TrialMetrics(size_before=result.size_before, size_after=result.size_after)
        if result.report is not None:
            metrics.cosine = result.report.min_cosine
            metrics.top1 = result.report.min_top1
        if trial.chip != THIS_PC_ID:  # This PC's prediction calibrates: the timing phase's job
            check = check_model(out, trial.chip, report=report.sub(0.8, 1.0))
            _add_check(metrics, check)
    return TrialResult(trial=trial, status="done", metrics=metrics, output=out, run=run)


def timing(result: TrialResult, report: Reporter = NULL_REPORTER) -> TrialResult:
    """Time the trial's result on this PC, holding the machine's timing slot throughout."""
    from studio.core.bundle.recipe import ProfileSettings
    from studio.core.bundle.steps import MeasureRequest, measure
    from studio.core.chips.check import check_model
    from studio.core.sweep.collect import collected_runs
    from studio.core.sweep.slot import timing_slot

    trial = result.trial
    metrics = result.metrics.model_copy()
    with timing_slot(report), collected_runs(f"timing {trial.label()}", result.run) as run:
        profiled = measure(
            MeasureRequest(model=Path(result.output), settings=ProfileSettings(runs=trial.runs)),
            report.sub(0.0, 0.7),
        )
        metrics.host_latency_ms = profiled.end_to_end_ms
        if trial.chip == THIS_PC_ID:
            _add_check(metrics, check_model(result.output, THIS_PC_ID, report=report.sub(0.7, 1)))
    return result.model_copy(update={"metrics": metrics, "run": run})


def _add_check(metrics: TrialMetrics, check: Any) -> None:
    metrics.predicted_ms = check.latency.estimate_ms
    metrics.predicted_low_ms = check.latency.low_ms
    metrics.predicted_high_ms = check.latency.high_ms
    metrics.npu_share = check.accelerator_share
    metrics.unit = check.unit
    metrics.verdict = check.level


def file_sha256(path: Path) -> str:
    """The model's content hash, external weights included (they change what it computes)."""
    digest = hashlib.sha256()
    files = [path, *sorted(path.parent.glob(f"{path.name}.data"))]
    for part in files:
        with part.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
