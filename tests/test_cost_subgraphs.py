"""Work inside If/Loop/Scan bodies is counted: a model whose compute sits in a Loop is not free."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from studio.core.chips.cost import graph_cost

DIM = 64
BODY_FLOPS = 2.0 * DIM * DIM  # one [1,DIM] × [DIM,DIM] MatMul


def _model(nodes: list, inits: list, opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "flow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, DIM])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _weight() -> onnx.TensorProto:
    rng = np.random.default_rng(0)
    return numpy_helper.from_array(rng.standard_normal((DIM, DIM)).astype(np.float32), "w")


def _loop(trips: onnx.TensorProto | None) -> onnx.ModelProto:
    """h = x; repeat: h = h @ w (w from the outer graph)."""
    body = helper.make_graph(
        [
            helper.make_node("MatMul", ["h_in", "w"], ["h_out"], name="step"),
            helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("h_in", TensorProto.FLOAT, [1, DIM]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [1, DIM]),
        ],
    )
    inits = [_weight(), numpy_helper.from_array(np.array(True), "go")]
    if trips is not None:
        inits.append(trips)
    loop = helper.make_node(
        "Loop", ["trips" if trips is not None else "", "go", "x"], ["y"], name="rnn", body=body
    )
    return _model([loop], inits)


def test_a_loop_with_a_constant_trip_count_costs_its_body_that_many_times() -> None:
    cost = graph_cost(_loop(numpy_helper.from_array(np.array(12, np.int64), "trips")))
    assert cost.total_flops == BODY_FLOPS * 12
    assert any(n.name == "rnn/step" and n.op_class == "matmul" for n in cost.nodes)
    assert cost.assumptions == []


def test_a_loop_of_unknown_length_counts_its_body_once_and_says_so() -> None:
    cost = graph_cost(_loop(None))
    assert cost.total_flops == BODY_FLOPS
    assert any("trip count" in a and "rnn" in a for a in cost.assumptions)


def test_an_if_counts_its_larger_branch() -> None:
    def branch(name: str, steps: int) -> onnx.GraphProto:
        nodes, current = [], "x"
        for i in range(steps):
            nodes.append(
                helper.make_node("MatMul", [current, "w"], [f"{name}{i}"], name=f"{name}{i}")
            )
            current = f"{name}{i}"
        return helper.make_graph(
            nodes, name, [], [helper.make_tensor_value_info(current, TensorProto.FLOAT, [1, DIM])]
        )

    nodes = [
        helper.make_node("ReduceSum", ["x"], ["s"], name="sum", keepdims=0),
        helper.make_node("Greater", ["s", "zero"], ["c"], name="test"),
        helper.make_node(
            "If", ["c"], ["y"], name="pick", then_branch=branch("a", 1), else_branch=branch("b", 3)
        ),
    ]
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "zero")
    cost = graph_cost(_model(nodes, [_weight(), zero]))
    matmuls = [n for n in cost.nodes if n.op_type == "MatMul"]
    assert [n.name for n in matmuls] == ["pick/b0", "pick/b1", "pick/b2"]
    assert sum(n.flops for n in matmuls) == 3 * BODY_FLOPS


def test_a_scan_costs_its_body_once_per_step() -> None:
    body = helper.make_graph(
        [
            helper.make_node("MatMul", ["row", "w"], ["out"], name="step"),
            helper.make_node("Identity", ["state_in"], ["state_out"], name="carry"),
        ],
        "body",
        [
            helper.make_tensor_value_info("state_in", TensorProto.FLOAT, [1]),
            helper.make_tensor_value_info("row", TensorProto.FLOAT, [DIM]),
        ],
        [
            helper.make_tensor_value_info("state_out", TensorProto.FLOAT, [1]),
            helper.make_tensor_value_info("out", TensorProto.FLOAT, [DIM]),
        ],
    )
    scan = helper.make_node(
        "Scan", ["s0", "x"], ["s", "y"], name="scan", body=body, num_scan_inputs=1
    )
    graph = helper.make_graph(
        [scan],
        "scan",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [16, DIM])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [_weight(), numpy_helper.from_array(np.zeros(1, np.float32), "s0")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    cost = graph_cost(model)
    assert cost.total_flops == 16 * BODY_FLOPS  # 16 rows of x, one [DIM]×[DIM,DIM] each


def test_an_lstm_costs_its_matmuls_for_every_step() -> None:
    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
        for name, shape in (("W", [2, 32, 4]), ("R", [2, 32, 8]))
    ]
    node = helper.make_node(
        "LSTM", ["x", "W", "R"], ["y"], name="lstm", hidden_size=8, direction="bidirectional"
    )
    graph = helper.make_graph(
        [node],
        "lstm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5, 2, 3, 8])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    cost = graph_cost(model)
    # 5 steps × 2 directions × 3 rows × 4 gates·8 hidden × (2·(4 inputs + 8 hidden) + 3)
    assert cost.total_flops == 5 * 2 * 3 * 32 * 27
    assert [(n.known, n.op_class) for n in cost.nodes if n.name == "lstm"] == [(True, "matmul")]
