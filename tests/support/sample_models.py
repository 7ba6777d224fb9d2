"""Tiny models whose inputs need real sizes or values with meaning (tests of samples/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, INT64 = TensorProto.FLOAT, TensorProto.INT64


def _save(nodes, inputs, outputs, inits, path: Path, opset: int = 17) -> Path:
    graph = helper.make_graph(nodes, path.stem, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _init(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(array, name)


def make_strided_classifier(path: Path, *, downsamples: int = 6) -> Path:
    """x[?,3,?,?] → ``downsamples`` stride-2 convs → GlobalAveragePool → Flatten → y[?,4]."""
    rng = np.random.default_rng(3)
    nodes, inits, channels, prev = [], [], 3, "x"
    for i in range(downsamples):
        inits.append(_init(f"w{i}", rng.standard_normal((4, channels, 3, 3)).astype(np.float32)))
        nodes += [
            helper.make_node("Conv", [prev, f"w{i}"], [f"c{i}"], strides=[2, 2], pads=[1] * 4),
            helper.make_node("Relu", [f"c{i}"], [f"r{i}"]),
        ]
        channels, prev = 4, f"r{i}"
    inits.append(_init("fc", rng.standard_normal((4, 4)).astype(np.float32)))
    nodes += [
        helper.make_node("GlobalAveragePool", [prev], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("MatMul", ["f", "fc"], ["y"]),
    ]
    x = helper.make_tensor_value_info("x", FLOAT, [None, 3, None, None])
    y = helper.make_tensor_value_info("y", FLOAT, [None, 4])
    return _save(nodes, [x], [y], inits, path)


def make_dbnet_like(path: Path) -> Path:
    """x[?,3,?,?] → two stride-2 convs → Resize ×4 → 1-channel conv → Sigmoid → y[?,1,?,?].

    Like a DBNet text detector: a probability map as large as the image. The first kernels are
    rings (centre tap 0), so a 1×1 input sees only padding and the map is one constant: any
    quantization error then looks like cosine 1.0."""
    rng = np.random.default_rng(4)
    w1 = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    w1[:, :, 1, 1] = 0.0
    w2 = rng.standard_normal((8, 8, 3, 3)).astype(np.float32) * 0.4
    w3 = rng.standard_normal((1, 8, 3, 3)).astype(np.float32) * 0.3
    inits = [
        _init("w1", w1),
        _init("b1", rng.standard_normal(8).astype(np.float32)),
        _init("w2", w2),
        _init("b2", rng.standard_normal(8).astype(np.float32) * 0.1),
        _init("w3", w3),
        _init("b3", np.array([0.5], np.float32)),
        _init("scales", np.array([1, 1, 4, 4], np.float32)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], strides=[2, 2], pads=[1] * 4),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], strides=[2, 2], pads=[1] * 4),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Resize", ["r2", "", "scales"], ["up"], mode="nearest"),
        helper.make_node("Conv", ["up", "w3", "b3"], ["c3"], pads=[1] * 4),
        helper.make_node("Sigmoid", ["c3"], ["y"]),
    ]
    x = helper.make_tensor_value_info("x", FLOAT, [None, 3, None, None])
    y = helper.make_tensor_value_info("y", FLOAT, [None, 1, None, None])
    return _save(nodes, [x], [y], inits, path)


def make_text_encoder(path: Path, *, vocab: int = 100, positions: int = 64) -> Path:
    """input_ids, position_ids, token_type_ids, attention_mask [batch, seq] → pooled y[batch,8].

    Three embedding tables (vocab, positions, 2 token types); the mask weights the mean."""
    rng = np.random.default_rng(5)
    inits = [
        _init("words", rng.standard_normal((vocab, 8)).astype(np.float32)),
        _init("places", rng.standard_normal((positions, 8)).astype(np.float32)),
        _init("types", rng.standard_normal((2, 8)).astype(np.float32)),
        _init("axis2", np.array([2], np.int64)),
    ]
    nodes = [
        helper.make_node("Gather", ["words", "input_ids"], ["e1"]),
        helper.make_node("Gather", ["places", "position_ids"], ["e2"]),
        helper.make_node("Gather", ["types", "token_type_ids"], ["e3"]),
        helper.make_node("Sum", ["e1", "e2", "e3"], ["e"]),
        helper.make_node("Cast", ["attention_mask"], ["m"], to=FLOAT),
        helper.make_node("Unsqueeze", ["m", "axis2"], ["m3"]),
        helper.make_node("Mul", ["e", "m3"], ["masked"]),
        helper.make_node("ReduceMean", ["masked"], ["y"], axes=[1], keepdims=0),
    ]
    names = ["input_ids", "position_ids", "token_type_ids", "attention_mask"]
    inputs = [helper.make_tensor_value_info(n, INT64, ["batch", "sequence"]) for n in names]
    y = helper.make_tensor_value_info("y", FLOAT, ["batch", 8])
    return _save(nodes, inputs, [y], inits, path, opset=13)


def make_scatter_gather(path: Path, *, nodes_count: int = 5) -> Path:
    """x[5,8] node features; src[num_edges] picks rows (Gather), dst[num_edges,8] scatters them
    back (ScatterElements): every index must stay below 5."""
    x = helper.make_tensor_value_info("x", FLOAT, [nodes_count, 8])
    src = helper.make_tensor_value_info("src", INT64, ["num_edges"])
    dst = helper.make_tensor_value_info("dst", INT64, ["num_edges", 8])
    y = helper.make_tensor_value_info("y", FLOAT, [nodes_count, 8])
    nodes = [
        helper.make_node("Gather", ["x", "src"], ["messages"], axis=0),
        helper.make_node("ScatterElements", ["x", "dst", "messages"], ["y"], axis=0),
    ]
    return _save(nodes, [x, src, dst], [y], [], path, opset=13)


def make_vad_like(path: Path, *, pad: int = 600) -> Path:
    """Like silero VAD: audio input[?,?], state[2,?,16], sr (scalar) → prob, new state.

    The audio is reflect-padded by ``pad`` on both sides (it must be longer than that)."""
    inits = [
        _init("pads", np.array([0, pad, 0, pad], np.int64)),
        _init("rate_scale", np.array(1.0 / 16000, np.float32)),
    ]
    nodes = [
        helper.make_node("Pad", ["input", "pads"], ["padded"], mode="reflect"),
        helper.make_node("ReduceMean", ["padded"], ["energy"], axes=[1], keepdims=0),
        helper.make_node("Cast", ["sr"], ["sr_f"], to=FLOAT),
        helper.make_node("Mul", ["sr_f", "rate_scale"], ["one"]),
        helper.make_node("Mul", ["energy", "one"], ["prob"]),
        helper.make_node("Add", ["state", "one"], ["state_out"]),
    ]
    inputs = [
        helper.make_tensor_value_info("input", FLOAT, [None, None]),
        helper.make_tensor_value_info("state", FLOAT, [2, None, 16]),
        helper.make_tensor_value_info("sr", INT64, []),
    ]
    outputs = [
        helper.make_tensor_value_info("prob", FLOAT, [None]),
        helper.make_tensor_value_info("state_out", FLOAT, [2, None, 16]),
    ]
    return _save(nodes, inputs, outputs, inits, path)


def make_length_model(path: Path) -> Path:
    """x[batch,time,8] with length[batch] (frames that count) → y[batch,8] = sum / length."""
    nodes = [
        helper.make_node("ReduceSum", ["x", "one"], ["total"], keepdims=0),
        helper.make_node("Cast", ["length"], ["len_f"], to=FLOAT),
        helper.make_node("Unsqueeze", ["len_f", "one"], ["len2"]),
        helper.make_node("Div", ["total", "len2"], ["y"]),
    ]
    inputs = [
        helper.make_tensor_value_info("x", FLOAT, ["batch", "time", 8]),
        helper.make_tensor_value_info("length", INT64, ["batch"]),
    ]
    y = helper.make_tensor_value_info("y", FLOAT, ["batch", 8])
    return _save(nodes, inputs, [y], [_init("one", np.array([1], np.int64))], path, opset=13)
