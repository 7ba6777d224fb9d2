"""Small ONNX models for the compression tests: a CNN classifier, a transformer-ish block, and the
awkward cases (control flow, custom ops, fp16, external data, Constant-node weights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _save(model: onnx.ModelProto, path: Path, external: bool = False) -> Path:
    model.ir_version = 8
    onnx.checker.check_model(model)
    if external:
        onnx.save_model(
            model,
            str(path),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=path.name + ".data",
            size_threshold=0,
        )
    else:
        onnx.save(model, str(path))
    return path


def make_cnn(
    path: Path,
    *,
    opset: int = 11,
    constants: bool = True,
    external: bool = False,
    size: int = 16,
    batch: str | int = 1,
) -> Path:
    """image[batch,3,S,S] → Conv→Relu→Conv→Relu→GlobalAveragePool→Flatten→Gemm → logits[batch,10].

    With ``constants`` the weights are Constant nodes (like old PaddlePaddle/OCR exports).
    """
    rng = np.random.default_rng(1)
    weights = {
        "w1": rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3,
        "b1": rng.standard_normal(8).astype(np.float32) * 0.1,
        "w2": rng.standard_normal((16, 8, 3, 3)).astype(np.float32) * 0.2,
        "b2": rng.standard_normal(16).astype(np.float32) * 0.1,
        "wf": rng.standard_normal((10, 16)).astype(np.float32) * 0.5,
        "bf": rng.standard_normal(10).astype(np.float32) * 0.1,
    }
    nodes = []
    inits = []
    for name, value in weights.items():
        if constants:
            nodes.append(
                helper.make_node(
                    "Constant",
                    [],
                    [name],
                    name=f"const_{name}",
                    value=numpy_helper.from_array(value, name),
                )
            )
        else:
            inits.append(numpy_helper.from_array(value, name))
    nodes += [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 10])],
        inits,
    )
    return _save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), path, external
    )


def make_block(path: Path, *, dim: int = 64, external: bool = False) -> Path:
    """x[1,seq,dim] → MatMul → LayerNorm → MatMul → Softmax → MatMul → y (MatMul-heavy)."""
    rng = np.random.default_rng(2)
    inits = [
        numpy_helper.from_array(rng.standard_normal((dim, dim)).astype(np.float32) * 0.1, "wq"),
        numpy_helper.from_array(rng.standard_normal((dim, dim)).astype(np.float32) * 0.1, "wk"),
        numpy_helper.from_array(rng.standard_normal((dim, dim)).astype(np.float32) * 0.1, "wo"),
        numpy_helper.from_array(np.ones(dim, np.float32), "gamma"),
        numpy_helper.from_array(np.zeros(dim, np.float32), "beta"),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "wq"], ["q"], name="proj_q"),
        helper.make_node("LayerNormalization", ["q", "gamma", "beta"], ["n"], name="norm", axis=-1),
        helper.make_node("MatMul", ["n", "wk"], ["k"], name="proj_k"),
        helper.make_node("Softmax", ["k"], ["s"], name="softmax", axis=-1),
        helper.make_node("MatMul", ["s", "wo"], ["o"], name="proj_o"),
        helper.make_node("Add", ["o", "x"], ["y"], name="residual"),
    ]
    graph = helper.make_graph(
        nodes,
        "block",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "seq", dim])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "seq", dim])],
        inits,
    )
    return _save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path, external
    )


def make_custom_op(path: Path) -> Path:
    """x → Relu → com.example::Mystery → y: a node onnxruntime cannot run."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Mystery", ["r"], ["y"], name="mystery_node", domain="com.example"),
    ]
    graph = helper.make_graph(
        nodes,
        "custom",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]
    )
    return _save(model, path)


def make_fp16(path: Path) -> Path:
    """A half-precision MatMul model (input and weight float16)."""
    w = numpy_helper.from_array(np.ones((4, 4), np.float16), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
        "half",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [1, 4])],
        [w],
    )
    return _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def make_if(path: Path) -> Path:
    """x[1,16] → MatMul → If(sum > 0: Relu, else: Neg) → y: control flow."""
    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.standard_normal((16, 16)).astype(np.float32), "w")
    then_graph = helper.make_graph(
        [helper.make_node("Relu", ["h"], ["then_out"], name="then_relu")],
        "then",
        [],
        [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, [1, 16])],
    )
    else_graph = helper.make_graph(
        [helper.make_node("Neg", ["h"], ["else_out"], name="else_neg")],
        "else",
        [],
        [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, [1, 16])],
    )
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
        helper.make_node("ReduceSum", ["h"], ["total"], name="sum", keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["cond"], name="positive"),
        helper.make_node(
            "If", ["cond"], ["y"], name="branch", then_branch=then_graph, else_branch=else_graph
        ),
    ]
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "zero")
    graph = helper.make_graph(
        nodes,
        "branchy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
        [w, zero],
    )
    return _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def cnn_samples(path: Path, count: int = 12, size: int = 16) -> Path:
    rng = np.random.default_rng(4)
    np.savez(path, image=rng.random((count, 3, size, size), dtype=np.float32))
    return path
