"""The "fix shapes" action: give a model's flexible input sizes fixed values and save a copy.

NPUs compile a model for one input size. This sets the sizes the user chose (e.g. image:
1×3×640×640), re-runs ONNX shape inference so every intermediate tensor gets a fixed size too,
and writes a new model next to nothing of the user's: to a temporary file renamed into place.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from pydantic import BaseModel

from studio.core.atomic import atomic_path
from studio.core.errors import BadInput, OutputError
from studio.core.messages import Fix, message
from studio.core.model.loader import (
    graph_inputs,
    load_model,
    resolve_model_path,
)
from studio.core.model.shapes import apply_shapes, infer, value_dims
from studio.core.progress import NULL_REPORTER, Reporter

_TWO_GB = 2_000_000_000


class FixShapesResult(BaseModel):
    source: str
    output: str
    inputs: dict[str, list[int | str | None]]
    still_flexible: list[str]
    unknown_tensors: int


def fix_shapes(
    model: str | Path,
    shapes: dict[str, list[int]],
    out: str | Path,
    *,
    force: bool = False,
    report: Reporter = NULL_REPORTER,
) -> FixShapesResult:
    if not shapes:
        raise BadInput(msg=message("shapes.none", Fix(option="shape", example="image=1x3x640x640")))
    source = resolve_model_path(model)
    out = Path(out).expanduser()
    if out.suffix != ".onnx":
        raise BadInput(
            f"{out.name} does not end in .onnx", "Give an output file name like model_fixed.onnx"
        )
    if out.resolve() == source.resolve():
        raise OutputError(msg=message("output.overwrites_original", Fix(action="other_out")))
    report.progress(0.0, "Loading the model")
    proto = load_model(source, with_weights=True)
    apply_shapes(proto, shapes)
    report.progress(0.4, "Re-running shape inference")
    inferred = infer(proto)
    unknown = sum(
        1
        for v in inferred.graph.value_info
        if not all(isinstance(d, int) for d in value_dims(v))
        or not v.type.tensor_type.HasField("shape")
    )
    inputs = {v.name: value_dims(v) for v in graph_inputs(inferred)}
    flexible = [
        f"{name}[{i}]"
        for name, dims in inputs.items()
        for i, d in enumerate(dims)
        if not isinstance(d, int)
    ]
    report.progress(0.7, "Writing the fixed model")
    with atomic_path(out, replace=force) as partial:
        if inferred.ByteSize() > _TWO_GB:
            onnx.save_model(
                inferred, str(partial), save_as_external_data=True, location=f"{out.name}.data"
            )
        else:
            onnx.save_model(inferred, str(partial))
    report.progress(1.0, "Saved")
    return FixShapesResult(
        source=str(source),
        output=str(out),
        inputs=inputs,
        still_flexible=flexible,
        unknown_tensors=unknown,
    )
