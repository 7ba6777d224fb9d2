"""Compare two models: graph changes, sizes, and (if profiled) per-layer speed.

Typical use is original vs compressed. Quantizers rename what they replace (``fc1`` becomes
``fc1_quant`` plus scale nodes), so a node that vanished and reappears under a name derived from it
is reported as *replaced by* those nodes rather than as an unrelated removal and addition.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import onnx
from pydantic import BaseModel

from studio.core.analyze.fusion_map import node_key
from studio.core.analyze.profile import ProfileResult, profile_model
from studio.core.errors import BadInput
from studio.core.messages import Fix, message
from studio.core.model.loader import (
    load_model,
    model_file_size,
    parameter_count,
    resolve_model_path,
)
from studio.core.progress import NULL_REPORTER, Reporter

SCHEMA_VERSION = 1


class NodeRef(BaseModel):
    name: str
    op_type: str


class NodeChange(BaseModel):
    name: str
    op_type: str
    changes: list[str]  # plain words: "op type Conv → ConvInteger", "weights float32 → int8" …
    replaced_by: list[NodeRef] = []


class ModelSide(BaseModel):
    path: str
    file_size: int
    parameters: int
    nodes: int
    op_histogram: dict[str, int]


class LayerDelta(BaseModel):
    names: list[str]  # the original model's nodes that ran in this kernel
    ms_a: float
    ms_b: float

    @property
    def delta_ms(self) -> float:
        return self.ms_b - self.ms_a


class LayerDrift(BaseModel):
    name: str
    metric: str
    value: float


class DiffResult(BaseModel):
    version: int = SCHEMA_VERSION
    a: ModelSide
    b: ModelSide
    added: list[NodeRef]
    removed: list[NodeRef]
    changed: list[NodeChange]
    unchanged: int
    latency: list[LayerDelta] = []
    end_to_end_ms: tuple[float, float] | None = None
    drift: list[LayerDrift] = []

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _attributes(node: onnx.NodeProto) -> dict[str, bytes]:
    return {a.name: a.SerializeToString(deterministic=True) for a in node.attribute}


def _weight_types(model: onnx.ModelProto) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Weight tensors by name → (stored type, shape). A quantized weight read through a
    DequantizeLinear counts as a weight of the node reading it, with its stored (int) type."""
    types = {
        init.name: (onnx.TensorProto.DataType.Name(init.data_type).lower(), tuple(init.dims))
        for init in model.graph.initializer
    }
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and node.input and node.input[0] in types:
            types[node.output[0]] = types[node.input[0]]
    return types


def _describe_change(
    na: onnx.NodeProto,
    nb: onnx.NodeProto,
    wa: dict[str, tuple[str, tuple[int, ...]]],
    wb: dict[str, tuple[str, tuple[int, ...]]],
    dequantized_b: set[str],
) -> list[str]:
    changes: list[str] = []
    if (na.op_type, na.domain) != (nb.op_type, nb.domain):
        changes.append(f"op type {na.op_type} → {nb.op_type}")
    attrs_a, attrs_b = _attributes(na), _attributes(nb)
    keys = attrs_a.keys() | attrs_b.keys()
    differing = sorted(k for k in keys if attrs_a.get(k) != attrs_b.get(k))
    if differing:
        changes.append("settings changed: " + ", ".join(differing))
    weights_a = [wa[i] for i in na.input if i in wa]
    weights_b = [wb[i] for i in nb.input if i in wb]
    if weights_a != weights_b:
        kinds_a = sorted({dtype for dtype, _ in weights_a}) or ["none"]
        kinds_b = sorted({dtype for dtype, _ in weights_b}) or ["none"]
        if kinds_a != kinds_b:
            changes.append(f"weights {'/'.join(kinds_a)} → {'/'.join(kinds_b)}")
        else:
            changes.append("weight shapes changed")
    inputs_a = [i for i in na.input if i not in wa]
    inputs_b = [i for i in nb.input if i not in wb]
    if not changes and (inputs_a != inputs_b or list(na.output) != list(nb.output)):
        if any(i in dequantized_b for i in inputs_b):
            changes.append("input now quantized (QuantizeLinear → DequantizeLinear before it)")
        else:
            changes.append("connected differently")
    return changes


