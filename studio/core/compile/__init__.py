"""Compile a model for a chip's NPU with the vendor's own compiler (``studio compile``).

The chip profile's ``compile_target.backend`` picks the compiler; each backend is one module
function with the signature of ``compile_qnn``, named in BACKENDS so others slot in beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from studio.core.compile.result import CompileResult, NodePlace, Placement
from studio.core.errors import BadInput
from studio.core.progress import NULL_REPORTER, Reporter

# backend id (chip profile's compile_target.backend) -> "module:function"
BACKENDS: dict[str, str] = {
    "qnn": "studio.core.compile.qualcomm:compile_qnn",
}

__all__ = ["BACKENDS", "CompileResult", "NodePlace", "Placement", "compile_model"]


def compilable_chips() -> list[str]:
    from studio.core.chips.catalogue import list_chips

    return [
        c.id
        for c in list_chips()
        if c.npu is not None
        and c.npu.compile_target is not None
        and c.npu.compile_target.backend in BACKENDS
    ]


def compile_model(
    model: str | Path,
    chip: str,
    out: str | Path,
    *,
    calib: str | Path | None = None,
    shapes: dict[str, list[int]] | None = None,
    activations: Literal["uint16", "uint8"] = "uint16",
    allow_cpu: bool = False,
    force: bool = False,
    report: Reporter = NULL_REPORTER,
) -> CompileResult:
    """Quantize ``model`` the way ``chip``'s NPU wants, compile it with the NPU's compiler into
    the folder ``out``, and measure the compiled model on the NPU emulator where there is one."""
    from studio.core.chips.catalogue import get_chip
    from studio.core.jobs.child import resolve_target
    from studio.core.model.loader import resolve_model_path

    profile = get_chip(chip)
    target = profile.npu.compile_target if profile.npu is not None else None
    if target is None or target.backend not in BACKENDS:
        known = ", ".join(compilable_chips()) or "none"
        raise BadInput(
            f"The studio cannot compile for {profile.name}: its profile names no NPU compiler "
            "(compile_target)",
            f"Choose one of: {known}",
        )
    if activations not in ("uint16", "uint8"):
        raise BadInput(f"Activations '{activations}' are not offered", "Use uint16 or uint8")
    backend = resolve_target(BACKENDS[target.backend])
    return backend(
        resolve_model_path(model),
        profile,
        Path(out).expanduser(),
        calib=calib,
        shapes=dict(shapes or {}),
        activations=activations,
        allow_cpu=allow_cpu,
        force=force,
        report=report,
    )
