"""Per-layer drift: which nodes add the most error, found by comparing intermediate outputs.

Both models are re-saved with every shared intermediate tensor exposed as an output and run on
the same few samples. Drift accumulates through a network, so each node is ranked by the error
it *adds* (its output error minus the worst error of its inputs), which points at the layers
worth keeping in float rather than at everything downstream of them.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from pydantic import BaseModel

from studio.core.model.loader import model_file_size
from studio.core.progress import NULL_REPORTER, Reporter

MAX_LAYER_MODEL_BYTES = 1 << 30
MAX_TENSORS = 3000
SUGGEST_MIN_ADDED = 0.001
FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE}


class LayerDrift(BaseModel):
    node: str
    op_type: str
    tensor: str
    cosine: float
    added: float
    """Error this node adds on top of its inputs' error (1 - cosine, clipped at 0)."""


def _float_tensors(model: onnx.ModelProto) -> set[str]:
    inferred = model
    with contextlib.suppress(Exception):  # without types every produced tensor is tried
        inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
    produced = {o for n in model.graph.node for o in n.output if o}
    return {t for t in produced if types.get(t, onnx.TensorProto.FLOAT) in FLOAT_TYPES}


def _augment(model: onnx.ModelProto, path: Path, tensors: list[str], dest: Path) -> Path:
    """``model``: ``path`` as loaded without its external weights (read once by the caller)."""
    # Imported here: the compress package imports this module through drift.
    from onnx.external_data_helper import load_external_data_for_model

    from studio.core.compress.graph import save_model, uses_external_data

    external = uses_external_data(model)
    if external:
        load_external_data_for_model(model, str(path.parent))
    present = {o.name for o in model.graph.output}
    model.graph.output.extend([onnx.ValueInfoProto(name=t) for t in tensors if t not in present])
    return save_model(model, dest, external=external)


def _squares(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float] | None:
    """(‖a‖², ‖b‖², ‖a−b‖²) of one tensor pair, or None when their shapes differ.

    In the tensors' own precision: the difference keeps the small error exact enough, and it is
    several times faster than converting every intermediate tensor to float64.
    """
    if a.shape != b.shape:
        return None
    a, b = a.ravel(), b.ravel()
    if a.dtype != b.dtype or a.dtype not in (np.float32, np.float64):
        a, b = a.astype(np.float32), b.astype(np.float32)  # float16 has no fast dot
    diff = a - b
    squares = (float(np.dot(a, a)), float(np.dot(b, b)), float(np.dot(diff, diff)))
    if all(math.isfinite(s) for s in squares):
        return squares
    a, b = np.nan_to_num(a.astype(np.float64)), np.nan_to_num(b.astype(np.float64))
    diff = a - b
    return float(a @ a), float(b @ b), float(diff @ diff)


def _one_minus_cosine(aa: float, bb: float, dd: float) -> float:
    """1 − cos(a, b) from the squared norms: (‖a−b‖² − (‖a‖−‖b‖)²) / (2‖a‖‖b‖), which does
    not cancel away a small error the way 1 − a·b/(‖a‖‖b‖) does."""
    na, nb = math.sqrt(aa), math.sqrt(bb)
    if na == 0 or nb == 0:
        return 0.0  # no direction to compare (a layer that outputs zeros here)
    return max(0.0, (dd - (na - nb) ** 2) / (2 * na * nb))


