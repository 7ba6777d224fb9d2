"""Predicted vs measured end-to-end latency on This PC for structurally different models.

Builds the models itself (random weights; latency does not depend on weight values), predicts
each with `studio.core.chips.check.check_model(..., chip="this-pc")` and measures it with the same
onnxruntime settings the studio's profiler uses. Reports the share of models whose measured
10th-percentile and median latency are within ±10% and ±25% of the central prediction. On a
shared machine the 10th percentile stands for the uncontended speed the prediction describes.

    PYTHONPATH=. python benchmarks/bench_predict.py [--runs 50] [--recalibrate] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(0)


class G:
    """A tiny graph builder: each call adds a node and returns its output name."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def w(self, shape: list[int], scale: float = 0.05) -> str:
        name = f"w{len(self.inits)}"
        self.inits.append(
            numpy_helper.from_array((RNG.standard_normal(shape) * scale).astype(np.float32), name)
        )
        return name

    def c(self, values: list[int]) -> str:
        name = f"c{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.array(values, np.int64), name))
        return name

    def op(self, op: str, inputs: list[str], **attrs: object) -> str:
        self.n += 1
        out = f"t{self.n}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{self.n}", **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int = 3, stride: int = 1, group: int = 1) -> str:
        p = k // 2
        return self.op(
            "Conv",
            [x, self.w([cout, cin // group, k, k]), self.w([cout])],
            pads=[p] * 4,
            strides=[stride, stride],
            group=group,
            kernel_shape=[k, k],
        )

    def save(self, path: Path, inputs: dict[str, list[int]], out: str) -> Path:
        graph = helper.make_graph(
            self.nodes,
            path.stem,
            [helper.make_tensor_value_info(k, TensorProto.FLOAT, v) for k, v in inputs.items()],
            [onnx.ValueInfoProto(name=out)],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        model = onnx.shape_inference.infer_shapes(model)
        model.graph.output[0].CopyFrom(next(v for v in model.graph.value_info if v.name == out))
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
        return path


def mlp(path: Path) -> Path:
    g = G()
    x = "x"
    for cin, cout in ((512, 1024), (1024, 1024), (1024, 256)):
        x = g.op("Relu", [g.op("Add", [g.op("MatMul", [x, g.w([cin, cout])]), g.w([cout])])])
    return g.save(path, {"x": [32, 512]}, x)


def vgg_cnn(path: Path) -> Path:
    g = G()
    x, c = "x", 3
    for cout in (32, 64, 128):
        x = g.op("Relu", [g.conv(x, c, cout)])
        x = g.op("Relu", [g.conv(x, cout, cout)])
        x = g.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
        c = cout
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])])
    return g.save(path, {"x": [1, 3, 96, 96]}, g.op("Gemm", [x, g.w([128, 10])]))


def mobilenet(path: Path) -> Path:
    g = G()
    x = g.op("HardSwish", [g.conv("x", 3, 32, stride=2)])
    c = 32
    for cout, stride in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1)):
        x = g.op("Relu", [g.conv(x, c, c, stride=stride, group=c)])
        x = g.op("Relu", [g.conv(x, c, cout, k=1)])
        c = cout
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])])
    return g.save(path, {"x": [1, 3, 160, 160]}, g.op("Gemm", [x, g.w([256, 100])]))


def resnet(path: Path) -> Path:
    g = G()
    x = g.op("Relu", [g.conv("x", 3, 64, k=7, stride=2)])
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    for _ in range(3):
        y = g.op("Relu", [g.conv(x, 64, 64)])
        y = g.conv(y, 64, 64)
        x = g.op("Relu", [g.op("Add", [x, y])])
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])])
    return g.save(path, {"x": [1, 3, 128, 128]}, g.op("Gemm", [x, g.w([64, 10])]))


