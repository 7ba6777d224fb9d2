"""Measure this PC: how fast onnxruntime runs each family of ops at a few sizes.

The studio predicts This PC's latency from these measurements rather than from a spec sheet, so
the prediction can be checked against a real run. Results are cached per machine, onnxruntime
version and thread count in the cache folder; a run takes a few seconds.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from studio.core.chips import pc_microbench as mb
from studio.core.paths import cache_dir
from studio.core.progress import NULL_REPORTER, Reporter

CALIBRATION_VERSION = 10
# Element counts for the memory-bound families: small sizes run on one thread, larger ones are
# split over the pool, so the per-op cost of spreading work is measured where it starts.
MEMORY_SIZES = (4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304)


class Point(BaseModel):
    """One micro-benchmark: the work done (FLOPs or bytes) and the op's own time."""

    label: str
    work: float
    ms: float

    @property
    def rate(self) -> float:
        return self.work / (self.ms / 1000.0)


class Calibration(BaseModel):
    version: int = CALIBRATION_VERSION
    machine: str
    threads: int
    onnxruntime: str
    run_overhead_ms: float
    node_overhead_ms: float
    peak_flops: float
    bandwidth_bytes: float
    # op family → points; compute families measure FLOPs, memory families measure bytes
    compute: dict[str, list[Point]]
    memory: dict[str, list[Point]]
    fp16_ratio: dict[str, float] = Field(
        default_factory=dict,
        description="time of a float16 graph ÷ the same graph in float32: 'compute', 'memory'",
    )
    seconds: float


def cache_key(threads: int) -> str:
    import onnxruntime as ort

    from studio.core.chips.catalogue import machine_facts

    cpu, cores, _ = machine_facts()
    raw = f"{CALIBRATION_VERSION}|{cpu}|{cores}|{platform.machine()}|{ort.__version__}|{threads}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _cache_path(threads: int) -> Path:
    folder = cache_dir() / "calibration"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"this-pc-{cache_key(threads)}.json"


def cached_calibration(threads: int) -> Calibration | None:
    path = _cache_path(threads)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        calib = Calibration.model_validate(data)
    except (ValueError, OSError):
        return None  # a damaged cache is simply measured again
    return calib if calib.version == CALIBRATION_VERSION else None


def calibrate(
    threads: int, *, force: bool = False, report: Reporter = NULL_REPORTER
) -> Calibration:
    """Run (or load) the micro-benchmarks for ``threads`` intra-op threads."""
    if not force and (cached := cached_calibration(threads)) is not None:
        return cached
    import onnxruntime as ort

    from studio.core.atomic import atomic_path
    from studio.core.chips.catalogue import machine_facts

    start = time.perf_counter()
    steps = _compute_steps(threads)
    mem_steps = _memory_steps(threads)
    rounds = rounds_for(threads)
    total = rounds * (len(steps) + len(mem_steps) * len(MEMORY_SIZES) + 3)
    done = 0
    compute: dict[str, list[Point]] = {}
    memory: dict[str, list[Point]] = {}
    fp16_rounds: list[dict[str, float]] = []
    overheads: list[tuple[float, float]] = []
    for _ in range(rounds):
        for family, step in steps:
            report.progress(done / total, "Measuring this PC")
            label, work, ms = step()
            _keep_fastest(compute.setdefault(family, []), Point(label=label, work=work, ms=ms))
            done += 1
        for family, fn in mem_steps.items():
            for n in MEMORY_SIZES:
                ms, moved = fn(n)
                point = Point(label=f"{family} {n}", work=moved, ms=ms)
                _keep_fastest(memory.setdefault(family, []), point)
                done += 1
                report.progress(done / total, "Measuring this PC")
        fp16_rounds.append(
            {"compute": mb.fp16_compute_ratio(threads), "memory": mb.fp16_memory_ratio(threads)}
        )
        overheads.append(mb.chain_overhead(threads))
        done += 3
    fp16 = {key: float(np.median([r[key] for r in fp16_rounds])) for key in ("compute", "memory")}
    run_overhead = min(o[0] for o in overheads)
    node_overhead = min(o[1] for o in overheads)
    # Points keep only the op's own time; fixed per-run and per-node costs are added back once.
    # Single-op models carry the whole per-run cost; chained ones a share of it.
    floor = 0.0005
    for points in compute.values():
        for point in points:
            point.ms = max(point.ms - run_overhead - node_overhead, floor)
    for points in memory.values():
        for point in points:
            parallel = {id(memory["data"]): len(mb.PERMS), id(memory["copy"]): 4}
            share = run_overhead / parallel.get(id(points), mb.CHAIN)
            point.ms = max(point.ms - share - node_overhead, floor)
    # Headline figures from points long enough that fixed costs cannot distort them.
    peak = max(p.rate for p in compute["matmul"] + compute["conv"] if p.ms >= 0.05)
    bandwidth = max(p.rate for p in memory["elementwise"] if p.ms >= 0.02)
    calib = Calibration(
        machine=machine_facts()[0],
        threads=threads,
        onnxruntime=ort.__version__,
        run_overhead_ms=run_overhead,
        node_overhead_ms=node_overhead,
        peak_flops=peak,
        bandwidth_bytes=bandwidth,
        compute=compute,
        memory=memory,
        fp16_ratio=fp16,
        seconds=time.perf_counter() - start,
    )
    path = _cache_path(threads)
    with atomic_path(path, replace=True) as partial:
        partial.write_text(calib.model_dump_json(indent=1), encoding="utf-8")
    report.progress(1.0, "Measured this PC")
    return calib


