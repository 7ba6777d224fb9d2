"""Auto: try the methods that suit the model and chip, measure each, keep the best within budget."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from pydantic import BaseModel, PrivateAttr

from studio.core.analyze.closeness import is_close
from studio.core.analyze.drift import DriftReport, Sessions, compare_models
from studio.core.compress.graph import changed_nothing_warning, weight_counts
from studio.core.compress.method_ids import Method
from studio.core.compress.passes import Prepared, run_method
from studio.core.errors import BadInput
from studio.core.progress import NULL_REPORTER, Reporter

log = logging.getLogger("studio")

# A result this much slower than the original (median latency on this PC) counts as slower:
# closer than that is within the noise of two timings.
SLOWER = 1.1


class Candidate(BaseModel):
    method: Method
    size: int | None = None
    latency_ms: float | None = None
    cosine: float | None = None
    top1: float | None = None
    within_budget: bool = False
    chosen: bool = False
    note: str = ""
    # The comparison this candidate was judged by: the winner's becomes the drift report.
    _report: DriftReport | None = PrivateAttr(default=None)

    @property
    def report(self) -> DriftReport | None:
        return self._report


def auto_candidates(prep: Prepared) -> list[Method]:
    """What is worth trying, from what the weights feed: convolutions, MatMuls, or both."""
    counts = weight_counts(prep.model)
    conv = counts.get("Conv", 0) + counts.get("ConvTranspose", 0)
    matmul = counts.get("MatMul", 0) + counts.get("Gemm", 0)
    methods = [Method.INT8_STATIC]
    if matmul >= conv:
        methods.append(Method.INT8_DYNAMIC)
    if counts.get("MatMul", 0) >= 1_000_000:
        methods.append(Method.INT4)
    if prep.qnn:
        methods = [Method.INT8_STATIC]
    methods.append(Method.FP16)
    return methods


def run_auto(
    prep: Prepared,
    original: Path,
    staging: Path,
    name: str,
    eval_samples: list[dict[str, np.ndarray]],
    sample_source: str,
    warnings: list[str],
    report: Reporter = NULL_REPORTER,
    *,
    sessions: Sessions | None = None,
    labels: list[int] | None = None,
) -> tuple[Method, Path, list[Candidate]]:
    settings = prep.options.auto
    sessions = sessions or Sessions()
    methods = auto_candidates(prep)
    results: list[tuple[Candidate, Path]] = []
    baseline_ms: float | None = None
    for index, method in enumerate(methods):
        step = report.sub(index / len(methods), (index + 1) / len(methods))
        step.progress(0.0, f"Auto: trying {method.value} ({index + 1}/{len(methods)})")
        dest = staging / f"auto-{method.value}" / name
        candidate = Candidate(method=method)
        try:
            run_method(prep, method, dest, step.sub(0.0, 0.6))
            if changed_nothing_warning(prep.model, dest, method.value):
                candidate.note = "changed no layer"
                results.append((candidate, dest))
                continue
            drift = compare_models(
                original,
                dest,
                eval_samples,
                sample_source=sample_source,
                measure_latency=prep.options.measure_latency,
                per_layer=False,
                labels=labels,
                report=step.sub(0.6, 1.0),
                sessions=sessions,
            )
            candidate._report = drift
        except BadInput as exc:
            candidate.note = exc.message
            results.append((candidate, dest))
            continue
        except Exception as exc:  # one failing candidate must not stop the others
            candidate.note = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            results.append((candidate, dest))
            continue
        finally:
            sessions.forget(dest)  # one candidate's session open at a time
        baseline_ms = drift.latency_before_ms or baseline_ms
        candidate.size = drift.size_after
        candidate.latency_ms = drift.latency_after_ms
        candidate.cosine = drift.min_cosine
        candidate.top1 = drift.min_top1
        candidate.within_budget = is_close(
            drift.min_cosine, drift.min_top1, settings.min_cosine, settings.min_top1
        )
        if not candidate.within_budget:
            candidate.note = "outside the accuracy budget"
        results.append((candidate, dest))
    good = [(c, p) for c, p in results if c.within_budget]
    if not good:
        cleanup = Candidate(
            method=Method.CLEANUP,
            within_budget=True,
            chosen=True,
            note="no candidate met the budget; kept the cleaned float model",
        )
        return Method.CLEANUP, prep.path, [c for c, _ in results] + [cleanup]

    picked = _pick(good, settings.goal, baseline_ms)
    if picked is None:
        cleanup = Candidate(
            method=Method.CLEANUP,
            within_budget=True,
            chosen=True,
            note="every result ran slower than the original on this PC; kept the cleaned float model",
        )
        warnings.append(
            "Auto kept the cleaned float model: every compressed result ran slower than the "
            "original on this PC (goal: fastest)."
        )
        return Method.CLEANUP, prep.path, [c for c, _ in results] + [cleanup]
    best, path = picked
    best.chosen = True
    if baseline_ms and best.latency_ms and best.latency_ms > baseline_ms * SLOWER:
        warnings.append(
            f"Auto kept {best.method.value}, the smallest result within the accuracy budget, "
            f"although it ran {best.latency_ms / baseline_ms:.1f}× slower than the original on "
            "this PC; choose the goal 'fastest' to keep only results that are not slower."
        )
    log.info("auto chose %s", best.method.value)
    return best.method, path, [c for c, _ in results]


def _pick(
    good: list[tuple[Candidate, Path]], goal: str, baseline_ms: float | None
) -> tuple[Candidate, Path] | None:
    """Smallest (or fastest) within budget; a result slower than the original loses to any that
    is not, and sizes within 10% of each other count as a tie broken by speed. None when the
    goal is 'fastest' and every result was slower: nothing beats the original then."""
    if baseline_ms:
        not_slower = [g for g in good if (g[0].latency_ms or 0.0) <= baseline_ms * SLOWER]
        for candidate, _ in good:
            if (candidate.latency_ms or 0.0) > baseline_ms * SLOWER:
                candidate.note = "slower than the original on this PC"
        if not_slower:
            good = not_slower
        elif goal == "fastest":
            return None
    if goal == "fastest":
        return min(good, key=lambda g: (g[0].latency_ms or 0.0, g[0].size or 0))
    smallest = min(g[0].size or 0 for g in good)
    close = [g for g in good if (g[0].size or 0) <= smallest * 1.1]
    return min(close, key=lambda g: (g[0].latency_ms or 0.0, g[0].size or 0))