def transformer(path: Path) -> Path:
    g = G()
    seq, d, heads = 128, 256, 4
    hd = d // heads
    x = "x"
    for _ in range(2):
        ln = g.op("LayerNormalization", [x, g.w([d], 1.0), g.w([d])], axis=-1)

        def split(t: str) -> str:
            r = g.op("Reshape", [t, g.c([1, seq, heads, hd])])
            return g.op("Transpose", [r], perm=[0, 2, 1, 3])

        q = split(g.op("MatMul", [ln, g.w([d, d])]))
        k = split(g.op("MatMul", [ln, g.w([d, d])]))
        v = split(g.op("MatMul", [ln, g.w([d, d])]))
        kt = g.op("Transpose", [k], perm=[0, 1, 3, 2])
        att = g.op("Softmax", [g.op("Mul", [g.op("MatMul", [q, kt]), g.w([1], 0.1)])], axis=-1)
        o = g.op("Transpose", [g.op("MatMul", [att, v])], perm=[0, 2, 1, 3])
        o = g.op("MatMul", [g.op("Reshape", [o, g.c([1, seq, d])]), g.w([d, d])])
        x = g.op("Add", [x, o])
        ln2 = g.op("LayerNormalization", [x, g.w([d], 1.0), g.w([d])], axis=-1)
        h = g.op("Sigmoid", [g.op("MatMul", [ln2, g.w([d, 4 * d])])])
        x = g.op("Add", [x, g.op("MatMul", [h, g.w([4 * d, d])])])
    return g.save(path, {"x": [1, seq, d]}, x)


def big_gemm(path: Path) -> Path:
    g = G()
    x = g.op("MatMul", ["x", g.w([1024, 2048])])
    return g.save(path, {"x": [256, 1024]}, g.op("MatMul", [x, g.w([2048, 512])]))


def elementwise(path: Path) -> Path:
    g = G()
    x = "x"
    for _ in range(6):
        s = g.op("Sigmoid", [x])
        x = g.op("Add", [g.op("Mul", [x, s]), g.w([1], 1.0)])
        x = g.op("Tanh", [x])
    return g.save(path, {"x": [1, 64, 128, 128]}, x)


def unet(path: Path) -> Path:
    g = G()
    e1 = g.op("Relu", [g.conv("x", 3, 32)])
    d1 = g.op("MaxPool", [e1], kernel_shape=[2, 2], strides=[2, 2])
    e2 = g.op("Relu", [g.conv(d1, 32, 64)])
    d2 = g.op("MaxPool", [e2], kernel_shape=[2, 2], strides=[2, 2])
    b = g.op("Relu", [g.conv(d2, 64, 128)])
    empty = g.op("Constant", [], value=numpy_helper.from_array(np.array([], np.float32), "e"))
    scales = g.op(
        "Constant", [], value=numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "s")
    )
    u2 = g.op("Resize", [b, empty, scales], mode="nearest")
    x = g.op("Relu", [g.conv(g.op("Concat", [u2, e2], axis=1), 192, 64)])
    u1 = g.op("Resize", [x, empty, scales], mode="nearest")
    x = g.op("Relu", [g.conv(g.op("Concat", [u1, e1], axis=1), 96, 32)])
    return g.save(path, {"x": [1, 3, 128, 128]}, g.conv(x, 32, 2, k=1))


def resnet_int8(path: Path) -> Path:
    """The ResNet blocks quantized to QDQ (uint8 activations, int8 weights) by onnxruntime."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    source = resnet(path.with_name("resnet-float.onnx"))

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(
                [{"x": RNG.standard_normal((1, 3, 128, 128)).astype(np.float32)} for _ in range(4)]
            )

        def get_next(self) -> dict | None:
            return next(self.items, None)

    quantize_static(str(source), str(path), Reader(), quant_format=QuantFormat.QDQ)
    return path


def _to_fp16(source: Path, path: Path) -> Path:
    """The float model converted by the studio's own FP16 method (float32 inputs/outputs)."""
    from studio.core.compress.fp16 import convert_fp16
    from studio.core.compress.options import Fp16Settings

    convert_fp16(onnx.load(str(source)), path, Fp16Settings(keep_io_types=True), [], False)
    return path


