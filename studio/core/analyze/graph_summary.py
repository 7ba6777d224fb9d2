"""A summary of a graph that is cheap to compute and to show, even with 10,000+ nodes.

Drawing every node of a big model takes Netron minutes; the summary (nodes grouped by op type and by
name prefix, i.e. the model's blocks, with their share of time when a profile exists) is ready at
once and tells the user where to look.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from studio.core.analyze.fusion_map import (
    NodeKind,
    node_key,
    node_parameter_counts,
    primary_first,
)
from studio.core.analyze.profile import NodeTiming, ProfileResult
from studio.core.model.loader import load_model, resolve_model_path

if TYPE_CHECKING:  # onnx loads on first use, keeping the GUI's start-up light
    import onnx

LARGE_GRAPH_NODES = 3000  # above this the full graph loads only on request
MAX_GROUPS = 40


class Group(BaseModel):
    name: str
    nodes: int
    ms: float | None = None
    share: float | None = None


class GraphSummary(BaseModel):
    model: str
    node_count: int
    large: bool
    by_op_type: list[Group]
    by_prefix: list[Group]
    prefix_depth: int


def _segments(name: str) -> list[str]:
    """Path-like parts of a node name, without the last (the node itself)."""
    parts = [p for p in name.strip("/").split("/") if p] if "/" in name else name.split(".")
    return parts[:-1]


def prefix_of(name: str, depth: int) -> str:
    parts = _segments(name)
    return "/".join(parts[:depth]) if parts else "(top level)"


def _module_path(segments: list[str]) -> str:
    """The dotted module path of name segments: exporters repeat the parent in a segment
    ("/features/features.2/Conv") or not ("/model/layers.3/attn/MatMul")."""
    path = ""
    for segment in segments:
        path = segment if not path or segment.startswith(path + ".") else f"{path}.{segment}"
    return path


def block_keys(names: list[str], depth: int) -> list[tuple[str, str]]:
    """(node name, block) for every node, grouped in model order. Quantizers name the nodes they add after the weight
    ("features.2.bias_DequantizeLinear"): those join the block whose module path they start
    with ("features/features.2"), so one block is never listed twice under two spellings."""
    keys = [(name, prefix_of(name, depth)) for name in names]
    blocks: dict[str, str] = {}
    for name, block in keys:
        if "/" in name and _segments(name):
            blocks.setdefault(_module_path(_segments(name)[:depth]), block)
    by_length = sorted(blocks, key=len, reverse=True)  # the most specific path first

    def block_of(name: str, block: str) -> str:
        if "/" in name:
            return block
        path = next((p for p in by_length if name.startswith(p + ".")), None)
        return blocks[path] if path is not None else block

    joined = [(name, block_of(name, block)) for name, block in keys]
    # Blocks in the order the exporter's own nodes run them (quantizers put theirs first).
    first: dict[str, int] = {}
    for index, (name, block) in enumerate(joined):
        if "/" in name:
            first.setdefault(block, index)
    for index, (_, block) in enumerate(joined):
        first.setdefault(block, len(joined) + index)
    return sorted(joined, key=lambda key: first[key[1]])


def choose_depth(names: list[str]) -> int:
    """The deepest prefix level that still gives a readable number of groups; one level deeper
    if that gives fewer than 4 (long chains of blocks are then shown as ranges)."""
    max_depth = max((len(_segments(n)) for n in names), default=0)
    counts = [len({prefix_of(n, d) for n in names}) for d in range(1, max_depth + 1)]
    best = 1
    for depth, count in enumerate(counts, 1):
        if count > MAX_GROUPS:
            if counts[best - 1] < 4:
                best = depth
            break
        if count > counts[best - 1]:  # deeper only if it splits the groups further
            best = depth
    return best


def primary_member(kernel: NodeTiming, op_of: dict[str, str], params: dict[str, int]) -> str:
    """The user's node a kernel is mostly about: FusedGemm → the Gemm, QLinearConv → the Conv."""
    return primary_first(kernel.op_type, kernel.fused_from or [kernel.name], op_of, params)[0]


INSERTED_GROUP = "(added by onnxruntime)"


def _groups(
    keys: list[tuple[str, str]], profile: ProfileResult | None, proto: onnx.ModelProto
) -> list[Group]:
    """``keys`` is (node name, group) in graph order. Each kernel's time counts once, in the
    group of its primary member, so the groups add up to the profiled total."""
    counts: dict[str, int] = defaultdict(int)
    group_of = dict(keys)
    for _, group in keys:
        counts[group] += 1
    times: dict[str, float] = defaultdict(float)
    if profile is not None:
        op_of = {node_key(n, i): n.op_type for i, n in enumerate(proto.graph.node)}
        params = node_parameter_counts(proto)
        for kernel in profile.nodes:
            found = None
            if kernel.kind is not NodeKind.INSERTED:
                found = group_of.get(primary_member(kernel, op_of, params))
            times[found or INSERTED_GROUP] += kernel.median_ms
    total = (profile.profiled_total_ms if profile else 0.0) or 1.0
    groups = [
        Group(
            name=group,
            nodes=count,
            ms=times.get(group, 0.0) if profile else None,
            share=times.get(group, 0.0) / total if profile else None,
        )
        for group, count in counts.items()
    ]
    if times.get(INSERTED_GROUP):
        groups.append(
            Group(
                name=INSERTED_GROUP,
                nodes=0,
                ms=times[INSERTED_GROUP],
                share=times[INSERTED_GROUP] / total,
            )
        )
    return groups


def _merge_consecutive(groups: list[Group]) -> list[Group]:
    """Too many blocks (e.g. 2,500 repeated layers): show ranges of consecutive blocks."""
    if len(groups) <= MAX_GROUPS:
        return groups
    size = math.ceil(len(groups) / MAX_GROUPS)
    merged = []
    for start in range(0, len(groups), size):
        chunk = groups[start : start + size]
        timed = [g.ms for g in chunk if g.ms is not None]
        shares = [g.share for g in chunk if g.share is not None]
        merged.append(
            Group(
                name=f"{chunk[0].name} … {chunk[-1].name}" if len(chunk) > 1 else chunk[0].name,
                nodes=sum(g.nodes for g in chunk),
                ms=sum(timed) if timed else None,
                share=sum(shares) if shares else None,
            )
        )
    return merged


def summarize_graph(
    model: str | Path | onnx.ModelProto, profile: ProfileResult | None = None
) -> GraphSummary:
    import onnx

    if isinstance(model, onnx.ModelProto):
        proto, label = model, model.graph.name
    else:
        path = resolve_model_path(model)
        # Names and op types only: no full checker. It is C++ that keeps the GIL, and this runs
        # on a thread of the window's process, whose UI thread then stalls as long. The model
        # was checked when it was picked, and profiling
        # or Netron reports a damaged one.
        proto, label = load_model(path, with_weights=False, check=False), str(path)
    names = [node_key(n, i) for i, n in enumerate(proto.graph.node)]
    op_keys = [(name, n.op_type) for name, n in zip(names, proto.graph.node, strict=True)]
    depth = choose_depth(names)
    prefix_keys = block_keys(names, depth)
    by_op = _groups(op_keys, profile, proto)
    by_op.sort(key=lambda g: (-(g.ms or 0.0), -g.nodes))
    return GraphSummary(
        model=label,
        node_count=len(names),
        large=len(names) > LARGE_GRAPH_NODES,
        by_op_type=by_op,
        by_prefix=_merge_consecutive(_groups(prefix_keys, profile, proto)),
        prefix_depth=depth,
    )
