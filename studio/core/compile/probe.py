"""`studio check` asks the NPU's own compiler where each node runs, when the compiler is here.

The probe quantizes on made-up samples and compiles in a temporary folder (nothing is kept) in a
job child process, since the compiler is native code. Without the extra, or when the compiler
cannot take the model, check keeps its prediction from the published op list and says so.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from studio.core.atomic import temp_prefix
from studio.core.chips.catalogue import ChipProfile, get_chip
from studio.core.compile.result import Placement
from studio.core.errors import BadInput, StudioError
from studio.core.progress import NULL_REPORTER, Reporter

PREDICTED = "predicted from the published op list"
# backend id -> (module that must be importable, job target that returns a Placement)
PROBES: dict[str, tuple[str, str]] = {
    "qnn": ("onnxruntime_qnn", "studio.core.compile.probe:qnn_placement"),
}


def qnn_placement(
    model: str, chip: str, shapes: dict[str, list[int]], report: Reporter = NULL_REPORTER
) -> Placement:
    """Job target: QNN-style quantization on made-up samples, then one compile."""
    from studio.core.compile import qnn_runtime
    from studio.core.compile.qualcomm import compile_qdq
    from studio.core.compress.run import compress_model

    qnn_runtime.library_path()
    profile = get_chip(chip)
    target = profile.npu.compile_target if profile.npu else None
    if target is None:
        raise BadInput(f"{profile.name} has no NPU compiler target", "")
    with tempfile.TemporaryDirectory(prefix=temp_prefix("check")) as folder:
        qdq = Path(folder) / "probe.onnx"
        with qnn_runtime.stdout_to_stderr():
            compress_model(
                model,
                "int8-static",
                qdq,
                shapes=shapes,
                chip=chip,
                options={"int8": {"qnn": True, "activations": "uint16"}, "measure_latency": False},
                drift=False,
                report=report.sub(0.0, 0.7),
            )
            report.progress(0.7, "Asking the NPU compiler where each node runs")
            return compile_qdq(qdq, Path(folder) / "probe_ctx.onnx", target)


def compiler_placement(
    model: Path, chip: ChipProfile, shapes: dict[str, list[int]], report: Reporter = NULL_REPORTER
) -> tuple[Placement | None, str]:
    """(the compiler's placement or None, where check's answer comes from and why)."""
    from studio.core.jobs import JobSpec, run_job
    from studio.core.jobs.child import resolve_target

    target = chip.npu.compile_target if chip.npu else None
    if target is None or target.backend not in PROBES:
        return None, PREDICTED
    module, job = PROBES[target.backend]
    if importlib.util.find_spec(module) is None:
        return None, f"{PREDICTED}; install the qnn extra to have the chip's compiler check it"
    if multiprocessing.current_process().daemon:
        # Already a job child (the GUI's checks): it may not start children of its own, and is
        # the isolation the compiler needs.
        try:
            placement = resolve_target(job)(str(model), chip.id, shapes, report=report)
        except StudioError as exc:
            return None, f"{PREDICTED}: the chip's compiler could not take the model ({exc.what})"
        return placement, placement.source
    # The compiler's and quantizer's chatter goes to a log dropped afterwards, not the terminal.
    handle, name = tempfile.mkstemp(prefix=temp_prefix("check"), suffix=".log")
    os.close(handle)
    spec = JobSpec(
        title="check",
        target=job,
        kwargs={"model": str(model), "chip": chip.id, "shapes": shapes},
        native_log=Path(name),
    )
    try:
        placement = run_job(spec, on_progress=report.progress)
    except StudioError as exc:
        return None, f"{PREDICTED}: the chip's compiler could not take the model ({exc.what})"
    finally:
        Path(name).unlink(missing_ok=True)
    return placement, placement.source


def cpu_nodes(placement: Placement, nodes: list[tuple[str, str]]) -> dict[str, str]:
    """Node name → the compiler's reason, for the nodes (name, op type) it leaves to the CPU.

    Quantization and cleanup keep node names; a fallback node the model does not name (folded
    or renamed) marks the model's nodes of its op type."""
    names = {name for name, _ in nodes}
    found: dict[str, str] = {}
    for node in placement.fallback:
        reason = node.reason or "left to the CPU by the compiler"
        if node.name in names:
            found[node.name] = reason
            continue
        for name, op_type in nodes:
            if op_type == node.op_type:
                found.setdefault(name, reason)
    return found


class PlacementCheck(BaseModel):
    """The Target step's question: where does each node run on this chip, and who says so."""

    chip: str
    placement: Placement | None = None
    """The compiler's answer; None when the answer stays the published op list's prediction."""
    predicted: Literal["", "no-compiler", "no-extra", "rejected"] = ""
    """Why the compiler did not answer ("" when it did)."""
    detail: str = ""
    """The compiler's own words when it could not take the model."""


def compiler_state(chip: ChipProfile) -> Literal["none", "missing", "ready"]:
    """Whether ``chip`` has a compiler that can place nodes here: none at all, its extra is not
    installed, or ready (the GUI starts a placement job only then)."""
    target = chip.npu.compile_target if chip.npu else None
    if target is None or target.backend not in PROBES:
        return "none"
    return "ready" if importlib.util.find_spec(PROBES[target.backend][0]) else "missing"


def check_placement(
    model: str,
    chip: str,
    shapes: dict[str, list[int]] | None = None,
    report: Reporter = NULL_REPORTER,
) -> PlacementCheck:
    """Job target: the chip's compiler places ``model``'s nodes (quantize + compile, kept in a
    temporary folder), at the sizes `studio check` uses."""
    from studio.core.chips.cost import graph_cost
    from studio.core.model.loader import resolve_model_path

    profile = get_chip(chip)
    state = compiler_state(profile)
    if state != "ready":
        return PlacementCheck(chip=chip, predicted="no-compiler" if state == "none" else "no-extra")
    path = resolve_model_path(model)
    report.progress(0.0, "Reading the model")
    cost = graph_cost(path, shapes)
    placement, source = compiler_placement(path, profile, cost.input_shapes, report)
    if placement is None:
        detail = source.partition("could not take the model (")[2].removesuffix(")") or source
        return PlacementCheck(chip=chip, predicted="rejected", detail=detail)
    report.progress(1.0, "Placed")
    return PlacementCheck(chip=chip, placement=placement)
