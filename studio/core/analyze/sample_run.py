"""Run a model once on a sample input and show what came out and how long it took."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from studio.core.errors import BadInput
from studio.core.model.loader import load_model, resolve_model_path
from studio.core.model.ort_errors import ort_errors_in_plain_words
from studio.core.paths import demo_samples_path
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.samples.calibration import load_arrays, synthetic_inputs


class OutputPreview(BaseModel):
    name: str
    shape: list[int]
    dtype: str
    first_values: list[float]
    top_classes: list[tuple[int, float]] = []
    """For a classifier-like output (batch × classes): the best classes with probabilities."""


class SampleRun(BaseModel):
    model: str
    sample: str
    label: int | None = None
    input_preview: list[list[float]] | None = None
    """A 2-D view of an image-like input, for showing it."""
    outputs: list[OutputPreview]
    latency_ms: float
    runs: int


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    probabilities: np.ndarray = shifted / shifted.sum()
    return probabilities


def _preview(name: str, value: np.ndarray) -> OutputPreview:
    flat = np.asarray(value).reshape(-1)
    top: list[tuple[int, float]] = []
    if (
        value.ndim == 2
        and value.shape[0] == 1
        and 2 <= value.shape[1] <= 1000
        and np.issubdtype(value.dtype, np.floating)
    ):
        probs = _softmax(value[0].astype(np.float64))
        order = np.argsort(-probs)[:3]
        top = [(int(i), float(probs[i])) for i in order]
    return OutputPreview(
        name=name,
        shape=list(value.shape),
        dtype=str(value.dtype),
        first_values=[float(v) for v in flat[:8]],
        top_classes=top,
    )


@ort_errors_in_plain_words
def run_sample(
    model: str | Path,
    *,
    samples: str | Path | None = None,
    index: int = 0,
    runs: int = 10,
    report: Reporter = NULL_REPORTER,
) -> SampleRun:
    """Run ``model`` on sample ``index`` of ``samples`` (.npz/.npy), or on random data."""
    import onnxruntime as ort

    path = resolve_model_path(model)
    proto = load_model(path, with_weights=False)
    label = None
    if samples is not None:
        all_samples = load_arrays(samples, proto, key="evaluation")
        if not 0 <= index < len(all_samples):
            raise BadInput(
                f"Sample {index} does not exist ({len(all_samples)} samples)", "Pick another sample"
            )
        feeds = all_samples[index]
        sample_name = f"{Path(samples).name} #{index}"
        label = _label(Path(samples), index)
    else:
        feeds = synthetic_inputs(proto, seed=index)
        sample_name = "random input"
    report.progress(0.1, "Loading the model")
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise BadInput(
            f"onnxruntime cannot load {path.name} ({str(exc).splitlines()[0]})",
            "Re-export the model",
        ) from exc
    names = [o.name for o in session.get_outputs()]
    results = session.run(None, feeds)
    times = []
    for i in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000)
        report.progress(0.2 + 0.8 * (i + 1) / runs, f"Run {i + 1}/{runs}")
    first = next(iter(feeds.values()))
    preview = None
    if (
        first.ndim == 4
        and first.shape[0] == 1
        and first.shape[1] == 1
        and first.shape[2] * first.shape[3] <= 4096
    ):
        preview = first[0, 0].astype(float).round(3).tolist()
    return SampleRun(
        model=str(path),
        sample=sample_name,
        label=label,
        input_preview=preview,
        outputs=[_preview(n, r) for n, r in zip(names, results, strict=True)],
        latency_ms=statistics.median(times),
        runs=runs,
    )


def _label(samples: Path, index: int) -> int | None:
    if samples.suffix != ".npz":
        return None
    with np.load(samples, allow_pickle=False) as data:
        if "evaluation_labels" in data.files and index < len(data["evaluation_labels"]):
            return int(data["evaluation_labels"][index])
    return None


def demo_samples() -> Path:
    return demo_samples_path()
