"""What the graph says about its inputs: who consumes them, table sizes, strides, paddings.

Read without the weights (only initializer dims are needed), so it is cheap on big models.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import onnx
from onnx import numpy_helper

# Ops an index or id passes through unchanged in meaning on its way to a Gather.
PASSTHROUGH = {"Cast", "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Identity", "Expand"}
# Ops whose output keeps the spatial grid of their input (stride is carried through).
GRID_OPS = {
    "Relu",
    "LeakyRelu",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "Clip",
    "Tanh",
    "Mul",
    "Add",
    "Sub",
    "Div",
    "Concat",
    "BatchNormalization",
    "InstanceNormalization",
    "Pad",
    "Identity",
    "Cast",
    "PRelu",
    "Elu",
    "Selu",
    "Softmax",
    "Max",
    "Min",
    "Sum",
    "QuantizeLinear",
    "DequantizeLinear",
}
STRIDED = {"Conv", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool"}
UPSAMPLING = {"Resize", "Upsample", "ConvTranspose"}


def attr_value(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
    for attr in node.attribute:
        if attr.name == name:
            return onnx.helper.get_attribute_value(attr)
    return default


class GraphFacts:
    """Consumers of every tensor, the dims of every constant table, and the metadata."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.nodes = list(model.graph.node)
        self.consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
        for node in self.nodes:
            for slot, name in enumerate(node.input):
                self.consumers.setdefault(name, []).append((node, slot))
        self.const_dims: dict[str, list[int]] = {
            init.name: list(init.dims) for init in model.graph.initializer
        }
        self.const_values: dict[str, list[int]] = {}
        for node in self.nodes:
            if node.op_type == "Constant" and node.output:
                tensor = attr_value(node, "value")
                if isinstance(tensor, onnx.TensorProto):
                    self.const_dims[node.output[0]] = list(tensor.dims)
                    self._keep_small(node.output[0], tensor)
        for init in model.graph.initializer:
            self._keep_small(init.name, init)
        self.metadata = {p.key.lower(): p.value for p in model.metadata_props}

    def _keep_small(self, name: str, tensor: onnx.TensorProto) -> None:
        """Small integer constants (pads, scales) are read; big ones may have no data loaded."""
        if math.prod(tensor.dims) <= 64 and tensor.data_type in (6, 7):
            # Weights not loaded (external data) cannot be read: such a value stays unknown.
            with contextlib.suppress(ValueError, TypeError):
                self.const_values[name] = [int(v) for v in numpy_helper.to_array(tensor).ravel()]

    def uses(self, name: str, depth: int = 6) -> list[tuple[onnx.NodeProto, int]]:
        """The nodes that read ``name``, looking through casts and reshapes."""
        found: list[tuple[onnx.NodeProto, int]] = []
        frontier, seen = [name], {name}
        for _ in range(depth):
            following = []
            for tensor in frontier:
                for node, slot in self.consumers.get(tensor, []):
                    if node.op_type in PASSTHROUGH and slot == 0:
                        following += [o for o in node.output if o not in seen]
                        seen.update(node.output)
                    else:
                        found.append((node, slot))
            frontier = following
        return found

    def embedding_rows(self, name: str) -> int | None:
        """Rows of the constant table ``name`` indexes (a Gather on an embedding), if any."""
        rows = [
            self.const_dims[node.input[0]][int(attr_value(node, "axis", 0))]
            for node, slot in self.uses(name)
            if node.op_type == "Gather" and slot == 1 and node.input[0] in self.const_dims
            if self.const_dims[node.input[0]]
        ]
        return min(rows) if rows else None

    def table_rows(self) -> list[int]:
        """Rows of every constant table a Gather reads on axis 0 (vocabularies, positions)."""
        rows = []
        for node in self.nodes:
            if node.op_type == "Gather" and node.input[0] in self.const_dims:
                dims = self.const_dims[node.input[0]]
                if len(dims) == 2 and int(attr_value(node, "axis", 0)) == 0:
                    rows.append(dims[0])
        return rows

    def strides(self, name: str) -> tuple[int, int]:
        """Total downsampling of the image input ``name`` along height and width.

        Each strided conv or pool multiplies what reaches it; an upsample divides. The deepest
        feature map decides: a spatial size must be a multiple of the largest product reached.
        """
        reach: dict[str, tuple[float, float]] = {name: (1.0, 1.0)}
        best = (1.0, 1.0)
        for node in self.nodes:
            got = [reach[i] for i in node.input if i in reach]
            if not got:
                continue
            h, w = max(g[0] for g in got), max(g[1] for g in got)
            if node.op_type in STRIDED:
                sh, sw = [*attr_value(node, "strides", [1, 1]), 1, 1][:2]
                h, w = h * sh, w * sw
            elif node.op_type in UPSAMPLING:
                h, w = h / 2, w / 2  # the usual FPN factor; exact scales rarely matter here
            elif node.op_type not in GRID_OPS:
                continue  # flattened, pooled globally or reshaped: no grid any more
            for out in node.output:
                reach[out] = (h, w)
            best = (max(best[0], h), max(best[1], w))
        return max(1, round(best[0])), max(1, round(best[1]))

    def padding_need(self, name: str) -> int:
        """The shortest signal length the layers after audio input ``name`` accept.

        A reflect Pad needs more samples than it pads; an STFT or a 1-D conv needs a frame."""
        need = 1
        for node in self.downstream(name):
            if node.op_type == "Pad" and len(node.input) > 1:
                pads = self.const_values.get(node.input[1], [])
                need = max(need, 2 * max(pads, default=0) + 1)
            elif node.op_type == "STFT" and len(node.input) > 3:
                need = max(need, *self.const_values.get(node.input[3], [1]))
            elif node.op_type == "Conv" and len(node.input) > 1:
                kernel = self.const_dims.get(node.input[1], [])
                if len(kernel) == 3:
                    need = max(need, kernel[2])
        return need

    def downstream(self, name: str, limit: int = 400) -> list[onnx.NodeProto]:
        """Nodes reached from ``name``, nearest first (bounded: only the early layers matter)."""
        found: list[onnx.NodeProto] = []
        frontier, seen = [name], set()
        while frontier and len(found) < limit:
            tensor = frontier.pop(0)
            for node, _slot in self.consumers.get(tensor, []):
                if id(node) in seen:
                    continue
                seen.add(id(node))
                found.append(node)
                frontier += list(node.output)
        return found

    def output_ranks(self) -> list[int]:
        return [len(o.type.tensor_type.shape.dim) for o in self.model.graph.output]
