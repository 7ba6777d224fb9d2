"""Models for the channel-pruning tests. Half the channels of each prunable layer are dead (all-zero
weights and bias, zero BN shift), so removing exactly those must leave the outputs unchanged:
a wrong cut anywhere shows up as drift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.support.compress_models import _save


def _dead_rows(array: np.ndarray, axis: int, dead: list[int]) -> np.ndarray:
    array = array.copy()
    index = [slice(None)] * array.ndim
    index[axis] = dead
    array[tuple(index)] = 0.0
    return array


def _init(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(array.astype(np.float32), name)


def _model(nodes, inputs, outputs, inits, opset: int = 13) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def make_conv_bn(path: Path, *, size: int = 32, channels: int = 16, external: bool = False) -> Path:
    """image → Conv → BN → Relu → depthwise Conv → x·HardSigmoid(x) → Conv → Relu →
    GlobalAveragePool → Flatten → Gemm → logits. conv1 and conv3 each have half their channels
    dead."""
    rng = np.random.default_rng(3)
    c, c2 = channels, channels * 2
    dead1 = list(range(0, c, 2))
    dead3 = list(range(1, c2, 2))
    inits = [
        _init("w1", _dead_rows(rng.standard_normal((c, 3, 3, 3)) * 0.3, 0, dead1)),
        _init("b1", _dead_rows(rng.standard_normal(c) * 0.1, 0, dead1)),
        _init("gamma", rng.uniform(0.5, 1.5, c)),
        _init("beta", _dead_rows(rng.standard_normal(c) * 0.1, 0, dead1)),
        _init("mean", _dead_rows(rng.standard_normal(c) * 0.1, 0, dead1)),
        _init("var", rng.uniform(0.5, 1.5, c)),
        _init("wd", rng.standard_normal((c, 1, 3, 3)) * 0.3),
        _init("w3", _dead_rows(rng.standard_normal((c2, c, 1, 1)) * 0.3, 0, dead3)),
        _init("b3", _dead_rows(rng.standard_normal(c2) * 0.1, 0, dead3)),
        _init("wf", rng.standard_normal((10, c2)) * 0.5),
        _init("bf", rng.standard_normal(10) * 0.1),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node(
            "BatchNormalization", ["c1", "gamma", "beta", "mean", "var"], ["n1"], name="bn1"
        ),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "wd"], ["d"], name="dw", pads=[1, 1, 1, 1], group=c),
        helper.make_node("HardSigmoid", ["d"], ["gate"], name="hsig"),
        helper.make_node("Mul", ["d", "gate"], ["hs"], name="hswish"),
        helper.make_node("Conv", ["hs", "w3", "b3"], ["c3"], name="conv3"),
        helper.make_node("Relu", ["c3"], ["r3"], name="relu3"),
        helper.make_node("GlobalAveragePool", ["r3"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], name="fc", transB=1),
    ]
    model = _model(
        nodes,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    return _save(model, path, external)


def make_residual(path: Path) -> Path:
    """image → stem Conv → Relu → [conv_a → Relu → conv_b → Add(residual)] → head Conv → y.
    Only the stem may lose channels: the block's channels meet at the Add."""
    rng = np.random.default_rng(4)
    inits = [
        _init("ws", _dead_rows(rng.standard_normal((8, 3, 3, 3)) * 0.3, 0, [0, 2, 4, 6])),
        _init("wa", rng.standard_normal((16, 8, 3, 3)) * 0.2),
        _init("wb", rng.standard_normal((16, 16, 3, 3)) * 0.2),
        _init("wh", rng.standard_normal((4, 16, 1, 1)) * 0.2),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "ws"], ["s"], name="stem", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["s"], ["rs"], name="relu_stem"),
        helper.make_node("Conv", ["rs", "wa"], ["a"], name="conv_a", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["a"], ["ra"], name="relu_a"),
        helper.make_node("Conv", ["ra", "wb"], ["b"], name="conv_b", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["ra", "b"], ["sum"], name="residual"),
        helper.make_node("Conv", ["sum", "wh"], ["y"], name="head"),
    ]
    model = _model(
        nodes,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])],
        inits,
    )
    return _save(model, path)


def make_mlp(path: Path, *, width: int = 64, external: bool = False) -> Path:
    """x[1,32] → Gemm(transB) → Relu → MatMul → Add(bias) → Relu → Gemm → y[1,10]; the two hidden
    layers have half their units dead."""
    rng = np.random.default_rng(5)
    dead = list(range(0, width, 2))
    inits = [
        _init("w1", _dead_rows(rng.standard_normal((width, 32)) * 0.3, 0, dead)),
        _init("b1", _dead_rows(rng.standard_normal(width) * 0.1, 0, dead)),
        _init("w2", _dead_rows(rng.standard_normal((width, width)) * 0.2, 1, dead)),
        _init("b2", _dead_rows(rng.standard_normal(width) * 0.1, 0, dead)),
        _init("w3", rng.standard_normal((width, 10)) * 0.3),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="fc1", transB=1),
        helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
        helper.make_node("MatMul", ["r1", "w2"], ["m2"], name="fc2"),
        helper.make_node("Add", ["m2", "b2"], ["h2"], name="bias2"),
        helper.make_node("Relu", ["h2"], ["r2"], name="relu2"),
        helper.make_node("Gemm", ["r2", "w3"], ["y"], name="fc3"),
    ]
    model = _model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    return _save(model, path, external)