def layer_drift(
    reference: Path,
    compressed: Path,
    samples: list[dict[str, np.ndarray]],
    work_dir: Path,
    *,
    feeds_for: Callable[[Any, dict[str, np.ndarray]], dict[str, np.ndarray]],
    session_factory: Callable[[Path], Any],
    report: Reporter = NULL_REPORTER,
) -> tuple[list[LayerDrift], list[str], str]:
    """(worst layers, nodes to keep in float, note)."""
    if model_file_size(reference) > MAX_LAYER_MODEL_BYTES:
        return (
            [],
            [],
            "Per-layer drift skipped: the model is over 1 GB (it would need every "
            "intermediate tensor in memory).",
        )
    ref = onnx.load(str(reference), load_external_data=False)
    new = onnx.load(str(compressed), load_external_data=False)
    producer = {o: n for n in ref.graph.node for o in n.output if o}
    # A tensor counts only if the same kind of op produces it in both models: QDQ folds Relu
    # into its neighbour and reuses the name, which would compare different things.
    new_produced = {o: n.op_type for n in new.graph.node for o in n.output if o}
    outputs = {o.name for o in ref.graph.output}
    floats = _float_tensors(ref)  # shape inference over the whole model: once, not per tensor
    common = [
        t
        for t in producer
        if (new_produced.get(t) == producer[t].op_type or (t in outputs and t in new_produced))
        and t in floats
    ][:MAX_TENSORS]
    if not common or not samples:
        return [], [], "No intermediate tensors are shared by both models to compare."
    work_dir.mkdir(parents=True, exist_ok=True)
    report.progress(0.0, f"Per-layer drift: exposing {len(common)} intermediate tensors")
    try:
        ref_sess = session_factory(_augment(ref, reference, common, work_dir / "layers_ref.onnx"))
        del ref.graph.output[len(outputs) :]  # _attribute reads the graph, not the extra outputs
        new_sess = session_factory(_augment(new, compressed, common, work_dir / "layers_new.onnx"))
        del new
    except Exception as exc:  # exposing intermediates is best effort; outputs are still compared
        return [], [], f"Per-layer drift unavailable: {str(exc).splitlines()[0]}"
    names = [
        t
        for t in common
        if t in {o.name for o in ref_sess.get_outputs()}
        and t in {o.name for o in new_sess.get_outputs()}
    ]
    sums = {t: [0.0, 0.0, 0.0] for t in names}
    for index, sample in enumerate(samples):
        report.progress(
            0.3 + 0.7 * index / len(samples), f"Per-layer drift: sample {index + 1}/{len(samples)}"
        )
        a_out = ref_sess.run(names, feeds_for(ref_sess, sample))
        b_out = new_sess.run(names, feeds_for(new_sess, sample))
        for name, a, b in zip(names, a_out, b_out, strict=True):
            squares = _squares(np.asarray(a), np.asarray(b))
            if squares is not None:
                sums[name] = [total + part for total, part in zip(sums[name], squares, strict=True)]
    error = {name: _one_minus_cosine(*sums[name]) for name in names}
    layers = _attribute(ref, error)
    layers.sort(key=lambda layer: -layer.added)
    first: dict[str, LayerDrift] = {}  # each node once, where it drifted most
    for layer in layers:
        first.setdefault(layer.node, layer)
    layers = list(first.values())
    suggest = [layer.node for layer in layers[:3] if layer.added >= SUGGEST_MIN_ADDED]
    return [x for x in layers if x.added > 0][:10], list(dict.fromkeys(suggest)), ""


WEIGHTED_OPS = {"Conv", "ConvTranspose", "MatMul", "Gemm", "Attention", "LSTM", "GRU", "RNN"}


def _attribute(model: onnx.ModelProto, error: dict[str, float]) -> list[LayerDrift]:
    """Blame each compared tensor's *added* error on the node most likely to have caused it.

    Tensors not compared (renamed or fused away by the method) pass their inputs' error on; the
    error that appears at a compared tensor is put on the nearest weighted node (Conv, MatMul…)
    in the uncompared stretch above it, since that is what a user can keep in float.
    """
    producer = {o: n for n in model.graph.node for o in n.output if o}
    carried: dict[str, float] = {}
    layers = []
    for node in model.graph.node:  # the graph is topologically sorted
        upstream = max((carried.get(i, 0.0) for i in node.input), default=0.0)
        for out in node.output:
            if out in error:
                carried[out] = error[out]
                blamed = _nearest_weighted(node, producer, error)
                layers.append(
                    LayerDrift(
                        node=blamed.name,
                        op_type=blamed.op_type,
                        tensor=out,
                        cosine=round(1.0 - error[out], 6),
                        added=max(0.0, error[out] - upstream),
                    )
                )
            else:
                carried[out] = upstream
    return layers


def _nearest_weighted(
    node: onnx.NodeProto, producer: dict[str, onnx.NodeProto], compared: dict[str, float]
) -> onnx.NodeProto:
    frontier, seen = [node], {node.name}
    for _ in range(64):
        if not frontier:
            break
        current = frontier.pop(0)
        if current.op_type in WEIGHTED_OPS:
            return current
        for name in current.input:
            parent = producer.get(name)
            if parent is not None and name not in compared and parent.name not in seen:
                seen.add(parent.name)
                frontier.append(parent)
    return node
