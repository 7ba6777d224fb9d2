"""Which output channels can be removed safely, found on the ONNX graph itself.

A *group* starts at a producer (Conv, Gemm or MatMul with constant weights) and follows its output
through ops that keep channels one-to-one (BatchNormalization, activations, pooling, per-channel
constants, depthwise Conv) until every path ends in a consumer whose *input* channels can shrink
(Conv, Gemm, MatMul with constant weights). Anything else that sees those channels — a model
output, Concat, Reshape, a residual Add joining another layer, control flow — makes removal unsafe,
and the group is skipped with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import onnx

# Ops that act on each element alone: channels pass through unchanged.
UNARY = {
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Sigmoid",
    "Tanh",
    "Clip",
    "HardSigmoid",
    "HardSwish",
    "Elu",
    "Selu",
    "Celu",
    "Softplus",
    "Softsign",
    "Gelu",
    "Mish",
    "Erf",
    "Abs",
    "Neg",
    "Exp",
    "Log",
    "Sqrt",
    "Reciprocal",
    "Identity",
    "Dropout",
    "Floor",
    "Ceil",
    "Round",
    "Sin",
    "Cos",
    "ThresholdedRelu",
}
POOLS = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "GlobalLpPool"}
BINARY = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow"}


@dataclass
class Slice:
    """Keep only the chosen channels of initializer ``name`` along ``axis``."""

    name: str
    axis: int


@dataclass
class Group:
    producer: onnx.NodeProto
    weight: str
    """The producer's weight initializer, whose output channels are ranked by importance."""
    out_axis: int
    """Axis of ``weight`` that holds the output channels."""
    channels: int
    slices: list[Slice] = field(default_factory=list)
    """Every initializer that shrinks with the channels (bias, BN, consumers' inputs...)."""
    groups_attr: list[onnx.NodeProto] = field(default_factory=list)
    """Depthwise Convs in the chain whose ``group`` attribute becomes the new channel count."""
    consumers: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    """Tensors that carry these channels."""
    joins: list[tuple[onnx.NodeProto, str, int]] = field(default_factory=list)
    """Binary ops whose other operand is a tensor: fine only if it carries these channels too."""


@dataclass
class Skipped:
    node: str
    op_type: str
    reason: str


class _Graph:
    def __init__(self, model: onnx.ModelProto) -> None:
        graph = model.graph
        self.inits = {i.name: i for i in graph.initializer}
        self.outputs = {o.name for o in graph.output}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        self.uses: dict[str, int] = {}
        self.producers = {o: n for n in graph.node for o in n.output}
        for node in graph.node:
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(node)
                    self.uses[name] = self.uses.get(name, 0) + 1
        # Names read from inside If/Loop branches: a branch might use the channels unseen.
        self.captured: set[str] = set()
        for node in graph.node:
            for attr in node.attribute:
                for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                    self.captured |= {i for n in sub.node for i in n.input}

    def dims(self, name: str) -> list[int] | None:
        init = self.inits.get(name)
        return list(init.dims) if init is not None else None


def _attr(node: onnx.NodeProto, name: str, default: int) -> int:
    return next((a.i for a in node.attribute if a.name == name), default)


class _Unsafe(Exception):
    pass


def producer_weight(node: onnx.NodeProto, g: _Graph) -> tuple[str, int, int] | str:
    """(weight, output-channel axis, channels) of a prunable producer, or why it is not one."""
    if node.op_type not in ("Conv", "Gemm", "MatMul") or len(node.input) < 2:
        return "not a Conv, Gemm or MatMul"
    weight = node.input[1]
    dims = g.dims(weight)
    if dims is None:
        return "its weights are not constant"
    if g.uses.get(weight, 0) > 1:
        return "its weights are shared with another layer"
    if node.op_type == "Conv":
        if _attr(node, "group", 1) != 1:
            return "grouped/depthwise Conv (its channels follow its input's)"
        return weight, 0, dims[0]
    if len(dims) != 2:
        return "its weight matrix is not 2-D"
    if node.op_type == "Gemm":
        axis = 0 if _attr(node, "transB", 0) else 1
        return weight, axis, dims[axis]
    return weight, 1, dims[1]


def plan_group(node: onnx.NodeProto, g: _Graph) -> Group | Skipped:
    found = producer_weight(node, g)
    if isinstance(found, str):
        return Skipped(node.name, node.op_type, found)
    weight, axis, channels = found
    group = Group(node, weight, axis, channels, [Slice(weight, axis)])
    # Output rank counted from the end: Conv NCHW → channels at -3; MatMul/Gemm → last axis.
    channel_axis = -(len(g.dims(weight) or []) - 1) if node.op_type == "Conv" else -1
    bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
    try:
        if bias:  # Conv's bias is 1-D; Gemm's C broadcasts over its last axis
            _slice_constant(group, g, bias, -1, channels, node)
        _follow(group, g, node.output[0], channel_axis, channels)
        _check_joins(group)
    except _Unsafe as exc:
        return Skipped(node.name, node.op_type, str(exc))
    if not group.consumers:
        return Skipped(node.name, node.op_type, "its output feeds no layer that can shrink")
    return group


def _slice_constant(
    group: Group, g: _Graph, name: str, channel_axis: int, channels: int, node: onnx.NodeProto
) -> None:
    """A constant operand that broadcasts over the channels: slice it if it has one per channel."""
    dims = g.dims(name)
    if dims is None:
        raise _Unsafe(
            f"{node.op_type} '{node.name}' mixes these channels with another "
            "layer's output (a residual or gating branch)"
        )
    index = len(dims) + channel_axis
    if index < 0 or dims[index] == 1:
        return  # one value for every channel
    if dims[index] != channels:
        raise _Unsafe(
            f"constant '{name}' of {node.op_type} '{node.name}' does not match the channels"
        )
    if g.uses.get(name, 0) > 1:
        raise _Unsafe(f"constant '{name}' is shared with other layers")
    group.slices.append(Slice(name, index))


