"""run_sweep: expand the spec into trials, skip the unchanged ones, run the rest, mark the front."""

from __future__ import annotations

import threading
from pathlib import Path

from pydantic import BaseModel

from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.sweep import cache
from studio.core.sweep.pool import OnResult, run_pool
from studio.core.sweep.spec import SweepSpec, calibration_path, model_path
from studio.core.sweep.table import mark_front
from studio.core.sweep.trial import Trial, TrialResult, file_sha256


class SweepResult(BaseModel):
    trials: list[TrialResult]
    """In the spec's order (models, then chips, methods, option sets)."""
    where: str = "local"
    """'local' for the process pool, else the Ray cluster's address."""

    @property
    def front(self) -> list[TrialResult]:
        return [t for t in self.trials if t.front]


def expand(spec: SweepSpec, base: Path | None) -> list[Trial]:
    """Every trial of the spec; each model is read once for its content hash."""
    from studio.core.model.loader import resolve_model_path

    calibration = calibration_path(spec, base)
    trials: list[Trial] = []
    for model in spec.models:
        path = resolve_model_path(model_path(model, base)).resolve()
        sha = file_sha256(path)
        for chip in spec.chips:
            for method in spec.methods:
                for number, options in enumerate(spec.options):
                    trials.append(
                        Trial(
                            index=len(trials),
                            model=str(path),
                            model_sha256=sha,
                            chip=chip,
                            method=method,
                            options=options,
                            option_set=number,
                            calibration=str(calibration) if calibration else None,
                            calib_limit=spec.calib_limit,
                            measure=spec.measure,
                            runs=spec.runs,
                        )
                    )
    return trials


def run_sweep(
    spec: SweepSpec,
    base: Path | None,
    *,
    workers: int | None = None,
    ray: str | None = None,
    cancel: threading.Event | None = None,
    report: Reporter = NULL_REPORTER,
    on_result: OnResult | None = None,
    name: str = "sweep",
) -> SweepResult:
    """Run every trial not already in the cache: on the local pool, or on the Ray cluster at
    ``ray`` ('auto' or an address). Each trial's tracking run is a child of the sweep's."""
    from studio.core.track.record import RunRecord, dump, log_run, parent_run

    trials = expand(spec, base)
    done: dict[int, TrialResult] = {}
    for trial in trials:
        stored = cache.load(trial)
        if stored is not None:
            done[trial.index] = stored
            if on_result is not None:
                on_result(stored)
    todo = [t for t in trials if t.index not in done]
    outputs = {t.index: cache.output_path(t) for t in todo}
    record = RunRecord(name=name, kind="sweep", params={"spec": dump(spec.model_dump(mode="json"))})
    with parent_run(record, report):
        if ray is not None:
            from studio.core.sweep.ray_runner import run_on_ray

            ran = run_on_ray(todo, outputs, ray, cancel=cancel, report=report, on_result=on_result)
        else:
            ran = run_pool(
                todo, outputs, workers=workers, cancel=cancel, report=report, on_result=on_result
            )
        for result in ran:
            done[result.trial.index] = result
            cache.save(result)
            if result.run is not None:
                log_run(result.run, report)
        record.metrics.update(trials=len(trials), ran=len(ran), cached=len(trials) - len(todo))
    ordered = mark_front([done[t.index] for t in trials])
    return SweepResult(trials=ordered, where=ray or "local")
