"""Graph preparation shared by all methods: cleanup, opset upgrade, fixed shapes, checks, saving."""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from studio.core.errors import BadInput
from studio.core.messages import Fix, message
from studio.core.model.loader import all_nodes, graph_inputs, opset_of, proto_size
from studio.core.model.precision import QUANTIZED_OPS
from studio.core.progress import NULL_REPORTER, Reporter

log = logging.getLogger("studio")

# Protobuf cannot serialise a message over 2 GiB; stay well below it.
EXTERNAL_DATA_THRESHOLD = 1_800_000_000
CONTROL_FLOW = ("If", "Loop", "Scan")


def uses_external_data(model: onnx.ModelProto) -> bool:
    return any(init.data_location == onnx.TensorProto.EXTERNAL for init in model.graph.initializer)


def needs_external_data(model: onnx.ModelProto, source_external: bool) -> bool:
    return source_external or proto_size(model) > EXTERNAL_DATA_THRESHOLD


def save_model(model: onnx.ModelProto, path: Path, external: bool) -> Path:
    """Save next to ``path``; external weights go to ``<name>.data`` beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if external:
        from studio.core.compress.external import save_external

        save_external(model, path)
    else:
        onnx.save_model(model, str(path))
    return path


def name_nodes(model: onnx.ModelProto) -> None:
    """Give unnamed nodes stable names: exclusions and the per-layer report refer to them."""
    seen: set[str] = {n.name for n in model.graph.node if n.name}
    for index, node in enumerate(model.graph.node):
        if not node.name:
            name = f"{node.op_type}_{index}"
            while name in seen:
                name += "_"
            node.name = name
            seen.add(name)


def constants_to_initializers(model: onnx.ModelProto) -> int:
    """Constant nodes become initializers, in If/Loop branches too (old exporters store weights
    as Constants, which the quantizers do not see as weights)."""
    return _constants_in_graph(model.graph)


def _constants_in_graph(graph: onnx.GraphProto) -> int:
    moved = 0
    keep = []
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                moved += _constants_in_graph(attr.g)
            for sub in attr.graphs:
                moved += _constants_in_graph(sub)
        if node.op_type == "Constant" and len(node.output) == 1:
            value = _constant_value(node)
            if value is not None:
                graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
                moved += 1
                continue
        keep.append(node)
    if len(keep) != len(graph.node):
        del graph.node[:]
        graph.node.extend(keep)
    return moved


def _constant_value(node: onnx.NodeProto) -> np.ndarray | None:
    for attr in node.attribute:
        if attr.name == "value":
            return numpy_helper.to_array(attr.t)
        if attr.name == "value_float":
            return np.array(attr.f, dtype=np.float32)
        if attr.name == "value_floats":
            return np.array(list(attr.floats), dtype=np.float32)
        if attr.name == "value_int":
            return np.array(attr.i, dtype=np.int64)
        if attr.name == "value_ints":
            return np.array(list(attr.ints), dtype=np.int64)
    return None  # sparse or string constants stay as they are


def cleanup_model(
    model: onnx.ModelProto,
    report: Reporter = NULL_REPORTER,
    *,
    copy: bool = True,
    small: bool = False,
) -> onnx.ModelProto:
    """Constant nodes to initializers, constant folding, dead nodes removed, shapes inferred.

    ``copy=False`` lets a caller that will not use ``model`` again skip copying it first.
    ``small``: the caller knows the model is far below protobuf's 2 GB (its file was under a
    quarter of that), so it need not be measured (measuring serialises it)."""
    import onnxslim

    if copy and proto_size(model) < EXTERNAL_DATA_THRESHOLD:
        model = onnx.ModelProto.FromString(model.SerializeToString())
    report.progress(0.0, "cleaning up: Constant nodes to weights")
    moved = constants_to_initializers(model)
    report.progress(
        0.1,
        f"cleaning up: {moved} constants moved; folding constants and removing "
        f"dead nodes ({len(model.graph.node)} nodes)",
    )
    try:
        # FusionGemm turns MatMul+Add on 3-D inputs into Reshape→Gemm→Reshape with transposed
        # weights: INT4 (MatMul only) and channel pruning could then no longer see the layer,
        # and a large model's weights would be copied. onnxruntime fuses MatMul+Add itself.
        slimmed = onnxslim.slim(model, skip_fusion_patterns=["FusionGemm"])
    except Exception as exc:  # onnxslim is best effort; a model it cannot fold stays valid
        log.info("onnxslim skipped: %s", exc)
        slimmed = None
    model = slimmed if slimmed is not None else model
    report.progress(0.8, f"cleaning up: inferring shapes ({len(model.graph.node)} nodes)")
    model = infer_shapes(model, small=small)
    name_nodes(model)
    report.progress(1.0, f"cleaning up: done, {len(model.graph.node)} nodes")
    return model


def infer_shapes(model: onnx.ModelProto, *, small: bool = False) -> onnx.ModelProto:
    # Inference serialises the model; a huge one would briefly need its size again in memory.
    # Should folding ever grow a "small" model past 2 GB, serialising fails and is caught below.
    if not small and proto_size(model) > EXTERNAL_DATA_THRESHOLD:
        return model
    try:
        return onnx.shape_inference.infer_shapes(model)
    except Exception as exc:  # the model stays valid without inferred shapes
        log.info("shape inference skipped: %s", exc)
        return model


def ensure_opset(model: onnx.ModelProto, minimum: int, why: str) -> onnx.ModelProto:
    if opset_of(model) >= minimum:
        return model
    try:
        converted = onnx.version_converter.convert_version(model, minimum)
    except Exception as exc:
        raise BadInput(
            msg=message(
                "compress.opset_upgrade",
                Fix(action="convert_opset", example=str(minimum)),
                opset=opset_of(model),
                minimum=minimum,
                why=why,
                reason=str(exc).splitlines()[0],
            )
        ) from exc
    log.info("upgraded opset %d → %d for %s", opset_of(model), minimum, why)
    return converted


def fix_input_shapes(model: onnx.ModelProto, shapes: dict[str, list[int]]) -> onnx.ModelProto:
    """Set dynamic input dims to the values the user gave; refuse ones that contradict the model."""
    if not shapes:
        return model
    inputs = {v.name: v for v in graph_inputs(model)}
    for name, dims in shapes.items():
        if name not in inputs:
            raise BadInput(msg=message("shapes.not_input", name=name, inputs=", ".join(inputs)))
        tensor_dims = inputs[name].type.tensor_type.shape.dim
        if len(dims) != len(tensor_dims):
            raise BadInput(
                msg=message(
                    "shapes.rank",
                    name=name,
                    given=len(dims),
                    rank=len(tensor_dims),
                    example=f"{name}={'x'.join(['1'] * len(tensor_dims))}",
                )
            )
        for axis, (dim, want) in enumerate(zip(tensor_dims, dims, strict=True)):
            if dim.HasField("dim_value") and dim.dim_value > 0 and dim.dim_value != want:
                raise BadInput(
                    msg=message(
                        "shapes.fixed_axis", name=name, axis=axis, fixed=dim.dim_value, want=want
                    )
                )
            dim.Clear()
            dim.dim_value = want
    # Stale intermediate shapes would contradict the new fixed ones.
    del model.graph.value_info[:]
    return infer_shapes(model)


def dynamic_inputs(model: onnx.ModelProto) -> dict[str, list[int]]:
    """Inputs with dynamic dims → the axes that are dynamic."""
    found = {}
    for value in graph_inputs(model):
        axes = [
            axis
            for axis, d in enumerate(value.type.tensor_type.shape.dim)
            if not (d.HasField("dim_value") and d.dim_value > 0)
        ]
        if axes:
            found[value.name] = axes
    return found


def control_flow_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if n.op_type in CONTROL_FLOW]


def half_inputs(model: onnx.ModelProto) -> list[str]:
    half = (onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16)
    return [v.name for v in graph_inputs(model) if v.type.tensor_type.elem_type in half]


def half_weights(model: onnx.ModelProto) -> list[str]:
    half = (onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16)
    return [i.name for i in model.graph.initializer if i.data_type in half and len(i.dims) >= 2]


def refuse_half_precision(model: onnx.ModelProto, method: str) -> None:
    """onnxruntime's quantizers and the fp16 converter expect a float32 model."""
    inputs = half_inputs(model)
    weights = half_weights(model)
    if inputs or weights:
        where = f"input '{inputs[0]}'" if inputs else f"weight '{weights[0]}'"
        raise BadInput(
            f"The model is already half precision ({where} is float16), so {method} cannot "
            "start from it",
            "Use the float32 export of the model (studio convert can re-export PyTorch models)",
        )


