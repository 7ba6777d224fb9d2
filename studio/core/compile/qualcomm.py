"""Compile for the Snapdragon Hexagon NPU (HTP) with onnxruntime-qnn, and check it on its emulator.

Fixed shapes and QNN-style QDQ quantization (compress_model's int8-static with the QNN config:
16-bit activations, 8-bit weights by default), then the QNN EP compiles the quantized model into
an EPContext model plus its context binary for the chip's HTP arch and SoC model. The EP's own
assignment says which nodes the HTP took; the compiled model then runs on the HTP emulator.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from studio.core.analyze.drift import DriftReport, compare_models
from studio.core.atomic import check_writable_parent, move_into_place, partial_path_for, remove_path
from studio.core.chips.catalogue import ChipProfile, CompileTarget
from studio.core.compile import qnn_runtime
from studio.core.compile.result import CompileResult, Placement
from studio.core.errors import BadInput, OutputError
from studio.core.messages import Fix, message
from studio.core.progress import NULL_REPORTER, Reporter

log = logging.getLogger("studio")

REPORT_NAME = "compile.json"
EVAL_SAMPLES = 8


def compile_for_chip(
    model: str | Path,
    chip: str,
    out: str | Path,
    *,
    calib: str | Path | None = None,
    shapes: dict[str, list[int]] | None = None,
    activations: str = "uint16",
    allow_cpu: bool = False,
    force: bool = False,
    report: Reporter = NULL_REPORTER,
) -> CompileResult:
    """``studio compile``'s entry for Qualcomm chips (see studio.core.compile)."""
    from studio.core.chips.catalogue import get_chip
    from studio.core.model.loader import resolve_model_path

    if activations not in ("uint16", "uint8"):
        raise BadInput(f"Activations '{activations}' are not offered", "Use uint16 or uint8")
    return compile_qnn(
        resolve_model_path(model),
        get_chip(chip),
        Path(out).expanduser(),
        calib=calib,
        shapes=dict(shapes or {}),
        activations=activations,
        allow_cpu=allow_cpu,
        force=force,
        report=report,
    )


def compile_qnn(
    source: Path,
    chip: ChipProfile,
    out: Path,
    *,
    calib: str | Path | None,
    shapes: dict[str, list[int]],
    activations: str,
    allow_cpu: bool,
    force: bool,
    report: Reporter = NULL_REPORTER,
) -> CompileResult:
    qnn_runtime.library_path()  # without the extra, say what to install before any work
    target = chip.npu.compile_target if chip.npu else None
    assert target is not None  # compile_model dispatched here because the profile has one
    _check_out(out, source, force)
    staging = partial_path_for(out)
    staging.mkdir()
    try:
        with qnn_runtime.stdout_to_stderr():
            result = _compile_in(
                staging, source, chip, target, out, calib, shapes, activations, allow_cpu, report
            )
        (staging / REPORT_NAME).write_text(result.model_dump_json(indent=2), encoding="utf-8")
        move_into_place(staging, out, replace=out.exists())  # _check_out allowed it
    finally:
        remove_path(staging)
    report.progress(1.0, "Compiled")
    return result