def _side(path: Path, model: onnx.ModelProto) -> ModelSide:
    return ModelSide(
        path=str(path),
        file_size=model_file_size(path, model),
        parameters=parameter_count(model),
        nodes=len(model.graph.node),
        op_histogram=dict(Counter(n.op_type for n in model.graph.node).most_common()),
    )


def structural_diff(
    model_a: onnx.ModelProto, model_b: onnx.ModelProto
) -> tuple[list[NodeRef], list[NodeRef], list[NodeChange], int]:
    nodes_a = {node_key(n, i): n for i, n in enumerate(model_a.graph.node)}
    nodes_b = {node_key(n, i): n for i, n in enumerate(model_b.graph.node)}
    wa, wb = _weight_types(model_a), _weight_types(model_b)
    dequantized_b = {
        n.output[0] for n in model_b.graph.node if n.op_type == "DequantizeLinear" and n.output
    }
    changed: list[NodeChange] = []
    unchanged = 0
    for name, na in nodes_a.items():
        if name in nodes_b:
            what = _describe_change(na, nodes_b[name], wa, wb, dequantized_b)
            if what:
                changed.append(NodeChange(name=name, op_type=na.op_type, changes=what))
            else:
                unchanged += 1
    gone = [name for name in nodes_a if name not in nodes_b]
    new = [name for name in nodes_b if name not in nodes_a]
    # Pair each new node with the longest vanished name it starts with ("fc1" → "fc1_quant").
    replaced: dict[str, list[str]] = {}
    for name in new:
        owners = [g for g in gone if name.startswith(g) and nodes_a[g].name]
        if owners:
            replaced.setdefault(max(owners, key=len), []).append(name)
    for old, successors in replaced.items():
        na = nodes_a[old]
        ops = sorted({nodes_b[s].op_type for s in successors})
        changed.append(
            NodeChange(
                name=old,
                op_type=na.op_type,
                changes=[f"replaced by {', '.join(ops)}"],
                replaced_by=[NodeRef(name=s, op_type=nodes_b[s].op_type) for s in successors],
            )
        )
    taken = {s for successors in replaced.values() for s in successors}
    removed = [NodeRef(name=g, op_type=nodes_a[g].op_type) for g in gone if g not in replaced]
    added = [NodeRef(name=n, op_type=nodes_b[n].op_type) for n in new if n not in taken]
    return added, removed, changed, unchanged


def latency_deltas(
    diff_changed: list[NodeChange], profile_a: ProfileResult, profile_b: ProfileResult
) -> list[LayerDelta]:
    """Per kernel of model A: its time, and the time model B spent on the same original nodes."""
    ms_a = {n.name: n.median_ms for n in profile_a.nodes}
    ms_b = {n.name: n.median_ms for n in profile_b.nodes}
    run_a = {name: run for name, (_, run) in profile_a.original_shares().items()}
    run_b = {name: run for name, (_, run) in profile_b.original_shares().items()}
    successors = {c.name: [r.name for r in c.replaced_by] for c in diff_changed if c.replaced_by}
    rows: dict[str, tuple[list[str], set[str]]] = {}
    for original, kernel in run_a.items():
        names, kernels_b = rows.setdefault(kernel, ([], set()))
        names.append(original)
        for counterpart in [original, *successors.get(original, [])]:
            if counterpart in run_b:
                kernels_b.add(run_b[counterpart])
    deltas = [
        LayerDelta(names=names, ms_a=ms_a[kernel], ms_b=sum(ms_b[k] for k in kernels_b))
        for kernel, (names, kernels_b) in rows.items()
    ]
    return sorted(deltas, key=lambda d: -abs(d.delta_ms))


