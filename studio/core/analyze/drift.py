"""How far a compressed model's outputs drift from the original, and whether it got faster.

Every compressed model gets this report (GUI card, CLI JSON, bundle manifest): size and latency
before/after, per-output cosine / max & mean absolute error / SNR, top-1/top-5 agreement for
classifiers (next-token agreement and perplexity for language models), and the layers that add
the most error with a suggestion to keep them in float.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from studio.core.analyze.drift_layers import LayerDrift, layer_drift
from studio.core.model.loader import model_file_size
from studio.core.progress import NULL_REPORTER, Reporter

log = logging.getLogger("studio")

REPORT_VERSION = 1
SLOWER_WARNING = (
    "The compressed model is SLOWER than the original on this PC ({after:.2f} ms vs "
    "{before:.2f} ms). Pick another method for this chip (INT8 convolutions without VNNI and FP16 "
    "on a CPU are common causes)."
)
RANDOM_WARNING = (
    "Drift was measured on random inputs, which says little about real accuracy; pass --eval "
    "with real samples."
)


class OutputDrift(BaseModel):
    name: str
    cosine: float
    max_abs: float
    mean_abs: float
    snr_db: float
    top1: float | None = None
    """Share of samples (or token positions) whose argmax class is unchanged."""
    top5: float | None = None
    """Share whose original top-1 class is still in the new top 5."""
    perplexity_before: float | None = None
    perplexity_after: float | None = None
    accuracy_before: float | None = None
    """Top-1 accuracy against the evaluation labels, when the samples come with labels."""
    accuracy_after: float | None = None


class DriftReport(BaseModel):
    version: int = REPORT_VERSION
    samples: int
    sample_source: str
    size_before: int
    size_after: int
    latency_before_ms: float | None = None
    latency_after_ms: float | None = None
    slower: bool = False
    outputs: list[OutputDrift]
    worst_layers: list[LayerDrift] = []
    suggest_keep_float: list[str] = []
    layer_note: str = ""
    warnings: list[str] = []
    measured_at: str = ""
    """The input sizes the verdict was measured at ("measured at 1×3×640×640")."""
    sizes_note: str = ""
    """Set when the model was checked at two sizes: which ones, and which gave the verdict."""

    @property
    def min_cosine(self) -> float:
        return min((o.cosine for o in self.outputs), default=1.0)

    @property
    def min_top1(self) -> float | None:
        values = [o.top1 for o in self.outputs if o.top1 is not None]
        return min(values) if values else None

    def verdict(self) -> str:
        return drift_verdict(self.min_cosine, self.min_top1)


def cosine_text(cosine: float, digits: int = 4) -> str:
    """Rounded down, so a result is never shown as a perfect 1.0000 that it is not."""
    scale = 10**digits
    return f"{math.floor(cosine * scale) / scale:.{digits}f}"


def drift_verdict(cosine: float, top1: float | None = None) -> str:
    top = f", top-1 agreement {math.floor(top1 * 1000) / 10:g}%" if top1 is not None else ""
    if cosine >= 0.999:
        return f"Outputs match the original closely: cosine {cosine_text(cosine)}{top}"
    if cosine >= 0.99:
        return f"Outputs stay close to the original: cosine {cosine_text(cosine, 3)}{top}"
    if cosine >= 0.95:
        return (
            f"Outputs drift noticeably: cosine {cosine_text(cosine, 3)}{top}. Check accuracy "
            "on your own data, or keep the worst layers in float"
        )
    return (
        f"Outputs changed a lot: cosine {cosine_text(cosine, 3)}{top}. Keep the worst layers "
        "in float or choose a milder method"
    )


class _Accumulator:
    """Streaming per-output metrics over samples (no need to hold every output in memory)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dot = self.ref_sq = self.new_sq = self.err_sq = 0.0
        self.abs_sum = 0.0
        self.count = 0
        self.max_abs = 0.0
        self.top1: list[bool] = []
        self.top5: list[bool] = []
        self.nll_before: list[float] = []
        self.nll_after: list[float] = []
        self.right_before: list[bool] = []
        self.right_after: list[bool] = []

    def add(
        self, ref: np.ndarray, new: np.ndarray, ids: np.ndarray | None, label: int | None = None
    ) -> None:
        a = np.asarray(ref, dtype=np.float64)
        b = np.asarray(new, dtype=np.float64)
        if a.shape != b.shape:
            b = b.reshape(a.shape) if a.size == b.size else np.zeros_like(a)
        finite = np.isfinite(a) & np.isfinite(b)
        a, b = np.where(finite, a, 0.0), np.where(finite, b, 0.0)
        diff = a - b
        self.dot += float(np.sum(a * b))
        self.ref_sq += float(np.sum(a * a))
        self.new_sq += float(np.sum(b * b))
        self.err_sq += float(np.sum(diff * diff))
        self.abs_sum += float(np.sum(np.abs(diff)))
        self.count += diff.size
        self.max_abs = max(self.max_abs, float(np.max(np.abs(diff))) if diff.size else 0.0)
        classes = a.shape[-1] if a.ndim >= 2 else 0
        if classes >= 2 and (a.ndim == 2 or (a.ndim == 3 and ids is not None)):
            rows_a = a.reshape(-1, classes)
            rows_b = b.reshape(-1, classes)
            best = rows_a.argmax(axis=1)
            self.top1 += list(best == rows_b.argmax(axis=1))
            if classes > 5:
                top5 = np.argsort(-rows_b, axis=1)[:, :5]
                self.top5 += [bool(best[i] in top5[i]) for i in range(len(best))]
        if label is not None and a.ndim == 2 and a.shape[0] == 1 and classes >= 2:
            self.right_before.append(int(a.argmax()) == label)
            self.right_after.append(int(b.argmax()) == label)
        # Logits over a vocabulary: every token id indexes the last axis. An encoder's hidden
        # states have the same [batch, seq, width] shape, but ids beyond their width.
        if (
            a.ndim == 3
            and ids is not None
            and ids.ndim == 2
            and ids.shape[1] == a.shape[1] > 1
            and int(ids.min()) >= 0
            and int(ids.max()) < a.shape[-1]
        ):
            self.nll_before.append(_nll(a, ids))
            self.nll_after.append(_nll(b, ids))

    def result(self) -> OutputDrift:
        norm = math.sqrt(self.ref_sq * self.new_sq)
        cosine = self.dot / norm if norm > 0 else (1.0 if self.err_sq == 0 else 0.0)
        snr = 10 * math.log10(self.ref_sq / self.err_sq) if self.err_sq > 0 else math.inf
        return OutputDrift(
            name=self.name,
            cosine=min(cosine, 1.0),
            max_abs=self.max_abs,
            mean_abs=self.abs_sum / max(self.count, 1),
            snr_db=round(snr, 2) if math.isfinite(snr) else 999.0,
            top1=statistics.fmean(self.top1) if self.top1 else None,
            top5=statistics.fmean(self.top5) if self.top5 else None,
            perplexity_before=math.exp(statistics.fmean(self.nll_before))
            if self.nll_before
            else None,
            perplexity_after=math.exp(statistics.fmean(self.nll_after)) if self.nll_after else None,
            accuracy_before=statistics.fmean(self.right_before) if self.right_before else None,
            accuracy_after=statistics.fmean(self.right_after) if self.right_after else None,
        )


