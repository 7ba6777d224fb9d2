"""`studio compile MODEL --chip ID`: what the chip's own software stack loads, checked here.

One module per NPU stack, each with ``compile_for_chip(model, chip, out, *, calib, shapes,
report)``; the chip profile's NPU runtime says which one (a keyword in its runtime text).
"""

from __future__ import annotations

import inspect
from importlib import import_module
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from studio.core.errors import BadInput
from studio.core.progress import NULL_REPORTER, Reporter

# Keyword in the NPU's runtime text → backend module.
BACKENDS: dict[str, str] = {
    "openvino": "studio.core.compile.openvino",
    "pulsar2": "studio.core.compile.pulsar2",
    "nnapi": "studio.core.compile.nnapi",
    "vendor sdk": "studio.core.compile.nnapi",  # AzureBlade: no public SDK, the honest ONNX path
}


def backend_for(chip: str) -> str:
    """The backend module for ``chip`` (an unknown chip id is BadInput from get_chip)."""
    from studio.core.chips.catalogue import get_chip

    npu = get_chip(chip).npu
    runtime = npu.runtime.lower() if npu else ""
    for keyword, module in BACKENDS.items():
        if keyword in runtime:
            return module
    raise BadInput(
        f"`studio compile` has no backend for {chip} yet",
        "Use `studio compress` and `studio bundle` for it, or pick a chip with an NPU compiler",
    )


def compile_model(
    model: str | Path,
    chip: str,
    out: str | Path,
    *,
    calib: str | Path | None = None,
    shapes: dict[str, list[int]] | None = None,
    force: bool = False,
    report: Reporter = NULL_REPORTER,
    **options: Any,
) -> BaseModel:
    backend = import_module(backend_for(chip))
    takes = inspect.signature(backend.compile_for_chip).parameters
    for name in options:
        if name not in takes:
            raise BadInput(
                f"--{name.replace('_', '-')} does not apply to {chip}",
                "Leave it out for this chip's backend",
            )
    result: BaseModel = backend.compile_for_chip(
        model, chip, out, calib=calib, shapes=shapes, force=force, report=report, **options
    )
    return result
