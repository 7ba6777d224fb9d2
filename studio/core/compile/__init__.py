"""`studio compile MODEL --chip ID`: what the chip's own software stack loads, checked here.

One module per NPU stack, each with ``compile_for_chip(model, chip, out, *, calib, shapes, force,
report, **its own options)``. A chip whose profile names a compile target (Qualcomm's QNN) uses
that compiler; otherwise a keyword in the NPU's runtime text picks the module.
"""

from __future__ import annotations

import inspect
from importlib import import_module
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from studio.core.errors import BadInput
from studio.core.progress import NULL_REPORTER, Reporter

# The chip profile's compile_target.backend → backend module.
TARGETS: dict[str, str] = {
    "qnn": "studio.core.compile.qualcomm",
}
# Keyword in the NPU's runtime text → backend module.
BACKENDS: dict[str, str] = {
    "openvino": "studio.core.compile.openvino",
    "pulsar2": "studio.core.compile.pulsar2",
    "nnapi": "studio.core.compile.nnapi",
    "vendor sdk": "studio.core.compile.nnapi",  # AzureBlade: no public SDK, the honest ONNX path
}


def _module_for(chip: str) -> str | None:
    from studio.core.chips.catalogue import get_chip

    npu = get_chip(chip).npu
    target = npu.compile_target if npu is not None else None
    if target is not None and target.backend in TARGETS:
        return TARGETS[target.backend]
    runtime = npu.runtime.lower() if npu else ""
    return next((module for keyword, module in BACKENDS.items() if keyword in runtime), None)


def compilable_chips() -> list[str]:
    """Chip ids `studio compile` has a backend for, those with a real compiler first."""
    from studio.core.chips.catalogue import list_chips

    found = [c.id for c in list_chips() if _module_for(c.id)]
    return sorted(found, key=lambda c: _module_for(c) not in TARGETS.values())


def backend_for(chip: str) -> str:
    """The backend module for ``chip`` (an unknown chip id is BadInput from get_chip)."""
    module = _module_for(chip)
    if module is None:
        raise BadInput(
            f"`studio compile` has no backend for {chip} yet: the studio cannot compile for it",
            f"Choose one of: {', '.join(compilable_chips())}; or use `studio compress` and "
            "`studio bundle` for it",
        )
    return module


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
    from studio.core.track.record import log_result
    from studio.core.track.results import compile_run

    log_result(lambda: compile_run(result, chip, model), report)
    return result