def _check_out(out: Path, source: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(msg=message("compile.out_is_file", path=str(out)))
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise OutputError(
                msg=message("output.exists", Fix(action="out_or_force"), path=str(out))
            )
        if not (out / REPORT_NAME).is_file():
            # --force replaces a compile we wrote, never a folder of the user's.
            raise OutputError(
                msg=message("compile.out_not_ours", Fix(action="other_out_folder"), path=str(out))
            )
    if source.parent.resolve() == out.resolve():
        raise OutputError(msg=message("compile.out_is_model_folder", Fix(action="new_out_folder")))
    check_writable_parent(out)


def _compile_in(
    staging: Path,
    source: Path,
    chip: ChipProfile,
    target: CompileTarget,
    out: Path,
    calib: str | Path | None,
    shapes: dict[str, list[int]],
    activations: str,
    allow_cpu: bool,
    report: Reporter,
) -> CompileResult:
    from studio.core.compress.run import compress_model

    report.progress(0.0, "Quantizing the way the HTP wants")
    qdq = staging / f"{source.stem}.qdq.onnx"
    quantized = compress_model(
        source,
        "int8-static",
        qdq,
        calib=calib,
        shapes=shapes,
        chip=chip.id,
        options={"int8": {"qnn": True, "activations": activations}, "measure_latency": False},
        drift=False,
        report=report.sub(0.0, 0.5),
    )
    report.progress(0.5, f"Compiling for HTP {target.arch}")
    compiled = staging / f"{source.stem}_ctx.onnx"
    started = time.perf_counter()
    where = compile_qdq(qdq, compiled, target)
    compile_seconds = time.perf_counter() - started
    _refuse_split(where, allow_cpu)
    report.progress(0.7, "Running the compiled model on the HTP emulator")
    samples, sample_source = _eval_samples(qdq, source, calib, shapes)
    drift, cpu_drift = _drifts(source, qdq, compiled, samples, sample_source, where, report)
    files = [*sorted(p.name for p in staging.iterdir()), REPORT_NAME]
    return CompileResult(
        source=str(source),
        output=str(out),
        chip=chip.id,
        backend=target.backend,
        arch=target.arch,
        soc_model=target.soc_model,
        model_file=compiled.name,
        files=files,
        activations=activations,
        input_shapes=quantized.input_shapes,
        shape_source=quantized.shape_source,
        quantize_seconds=quantized.seconds,
        compile_seconds=compile_seconds,
        placement=where,
        all_on_npu=where.all_on_npu,
        npu_share=where.npu_share,
        drift=drift,
        quantized_drift=cpu_drift,
        warnings=quantized.warnings,
    )


def compile_qdq(qdq: Path, compiled: Path, target: CompileTarget) -> Placement:
    """Compile with CPU fallback disabled first: if that succeeds, every node (the float↔int
    conversion of inputs and outputs too) is on the HTP, proven by the compiler. Otherwise
    compile again allowing the split, to learn which nodes fall back and why."""
    try:
        return _compile_once(qdq, compiled, target, strict=True)
    except _NeedsCpu:
        for leftover in compiled.parent.glob(f"{compiled.stem}*"):
            remove_path(leftover)
        return _compile_once(qdq, compiled, target, strict=False)


class _NeedsCpu(Exception):
    pass


def _compile_once(qdq: Path, compiled: Path, target: CompileTarget, *, strict: bool) -> Placement:
    """One QNN EP session with context generation on: writes ``compiled`` and its .bin."""
    import onnxruntime as ort

    options = qnn_runtime.session_options(
        target.arch, target.soc_model, strict=strict, verbose=True
    )
    for key, value in {
        "ep.context_enable": "1",
        "ep.context_file_path": str(compiled),
        "ep.context_embed_mode": "0",
        "session.record_ep_graph_assignment_info": "1",
    }.items():
        options.add_session_config_entry(key, value)
    try:
        with qnn_runtime.native_stderr() as captured:
            session = ort.InferenceSession(str(qdq), options)
    except Exception as exc:
        if strict and "fallback to CPU EP has been explicitly disabled" in str(exc):
            raise _NeedsCpu from exc
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInput(
            msg=message("compile.rejected", Fix(action="check_chip"), reason=first[:300])
        ) from exc
    where = qnn_runtime.placement(session, "".join(captured))
    del session
    if where.npu_partitions == 0 or not compiled.exists():
        raise BadInput(
            "The HTP took no part of this model: " + _fallback_text(where),
            "Replace those ops, or run the model on the CPU",
        )
    return where.model_copy(update={"strict": strict})


def _fallback_text(where: Placement, limit: int = 3) -> str:
    parts = [
        f"'{n.name}' ({n.op_type}{': ' + n.reason if n.reason else ''})"
        for n in where.fallback[:limit]
    ]
    more = len(where.fallback) - limit
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def _refuse_split(where: Placement, allow_cpu: bool) -> None:
    if where.all_on_npu or allow_cpu:
        return
    count = len(where.fallback)
    if count:
        what = f"{count} node(s) fall back to the CPU: {_fallback_text(where)}"
    else:
        what = f"the HTP takes the model in {where.npu_partitions} separate parts"
    raise BadInput(msg=message("compile.not_all_npu", Fix(option="allow_cpu"), what=what))


def _eval_samples(
    qdq: Path, source: Path, calib: str | Path | None, shapes: dict[str, list[int]]
) -> tuple[list[dict[str, np.ndarray]], str]:
    from studio.core.samples.calibration import load_samples, synthetic_samples
    from studio.core.samples.sizes import choose_sizes

    model = onnx.load(str(qdq), load_external_data=False)
    if calib:
        samples = load_samples(
            calib, model, model_path=source, limit=EVAL_SAMPLES, shapes=shapes, key="evaluation"
        )
        return samples, "the calibration samples (also used to calibrate)"
    sizes = choose_sizes(model, shapes)
    return synthetic_samples(model, sizes, EVAL_SAMPLES, first_seed=1000), "random inputs"


def _drifts(
    source: Path,
    qdq: Path,
    compiled: Path,
    samples: list[dict[str, np.ndarray]],
    sample_source: str,
    where: Placement,
    report: Reporter,
) -> tuple[DriftReport, DriftReport]:
    def on_emulator(path: Path) -> Any:
        try:
            return qnn_runtime.open_on_emulator(path, strict=where.strict)
        except Exception as exc:
            raise BadInput(
                f"The compiled model does not load on the HTP emulator ({str(exc)[:200]})",
                "Please report it with the model",
            ) from exc

    common: dict[str, Any] = {"sample_source": sample_source, "measure_latency": False}
    common["per_layer"] = False
    drift = compare_models(
        source,
        compiled,
        samples,
        open_compressed=on_emulator,
        report=report.sub(0.7, 0.9),
        **common,
    )
    cpu = compare_models(source, qdq, samples, report=report.sub(0.9, 1.0), **common)
    for result in (drift, cpu):  # compile takes its samples with --calib (there is no --eval)
        result.warnings = [w.replace("pass --eval", "pass --calib") for w in result.warnings]
    log.info("HTP emulator cosine %.5f, CPU QDQ cosine %.5f", drift.min_cosine, cpu.min_cosine)
    return drift, cpu


def read_report(folder: Path) -> dict[str, Any]:
    """compile.json of a compiled folder (for bundles and the GUI)."""
    report: dict[str, Any] = json.loads((folder / REPORT_NAME).read_text(encoding="utf-8"))
    return report
