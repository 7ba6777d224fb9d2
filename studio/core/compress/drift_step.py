"""The drift report of one compress run, reusing what the run already measured.

Auto's winner keeps the comparison it was chosen by (same samples, same timing) and only gains
the per-layer pass; any other result is compared here. Sessions on the original are shared by
every comparison of the run and closed before the per-layer pass opens its larger models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from studio.core.analyze.drift import DriftReport, Sessions, add_layer_drift, compare_models
from studio.core.compress.auto import Candidate
from studio.core.compress.method_ids import Method
from studio.core.compress.sample_sizes import worse_of_two_sizes
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.samples.sizes import InputSizes


@dataclass
class DriftJob:
    source: Path
    result: Path
    cleaned: Path
    """The cleaned model: the per-layer pass compares against it (same node names)."""
    chosen: Method
    candidates: list[Candidate]
    samples: list[dict[str, np.ndarray]]
    sample_source: str
    labels: list[int] | None
    measure_latency: bool
    work_dir: Path


def measure_drift(
    job: DriftJob,
    model: onnx.ModelProto,
    sizes: InputSizes,
    sessions: Sessions,
    report: Reporter = NULL_REPORTER,
) -> DriftReport:
    winner = next((c.report for c in job.candidates if c.chosen and c.report), None)
    if winner is None:
        winner = compare_models(
            job.source,
            job.result,
            job.samples,
            sample_source=job.sample_source,
            measure_latency=job.measure_latency,
            per_layer=False,
            labels=job.labels,
            report=report.sub(0.0, 0.6),
            sessions=sessions,
        )
    if job.sample_source == "random inputs":
        winner = worse_of_two_sizes(winner, model, sizes, job.source, job.result, sessions)
    else:
        winner.measured_at = sizes.text()
    sessions.close()
    # Pruned tensors have fewer channels: layer-by-layer comparison (and "keep in float") means
    # nothing there.
    if job.chosen is not Method.PRUNE_CHANNELS:
        add_layer_drift(
            winner, job.cleaned, job.result, job.samples, job.work_dir, report.sub(0.6, 1.0)
        )
    return winner
