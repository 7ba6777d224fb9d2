"""Measure this PC: how fast onnxruntime runs each family of ops at a few sizes.

The studio predicts This PC's latency from these measurements rather than from a spec sheet, so
the prediction can be checked against a real run. Results are cached per machine, onnxruntime
version and thread count in the cache folder; a run takes a few seconds.
"""

from __future__ import annotations

import hashlib
import json
import platform
import statistics
import time
from itertools import pairwise

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from pydantic import BaseModel

from studio.core.paths import cache_dir
from studio.core.progress import NULL_REPORTER, Reporter

CALIBRATION_VERSION = 6


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
    seconds: float


def _model(nodes: list, inputs: list, outputs: list, inits: list | None = None) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "calib", inputs, outputs, inits or [])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _f32(name: str, shape: list[int]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _time(
    model: onnx.ModelProto, feeds: dict[str, np.ndarray], threads: int, budget_s: float = 0.1
) -> float:
    """Milliseconds per run, with warm-up, within a small time budget.

    What a prediction for this machine should describe is the op's speed when nothing else
    competes for the cores. With one thread onnxruntime runs in the calling thread, so that
    thread's CPU time (median) measures exactly that; with more threads the work is spread over
    a pool, and the 10th percentile of wall time is the best stand-in.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    for _ in range(3):
        session.run(None, feeds)
    times: list[float] = []
    cpu: list[float] = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget_s and len(times) < 200):
        t0, c0 = time.perf_counter(), time.thread_time()
        session.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return statistics.median(cpu) if threads == 1 else _p10(times)


def _p10(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[len(ordered) // 10]


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _matmul(m: int, k: int, n: int, threads: int) -> Point:
    w = numpy_helper.from_array(_rng().standard_normal((k, n)).astype(np.float32), "w")
    model = _model(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        [_f32("x", [m, k])],
        [_f32("y", [m, n])],
        [w],
    )
    ms = _time(model, {"x": _rng().standard_normal((m, k)).astype(np.float32)}, threads)
    return Point(label=f"MatMul {m}x{k}x{n}", work=2.0 * m * k * n, ms=ms)


def _qdq(
    compute: onnx.NodeProto, x_shape: list[int], w: np.ndarray, y_shape: list[int]
) -> onnx.ModelProto:
    """x → Q → DQ → op(·, DQ(int8 W)) → Q → DQ: the QDQ pattern onnxruntime fuses into QLinear ops."""
    inits = [
        numpy_helper.from_array(np.clip(w * 20, -127, 127).astype(np.int8), "w_q"),
        numpy_helper.from_array(np.array(0.05, np.float32), "w_s"),
        numpy_helper.from_array(np.array(0.05, np.float32), "a_s"),
        numpy_helper.from_array(np.array(128, np.uint8), "a_z"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "a_s", "a_z"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "a_s", "a_z"], ["xf"]),
        helper.make_node("DequantizeLinear", ["w_q", "w_s"], ["w"]),
        compute,
        helper.make_node("QuantizeLinear", ["y", "a_s", "a_z"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "a_s", "a_z"], ["out"]),
    ]
    return _model(nodes, [_f32("x", x_shape)], [_f32("out", y_shape)], inits)


def _qdq_conv(c_in: int, c_out: int, size: int, kernel: int, group: int, threads: int) -> Point:
    w = _rng().standard_normal((c_out, c_in // group, kernel, kernel)).astype(np.float32)
    node = helper.make_node(
        "Conv",
        ["xf", "w"],
        ["y"],
        group=group,
        pads=[kernel // 2] * 4,
        kernel_shape=[kernel, kernel],
    )
    model = _qdq(node, [1, c_in, size, size], w, [1, c_out, size, size])
    x = _rng().standard_normal((1, c_in, size, size)).astype(np.float32)
    flops = 2.0 * c_out * size * size * (c_in // group) * kernel * kernel
    return Point(
        label=f"QDQ Conv {c_in}->{c_out} {size} k{kernel} g{group}",
        work=flops,
        ms=_time(model, {"x": x}, threads),
    )


def _qdq_matmul(m: int, k: int, n: int, threads: int) -> Point:
    w = _rng().standard_normal((k, n)).astype(np.float32)
    model = _qdq(helper.make_node("MatMul", ["xf", "w"], ["y"]), [m, k], w, [m, n])
    x = _rng().standard_normal((m, k)).astype(np.float32)
    return Point(
        label=f"QDQ MatMul {m}x{k}x{n}", work=2.0 * m * k * n, ms=_time(model, {"x": x}, threads)
    )


def _conv(c_in: int, c_out: int, size: int, kernel: int, group: int, threads: int) -> Point:
    w = numpy_helper.from_array(
        _rng().standard_normal((c_out, c_in // group, kernel, kernel)).astype(np.float32), "w"
    )
    pad = kernel // 2
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], group=group, pads=[pad] * 4, kernel_shape=[kernel, kernel]
    )
    model = _model(
        [node], [_f32("x", [1, c_in, size, size])], [_f32("y", [1, c_out, size, size])], [w]
    )
    ms = _time(
        model, {"x": _rng().standard_normal((1, c_in, size, size)).astype(np.float32)}, threads
    )
    flops = 2.0 * c_out * size * size * (c_in // group) * kernel * kernel
    return Point(label=f"Conv {c_in}->{c_out} {size}x{size} k{kernel} g{group}", work=flops, ms=ms)


def _unary(op: str, n: int, threads: int, **attrs: object) -> tuple[float, float]:
    """(ms, bytes moved) for one element-wise op on n floats."""
    model = _model(
        [helper.make_node(op, ["x"], ["y"], **attrs)], [_f32("x", [1, n])], [_f32("y", [1, n])]
    )
    ms = _time(model, {"x": _rng().standard_normal((1, n)).astype(np.float32)}, threads)
    return ms, 8.0 * n


def _add(n: int, threads: int) -> tuple[float, float]:
    model = _model(
        [helper.make_node("Add", ["a", "b"], ["y"])],
        [_f32("a", [n]), _f32("b", [n])],
        [_f32("y", [n])],
    )
    feeds = {"a": np.ones(n, np.float32), "b": np.ones(n, np.float32)}
    return _time(model, feeds, threads), 12.0 * n


def _transpose(n: int, threads: int) -> tuple[float, float]:
    side = int(np.sqrt(n // 64))
    shape = [1, 64, side, side]
    model = _model(
        [helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])],
        [_f32("x", shape)],
        [_f32("y", [1, side, side, 64])],
    )
    return _time(model, {"x": np.ones(shape, np.float32)}, threads), 8.0 * 64 * side * side


def _chain_overhead(threads: int) -> tuple[float, float]:
    """Per-run and per-node fixed costs: 1 tiny node vs 60 tiny nodes."""

    def chain(length: int) -> float:
        nodes = [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"]) for i in range(length)]
        model = _model(nodes, [_f32("t0", [1, 8])], [_f32(f"t{length}", [1, 8])])
        return _time(model, {"t0": np.ones((1, 8), np.float32)}, threads)

    one, many = chain(1), chain(61)
    per_node = max((many - one) / 60.0, 0.0)
    return max(one - per_node, 0.0), per_node


def cache_key(threads: int) -> str:
    import onnxruntime as ort

    from studio.core.chips import _machine

    cpu, cores, _ = _machine()
    raw = f"{CALIBRATION_VERSION}|{cpu}|{cores}|{platform.machine()}|{ort.__version__}|{threads}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _cache_path(threads: int):
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
    from studio.core.chips import _machine

    start = time.perf_counter()
    compute: dict[str, list[Point]] = {
        "matmul": [],
        "conv": [],
        "dwconv": [],
        "matmul_int8": [],
        "conv_int8": [],
        "dwconv_int8": [],
    }
    memory: dict[str, list[Point]] = {}
    steps = [
        ("matmul", lambda: _matmul(1, 256, 256, threads)),
        ("matmul", lambda: _matmul(16, 512, 512, threads)),
        ("matmul", lambda: _matmul(128, 512, 512, threads)),
        ("matmul", lambda: _matmul(256, 1024, 1024, threads)),
        ("conv", lambda: _conv(8, 16, 16, 3, 1, threads)),
        ("conv", lambda: _conv(32, 32, 32, 3, 1, threads)),
        ("conv", lambda: _conv(64, 64, 56, 3, 1, threads)),
        ("conv", lambda: _conv(128, 128, 28, 3, 1, threads)),
        ("conv", lambda: _conv(64, 256, 28, 1, 1, threads)),
        ("dwconv", lambda: _conv(32, 32, 32, 3, 32, threads)),
        ("dwconv", lambda: _conv(128, 128, 56, 3, 128, threads)),
        ("matmul_int8", lambda: _qdq_matmul(16, 512, 512, threads)),
        ("matmul_int8", lambda: _qdq_matmul(256, 1024, 1024, threads)),
        ("conv_int8", lambda: _qdq_conv(32, 32, 32, 3, 1, threads)),
        ("conv_int8", lambda: _qdq_conv(64, 64, 56, 3, 1, threads)),
        ("conv_int8", lambda: _qdq_conv(64, 256, 28, 1, 1, threads)),
        ("dwconv_int8", lambda: _qdq_conv(128, 128, 56, 3, 128, threads)),
    ]
    total = len(steps) + 18
    for index, (family, step) in enumerate(steps):
        report.progress(index / total, "Measuring this PC")
        compute[family].append(step())
    mem_steps = {
        "elementwise": lambda n: _add(n, threads),
        "transcendental": lambda n: _unary("Sigmoid", n, threads),
        "softmax": lambda n: _unary("Softmax", n, threads, axis=-1),
        "data": lambda n: _transpose(n, threads),
    }
    done = len(steps)
    for family, fn in mem_steps.items():
        points = []
        for n in (4096, 262_144, 1_048_576, 4_194_304):
            ms, moved = fn(n)
            points.append(Point(label=f"{family} {n}", work=moved, ms=ms))
            done += 1
            report.progress(done / total, "Measuring this PC")
        memory[family] = points
    run_overhead, node_overhead = _chain_overhead(threads)
    # Points keep only the op's own time; fixed per-run and per-node costs are added back once.
    floor = 0.0005
    for family in (*compute.values(), *memory.values()):
        for point in family:
            point.ms = max(point.ms - run_overhead - node_overhead, floor)
    peak = max(p.rate for p in compute["matmul"] + compute["conv"])
    bandwidth = max(p.rate for p in memory["elementwise"])
    calib = Calibration(
        machine=_machine()[0],
        threads=threads,
        onnxruntime=ort.__version__,
        run_overhead_ms=run_overhead,
        node_overhead_ms=node_overhead,
        peak_flops=peak,
        bandwidth_bytes=bandwidth,
        compute=compute,
        memory=memory,
        seconds=time.perf_counter() - start,
    )
    path = _cache_path(threads)
    with atomic_path(path, replace=True) as partial:
        partial.write_text(calib.model_dump_json(indent=1), encoding="utf-8")
    report.progress(1.0, "Measured this PC")
    return calib


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