def resolve_keep_float(model: onnx.ModelProto, entries: list[str]) -> list[str]:
    """Node names and op types the user wants kept in float → the node names they match."""
    by_name = {n.name: n for n in model.graph.node}
    op_types = {n.op_type for n in model.graph.node}
    matched: list[str] = []
    for entry in entries:
        if entry in by_name:
            matched.append(entry)
        elif entry in op_types:
            matched += [n.name for n in model.graph.node if n.op_type == entry]
        else:
            close = difflib.get_close_matches(entry, [*by_name, *op_types], n=3)
            hint = (
                f"Did you mean {', '.join(close)}?"
                if close
                else "Use a node name or op type shown by the model summary or the drift report"
            )
            raise BadInput(msg=message("compress.keep_float_unknown", entry=entry, hint=hint))
    return list(dict.fromkeys(matched))


def weight_counts(model: onnx.ModelProto) -> dict[str, int]:
    """Float weight elements feeding each op type (tells the methods what the model is made of)."""
    inits = {i.name: int(np.prod(i.dims)) for i in model.graph.initializer if len(i.dims) >= 2}
    counts: dict[str, int] = {}
    for node in model.graph.node:
        for name in node.input:
            if name in inits:
                counts[node.op_type] = counts.get(node.op_type, 0) + inits[name]
    return counts


