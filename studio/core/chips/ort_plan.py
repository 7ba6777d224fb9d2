"""How onnxruntime will really run a model on This PC: which nodes it fuses and which it adds.

onnxruntime rewrites a graph before running it (Conv+Relu → one kernel, x·sigmoid(x) →
QuickGelu, MatMul+Add+Relu → FusedGemm, blocked-layout reorders, casts around float16 ops). A
prediction that costs every node of the user's graph separately counts fused work twice and
misses the added nodes. Rather than re-implementing onnxruntime's fusion rules, we ask
onnxruntime: optimize the model once (no run), save the result, and match it to the original with
the same mapping the profiler uses.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import onnx
from pydantic import BaseModel, Field

from studio.core.analyze.fusion_map import NodeKind, map_fused_nodes, node_key
from studio.core.atomic import temp_prefix
from studio.core.chips.cost import GraphCost, NodeCost

# Optimizing loads every weight: past this size the plan would cost more than the prediction.
MAX_MODEL_BYTES = 300e6
# Nodes onnxruntime adds that do real work: layout reorders for its blocked convolutions and
# NHWC transposes / Q-DQ around integer kernels. Casts are left to the measured float16 ratio.
ADDED_OPS = {"ReorderInput", "ReorderOutput", "Transpose", "QuantizeLinear", "DequantizeLinear"}
HEAVY = {"conv", "dwconv", "matmul"}
MAX_FUSED = 6


class InsertedNode(BaseModel):
    name: str
    op_type: str
    bytes: float = Field(description="input + output bytes, when the tensors are known")


class RunPlan(BaseModel):
    folded: list[str] = Field(description="the user's nodes whose work another node's kernel does")
    inserted: list[InsertedNode] = Field(description="nodes onnxruntime adds (reorders, casts)")


def _model_bytes(path: Path) -> float:
    total = path.stat().st_size
    for side in path.parent.glob(path.name + ".data"):
        total += side.stat().st_size
    return float(total)


def _optimized(path: Path, threads: int, out: Path) -> onnx.ModelProto:
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.optimized_model_filepath = str(out)
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", out.name + ".data"
    )
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", "1024"
    )
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return onnx.load(str(out), load_external_data=False)


def runtime_plan(path: Path, cost: GraphCost, threads: int) -> RunPlan | None:
    """The plan for ``path``, or None when onnxruntime cannot load it or it is too large."""
    import onnx

    try:
        if _model_bytes(path) > MAX_MODEL_BYTES:
            return None
        original = onnx.load(str(path), load_external_data=False)
        with tempfile.TemporaryDirectory(prefix=temp_prefix("plan")) as tmp:
            optimized = _optimized(path, threads, Path(tmp) / "optimized.onnx")
    except Exception:  # any load failure: the prediction simply goes without the plan
        return None
    run_names = [node.name for node in optimized.graph.node]
    fusion = map_fused_nodes(original, optimized, run_names)
    by_name = {n.name: n for n in cost.nodes}
    folded: set[str] = {name for name in fusion.removed if _vanishes(by_name.get(name))}
    inserted: list[InsertedNode] = []
    run_nodes = {node.name: node for node in optimized.graph.node}
    for run_name, mapping in fusion.nodes.items():
        if mapping.kind == NodeKind.INSERTED:
            node = run_nodes.get(run_name)
            if node is not None and node.op_type in ADDED_OPS:
                inserted.append(_inserted(node, cost))
            continue
        members = [by_name[name] for name in mapping.originals if name in by_name]
        if len(members) > 1 and _plausible_fusion(members):
            # The node with the most work is the kernel; the rest ride along inside it.
            anchor = max(members, key=lambda n: n.flops + n.bytes * 1e-3)
            folded.update(n.name for n in members if n is not anchor)
    names = {node_key(n, i) for i, n in enumerate(original.graph.node)}
    return RunPlan(folded=sorted(folded & names), inserted=inserted)


def _plausible_fusion(members: list[NodeCost]) -> bool:
    """One kernel does at most one heavy op plus a few light ones. A bigger group means the
    name matching went wrong (e.g. nodes renamed around float16 casts); it is then ignored."""
    heavy = sum(n.op_class in HEAVY for n in members)
    return heavy <= 1 and len(members) <= MAX_FUSED


def _vanishes(node: NodeCost | None) -> bool:
    """A node onnxruntime removes outright (no kernel claims it): only cheap glue, never math
    whose disappearance would mean the matching failed."""
    return node is not None and node.op_class in ("free", "quant", "data") and node.flops == 0


def _inserted(node: onnx.NodeProto, cost: GraphCost) -> InsertedNode:
    """An added node moves about as much as the original tensor it converts, read and written."""
    sizes = [cost.tensor_bytes[t] for t in (*node.input, *node.output) if t in cost.tensor_bytes]
    return InsertedNode(name=node.name, op_type=node.op_type, bytes=2.0 * max(sizes, default=0.0))
