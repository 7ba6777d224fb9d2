"""Generated graphs with many nodes (10,000+), for the large-graph tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def make_block_chain(path: Path, *, blocks: int = 2500, width: int = 8) -> Path:
    """x[1,width] → blocks × (MatMul → Add → Relu → Mul) → y; 4 nodes per block.

    Names follow exporters' path style (``/encoder/block.17/MatMul``) so prefix grouping has
    real structure to find. Tensors are tiny: the graph is large, the compute is not.
    """
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    current = "x"
    scale = numpy_helper.from_array(np.array([0.5], dtype=np.float32), "scale")
    inits.append(scale)
    for i in range(blocks):
        stage = "encoder" if i < blocks // 2 else "decoder"
        prefix = f"/{stage}/block.{i}"
        w = numpy_helper.from_array(
            (rng.standard_normal((width, width)) * 0.3).astype(np.float32), f"w{i}"
        )
        b = numpy_helper.from_array(rng.standard_normal(width).astype(np.float32) * 0.1, f"b{i}")
        inits += [w, b]
        nodes += [
            helper.make_node(
                "MatMul", [current, f"w{i}"], [f"{prefix}/mm"], name=f"{prefix}/MatMul"
            ),
            helper.make_node(
                "Add", [f"{prefix}/mm", f"b{i}"], [f"{prefix}/add"], name=f"{prefix}/Add"
            ),
            helper.make_node("Relu", [f"{prefix}/add"], [f"{prefix}/relu"], name=f"{prefix}/Relu"),
            helper.make_node(
                "Mul", [f"{prefix}/relu", "scale"], [f"{prefix}/out"], name=f"{prefix}/Mul"
            ),
        ]
        current = f"{prefix}/out"
    nodes.append(helper.make_node("Identity", [current], ["y"], name="/output/Identity"))
    graph = helper.make_graph(
        nodes,
        "block_chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, width])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path
