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

from studio.core.analyze.closeness import is_close
from studio.core.analyze.drift_layers import LayerDrift, layer_drift
from studio.core.messages import Fix, Message, message
from studio.core.model.loader import model_file_size
from studio.core.progress import NULL_REPORTER, Reporter

log = logging.getLogger("studio")

REPORT_VERSION = 1
RANDOM_WARNING = message("drift.random_inputs", Fix(option="eval"))


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
    """Every warning in English (the CLI's words)."""
    notices: list[Message] = []
    """The warnings that have a message id, as data, for a face to word them its own way."""
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

    def verdict_message(self) -> Message:
        return drift_verdict_message(self.min_cosine, self.min_top1)

    def add_notice(self, notice: Message) -> None:
        self.notices.append(notice)
        self.warnings.append(notice.english())


def cosine_text(cosine: float, digits: int = 4) -> str:
    """Rounded down, so a result is never shown as a perfect 1.0000 that it is not."""
    scale = 10**digits
    return f"{math.floor(cosine * scale) / scale:.{digits}f}"


def drift_verdict(cosine: float, top1: float | None = None) -> str:
    return drift_verdict_message(cosine, top1).english()


def drift_verdict_message(cosine: float, top1: float | None = None) -> Message:
    """How close the outputs stayed: ``drift.match``/``close``/``noticeable``/``large``, each
    with ``_top1`` when the top-1 agreement is known. "Close" is the rule `--method auto` accepts
    a result by (``is_close``), so the GUI and the CLI never disagree."""
    if is_close(cosine, top1, min_cosine=0.999):
        level, text = "match", cosine_text(cosine)
    else:
        level = "close" if is_close(cosine, top1) else "noticeable" if cosine >= 0.95 else "large"
        text = cosine_text(cosine, 3)
    if top1 is None:
        return message(f"drift.{level}", cosine=text)
    return message(f"drift.{level}_top1", cosine=text, top1=f"{math.floor(top1 * 1000) / 10:g}")


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
        if classes >= 2 and (a.ndim == 2 or _are_logits(a, ids)):
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
        if ids is not None and _are_logits(a, ids):
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


def _are_logits(output: np.ndarray, ids: np.ndarray | None) -> bool:
    """A [batch, tokens, vocab] output over the input's token ids. A sentence encoder's hidden
    states have that shape too, but token ids beyond their last axis show they are no vocabulary."""
    return (
        output.ndim == 3
        and ids is not None
        and ids.ndim == 2
        and ids.shape[1] == output.shape[1] > 1
        and np.issubdtype(ids.dtype, np.integer)
        and int(ids.min()) >= 0
        and int(ids.max()) < output.shape[-1]
    )


def _nll(logits: np.ndarray, ids: np.ndarray) -> float:
    """Mean negative log-likelihood of each next token (for perplexity)."""
    shifted = logits[:, :-1, :]
    targets = ids[:, 1:]
    top = shifted.max(axis=-1, keepdims=True)
    log_probs = shifted - top - np.log(np.sum(np.exp(shifted - top), axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None].astype(np.int64), axis=-1)
    return float(-picked.mean())


def session(path: Path) -> Any:  # onnxruntime.InferenceSession
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = max(1, min(4, __import__("os").cpu_count() or 1))
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


# Reference outputs kept for reuse up to this many bytes (a language model's logits for a few
# samples fit; beyond it they are computed again rather than held).
CACHE_BYTES = 256 << 20


