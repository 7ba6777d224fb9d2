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
