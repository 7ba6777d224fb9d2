"""Micro-benchmarks for This PC: single ops and tiny synthetic graphs timed with onnxruntime.

Each function builds one small model, times it with the studio's session settings and returns
the work it did (FLOPs or bytes) and its time. None of these graphs comes from the benchmark's
models (benchmarks/bench_predict.py): the factors must describe the machine, not be fitted to the
models they are checked against.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, FLOAT16 = TensorProto.FLOAT, TensorProto.FLOAT16


def model(
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    inits: list[onnx.TensorProto] | None = None,
) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "calib", inputs, outputs, inits or [])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    return proto


def tensor(name: str, shape: list[int], elem: int = FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def time_ms(
    proto: onnx.ModelProto, feeds: dict[str, np.ndarray], threads: int, budget_s: float = 0.1
) -> float:
    """Milliseconds per run, with warm-up, within a small time budget.

    What a prediction for this machine should describe is the op's speed when nothing else
    competes for the cores. With one thread onnxruntime runs in the calling thread, so that
    thread's CPU time measures exactly that; with more threads the work is spread over a pool and
    wall time is the only measure. Both take the 10th percentile: other processes only ever add
    time (stolen cores, evicted caches, shared memory bandwidth), so the faster runs are the
    undisturbed ones.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(
        proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
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
    return p10(cpu) if threads == 1 else p10(times)


def p10(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[len(ordered) // 10]


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _normal(shape: list[int] | tuple[int, ...]) -> np.ndarray:
    return _rng().standard_normal(shape).astype(np.float32)


def matmul(m: int, k: int, n: int, threads: int) -> tuple[str, float, float]:
    w = numpy_helper.from_array(_normal((k, n)), "w")
    proto = model(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        [tensor("x", [m, k])],
        [tensor("y", [m, n])],
        [w],
    )
    return f"MatMul {m}x{k}x{n}", 2.0 * m * k * n, time_ms(proto, {"x": _normal((m, k))}, threads)


def _conv_node(inputs: list[str], kernel: int, group: int) -> onnx.NodeProto:
    return helper.make_node(
        "Conv", inputs, ["y"], group=group, pads=[kernel // 2] * 4, kernel_shape=[kernel, kernel]
    )


def _conv_flops(c_in: int, c_out: int, size: int, kernel: int, group: int) -> float:
    return 2.0 * c_out * size * size * (c_in // group) * kernel * kernel


def conv(
    c_in: int, c_out: int, size: int, kernel: int, group: int, threads: int
) -> tuple[str, float, float]:
    w = numpy_helper.from_array(_normal((c_out, c_in // group, kernel, kernel)), "w")
    proto = model(
        [_conv_node(["x", "w"], kernel, group)],
        [tensor("x", [1, c_in, size, size])],
        [tensor("y", [1, c_out, size, size])],
        [w],
    )
    ms = time_ms(proto, {"x": _normal((1, c_in, size, size))}, threads)
    label = f"Conv {c_in}->{c_out} {size}x{size} k{kernel} g{group}"
    return label, _conv_flops(c_in, c_out, size, kernel, group), ms


def conv_dq_weights(c_in: int, c_out: int, size: int, threads: int) -> tuple[str, float, float]:
    """A float Conv whose weights come from DequantizeLinear, as QDQ graphs leave some convs:
    onnxruntime cannot pre-pack such weights into its blocked (NCHWc) layout."""
    w = np.clip(_normal((c_out, c_in, 3, 3)) * 20, -127, 127).astype(np.int8)
    inits = [
        numpy_helper.from_array(w, "w_q"),
        numpy_helper.from_array(np.array(0.05, np.float32), "w_s"),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["w_q", "w_s"], ["w"]),
        _conv_node(["x", "w"], 3, 1),
    ]
    proto = model(
        nodes, [tensor("x", [1, c_in, size, size])], [tensor("y", [1, c_out, size, size])], inits
    )
    ms = time_ms(proto, {"x": _normal((1, c_in, size, size))}, threads)
    return f"Conv(DQ weights) {c_in}->{c_out} {size}", _conv_flops(c_in, c_out, size, 3, 1), ms


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
    return model(nodes, [tensor("x", x_shape)], [tensor("out", y_shape)], inits)


def qdq_conv(
    c_in: int, c_out: int, size: int, kernel: int, group: int, threads: int
) -> tuple[str, float, float]:
    w = _normal((c_out, c_in // group, kernel, kernel))
    node = helper.make_node(
        "Conv",
        ["xf", "w"],
        ["y"],
        group=group,
        pads=[kernel // 2] * 4,
        kernel_shape=[kernel, kernel],
    )
    proto = _qdq(node, [1, c_in, size, size], w, [1, c_out, size, size])
    ms = time_ms(proto, {"x": _normal((1, c_in, size, size))}, threads)
    label = f"QDQ Conv {c_in}->{c_out} {size} k{kernel} g{group}"
    return label, _conv_flops(c_in, c_out, size, kernel, group), ms


def qdq_matmul(m: int, k: int, n: int, threads: int) -> tuple[str, float, float]:
    proto = _qdq(helper.make_node("MatMul", ["xf", "w"], ["y"]), [m, k], _normal((k, n)), [m, n])
    ms = time_ms(proto, {"x": _normal((m, k))}, threads)
    return f"QDQ MatMul {m}x{k}x{n}", 2.0 * m * k * n, ms


# Memory-bound ops are timed as a chain of CHAIN copies, each reading the previous one's
# output: the per-op time then holds what a node costs inside a real graph (output allocation,
# handing work to the thread pool) and the per-run cost is divided away.
CHAIN = 6


def _chained(
    make: Callable[[str, str, int], onnx.NodeProto],
    shape: list[int],
    inits: list[onnx.TensorProto] | None = None,
) -> onnx.ModelProto:
    nodes = [make(f"t{i}", f"t{i + 1}", i) for i in range(CHAIN)]
    return model(nodes, [tensor("t0", shape)], [tensor(f"t{CHAIN}", shape)], inits)


def _per_op(proto: onnx.ModelProto, feeds: dict[str, np.ndarray], threads: int) -> float:
    return time_ms(proto, feeds, threads) / CHAIN


def unary(op: str, n: int, threads: int, **attrs: Any) -> tuple[float, float]:
    """(ms per op, bytes moved per op) for an element-wise op on n floats."""
    proto = _chained(lambda a, b, _: helper.make_node(op, [a], [b], **attrs), [1, n])
    return _per_op(proto, {"t0": _normal((1, n))}, threads), 8.0 * n


def add(n: int, threads: int) -> tuple[float, float]:
    """Add of two full tensors (a residual connection)."""
    inits = [numpy_helper.from_array(np.ones(n, np.float32), "b")]
    proto = _chained(lambda a, b, _: helper.make_node("Add", [a, "b"], [b]), [n], inits)
    return _per_op(proto, {"t0": np.ones(n, np.float32)}, threads), 12.0 * n


def layer_norm(n: int, threads: int) -> tuple[float, float]:
    width = 256
    rows = max(n // width, 1)
    inits = [
        numpy_helper.from_array(np.ones(width, np.float32), "g"),
        numpy_helper.from_array(np.zeros(width, np.float32), "b"),
    ]
    proto = _chained(
        lambda a, b, _: helper.make_node("LayerNormalization", [a, "g", "b"], [b], axis=-1),
        [rows, width],
        inits,
    )
    return _per_op(proto, {"t0": _normal((rows, width))}, threads), 8.0 * rows * width


# Consecutive Transposes would be merged (or cancelled) by onnxruntime's optimizer, so the data
# family times independent Transposes of one input, each with another permutation.
PERMS = ([0, 2, 3, 1], [0, 3, 1, 2], [0, 1, 3, 2], [0, 2, 1, 3], [0, 3, 2, 1])


def transpose(n: int, threads: int) -> tuple[float, float]:
    """(ms per op, bytes per op) for strided copies of a [1, 64, side, side] tensor."""
    side = max(int(np.sqrt(n // 64)), 1)
    shape = [1, 64, side, side]
    nodes = [helper.make_node("Transpose", ["x"], [f"y{i}"], perm=p) for i, p in enumerate(PERMS)]
    outputs = [tensor(f"y{i}", [shape[j] for j in p]) for i, p in enumerate(PERMS)]
    proto = model(nodes, [tensor("x", shape)], outputs)
    ms = time_ms(proto, {"x": np.ones(shape, np.float32)}, threads) / len(PERMS)
    return ms, 8.0 * 64 * side * side


def concat(n: int, threads: int) -> tuple[float, float]:
    """(ms per op, bytes per op) for Concat(x, x) along each of four axes: plain block copies,
    the way Concat, Slice, Split, Pad and nearest Resize move data."""
    side = max(int(np.sqrt(n // 64)), 1)
    shape = [1, 64, side, side]
    nodes, outputs = [], []
    for axis in range(4):
        nodes.append(helper.make_node("Concat", ["x", "x"], [f"y{axis}"], axis=axis))
        out = list(shape)
        out[axis] *= 2
        outputs.append(tensor(f"y{axis}", out))
    proto = model(nodes, [tensor("x", shape)], outputs)
    ms = time_ms(proto, {"x": np.ones(shape, np.float32)}, threads) / 4
    return ms, 16.0 * 64 * side * side


def chain_overhead(threads: int) -> tuple[float, float]:
    """Per-run and per-node fixed costs: 1 tiny node vs 60 tiny nodes."""

    def chain(length: int) -> float:
        nodes = [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"]) for i in range(length)]
        proto = model(nodes, [tensor("t0", [1, 8])], [tensor(f"t{length}", [1, 8])])
        return time_ms(proto, {"t0": np.ones((1, 8), np.float32)}, threads)

    one, many = chain(1), chain(61)
    per_node = max((many - one) / 60.0, 0.0)
    return max(one - per_node, 0.0), per_node


def _precision_pair(
    build: Callable[[int, type], onnx.ModelProto], feeds: dict[str, np.ndarray], threads: int
) -> float:
    """time(graph in float16) ÷ time(the same graph in float32)."""
    fp32 = time_ms(build(FLOAT, np.float32), feeds, threads)
    half = {k: v.astype(np.float16) for k, v in feeds.items()}
    return time_ms(build(FLOAT16, np.float16), half, threads) / max(fp32, 1e-6)


def fp16_compute_ratio(threads: int) -> float:
    """Four MatMul + Relu layers: onnxruntime's CPU provider has few float16 kernels on x86, so
    it inserts casts and runs float32 kernels; the ratio is what that costs here. Layers are
    large enough that the casts at the graph's ends weigh little, as in a real model."""
    layers, rows, width = 4, 128, 512

    def build(elem: int, dtype: type) -> onnx.ModelProto:
        inits, nodes, x = [], [], "x"
        for i in range(layers):
            inits.append(numpy_helper.from_array(_normal((width, width)).astype(dtype), f"w{i}"))
            nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"m{i}"]))
            nodes.append(helper.make_node("Relu", [f"m{i}"], [f"r{i}"]))
            x = f"r{i}"
        shape = [rows, width]
        return model(nodes, [tensor("x", shape, elem)], [tensor(x, shape, elem)], inits)

    return _precision_pair(build, {"x": _normal((rows, width))}, threads)


def fp16_memory_ratio(threads: int) -> float:
    """Element-wise chain (Add, Sigmoid, Mul, Add, Tanh, Mul) on 256K values, float16 vs
    float32."""
    shape = [1, 262_144]

    def build(elem: int, dtype: type) -> onnx.ModelProto:
        inits = [numpy_helper.from_array(np.ones(1, dtype), "one")]
        nodes, x = [], "x"
        for i, act in enumerate(("Sigmoid", "Tanh")):
            nodes += [
                helper.make_node("Add", [x, "one"], [f"a{i}"]),
                helper.make_node(act, [f"a{i}"], [f"s{i}"]),
                helper.make_node("Mul", [f"a{i}", f"s{i}"], [f"y{i}"]),
            ]
            x = f"y{i}"
        return model(nodes, [tensor("x", shape, elem)], [tensor(x, shape, elem)], inits)

    return _precision_pair(build, {"x": _normal(shape)}, threads)
