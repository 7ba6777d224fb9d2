"""Map the nodes onnxruntime actually ran back to the nodes of the model the user opened.

onnxruntime rewrites the graph before running it: it fuses Conv+Relu or Gemm+Relu into one
kernel, converts convolutions to a blocked memory layout ("NCHWc") and inserts reorder nodes,
folds constant sub-graphs, and drops no-ops. The profiler reports the *rewritten* node names, so
"where does the time go" would otherwise name nodes the user cannot find in their graph. We save
the rewritten model next to the profile and match the two graphs by node name, by the naming
conventions onnxruntime uses for fused nodes, and by the tensors they share.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded on first use so importing NodeKind stays cheap for the GUI
    import onnx


class NodeKind(enum.StrEnum):
    ORIGINAL = "original"  # the node exists unchanged in the user's model
    FUSED = "fused"  # onnxruntime merged several of the user's nodes into this one
    REWRITTEN = "rewritten"  # one of the user's nodes, run in another form (e.g. memory layout)
    INSERTED = "inserted"  # onnxruntime added it (layout conversion, memory copy); no original


@dataclass
class Mapping:
    kind: NodeKind
    originals: list[str] = field(default_factory=list)  # the user's nodes this one stands for


@dataclass
class FusionMap:
    nodes: dict[str, Mapping]  # rewritten node name → mapping
    removed: list[str]  # the user's nodes that vanished without being folded into a run node

    def original_to_run(self) -> dict[str, str]:
        """The user's node name → the name of the node that ran its work."""
        result: dict[str, str] = {}
        for run_name, mapping in self.nodes.items():
            for original in mapping.originals:
                result.setdefault(original, run_name)
        return result


def node_key(node: onnx.NodeProto, index: int) -> str:
    """Unnamed nodes (some exporters and quantizers leave names empty) get a stable stand-in."""
    return node.name or f"<unnamed {node.op_type} #{index}>"


_TOKEN_SUFFIX = re.compile(r"(_nchwc|_token_\d+)$")


def _anchor_names(name: str) -> Iterable[str]:
    """Candidate original names encoded in a rewritten node's name (onnxruntime conventions)."""
    yield name
    if name.startswith("fused "):  # FusedGemm, FusedConv, FusedMatMul …
        name = name[len("fused ") :]
        yield name
    stripped = _TOKEN_SUFFIX.sub("", name)  # layout transformers append _nchwc / _token_<n>
    if stripped != name:
        yield stripped


def map_fused_nodes(
    original: onnx.ModelProto, optimized: onnx.ModelProto | None, run_names: Iterable[str]
) -> FusionMap:
    """Which of the user's nodes each profiled node stands for.

    Three passes, most certain first: names (exact, or onnxruntime's naming conventions for
    fused and re-laid-out nodes), then the original tensors a node still produces, then the
    vanished nodes feeding those anchors up to the tensors that still exist. Without the
    optimized model (it could not be saved) only the name pass is possible.
    """
    nodes = list(original.graph.node)  # one list, so id() of each node stays valid below
    original_names = [node_key(node, i) for i, node in enumerate(nodes)]
    name_set = set(original_names)
    producer = {output: node for node in nodes for output in node.output}
    key_of = {id(node): key for key, node in zip(original_names, nodes, strict=True)}
    run_nodes = {node.name: node for node in optimized.graph.node} if optimized else {}
    live_tensors: set[str] = set()
    if optimized is not None:
        live_tensors = {t for n in optimized.graph.node for t in (*n.input, *n.output)}
        live_tensors |= {v.name for v in optimized.graph.input}
    ordered = list(dict.fromkeys([*run_nodes, *run_names]))
    claimed: set[str] = set()
    anchors: dict[str, list[str]] = {name: [] for name in ordered}

    def claim(run_name: str, original_name: str) -> None:
        if original_name not in claimed:
            claimed.add(original_name)
            anchors[run_name].append(original_name)

    for run_name in ordered:
        for candidate in _anchor_names(run_name):
            if candidate in name_set:
                claim(run_name, candidate)
            elif candidate in producer:  # NCHWc nodes are named after the fused output tensor
                claim(run_name, key_of[id(producer[candidate])])
    for run_name in ordered:
        run_node = run_nodes.get(run_name)
        for output in run_node.output if run_node is not None else ():
            if output in producer:
                claim(run_name, key_of[id(producer[output])])
    by_name = dict(zip(original_names, nodes, strict=True))
    position = {name: index for index, name in enumerate(original_names)}
    mapping: dict[str, Mapping] = {}
    for run_name in ordered:
        if not anchors[run_name]:
            mapping[run_name] = Mapping(NodeKind.INSERTED)
            continue
        members = set(anchors[run_name])
        if optimized is not None:  # without it, which tensors survived is unknown
            members = _walk_back(
                anchors[run_name], by_name, producer, key_of, claimed, live_tensors
            )
        originals = sorted(members, key=position.__getitem__)  # in the model's order
        if len(originals) > 1:
            kind = NodeKind.FUSED
        else:
            kind = NodeKind.ORIGINAL if originals == [run_name] else NodeKind.REWRITTEN
        mapping[run_name] = Mapping(kind, originals)
    removed = [name for name in original_names if name not in claimed]
    return FusionMap(mapping, removed)


def _walk_back(
    anchors: list[str],
    by_name: dict[str, onnx.NodeProto],
    producer: dict[str, onnx.NodeProto],
    key_of: dict[int, str],
    claimed: set[str],
    live_tensors: set[str],
) -> set[str]:
    """Anchors plus the unclaimed nodes feeding them through tensors that no longer exist."""
    members = set(anchors)
    queue = list(anchors)
    while queue:
        node = by_name.get(queue.pop())
        if node is None:
            continue
        for tensor in node.input:
            source = producer.get(tensor)
            if tensor in live_tensors or source is None:
                continue
            key = key_of[id(source)]
            if key not in claimed:
                claimed.add(key)
                members.add(key)
                queue.append(key)
    return members


def primary_first(
    op_type: str, members: list[str], op_of: dict[str, str], params: dict[str, int]
) -> list[str]:
    """``members`` with the node a kernel is mostly about first (QLinearConv → the Conv, not a
    DequantizeLinear of its bias), so every view names the kernel by the node the user knows."""
    if len(members) < 2:
        return members
    primary = next(
        (m for m in members if op_of.get(m) and op_of[m] in op_type),
        max(members, key=lambda m: params.get(m, 0)),
    )
    return [primary, *(m for m in members if m != primary)]


def node_parameter_counts(model: onnx.ModelProto) -> dict[str, int]:
    """Weights each of the user's nodes reads directly (initializer elements)."""
    import numpy as np

    sizes = {
        init.name: int(np.prod(init.dims)) if init.dims else 1 for init in model.graph.initializer
    }
    return {
        node_key(node, i): sum(sizes.get(tensor, 0) for tensor in set(node.input))
        for i, node in enumerate(model.graph.node)
    }