def _nll(logits: np.ndarray, ids: np.ndarray) -> float:
    """Mean negative log-likelihood of each next token (for perplexity)."""
    shifted = logits[:, :-1, :]
    targets = ids[:, 1:]
    top = shifted.max(axis=-1, keepdims=True)
    log_probs = shifted - top - np.log(np.sum(np.exp(shifted - top), axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None].astype(np.int64), axis=-1)
    return float(-picked.mean())


def session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = max(1, min(4, __import__("os").cpu_count() or 1))
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def time_session(sess, feeds: dict[str, np.ndarray], budget_s: float = 1.0) -> float:
    """Median latency in ms; runs as many times as fit the budget (3..50), after warm-up."""
    sess.run(None, feeds)
    start = time.perf_counter()
    sess.run(None, feeds)
    once = time.perf_counter() - start
    runs = int(min(50, max(3, budget_s / max(once, 1e-6))))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def time_pair(
    sess_a,
    feeds_a: dict[str, np.ndarray],
    sess_b,
    feeds_b: dict[str, np.ndarray],
    budget_s: float = 2.0,
) -> tuple[float, float]:
    """Median latency in ms of two models, timed run by run in turn (3..50 runs each) after
    warm-up: a change in the machine's load then hits both alike, so their ratio holds."""
    pairs = ((sess_a, feeds_a), (sess_b, feeds_b))
    once = 0.0
    for sess, feeds in pairs:
        sess.run(None, feeds)
        start = time.perf_counter()
        sess.run(None, feeds)
        once += time.perf_counter() - start
    runs = int(min(50, max(3, budget_s / max(once, 1e-6))))
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for index, (sess, feeds) in enumerate(pairs):
            start = time.perf_counter()
            sess.run(None, feeds)
            times[index].append((time.perf_counter() - start) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def _feeds_for(sess, sample: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    wanted = {i.name: i.type for i in sess.get_inputs()}
    feeds = {}
    for name, value in sample.items():
        if name in wanted and "float16" in wanted[name] and value.dtype == np.float32:
            value = value.astype(np.float16)  # fp16 without keep_io_types takes half inputs
        elif name in wanted and wanted[name] == "tensor(float)" and value.dtype == np.float16:
            value = value.astype(np.float32)
        feeds[name] = value
    return {k: v for k, v in feeds.items() if k in wanted}


def compare_models(
    original: Path,
    compressed: Path,
    samples: list[dict[str, np.ndarray]],
    *,
    sample_source: str,
    layer_reference: Path | None = None,
    measure_latency: bool = True,
    per_layer: bool = True,
    work_dir: Path | None = None,
    labels: list[int] | None = None,
    open_compressed: Callable[[Path], Any] | None = None,
    report: Reporter = NULL_REPORTER,
) -> DriftReport:
    """Run both models on the same samples and describe how far the outputs moved.

    ``open_compressed`` opens the compressed model another way than on the CPU (a compiled
    model on an NPU emulator)."""
    warnings = [RANDOM_WARNING] if sample_source == "random inputs" else []
    ref_sess, new_sess = session(original), (open_compressed or session)(compressed)
    names = [o.name for o in ref_sess.get_outputs()]
    new_names = {o.name for o in new_sess.get_outputs()}
    accs = {n: _Accumulator(n) for n in names if n in new_names}
    for index, sample in enumerate(samples):
        report.progress(0.6 * index / len(samples), f"Comparing outputs {index + 1}/{len(samples)}")
        ref_out = ref_sess.run(list(accs), _feeds_for(ref_sess, sample))
        new_out = new_sess.run(list(accs), _feeds_for(new_sess, sample))
        ids = sample.get("input_ids")
        label = labels[index] if labels and index < len(labels) else None
        for acc, a, b in zip(accs.values(), ref_out, new_out, strict=True):
            acc.add(a, b, ids, label)
    before = after = None
    if measure_latency and samples:
        report.progress(0.6, "Timing the original and the result on this PC")
        before, after = time_pair(
            ref_sess, _feeds_for(ref_sess, samples[0]), new_sess, _feeds_for(new_sess, samples[0])
        )
    del ref_sess, new_sess
    slower = bool(before and after and after > before * 1.05)
    if slower:
        warnings.append(SLOWER_WARNING.format(after=after, before=before))
    result = DriftReport(
        samples=len(samples),
        sample_source=sample_source,
        size_before=model_file_size(original),
        size_after=model_file_size(compressed),
        latency_before_ms=before,
        latency_after_ms=after,
        slower=slower,
        outputs=[acc.result() for acc in accs.values()],
        warnings=warnings,
    )
    if per_layer and work_dir is not None:
        report.progress(0.8, "Finding the layers that drift most")
        layers, suggest, note = layer_drift(
            layer_reference or original,
            compressed,
            samples[:4],
            work_dir,
            feeds_for=_feeds_for,
            session_factory=session,
        )
        # Only propose float layers when the outputs actually moved; otherwise nothing to fix.
        top1 = result.min_top1
        if result.min_cosine >= 0.999 and (top1 is None or top1 >= 1.0):
            suggest = []
        result.worst_layers, result.suggest_keep_float, result.layer_note = layers, suggest, note
    report.progress(1.0, "Drift measured")
    return result