def _check_joins(group: Group) -> None:
    for node, other, _axis in group.joins:
        if other not in group.seen:
            raise _Unsafe(
                f"{node.op_type} '{node.name}' mixes these channels with another "
                "layer's output (a residual or gating branch)"
            )


def _follow(group: Group, g: _Graph, tensor: str, channel_axis: int, channels: int) -> None:
    if tensor in group.seen:
        return
    group.seen.add(tensor)
    if tensor in g.outputs:
        raise _Unsafe(f"its channels reach the model output '{tensor}'")
    if tensor in g.captured:
        raise _Unsafe("its output is read inside an If/Loop branch")
    for node in g.consumers.get(tensor, []):
        where = f"{node.op_type} '{node.name}'"
        op = node.op_type
        as_data = node.input[0] == tensor
        if not as_data and op in ("Conv", "Gemm", "MatMul", "BatchNormalization", "PRelu"):
            raise _Unsafe(f"{where} takes it as a parameter, not as data")
        if op in ("Conv", "Gemm", "MatMul") and _consumer(group, g, node, channels):
            group.consumers.append(node.name)
            continue
        if op == "Conv" and _depthwise(group, g, node, channels):
            _follow(group, g, node.output[0], channel_axis, channels)
            continue
        if op in ("Conv", "Gemm", "MatMul"):
            raise _Unsafe(
                f"{where} cannot drop input channels (grouped Conv, transposed input, "
                "or weights that are shared or not constant)"
            )
        if op in UNARY:
            if op == "PRelu" and len(node.input) > 1:
                _slice_constant(group, g, node.input[1], channel_axis, channels, node)
        elif op == "BatchNormalization":
            for name in node.input[1:5]:  # scale, bias, mean, variance: one per channel
                _slice_constant(group, g, name, -1, channels, node)
        elif op in POOLS:
            pass
        elif op in BINARY:
            other = node.input[1] if as_data else node.input[0]
            if other in g.inits:
                _slice_constant(group, g, other, channel_axis, channels, node)
            elif other not in group.seen:
                # x * gate(x) is fine once gate(x) is known to carry the same channels.
                group.joins.append((node, other, channel_axis))
                continue
        elif op == "Flatten" and _attr(node, "axis", 1) == 1 and _after_global_pool(tensor, g):
            channel_axis = -1  # [N, C, 1, 1] → [N, C]: the channels become the last axis
        else:
            raise _Unsafe(
                f"{where} needs all channels (only per-channel ops, Conv, Gemm and "
                "MatMul can follow a pruned layer)"
            )
        # BatchNormalization's training-mode outputs are never used in inference graphs.
        _follow(group, g, node.output[0], channel_axis, channels)
    for join, other, axis in list(group.joins):
        if other in group.seen and join.output[0] not in group.seen:
            _follow(group, g, join.output[0], axis, channels)


def _after_global_pool(tensor: str, g: _Graph) -> bool:
    node = g.producers.get(tensor)
    return node is not None and node.op_type in ("GlobalAveragePool", "GlobalMaxPool")


def _consumer(group: Group, g: _Graph, node: onnx.NodeProto, channels: int) -> bool:
    """A layer that reads the channels as its input features: its weights lose those rows."""
    dims = g.dims(node.input[1]) if len(node.input) > 1 else None
    if dims is None or g.uses.get(node.input[1], 0) > 1:
        return False
    if node.op_type == "Conv":
        if _attr(node, "group", 1) != 1 or dims[1] != channels:
            return False
        group.slices.append(Slice(node.input[1], 1))
        return True
    if len(dims) != 2:
        return False
    if node.op_type == "Gemm":
        if _attr(node, "transA", 0):
            return False
        axis = 1 if _attr(node, "transB", 0) else 0
    else:
        axis = 0
    if dims[axis] != channels:
        return False
    group.slices.append(Slice(node.input[1], axis))
    return True


def _depthwise(group: Group, g: _Graph, node: onnx.NodeProto, channels: int) -> bool:
    """A depthwise Conv keeps channel i in channel i: it shrinks along with them."""
    dims = g.dims(node.input[1]) if len(node.input) > 1 else None
    if dims is None or g.uses.get(node.input[1], 0) > 1:
        return False
    if _attr(node, "group", 1) != channels or dims[0] != channels or dims[1] != 1:
        return False
    group.slices.append(Slice(node.input[1], 0))
    if len(node.input) > 2 and node.input[2]:
        _slice_constant(group, g, node.input[2], -1, channels, node)
    group.groups_attr.append(node)
    return True


def plan_model(model: onnx.ModelProto) -> tuple[list[Group], list[Skipped]]:
    """Every producer either becomes a group that can lose channels or is skipped with a reason."""
    g = _Graph(model)
    groups: list[Group] = []
    skipped: list[Skipped] = []
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm", "MatMul"):
            continue
        if node.op_type == "MatMul" and g.dims(node.input[1]) is None:
            continue  # activation × activation (attention scores): not a layer with weights
        planned = plan_group(node, g)
        if isinstance(planned, Group):
            groups.append(planned)
        else:
            skipped.append(planned)
    # A depthwise Conv that shrank with the layer before it is not "left alone".
    followed = {n.name for group in groups for n in group.groups_attr}
    return groups, [s for s in skipped if s.node not in followed]