def topological_sort(model: onnx.ModelProto) -> None:
    """Reorder nodes so each comes after its inputs' producers (some converters append Casts)."""
    available = {i.name for i in model.graph.input} | {i.name for i in model.graph.initializer}
    available.add("")
    pending = list(model.graph.node)
    ordered: list[onnx.NodeProto] = []
    while pending:
        progressed = []
        rest = []
        for node in pending:
            needed = set(node.input) | _subgraph_inputs(node)
            if needed <= available or not (needed - available) & _all_outputs(pending):
                progressed.append(node)
                available.update(node.output)
            else:
                rest.append(node)
        if not progressed:  # a cycle; leave the order alone and let the checker report it
            return
        ordered += progressed
        pending = rest
    del model.graph.node[:]
    model.graph.node.extend(ordered)


def _all_outputs(nodes: list[onnx.NodeProto]) -> set[str]:
    return {o for n in nodes for o in n.output}


def _subgraph_inputs(node: onnx.NodeProto) -> set[str]:
    names: set[str] = set()
    for attr in node.attribute:
        for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
            local = {i.name for i in sub.initializer} | {i.name for i in sub.input}
            local |= {o for n in sub.node for o in n.output}
            names |= {i for n in sub.node for i in n.input if i and i not in local}
    return names


def changed_nothing_warning(
    before: onnx.ModelProto, after: Path | onnx.ModelProto, method: str
) -> str | None:
    """A method that quantized no layer must say so instead of reporting a perfect score.

    ``after``: the result's path, or the result already loaded (its weights are not needed)."""
    if not isinstance(after, onnx.ModelProto):
        after = onnx.load(str(after), load_external_data=False)
    nodes = all_nodes(after.graph)
    if method == "fp16":
        touched = any(i.data_type == onnx.TensorProto.FLOAT16 for i in after.graph.initializer)
        touched = touched or any(n.op_type == "Cast" for n in nodes)
    else:
        touched = any(n.op_type in QUANTIZED_OPS for n in nodes)
    if touched:
        return None
    flow = control_flow_nodes(before)
    where = (
        (
            f": the weights sit inside the {flow[0].op_type} node '{flow[0].name}', which "
            "onnxruntime's quantizer does not enter. Export the model without If/Loop to "
            "compress it"
        )
        if flow
        else ": no layer type it handles has constant weights"
    )
    return f"{method} changed no layer; the result is only the cleaned-up float model{where}"
