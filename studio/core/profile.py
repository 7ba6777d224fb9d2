"""Measure where time goes: per-node latency from onnxruntime's profiler, and end-to-end latency."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel

from studio.core.calibration import synthetic_inputs
from studio.core.errors import BadInput
from studio.core.model import load_model, resolve_model_path
from studio.core.progress import NULL_REPORTER, Reporter

PROFILER_NOTE = (
    "The profiler times each node separately and adds its own bookkeeping, so the profiled "
    "total is higher than the plain end-to-end time; use it for shares, not absolute speed."
)


class NodeTiming(BaseModel):
    name: str
    op_type: str
    provider: str
    median_ms: float
    share: float


class ProfileResult(BaseModel):
    model: str
    runs: int
    threads: int
    input_shapes: dict[str, list[int]]
    end_to_end_ms: float
    end_to_end_p90_ms: float
    profiled_total_ms: float
    nodes: list[NodeTiming]
    note: str = PROFILER_NOTE

    def by_op_type(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for node in self.nodes:
            totals[node.op_type] += node.median_ms
        return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def _session(path: Path, threads: int, profile_prefix: str | None = None):  # noqa: ANN202
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise BadInput(
            f"onnxruntime cannot load {path.name} ({str(exc).splitlines()[0]})",
            "Check the model opens in Netron; re-export it if it is damaged",
        ) from exc


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def measure_latency(path: Path, feeds: dict, runs: int, threads: int, warmup: int = 3) -> list[float]:
    session = _session(path, threads)
    for _ in range(warmup):
        session.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000)
    return times


def profile_model(
    model: str | Path,
    *,
    runs: int = 20,
    threads: int | None = None,
    shapes: dict[str, list[int]] | None = None,
    report: Reporter = NULL_REPORTER,
) -> ProfileResult:
    if runs < 1:
        raise BadInput(f"--runs must be at least 1 (got {runs})", "Use --runs 20 for a stable median")
    path = resolve_model_path(model)
    proto = load_model(path, with_weights=False)
    threads = threads or default_threads()
    feeds = synthetic_inputs(proto, shapes)
    report.progress(0.0, "Timing end to end")
    times = measure_latency(path, feeds, runs, threads)
    report.progress(0.4, "Profiling each layer")

    with tempfile.TemporaryDirectory(prefix="studio-profile-") as tmp:
        session = _session(path, threads, profile_prefix=str(Path(tmp) / "trace"))
        for _ in range(3):
            session.run(None, feeds)
        for index in range(runs):
            session.run(None, feeds)
            report.progress(0.4 + 0.55 * (index + 1) / runs, f"Profiling run {index + 1}/{runs}")
        trace_file = session.end_profiling()
        events = json.loads(Path(trace_file).read_text())

    per_node: dict[str, list[float]] = defaultdict(list)
    meta: dict[str, tuple[str, str]] = {}
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith("_kernel_time"):
            continue
        name = event["name"][: -len("_kernel_time")]
        args = event.get("args", {})
        per_node[name].append(event["dur"] / 1000.0)
        meta[name] = (args.get("op_name", "?"), args.get("provider", "?"))
    # The last `runs` samples per node are the timed runs; the first three were warm-up.
    medians = {name: statistics.median(vals[-runs:]) for name, vals in per_node.items()}
    total = sum(medians.values()) or 1.0
    nodes = [
        NodeTiming(name=name, op_type=meta[name][0], provider=meta[name][1], median_ms=ms, share=ms / total)
        for name, ms in sorted(medians.items(), key=lambda kv: -kv[1])
    ]
    ordered = sorted(times)
    report.progress(1.0, "Done")
    return ProfileResult(
        model=str(path),
        runs=runs,
        threads=threads,
        input_shapes={name: list(value.shape) for name, value in feeds.items()},
        end_to_end_ms=statistics.median(times),
        end_to_end_p90_ms=ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        profiled_total_ms=sum(medians.values()),
        nodes=nodes,
    )
