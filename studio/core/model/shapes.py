"""Input sizes: read a tensor's dims, set flexible ones, infer the rest, parse NAME=DIMS.

Opening and reshaping a model needs no chip: the chip cost model and fix-shapes both use these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.core.errors import BadInput

if TYPE_CHECKING:  # onnx loads on first use: the GUI parses typed sizes before any model opens
    import onnx


def value_dims(value: onnx.ValueInfoProto) -> list[int | str | None]:
    """Each dim of a tensor: its size, its name (a flexible size), or None (unknown)."""
    out: list[int | str | None] = []
    for d in value.type.tensor_type.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            out.append(int(d.dim_value))
        elif d.HasField("dim_param") and d.dim_param:
            out.append(d.dim_param)
        else:
            out.append(None)
    return out


def parse_shapes(values: list[str] | None) -> dict[str, list[int]]:
    """``NAME=1x3x640x640`` → {"NAME": [1, 3, 640, 640]}."""
    shapes: dict[str, list[int]] = {}
    for value in values or []:
        name, sep, dims = value.partition("=")
        try:
            parsed = [int(d) for d in dims.lower().replace("×", "x").split("x")]
        except ValueError:
            parsed = []
        if not sep or not name or not parsed or any(d <= 0 for d in parsed):
            # Imported here: the CLI parses --shape before any command, and messages loads
            # pydantic, which `studio --help` must not wait for.
            from studio.core.messages import message

            raise BadInput(msg=message("shapes.bad", value=value))
        shapes[name] = parsed
    return shapes


def apply_shapes(model: onnx.ModelProto, shapes: dict[str, list[int]]) -> onnx.ModelProto:
    """Set the named inputs to fixed sizes; a name or rank the model does not have is BadInput."""
    from studio.core.model.loader import graph_inputs  # pydantic: not for the CLI's parser

    inputs = {v.name: v for v in graph_inputs(model)}
    for name, dims in shapes.items():
        if name not in inputs:
            known = ", ".join(inputs) or "(none)"
            raise BadInput(f"The model has no input named '{name}'", f"Inputs are: {known}")
        value = inputs[name]
        current = value_dims(value)
        if current and len(current) != len(dims):
            raise BadInput(
                f"Input '{name}' has {len(current)} dimensions, the size given has {len(dims)}",
                f"Give {len(current)} sizes, e.g. {name}={_example(current)}",
            )
        for axis, (old, new) in enumerate(zip(current, dims, strict=False)):
            if isinstance(old, int) and old != new:
                raise BadInput(
                    f"Input '{name}' has a fixed size {old} on axis {axis}, not {new}",
                    "Only the flexible (named or unknown) sizes can be set",
                )
        shape = value.type.tensor_type.shape
        shape.ClearField("dim")
        for d in dims:
            shape.dim.add().dim_value = int(d)
    return model


def _example(dims: list[int | str | None]) -> str:
    return "x".join(str(d) if isinstance(d, int) else "1" for d in dims)


def infer(model: onnx.ModelProto) -> onnx.ModelProto:
    """Shape inference from scratch: stale intermediate shapes from the exporter are dropped."""
    from onnx import shape_inference

    del model.graph.value_info[:]
    try:
        return shape_inference.infer_shapes(
            model, check_type=False, strict_mode=False, data_prop=True
        )
    except Exception as exc:  # onnx raises InferenceError and others for inconsistent graphs
        raise BadInput(
            f"Shape inference failed with these sizes ({str(exc).splitlines()[0][:200]})",
            "Check the sizes match what the model expects",
        ) from exc
