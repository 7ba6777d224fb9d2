"""Small ONNX models for the chip checks: known ops, shapes, control flow and dtypes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _save(graph: onnx.GraphProto, path: Path, opset: int = 17) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def make_convnet(path: Path, *, batch: str | int = "batch", erf: bool = False) -> Path:
    """x[batch,3,32,32] → Conv(3→8) → Relu|Erf → GlobalAveragePool → Flatten → Gemm → y."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "w")
    fc = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "fc")
    act = "Erf" if erf else "Relu"
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node(act, ["c"], ["a"], name="act"),
        helper.make_node("GlobalAveragePool", ["a"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc"], ["y"], name="fc"),
    ]
    graph = helper.make_graph(
        nodes,
        "convnet",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4])],
        [w, fc],
    )
    return _save(graph, path)


def make_if_model(path: Path) -> Path:
    """y = If(flag) then x+1 else x*2 — control flow an NPU cannot compile."""
    one = numpy_helper.from_array(np.array([1.0], np.float32), "one")
    two = numpy_helper.from_array(np.array([2.0], np.float32), "two")
    then_g = helper.make_graph(
        [helper.make_node("Add", ["x", "one"], ["t"])],
        "then",
        [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 8])],
    )
    else_g = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["e"])],
        "else",
        [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 8])],
    )
    nodes = [
        helper.make_node("Relu", ["x_in"], ["x"], name="relu"),
        helper.make_node(
            "If", ["flag"], ["y"], name="branch", then_branch=then_g, else_branch=else_g
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "iffy",
        [
            helper.make_tensor_value_info("x_in", TensorProto.FLOAT, [1, 8]),
            helper.make_tensor_value_info("flag", TensorProto.BOOL, []),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
        [one, two],
    )
    return _save(graph, path)


def make_double_model(path: Path) -> Path:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        "dbl",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [1, 8])],
    )
    return _save(graph, path)


def make_tiny_llm(path: Path, *, heads: int = 2, head_dim: int = 8, hidden: int = 16) -> Path:
    """A decoder step shaped like an LLM export: input_ids plus past key/value cache inputs."""
    rng = np.random.default_rng(0)
    emb = numpy_helper.from_array(rng.standard_normal((64, hidden)).astype(np.float32), "emb")
    wk = numpy_helper.from_array(
        rng.standard_normal((hidden, heads * head_dim)).astype(np.float32), "wk"
    )
    shape = numpy_helper.from_array(np.array([1, -1, heads, head_dim], np.int64), "kv_shape")
    nodes = [
        helper.make_node("Gather", ["emb", "input_ids"], ["h"], name="embed"),
        helper.make_node("MatMul", ["h", "wk"], ["k"], name="k_proj"),
        helper.make_node("Reshape", ["k", "kv_shape"], ["k4"], name="k_reshape"),
        helper.make_node("Transpose", ["k4"], ["kt"], name="k_t", perm=[0, 2, 1, 3]),
        helper.make_node(
            "Concat", ["past_key_values.0.key", "kt"], ["present.0.key"], name="cat_k", axis=2
        ),
        helper.make_node(
            "Concat", ["past_key_values.0.value", "kt"], ["present.0.value"], name="cat_v", axis=2
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_llm",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "sequence_length"]),
            helper.make_tensor_value_info(
                "past_key_values.0.key",
                TensorProto.FLOAT,
                [1, heads, "past_sequence_length", head_dim],
            ),
            helper.make_tensor_value_info(
                "past_key_values.0.value",
                TensorProto.FLOAT,
                [1, heads, "past_sequence_length", head_dim],
            ),
        ],
        [
            helper.make_tensor_value_info(
                "present.0.key", TensorProto.FLOAT, [1, heads, None, head_dim]
            ),
            helper.make_tensor_value_info(
                "present.0.value", TensorProto.FLOAT, [1, heads, None, head_dim]
            ),
        ],
        [emb, wk, shape],
    )
    return _save(graph, path)


def make_qdq_convnet(path: Path, tmp: Path) -> Path:
    """The convnet quantized to QDQ (uint8 activations, int8 weights) by onnxruntime."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    source = make_convnet(tmp / "float.onnx", batch=1)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self.items = iter(
                [{"x": rng.standard_normal((1, 3, 32, 32)).astype(np.float32)} for _ in range(4)]
            )

        def get_next(self) -> dict | None:
            return next(self.items, None)

    quantize_static(str(source), str(path), Reader(), quant_format=QuantFormat.QDQ)
    return path


def make_int4_llm_layer(path: Path, *, k: int = 64, n: int = 128) -> Path:
    """One MatMulNBits (INT4 weights, block 32) as onnxruntime-genai exports use."""
    blocks = k // 32
    weight = numpy_helper.from_array(np.zeros((n, blocks, 16), np.uint8), "w_q")
    scales = numpy_helper.from_array(np.ones((n * blocks,), np.float32), "w_scales")
    node = helper.make_node(
        "MatMulNBits",
        ["x", "w_q", "w_scales"],
        ["y"],
        name="proj",
        domain="com.microsoft",
        K=k,
        N=n,
        bits=4,
        block_size=32,
    )
    graph = helper.make_graph(
        [node],
        "int4",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "sequence_length", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "sequence_length", n])],
        [weight, scales],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def make_conv_then(path: Path, op: str, domain: str = "", kernel: int = 3) -> Path:
    """x[1,3,16,16] → Conv(3→4) → ``op`` → y: one op every NPU runs, then the op under test."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((4, 3, kernel, kernel)).astype(np.float32), "w")
    pad = kernel // 2
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[pad] * 4),
        helper.make_node(op, ["c"], ["y"], name="tested", domain=domain),
    ]
    graph = helper.make_graph(
        nodes,
        "conv_then",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])],
        [w],
    )
    if not domain:
        return _save(graph, path)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(domain, 1)]
    )
    model.ir_version = 8
    onnx.save(model, str(path))  # the checker does not know contrib ops
    return path


def make_swish(path: Path) -> Path:
    """y = x · sigmoid(x): onnxruntime runs the pair as one QuickGelu kernel."""
    nodes = [
        helper.make_node("Sigmoid", ["x"], ["s"], name="sigmoid"),
        helper.make_node("Mul", ["x", "s"], ["y"], name="mul"),
    ]
    graph = helper.make_graph(
        nodes,
        "swish",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 32, 32])],
    )
    return _save(graph, path)


def make_dq_weight_conv(path: Path) -> Path:
    """A float Conv whose int8 weights are dequantized each run (activations not quantized)."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.integers(-127, 127, (8, 8, 3, 3)).astype(np.int8), "w_q"),
        numpy_helper.from_array(np.array(0.01, np.float32), "w_s"),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["w_q", "w_s"], ["w"], name="dq"),
        helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "dq_weight_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])],
        inits,
    )
    return _save(graph, path)
