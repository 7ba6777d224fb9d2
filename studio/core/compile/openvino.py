"""Intel Core Ultra (Meteor Lake) NPU: ONNX → OpenVINO IR with static shapes, NNCF quantization.

The IR (.xml + .bin) is what OpenVINO loads on the target PC; its NPU plugin compiles it there
through Intel's NPU driver (the PyPI wheel carries no NPU compiler), so here the IR is checked on
OpenVINO's CPU device: drift against the FP32 ONNX (the report every method gets) and latency
beside onnxruntime's, timed run by run in turn with the same thread count.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from studio.core.analyze.drift import DriftReport, compare_models
from studio.core.bundle.folder import Manifest, create_bundle
from studio.core.compile.common import StaticModel, check_out, static_model, work_folder
from studio.core.errors import BadInput
from studio.core.messages import message
from studio.core.progress import NULL_REPORTER, Reporter
from studio.runner import compile_runner_files

Precision = Literal["int8", "fp32", "fp16", "int8-weights", "int4-weights"]
PRECISIONS: tuple[str, ...] = ("int8", "fp32", "fp16", "int8-weights", "int4-weights")
NPU_NOTE = (
    "The NPU blob is compiled by Intel's NPU driver on the target PC when the runner first loads "
    "the IR (cached in its model_cache folder); the OpenVINO wheel here has no NPU compiler, so "
    "this PC checked the IR on OpenVINO's CPU device."
)
INSTALL_HINT = "Install the OpenVINO extra: pip install -e '.[openvino]'"
# OpenVINO GenAI's NPU guide: INT4 symmetric, channel-wise weights (group size -1) for the NPU.
INT4_GROUP = -1


class OpenVinoResult(BaseModel):
    chip: str
    backend: Literal["openvino"] = "openvino"
    precision: str
    bundle: str
    ir: list[str]
    input_shapes: dict[str, list[int]]
    shape_source: str
    device_checked: str = "CPU"
    openvino_version: str
    latency_onnxruntime_ms: float | None = None
    latency_openvino_ms: float | None = None
    report: DriftReport | None = None
    npu_note: str = NPU_NOTE
    warnings: list[str] = []


def _openvino() -> Any:
    try:
        import openvino
    except ImportError as exc:
        raise BadInput("OpenVINO is not installed", INSTALL_HINT) from exc
    return openvino


class _Port:
    def __init__(self, name: str, type_: str) -> None:
        self.name, self.type = name, type_


class OpenVinoSession:
    """A compiled OpenVINO model behind onnxruntime's session calls (run, get_inputs,
    get_outputs), so drift and timing reuse core/analyze/drift unchanged."""

    def __init__(self, xml: Path, device: str = "CPU", threads: int | None = None) -> None:
        ov = _openvino()
        threads = threads or max(1, min(4, os.cpu_count() or 1))  # as drift.session's
        config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        self.compiled = ov.Core().compile_model(str(xml), device, config)
        self.request = self.compiled.create_infer_request()

    @staticmethod
    def _ports(ports: Any) -> list[_Port]:
        types = {"f32": "tensor(float)", "f16": "tensor(float16)"}
        return [
            _Port(p.get_any_name(), types.get(p.get_element_type().get_type_name(), "other"))
            for p in ports
        ]

    def get_inputs(self) -> list[_Port]:
        return self._ports(self.compiled.inputs)

    def get_outputs(self) -> list[_Port]:
        return self._ports(self.compiled.outputs)

    def run(self, names: list[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        result = self.request.infer(feeds)
        names = names or [p.name for p in self.get_outputs()]
        return [np.asarray(result[self.compiled.output(n)]) for n in names]


@contextlib.contextmanager
def _quiet() -> Any:
    """NNCF draws progress bars and tables on stdout, where the CLI writes its JSON."""
    nncf_log = logging.getLogger("nncf")
    level = nncf_log.level
    nncf_log.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        nncf_log.setLevel(level)


def convert_ir(static: StaticModel, precision: str, xml: Path, report: Reporter) -> None:
    """The static ONNX → IR at ``xml``, quantized or weight-compressed as ``precision`` says."""
    ov = _openvino()
    report.progress(0.1, "Converting to OpenVINO IR")
    try:
        model = ov.convert_model(str(static.path))
    except Exception as exc:  # OpConversionFailure and friends: the model, not a studio bug
        raise BadInput(msg=message("compile.openvino_rejected", reason=_first_reason(exc))) from exc
    with _quiet():
        import nncf

        if precision == "int8":
            report.progress(0.2, f"NNCF INT8 calibration on {len(static.calib)} samples")
            data = nncf.Dataset([{k: v for k, v in s.items()} for s in static.calib])
            model = nncf.quantize(model, data, subset_size=len(static.calib))
        elif precision == "int8-weights":
            model = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM)
        elif precision == "int4-weights":
            model = nncf.compress_weights(
                model, mode=nncf.CompressWeightsMode.INT4_SYM, group_size=INT4_GROUP, ratio=1.0
            )
    report.progress(0.5, "Saving the IR")
    ov.save_model(model, str(xml), compress_to_fp16=precision == "fp16")


def compile_for_chip(
    model: str | Path,
    chip: str,
    out: str | Path,
    *,
    calib: str | Path | None = None,
    shapes: dict[str, list[int]] | None = None,
    precision: str = "int8",
    force: bool = False,
    report: Reporter = NULL_REPORTER,
) -> OpenVinoResult:
    """A bundle at ``out`` with the OpenVINO IR, the static ONNX and an NPU→GPU→CPU runner."""
    if precision not in PRECISIONS:
        raise BadInput(
            f"'{precision}' is not an OpenVINO precision", f"Choose one of: {', '.join(PRECISIONS)}"
        )
    out = check_out(out, force)
    report.progress(0.0, "Fixing the input sizes")
    with work_folder(out) as work:
        static = static_model(model, work, calib=calib, shapes=shapes)
        ov = _openvino()
        ir = work / "openvino"
        ir.mkdir()
        xml = ir / "model.xml"
        convert_ir(static, precision, xml, report)
        report.progress(0.6, "Checking the IR on OpenVINO's CPU device")
        drift = compare_models(
            static.source,
            xml,
            static.evaluation,
            sample_source=static.sample_source,
            per_layer=False,
            open_compressed=OpenVinoSession,
            compressed_size=xml.stat().st_size + xml.with_suffix(".bin").stat().st_size,
            report=report.sub(0.6, 0.85),
        )
        drift.measured_at = static.sizes.text()
        # OpenVINO against onnxruntime on this CPU is a fact, not a reason to pick another method.
        drift.warnings = [w for w in drift.warnings if not w.startswith("The compressed model is")]
        result = OpenVinoResult(
            chip=chip,
            precision=precision,
            bundle=str(out),
            ir=["openvino/model.xml", "openvino/model.bin"],
            input_shapes=static.shapes,
            shape_source=static.sizes.source_text(),
            openvino_version=ov.__version__,
            latency_onnxruntime_ms=drift.latency_before_ms,
            latency_openvino_ms=drift.latency_after_ms,
            report=drift,
            warnings=static.warnings,
        )
        report.progress(0.9, "Writing the bundle")
        write_bundle(static, xml, chip, out, result, force)
    report.progress(1.0, "Done")
    return result


def write_bundle(
    static: StaticModel, xml: Path, chip: str, out: Path, result: OpenVinoResult, force: bool
) -> Manifest:
    extra = {
        "openvino/model.xml": xml,
        "openvino/model.bin": xml.with_suffix(".bin"),
        "runner/openvino_npu.py": compile_runner_files()["runner/openvino_npu.py"],
    }
    return create_bundle(
        static.path,
        out,
        chip=chip,
        method=f"openvino-{result.precision}",
        name=static.source.stem,
        reports={"compile": result.model_dump(mode="json")},
        extra_files=extra,
        force=force,
    )


def _first_reason(exc: Exception) -> str:
    """The line of OpenVINO's report that names the failing op ("-- If-13 with a message:"), or
    its first line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    named = [line.removeprefix("-- ").removesuffix(" with a message:") for line in lines]
    failed = [n for n, line in zip(named, lines, strict=True) if line.startswith("-- ")]
    return (failed[0] if failed else (lines[0] if lines else type(exc).__name__))[:200]
