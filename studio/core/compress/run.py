"""compress_model: check, clean up, apply one method, measure drift, place the result atomically."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from pydantic import BaseModel, ValidationError

from studio.core.analyze.drift import DriftReport, Sessions
from studio.core.atomic import check_writable_parent, move_into_place, partial_path_for, remove_path
from studio.core.compress import graph
from studio.core.compress.auto import Candidate, run_auto
from studio.core.compress.channels import ChannelReport, speed_text
from studio.core.compress.drift_step import DriftJob, measure_drift
from studio.core.compress.external import relink
from studio.core.compress.method_ids import Method
from studio.core.compress.methods import parse_method
from studio.core.compress.options import CompressOptions
from studio.core.compress.passes import Prepared, run_method
from studio.core.compress.prune import SparsityReport
from studio.core.compress.sample_sizes import synthetic_count
from studio.core.errors import BadInput, OutputError
from studio.core.messages import Fix, Message, message
from studio.core.model.loader import (
    blame_damaged_source,
    graph_inputs,
    load_model,
    model_file_size,
    refuse_custom_ops,
    resolve_model_path,
)
from studio.core.model.ort_errors import ort_errors_in_plain_words
from studio.core.model.precision import Precision, model_precision
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.samples.calibration import load_samples, npz_has, npz_labels, synthetic_samples
from studio.core.samples.sizes import InputSizes, choose_sizes
from studio.core.schema import explain_validation
from studio.core.this_pc import THIS_PC_ID

log = logging.getLogger("studio")

SYNTHETIC_NOTICE = message("compress.random_calibration", Fix(option="calib"))
SYNTHETIC_WARNING = SYNTHETIC_NOTICE.english()
SYNTHETIC_SAMPLES = 16
SMALL_MODEL_BYTES = graph.EXTERNAL_DATA_THRESHOLD // 4
QUANTIZED = (Method.INT8_DYNAMIC, Method.INT8_STATIC, Method.INT4, Method.FP16, Method.AUTO)


class CompressResult(BaseModel):
    method: Method
    chosen: Method
    """The method whose result was written (differs from ``method`` only for auto)."""
    source: str
    output: str
    size_before: int
    size_after: int
    nodes_before: int
    nodes_after: int
    seconds: float
    warnings: list[str] = []
    """Every warning in English (the CLI's words)."""
    notices: list[Message] = []
    """The warnings that have a message id, as data, for a face to word them its own way."""
    kept_float: list[str] = []
    options: dict[str, Any] = {}
    report: DriftReport | None = None
    sparsity: SparsityReport | None = None
    channels: ChannelReport | None = None
    candidates: list[Candidate] = []
    input_shapes: dict[str, list[int]] = {}
    """The sizes calibration and the drift report used (the samples', or chosen)."""
    shape_source: str = ""
    measured_at: str = ""

    @property
    def ratio(self) -> float:
        return self.size_before / max(self.size_after, 1)


def _output_path(source: Path, out: str | Path, method: Method, force: bool) -> Path:
    out = Path(out).expanduser()
    if out.is_dir():
        out = out / f"{source.stem}.{method.value}.onnx"
    if out.resolve() == source.resolve():
        raise OutputError(msg=message("output.overwrites_input", Fix(action="other_out")))
    if out.suffix != ".onnx":
        raise OutputError(msg=message("output.not_onnx", name=out.name))
    data = out.with_name(out.name + ".data")
    for path in (out, data):
        if path.exists() and not force:
            raise OutputError(
                msg=message("output.exists", Fix(action="out_or_force"), path=str(path))
            )
    check_writable_parent(out)
    return out


def _checks(model: onnx.ModelProto, method: Method, qnn: bool) -> None:
    refuse_custom_ops(
        model.graph.node,
        "Export the model without custom ops, or register them before compressing",
    )
    if method in QUANTIZED:
        graph.refuse_half_precision(model, method.value)
    if qnn:
        flow = graph.control_flow_nodes(model)
        if flow:
            raise BadInput(
                f"The chip's NPU cannot run control flow: node '{flow[0].name}' is "
                f"{flow[0].op_type}",
                "Export the model without If/Loop (e.g. fixed sequence length)",
            )
        dynamic = graph.dynamic_inputs(model)
        if dynamic:
            name, axes = next(iter(dynamic.items()))
            raise BadInput(
                msg=message(
                    "compress.npu_dynamic",
                    Fix(option="shape", example=f"{name}=1x3x224x224"),
                    name=name,
                    axis=axes[0],
                )
            )


def _batch_one(model: onnx.ModelProto, shapes: dict[str, list[int]], warnings: list[str]) -> None:
    """NPUs compile for one shape: a dynamic *batch* axis alone is fixed to 1 (with a note);
    other dynamic axes need the user's sizes, since only they know them."""
    for name, axes in graph.dynamic_inputs(model).items():
        if name in shapes or axes != [0]:
            continue
        value = next(v for v in graph_inputs(model) if v.name == name)
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        shapes[name] = [1, *dims[1:]]
        warnings.append(f"Input '{name}' had a dynamic batch size; fixed it to 1 for the NPU.")


def _prepare(
    original: onnx.ModelProto,
    method: Method,
    options: CompressOptions,
    shapes: dict[str, list[int]],
    qnn: bool,
    warnings: list[str],
    report: Reporter = NULL_REPORTER,
    small: bool = False,
) -> onnx.ModelProto:
    # The caller drops the original, so it need not be copied.
    model = graph.cleanup_model(original, report, copy=False, small=small)
    if qnn:
        _batch_one(model, shapes, warnings)
    model = graph.fix_input_shapes(model, shapes)
    if options.opset:
        model = graph.ensure_opset(model, options.opset, "the opset you chose")
    if method in (Method.INT8_STATIC, Method.AUTO) or (
        method is Method.INT8_DYNAMIC and options.int8.per_channel
    ):
        # Per-channel Q/DQ writes DequantizeLinear with an axis attribute: opset 13.
        model = graph.ensure_opset(model, 13, "per-channel INT8")
    if options.int8.activations != "uint8" and method in (Method.INT8_STATIC, Method.AUTO):
        model = graph.ensure_opset(model, 21 if not qnn else 13, "16-bit activations")
    _checks(model, method, qnn)
    return model


def _not_the_target(drift: DriftReport, chip: str) -> None:
    """Timed on this PC's CPU, not on the target: say so rather than blame the method."""
    note = message(
        "drift.slower_not_target",
        after=f"{drift.latency_after_ms or 0:.2f}",
        before=f"{drift.latency_before_ms or 0:.2f}",
        chip=chip,
    )
    slower = {n.english() for n in drift.notices if n.id == "drift.slower"}
    drift.warnings = [note.english() if w in slower else w for w in drift.warnings]
    drift.notices = [note if n.id == "drift.slower" else n for n in drift.notices]


def _for_precision(method: Method, precision: Precision, warnings: list[str]) -> Method:
    """A model that arrives quantized is not quantized again: the quantizer would only wrap its
    integer ops in more nodes (0.3% bigger, no faster). Auto keeps it as it is."""
    if not precision.quantized or method not in QUANTIZED:
        return method
    if method is Method.AUTO:
        warnings.append(
            f"The model is already quantized ({precision.summary()}); auto kept its precision "
            "and only cleaned up the graph."
        )
        return Method.CLEANUP
    raise BadInput(
        f"The model is already quantized ({precision.summary()}), so {method.value} would "
        "not make it smaller or faster",
        "Compress the float model it was made from, or choose auto or cleanup for this one",
    )


def chip_wants_qnn(chip: str) -> bool:
    """Chips whose NPU runs through onnxruntime's QNN provider get the QNN-style Q/DQ config."""
    from studio.core.chips.catalogue import get_chip

    if chip == "this-pc":  # the CPU this runs on; skip reading the whole catalogue
        return False
    profile = get_chip(chip)
    return "qnn" in profile.main.runtime.lower()


def _samples(
    path: str | Path | None,
    model: onnx.ModelProto,
    source: Path,
    limit: int,
    options: CompressOptions,
    shapes: dict[str, list[int]],
    warnings: list[str],
    key: str,
) -> list[dict[str, np.ndarray]]:
    if not path:
        return []
    return load_samples(
        path,
        model,
        model_path=source,
        limit=limit,
        image=options.image,
        shapes=shapes,
        warnings=warnings,
        key=key,
    )


def _split_eval(
    calib: list[dict[str, np.ndarray]],
    evaluation: list[dict[str, np.ndarray]],
    model: onnx.ModelProto,
    options: CompressOptions,
    sizes: InputSizes,
    wanted: bool,
) -> tuple[list[dict[str, np.ndarray]], list[dict[str, np.ndarray]], str]:
    """Evaluation samples kept apart from calibration samples, and where they came from.

    Calibration is split the same way whether or not evaluation is ``wanted``, so turning the
    drift report off never changes the result."""
    if evaluation:
        return calib, evaluation[: options.eval_limit], "evaluation data"
    if len(calib) >= 2:
        held = max(1, min(options.eval_limit, len(calib) // 5))
        return calib[:-held], calib[-held:], "held-out calibration samples (not used to calibrate)"
    if calib:
        return calib, calib, "the single calibration sample (no separate evaluation data)"
    if not wanted:
        return calib, [], ""
    count = synthetic_count(sizes, min(options.eval_limit, 8))
    return calib, synthetic_samples(model, sizes, count, first_seed=1000), "random inputs"


@ort_errors_in_plain_words
def compress_model(
    model: str | Path,
    method: Method | str,
    out: str | Path,
    *,
    calib: str | Path | None = None,
    calib_limit: int = 100,
    evaluation: str | Path | None = None,
    options: CompressOptions | dict[str, Any] | None = None,
    shapes: dict[str, list[int]] | None = None,
    keep_float: list[str] | None = None,
    chip: str = "this-pc",
    force: bool = False,
    drift: bool = True,
    report: Reporter = NULL_REPORTER,
) -> CompressResult:
    """Clean up, apply ``method`` to ``model``, measure drift, and write the result to ``out``."""
    started = time.perf_counter()
    method = parse_method(method)
    if isinstance(options, CompressOptions):
        opts = options
    else:
        try:
            opts = CompressOptions.model_validate(options or {})
        except ValidationError as exc:
            raise explain_validation(exc, "the compress options") from exc
    if keep_float:
        opts = opts.model_copy(update={"keep_float": [*opts.keep_float, *keep_float]})
    shapes = dict(shapes or {})
    source = resolve_model_path(model)
    out = _output_path(source, out, method, force)
    chip_qnn = chip_wants_qnn(chip)  # also rejects an unknown chip id
    static = method in (Method.INT8_STATIC, Method.AUTO)
    qnn = static and (opts.int8.qnn if opts.int8.qnn is not None else chip_qnn)

    report.progress(0.0, "Reading the model")
    # Read once: the graph tells whether the weights sit in side files, then they are loaded.
    # onnx's full checker runs on the result below, and on the source only if something fails
    # (blame_damaged_source): a valid result shows the source was good enough, and each check
    # parses a file again.
    original = load_model(source, with_weights=False, check=False)
    requested = method
    with blame_damaged_source(source):
        warnings: list[str] = []
        notices: list[Message] = []
        method = _for_precision(method, model_precision(original), warnings)
        qnn = qnn and method is not Method.CLEANUP
        size_before = model_file_size(source, original)
        source_external = graph.uses_external_data(original)
        if source_external:
            original = load_model(source, check=False)
        # A single-file source's serialised size is its file size (measuring the proto would
        # serialise it again).
        external = source_external or size_before > graph.EXTERNAL_DATA_THRESHOLD
        report.progress(0.05, "Cleaning up the graph")
        nodes_before = len(original.graph.node)
        prepared_model = _prepare(
            original,
            method,
            opts,
            shapes,
            qnn,
            warnings,
            report.sub(0.05, 0.1),
            small=not external and size_before < SMALL_MODEL_BYTES,
        )
        del original

        if evaluation is None and npz_has(calib, "evaluation"):
            evaluation = calib  # a .npz with separate "calibration" and "evaluation" arrays
        calib_samples = _samples(
            calib, prepared_model, source, calib_limit, opts, shapes, warnings, key="calibration"
        )
        # Evaluation samples feed the drift report (and Auto's choice) only.
        wants_eval = drift or method is Method.AUTO
        eval_samples = _samples(
            evaluation if wants_eval else None,
            prepared_model,
            source,
            opts.eval_limit,
            opts,
            shapes,
            warnings,
            key="evaluation",
        )
        sizes = choose_sizes(prepared_model, shapes, calib_samples or eval_samples)
        calib_samples, eval_samples, sample_source = _split_eval(
            calib_samples, eval_samples, prepared_model, opts, sizes, wants_eval
        )
        if not calib_samples and method in (Method.INT8_STATIC, Method.AUTO):
            warnings.append(SYNTHETIC_WARNING)
            notices.append(SYNTHETIC_NOTICE)
            log.warning(SYNTHETIC_WARNING)
            count = synthetic_count(sizes, SYNTHETIC_SAMPLES)
            calib_samples = synthetic_samples(prepared_model, sizes, count)

        staging = partial_path_for(out)
        cleaned_path, result_path, leftovers = _staged_paths(
            staging, out, external, work_folder=drift or method is Method.AUTO
        )
        try:
            cleaned = graph.save_model(prepared_model, cleaned_path, external)
            prep = Prepared(
                model=prepared_model,
                path=cleaned,
                external=external,
                options=opts,
                calib_samples=calib_samples,
                qnn=qnn,
            )
            candidates: list[Candidate] = []
            sessions = Sessions()  # the original opened and run once for every comparison
            labels = npz_labels(evaluation) if sample_source == "evaluation data" else None
            if method is Method.AUTO:
                chosen, result_path, candidates = run_auto(
                    prep,
                    source,
                    staging,
                    result_path.name,
                    eval_samples,
                    sample_source,
                    warnings,
                    report.sub(0.1, 0.8),
                    sessions=sessions,
                    labels=labels,
                )
            else:
                chosen = method
                result_path = run_method(prep, method, result_path, report.sub(0.1, 0.7))
            report.progress(0.8, "Checking the result")
            # Read back once (it must load) for the checks below; the weights are not needed.
            written = load_model(result_path, with_weights=False)
            if chosen not in (Method.CLEANUP, Method.PRUNE, Method.PRUNE_CHANNELS):
                nothing = graph.changed_nothing_warning(prepared_model, written, chosen.value)
                if nothing:
                    warnings.append(nothing)
            drift_report = None
            if drift:
                drift_report = measure_drift(
                    DriftJob(
                        source=source,
                        result=result_path,
                        cleaned=cleaned,
                        chosen=chosen,
                        candidates=candidates,
                        samples=eval_samples,
                        sample_source=sample_source,
                        labels=labels,
                        measure_latency=opts.measure_latency,
                        work_dir=staging / "layers",
                    ),
                    prepared_model,
                    sizes,
                    sessions,
                    report.sub(0.8, 0.98),
                )
            if drift_report is not None and drift_report.slower and chip != THIS_PC_ID:
                _not_the_target(drift_report, chip)
            if prep.channels is not None:
                prep.channels.speed = speed_text(
                    drift_report.latency_before_ms if drift_report else None,
                    drift_report.latency_after_ms if drift_report else None,
                )
            nodes_after = len(written.graph.node)
            _place(result_path, out, force)
        finally:
            for path in leftovers:
                remove_path(path)
        result = CompressResult(
            method=requested,
            chosen=chosen,
            source=str(source),
            output=str(out),
            size_before=size_before,
            size_after=model_file_size(out, written),
            nodes_before=nodes_before,
            nodes_after=nodes_after,
            seconds=time.perf_counter() - started,
            warnings=warnings,
            notices=notices,
            kept_float=prep.excluded(),
            options=opts.model_dump(mode="json"),
            report=drift_report,
            sparsity=prep.sparsity,
            channels=prep.channels,
            candidates=candidates,
            input_shapes=sizes.shapes,
            shape_source=sizes.source_text(),
            measured_at=sizes.text(),
        )
        report.progress(1.0, "Done")
        log.info("%s: %d → %d bytes", chosen.value, result.size_before, result.size_after)
        return result


def _staged_paths(
    staging: Path, out: Path, external: bool, *, work_folder: bool
) -> tuple[Path, Path, list[Path]]:
    """Where the cleaned model and the result are written before the result is renamed to
    ``out``, and what to remove afterwards.

    ``work_folder``: ``staging`` must be a folder for other files too (Auto's candidates, the
    drift report's layer models). A model with external weights names its data file "<its
    name>.data" inside the model; it is written under a unique name and relinked to the final
    one by _place (the cleanup method may hand the cleaned copy on as the result). Otherwise the files sit flat in the folder, or with no folder needed, beside
    ``out`` under hidden partial names: each folder costs a journalled mkdir and rmdir (about 0.2
    ms each here), which counts against a quantize call of a few tens of ms."""
    if not (external or work_folder):
        cleaned = partial_path_for(out.with_name(f"cleaned-{out.name}"))
        return cleaned, staging, [cleaned, staging]
    staging.mkdir()
    if external:
        # Unique names: onnxruntime's quantizer refuses a weight-file name that exists in the
        # working folder (external.py); _place relinks the result to its final name.
        cleaned = staging / partial_path_for(out.with_name(f"cleaned-{out.name}")).name
        return cleaned, staging / partial_path_for(out).name, [staging]
    return staging / f"cleaned-{out.name}", staging / out.name, [staging]


def _place(result: Path, out: Path, force: bool) -> None:
    """Data file first, then the model: a model file never appears without its weights.

    The staging folder sits beside ``out``, so each file moves in with one rename."""
    data = relink(result, out.name)
    moves = [(data, out.with_name(out.name + ".data"))] if data else []
    for source, target in [*moves, (result, out)]:
        # --force replaces a file we wrote before; a folder there is the user's.
        try:
            move_into_place(source, target, replace=force and not target.is_dir())
        except OSError as exc:
            raise OutputError(
                msg=message(
                    "output.could_not_write",
                    Fix(action="writable_out"),
                    path=str(target),
                    reason=str(exc.strerror or exc),
                )
            ) from exc