class Sessions:
    """onnxruntime sessions opened once per compress run, and the original's outputs per sample.

    The original is compared with every Auto candidate, at a second size, and again for the
    final report; opening a session parses and optimises the whole model, and the original's
    outputs on a sample never change, so both are kept until the run ends."""

    def __init__(self) -> None:
        self._open: dict[Path, Any] = {}
        self._outputs: dict[tuple[Path, int], tuple[dict[str, np.ndarray], list[np.ndarray]]] = {}
        self._cached = 0

    def get(self, path: Path) -> Any:
        if path not in self._open:
            self._open[path] = session(path)
        return self._open[path]

    def forget(self, path: Path) -> None:
        """Close ``path``'s session (an Auto candidate that has been measured)."""
        self._open.pop(path, None)
        self._outputs = {k: v for k, v in self._outputs.items() if k[0] != path}

    def close(self) -> None:
        self._open.clear()
        self._outputs.clear()
        self._cached = 0

    def outputs(
        self, path: Path, sample: dict[str, np.ndarray], names: list[str], keep: bool
    ) -> list[np.ndarray]:
        """``path``'s outputs ``names`` on ``sample``; ``keep``: remember them for the next ask."""
        key = (path, id(sample))
        if key in self._outputs and self._outputs[key][0] is sample:
            found = dict(zip(names, self._outputs[key][1], strict=False))
            if len(found) == len(names):
                return [found[n] for n in names]
        sess = self.get(path)
        values = sess.run(names, _feeds_for(sess, sample))
        size = sum(v.nbytes for v in values if isinstance(v, np.ndarray))
        if keep and self._cached + size <= CACHE_BYTES:
            # The sample is held too, so its id cannot be reused by another dict meanwhile.
            self._outputs[key] = (sample, values)
            self._cached += size
        return list(values)


def time_session(sess: Any, feeds: dict[str, np.ndarray], budget_s: float = 1.0) -> float:
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
    sess_a: Any,
    feeds_a: dict[str, np.ndarray],
    sess_b: Any,
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


def _feeds_for(sess: Any, sample: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
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
    compressed_size: int | None = None,
    report: Reporter = NULL_REPORTER,
    sessions: Sessions | None = None,
) -> DriftReport:
    """Run both models on the same samples and describe how far the outputs moved.

    ``open_compressed``: how to run ``compressed`` when it is not an ONNX file (an OpenVINO IR):
    anything with onnxruntime's run/get_inputs/get_outputs; ``compressed_size`` is then its size.
    ``sessions``: shared by the comparisons of one run, so the original is opened and run on
    each sample once (see Sessions)."""
    notices = [RANDOM_WARNING] if sample_source == "random inputs" else []
    sessions = sessions or Sessions()
    ref_sess = sessions.get(original)
    new_sess = open_compressed(compressed) if open_compressed else sessions.get(compressed)
    names = [o.name for o in ref_sess.get_outputs()]
    new_names = {o.name for o in new_sess.get_outputs()}
    accs = {n: _Accumulator(n) for n in names if n in new_names}
    for index, sample in enumerate(samples):
        report.progress(0.6 * index / len(samples), f"Comparing outputs {index + 1}/{len(samples)}")
        ref_out = sessions.outputs(original, sample, list(accs), keep=True)
        if open_compressed:  # not an ONNX file: run by its own session, not onnxruntime's
            new_out = new_sess.run(list(accs), _feeds_for(new_sess, sample))
        else:
            new_out = sessions.outputs(compressed, sample, list(accs), keep=False)
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
    slower = bool(before and after and after > before * 1.05)
    if slower:
        notices.append(message("drift.slower", after=f"{after:.2f}", before=f"{before:.2f}"))
    result = DriftReport(
        samples=len(samples),
        sample_source=sample_source,
        size_before=model_file_size(original),
        size_after=compressed_size if compressed_size is not None else model_file_size(compressed),
        latency_before_ms=before,
        latency_after_ms=after,
        slower=slower,
        outputs=[acc.result() for acc in accs.values()],
        warnings=[n.english() for n in notices],
        notices=notices,
    )
    if per_layer and work_dir is not None:
        add_layer_drift(
            result, layer_reference or original, compressed, samples, work_dir, report.sub(0.8, 1.0)
        )
    report.progress(1.0, "Drift measured")
    return result


def add_layer_drift(
    result: DriftReport,
    reference: Path,
    compressed: Path,
    samples: list[dict[str, np.ndarray]],
    work_dir: Path,
    report: Reporter = NULL_REPORTER,
) -> None:
    """The layers that add the most error, into ``result`` (whose outputs are already compared:
    Auto's winner keeps the comparison it was chosen by)."""
    report.progress(0.0, "Finding the layers that drift most")
    layers, suggest, note = layer_drift(
        reference,
        compressed,
        samples[:4],
        work_dir,
        feeds_for=_feeds_for,
        session_factory=session,
        report=report,
    )
    # Only propose float layers when the outputs actually moved; otherwise nothing to fix.
    top1 = result.min_top1
    if result.min_cosine >= 0.999 and (top1 is None or top1 >= 1.0):
        suggest = []
    result.worst_layers, result.suggest_keep_float, result.layer_note = layers, suggest, note