def load_drift_report(path: str | Path) -> list[LayerDrift]:
    """Per-layer drift from a compression report (JSON).

    Accepted: a list of ``{"name"|"node": …, <metric>: number}`` under one of the keys
    ``per_layer``, ``layers``, ``layer_drift``, ``worst_layers`` (at the top or under
    ``report``/``drift``: `studio compress --json` writes ``report.worst_layers``), or a mapping
    ``{node name: number}`` under those keys. The metric is ``cosine`` if present, else the
    first numeric field.
    """
    path = Path(path).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BadInput(
            f"{path} does not exist", "Give the compression report's .json file"
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} is not a JSON file ({exc})", "Give the report .json file") from exc
    candidates = [data] + [data.get(k) for k in ("report", "drift") if isinstance(data, dict)]
    for holder in candidates:
        if not isinstance(holder, dict):
            continue
        for key in ("per_layer", "layers", "layer_drift", "worst_layers"):
            entries = holder.get(key)
            if isinstance(entries, dict):
                return [
                    LayerDrift(name=str(k), metric="drift", value=float(v))
                    for k, v in entries.items()
                    if isinstance(v, int | float)
                ]
            if isinstance(entries, list):
                return _drift_rows(entries, path, key)
    raise BadInput(msg=message("diff.no_layers", Fix(action="compress_json"), path=str(path)))


def _drift_rows(entries: list[Any], path: Path, key: str) -> list[LayerDrift]:
    rows = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise BadInput(f"{path}: '{key}' must be a list of objects", "Check the report file")
        name = entry.get("name") or entry.get("node")
        numeric = [
            k for k, v in entry.items() if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        metric = "cosine" if "cosine" in numeric else next(iter(numeric), None)
        if name is None or metric is None:
            raise BadInput(
                f"{path}: an entry of '{key}' has no name or no number",
                "Each entry needs a 'name' and a numeric drift value",
            )
        rows.append(LayerDrift(name=str(name), metric=metric, value=float(entry[metric])))
    return rows


def diff_models(
    a: str | Path,
    b: str | Path,
    *,
    profile_a: ProfileResult | None = None,
    profile_b: ProfileResult | None = None,
    drift_report: str | Path | None = None,
    drift: list[LayerDrift] | None = None,
) -> DiffResult:
    path_a, path_b = resolve_model_path(a), resolve_model_path(b)
    model_a = load_model(path_a, with_weights=False)
    model_b = load_model(path_b, with_weights=False)
    added, removed, changed, unchanged = structural_diff(model_a, model_b)
    result = DiffResult(
        a=_side(path_a, model_a),
        b=_side(path_b, model_b),
        added=added,
        removed=removed,
        changed=changed,
        unchanged=unchanged,
    )
    if profile_a is not None and profile_b is not None:
        result.latency = latency_deltas(changed, profile_a, profile_b)
        result.end_to_end_ms = (profile_a.end_to_end_ms, profile_b.end_to_end_ms)
    if drift_report is not None:
        result.drift = load_drift_report(drift_report)
    if drift:
        result.drift = list(drift)
    return result


def compare_original_and_optimized(
    a: str | Path,
    b: str | Path,
    *,
    runs: int = 10,
    threads: int | None = None,
    shapes: dict[str, list[int]] | None = None,
    drift: list[dict[str, Any]] | None = None,
    report: Reporter = NULL_REPORTER,
) -> DiffResult:
    """The Compare view in one call (a background job): profile both, then diff them.

    ``drift`` is the compression report's per-layer list (``worst_layers`` entries).
    """
    rows = _drift_rows(drift, Path("compression report"), "worst_layers") if drift else None
    profile_a = profile_model(
        a, runs=runs, threads=threads, shapes=shapes, report=report.sub(0.0, 0.5)
    )
    # Both on the same thread count, or the delta would measure the threads, not the models.
    profile_b = profile_model(
        b, runs=runs, threads=profile_a.threads, shapes=shapes, report=report.sub(0.5, 0.98)
    )
    result = diff_models(a, b, profile_a=profile_a, profile_b=profile_b, drift=rows)
    report.progress(1.0, "Compared")
    return result
