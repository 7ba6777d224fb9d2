"""The work inside If/Loop/Scan bodies, scaled by how often each body runs.

If: the larger branch (which one runs depends on the data). Loop: the body times its trip count
when that is a constant (or shows in a scan output's size), else once with a stated assumption.
Scan: the body times the sequence length of its scanned inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from studio.core.chips.flops import Tensors, attr_value

CostNodes = Callable[[onnx.GraphProto, Tensors, str], list[Any]]
"""Costs the nodes of a graph with its tensors; names start with the given prefix."""


def int_constants(graph: onnx.GraphProto) -> dict[str, int]:
    """Scalar integer initializers and Constant nodes (a Loop's trip count is one of them)."""
    found: dict[str, int] = {}
    tensors = [(i.name, i) for i in graph.initializer]
    tensors += [
        (n.output[0], a.t)
        for n in graph.node
        if n.op_type == "Constant" and n.output
        for a in n.attribute
        if a.name == "value"
    ]
    for name, tensor in tensors:
        if tensor.data_type in (onnx.TensorProto.INT64, onnx.TensorProto.INT32) and (
            int(np.prod(tensor.dims)) == 1
        ):
            found[name] = int(numpy_helper.to_array(tensor).reshape(-1)[0])
    return found


def _work(costs: list[Any]) -> float:
    return float(sum(c.flops + c.bytes for c in costs))


def _scaled(costs: list[Any], times: float) -> list[Any]:
    return [
        c.model_copy(update={"flops": c.flops * times, "bytes": c.bytes * times}) for c in costs
    ]


def _loop_trips(node: onnx.NodeProto, t: Tensors, constants: dict[str, int]) -> int | None:
    trip = node.input[0] if node.input else ""
    if trip and trip in constants:
        return max(0, constants[trip])
    # Scan outputs (after the loop-carried values) stack one slice per iteration.
    carried = max(0, len(node.input) - 2)
    for name in node.output[carried:]:
        shape = t.shape.get(name)
        if shape:
            return shape[0]
    return None


def _scan_length(node: onnx.NodeProto, t: Tensors) -> int | None:
    count = int(attr_value(node, "num_scan_inputs", 0) or 0)
    if not count:
        return None
    axes = list(attr_value(node, "scan_input_axes", []) or [])
    shape = t.shape.get(node.input[len(node.input) - count])
    if not shape:
        return None
    axis = int(axes[0]) if axes else 0
    return shape[axis % len(shape)]


def body_costs(
    node: onnx.NodeProto, t: Tensors, constants: dict[str, int], cost_nodes: CostNodes
) -> tuple[list[Any], str]:
    """(the costed body nodes, scaled; an assumption to state, or "")."""
    prefix = f"{node.name or node.op_type}/"
    bodies = [
        a.g for a in node.attribute if a.type == onnx.AttributeProto.GRAPH and a.HasField("g")
    ]
    if not bodies:
        return [], ""
    costed = [cost_nodes(body, t.scoped(body), prefix) for body in bodies]
    if node.op_type == "If":
        return max(costed, key=_work), ""
    body = costed[0]
    if node.op_type == "Scan":
        length = _scan_length(node, t)
        if length is None:
            return body, f"Scan '{node.name}': sequence length unknown; its body counted once"
        return _scaled(body, length), ""
    trips = _loop_trips(node, t, constants)
    if trips is None:
        return body, (
            f"Loop '{node.name}': trip count not known before it runs; its body counted once"
        )
    return _scaled(body, trips), ""
