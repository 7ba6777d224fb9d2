"""Models whose weights sit in a side file: save them, and rename that file with the model.

A model names its weight file inside itself ("<model>.data"), so it cannot simply be renamed.
onnx's own saver also refuses a weight-file name that exists in the *working* folder (it checks
the bare name, not the name beside the model), which made a second `compress --force` run from
the output folder crash. The studio therefore writes under unique hidden names and relinks the
model to its final weight-file name just before both are moved into place.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import onnx
from onnx.external_data_helper import convert_model_to_external_data

# Tensors under this size stay inside the model file.
SIZE_THRESHOLD = 1024


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Every tensor of ``graph`` and its subgraphs (If/Loop bodies) that may hold weights."""
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _tensors(attr.g)
            for sub in attr.graphs:
                yield from _tensors(sub)


def _set_location(model: onnx.ModelProto, location: str) -> None:
    for tensor in _tensors(model.graph):
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location


def save_external(model: onnx.ModelProto, path: Path) -> Path:
    """Save ``model`` to ``path`` with its weights in ``<path name>.data`` beside it."""
    # No location here: with one, onnx checks for that name in the working folder. Every
    # converted tensor gets the same random name, replaced by the real one before writing.
    convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location=None, size_threshold=SIZE_THRESHOLD
    )
    _set_location(model, f"{path.name}.data")
    data = path.with_name(f"{path.name}.data")
    data.unlink(missing_ok=True)  # onnx appends to an existing weight file
    onnx.save_model(model, str(path))
    return path


def relink(model_path: Path, final_name: str) -> Path | None:
    """Point the model at ``<final_name>.data`` instead of its own; return its weight file.

    None when the model keeps its weights inside. Only the small graph file is rewritten."""
    data = model_path.with_name(f"{model_path.name}.data")
    if not data.exists():
        return None
    if model_path.name != final_name:
        proto = onnx.load(str(model_path), load_external_data=False)
        _set_location(proto, f"{final_name}.data")
        onnx.save_model(proto, str(model_path))
    return data