def resnet_fp16(path: Path) -> Path:
    return _to_fp16(resnet(path.with_name("resnet-float16-src.onnx")), path)


def transformer_fp16(path: Path) -> Path:
    return _to_fp16(transformer(path.with_name("transformer-float16-src.onnx")), path)


def demo(path: Path) -> Path:
    from studio.core.paths import demo_model_path

    path.write_bytes(demo_model_path().read_bytes())
    return path


MODELS: dict[str, Callable[[Path], Path]] = {
    "mlp": mlp,
    "vgg-cnn": vgg_cnn,
    "mobilenet-dw": mobilenet,
    "resnet-block": resnet,
    "transformer-enc": transformer,
    "big-gemm": big_gemm,
    "elementwise": elementwise,
    "unet-resize-concat": unet,
    "resnet-int8-qdq": resnet_int8,
    "resnet-fp16": resnet_fp16,
    "transformer-fp16": transformer_fp16,
    "demo-digits-cnn": demo,
}


def _measure(path: Path, feeds: dict, runs: int, threads: int) -> tuple[list[float], list[float]]:
    """Wall and thread-CPU milliseconds per run, same session settings as the studio's profiler."""
    import time

    from studio.core.analyze.profile import _session

    session = _session(path, threads)
    for _ in range(5):
        session.run(None, feeds)
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.thread_time()
        session.run(None, feeds)
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--recalibrate", action="store_true")
    parser.add_argument("--threads", type=int, help="intra-op threads (default: the studio's)")
    parser.add_argument(
        "--passes", type=int, help="passes over all models (default: 1 at 1 thread, else 3)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from studio.core.analyze.profile import default_threads
    from studio.core.chips.calibrate_pc import calibrate
    from studio.core.chips.check import check_model
    from studio.core.model.loader import load_model
    from studio.core.samples.calibration import synthetic_inputs

    threads = args.threads or default_threads()
    calib = calibrate(threads, force=args.recalibrate)
    passes = args.passes or (1 if threads == 1 else 3)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        built = []
        for name, build in MODELS.items():
            path = build(Path(tmp) / f"{name}.onnx")
            pred = check_model(path, "this-pc", threads=threads).latency
            feeds = synthetic_inputs(load_model(path, with_weights=False))
            built.append((name, path, pred, feeds))
        # Several passes over all models, so a few seconds of the machine's slow state (see
        # benchmarks/README.md) land on one pass of each model rather than on all of its runs.
        measured: dict[str, list[tuple[list[float], list[float]]]] = {n: [] for n, *_ in built}
        for _ in range(passes):
            for name, path, _pred, feeds in built:
                measured[name].append(_measure(path, feeds, args.runs, threads))
        for name, _path, pred, _feeds in built:
            wall = [w for pass_wall, _ in measured[name] for w in pass_wall]
            cpu = [c for _, pass_cpu in measured[name] for c in pass_cpu]
            times = sorted(wall)
            p10, median = times[len(times) // 10], statistics.median(times)
            best_pass = min(statistics.median(pass_wall) for pass_wall, _ in measured[name])
            # With one thread onnxruntime runs in the calling thread, so its CPU time is the
            # latency without the time other processes took the core away (10th percentile:
            # evicted caches and shared memory bandwidth still add some).
            cpu_ms = sorted(cpu)[len(cpu) // 10] if threads == 1 else None
            rows.append(
                {
                    "model": name,
                    "nodes": len(pred.nodes),
                    "p10_ms": p10,
                    "median_ms": median,
                    "best_pass_median_ms": best_pass,
                    "predicted_ms": pred.estimate_ms,
                    "low_ms": pred.low_ms,
                    "high_ms": pred.high_ms,
                    "error_p10": (pred.estimate_ms - p10) / p10,
                    "error_median": (pred.estimate_ms - median) / median,
                    "error_best_pass": (pred.estimate_ms - best_pass) / best_pass,
                    "cpu_ms": cpu_ms,
                    "error_cpu": (pred.estimate_ms - cpu_ms) / cpu_ms if cpu_ms else None,
                    # One thread: judge the range against CPU time; more: against the p10.
                    "in_range": pred.low_ms <= (cpu_ms or p10) <= pred.high_ms,
                }
            )

    def share(key: str, bound: float) -> float:
        return sum(r[key] is not None and abs(r[key]) <= bound for r in rows) / len(rows)

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    summary = {
        "threads": threads,
        "load_average": load,
        "calibration_seconds": calib.seconds,
        "models": len(rows),
        "within_10pct_p10": share("error_p10", 0.10),
        "within_25pct_p10": share("error_p10", 0.25),
        "within_10pct_median": share("error_median", 0.10),
        "within_25pct_median": share("error_median", 0.25),
        "within_10pct_best_pass": share("error_best_pass", 0.10),
        "within_25pct_best_pass": share("error_best_pass", 0.25),
        "passes": passes,
        "inside_range": sum(r["in_range"] for r in rows) / len(rows),
        "within_10pct_cpu": share("error_cpu", 0.10) if threads == 1 else None,
        "within_25pct_cpu": share("error_cpu", 0.25) if threads == 1 else None,
        "rows": rows,
    }
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        print()
        return 0
    _print_markdown(summary, calib)

    return 0


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0%}".replace("-", "−")


def _print_markdown(summary: dict, calib) -> None:
    """The table and summary lines as benchmarks/README.md records them."""
    import datetime

    threads, rows = summary["threads"], summary["rows"]
    ratio = getattr(calib, "fp16_ratio", {})  # older calibrations (re-run on old code) lack it
    load = summary["load_average"]
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    one = threads == 1
    print(
        f"{stamp}, {threads} thread{'s' if threads > 1 else ''}, load average "
        f"{load[0] if load else float('nan'):.1f}, calibration {calib.seconds:.1f} s "
        f"(float16 ×{ratio.get('compute', 1):.2f} compute, "
        f"×{ratio.get('memory', 1):.2f} memory-bound):\n"
    )
    head = "| model | nodes | wall p10 | wall median | fastest pass's median |"
    head += " CPU time p10 |" if one else ""
    head += " predicted | error vs median | error vs p10 | error vs fastest pass |"
    head += " error vs CPU time |" if one else ""
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        cells = [r["model"], str(r["nodes"]), f"{r['p10_ms']:.3f} ms", f"{r['median_ms']:.3f} ms"]
        cells.append(f"{r['best_pass_median_ms']:.3f} ms")
        if one:
            cells.append(f"{r['cpu_ms']:.3f} ms")
        cells += [f"{r['predicted_ms']:.3f} ms", _pct(r["error_median"]), _pct(r["error_p10"])]
        cells.append(_pct(r["error_best_pass"]))
        if one:
            cells.append(_pct(r["error_cpu"]))
        print("| " + " | ".join(cells) + " |")
    print()
    print(
        f"- vs wall median: **{summary['within_25pct_median']:.0%} within ±25%, "
        f"{summary['within_10pct_median']:.0%} within ±10%**; vs wall p10: "
        f"{summary['within_25pct_p10']:.0%} / {summary['within_10pct_p10']:.0%}"
        + (
            f"; vs CPU time: {summary['within_25pct_cpu']:.0%} / {summary['within_10pct_cpu']:.0%}"
            if one
            else ""
        )
        + f"; vs the fastest pass's median: {summary['within_25pct_best_pass']:.0%} / "
        f"{summary['within_10pct_best_pass']:.0%} ({summary['models']} models, "
        f"{summary['passes']} pass{'es' if summary['passes'] > 1 else ''} of each)."
    )
    print(f"- inside the printed ±15–20% range: {summary['inside_range']:.0%}.")


if __name__ == "__main__":
    sys.exit(main())