Step = Callable[[], tuple[str, float, float]]

# With several threads, this machine's parallel speed comes and goes (a virtual machine whose
# second core is sometimes busy elsewhere: the same two-thread run measured 1.3× apart minutes
# apart). One pass then caught whichever state it ran in, and the prediction was off by up to
# 30% for the models whose ops were measured in the slow one. Several passes, each over every
# size, keep each point's fastest: the speed the cores give when nothing else takes them, which
# is what one thread's CPU time measures too.
MULTI_THREAD_ROUNDS = 3


def rounds_for(threads: int) -> int:
    return 1 if threads == 1 else MULTI_THREAD_ROUNDS


def _keep_fastest(points: list[Point], point: Point) -> None:
    """Add a point, or keep the faster of it and the earlier round's point of the same label."""
    for i, earlier in enumerate(points):
        if earlier.label == point.label:
            if point.ms < earlier.ms:
                points[i] = point
            return
    points.append(point)


def _compute_steps(threads: int) -> list[tuple[str, Step]]:
    t = threads
    return [
        ("matmul", lambda: mb.matmul(1, 256, 256, t)),
        ("matmul", lambda: mb.matmul(16, 512, 512, t)),
        ("matmul", lambda: mb.matmul(128, 512, 512, t)),
        ("matmul", lambda: mb.matmul(256, 1024, 1024, t)),
        ("conv", lambda: mb.conv(8, 16, 16, 3, 1, t)),
        ("conv", lambda: mb.conv(32, 32, 32, 3, 1, t)),
        # a ladder in FLOPs (≈ 2 M … 230 M) over several channel counts and sizes
        ("conv", lambda: mb.conv(48, 48, 40, 3, 1, t)),
        ("conv", lambda: mb.conv(96, 96, 28, 3, 1, t)),
        ("conv", lambda: mb.conv(64, 64, 56, 3, 1, t)),
        ("conv", lambda: mb.conv(128, 128, 28, 3, 1, t)),
        ("conv_k1", lambda: mb.conv(32, 128, 56, 1, 1, t)),
        ("conv_k1", lambda: mb.conv(64, 256, 28, 1, 1, t)),
        ("conv_k1", lambda: mb.conv(256, 256, 14, 1, 1, t)),
        ("dwconv", lambda: mb.conv(32, 32, 32, 3, 32, t)),
        ("dwconv", lambda: mb.conv(64, 64, 28, 3, 64, t)),
        ("dwconv", lambda: mb.conv(128, 128, 56, 3, 128, t)),
        ("conv_dqw", lambda: mb.conv_dq_weights(32, 32, 32, t)),
        ("conv_dqw", lambda: mb.conv_dq_weights(64, 64, 56, t)),
        ("matmul_int8", lambda: mb.qdq_matmul(16, 512, 512, t)),
        ("matmul_int8", lambda: mb.qdq_matmul(256, 1024, 1024, t)),
        ("conv_int8", lambda: mb.qdq_conv(32, 32, 32, 3, 1, t)),
        ("conv_int8", lambda: mb.qdq_conv(64, 64, 56, 3, 1, t)),
        ("conv_int8_k1", lambda: mb.qdq_conv(32, 128, 56, 1, 1, t)),
        ("conv_int8_k1", lambda: mb.qdq_conv(64, 256, 28, 1, 1, t)),
        ("dwconv_int8", lambda: mb.qdq_conv(128, 128, 56, 3, 128, t)),
    ]


def _memory_steps(threads: int) -> dict[str, Callable[[int], tuple[float, float]]]:
    t = threads
    return {
        "elementwise": lambda n: mb.add(n, t),
        "transcendental": lambda n: mb.unary("Sigmoid", n, t),
        "softmax": lambda n: mb.unary("Softmax", n, t, axis=-1),
        "norm": lambda n: mb.layer_norm(n, t),
        "data": lambda n: mb.transpose(n, t),
        "copy": lambda n: mb.concat(n, t),
    }


def rate_at(points: list[Point], work: float) -> float:
    """Throughput at ``work`` interpolated in log-log space between measured sizes (clamped)."""
    pts = sorted(points, key=lambda p: p.work)
    if work <= pts[0].work:
        return pts[0].rate
    if work >= pts[-1].work:
        return pts[-1].rate
    for lo, hi in pairwise(pts):
        if lo.work <= work <= hi.work:
            f = (np.log(work) - np.log(lo.work)) / (np.log(hi.work) - np.log(lo.work))
            return float(np.exp(np.log(lo.rate) + f * (np.log(hi.rate) - np.log(lo.rate))))
    return pts[-1].rate
