"""Make a model smaller: graph cleanup and INT8 quantization with onnxruntime's quantizer."""

from __future__ import annotations

import enum
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from pydantic import BaseModel

from studio.core.atomic import atomic_path
from studio.core.calibration import load_arrays, synthetic_inputs
from studio.core.errors import BadInput, OutputError
from studio.core.model import load_model, model_file_size, opset_of, resolve_model_path
from studio.core.progress import NULL_REPORTER, Reporter

log = logging.getLogger("studio")

SYNTHETIC_WARNING = (
    "No calibration data given: calibrating on random inputs. Accuracy after INT8 may be poor; "
    "pass --calib with real samples."
)


class Method(enum.StrEnum):
    CLEANUP = "cleanup"
    INT8_DYNAMIC = "int8-dynamic"
    INT8_STATIC = "int8-static"


METHOD_LABELS = {
    Method.CLEANUP: "Clean up the graph only (same precision, fewer nodes)",
    Method.INT8_DYNAMIC: "INT8 dynamic: weights to 8-bit, no calibration (best for transformers)",
    Method.INT8_STATIC: "INT8 static: weights and activations to 8-bit, calibrated (best for CNNs)",
}


class CompressResult(BaseModel):
    method: Method
    source: str
    output: str
    size_before: int
    size_after: int
    nodes_before: int
    nodes_after: int
    seconds: float
    warnings: list[str] = []

    @property
    def ratio(self) -> float:
        return self.size_before / max(self.size_after, 1)


def cleanup_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """Constant nodes to initializers, constant folding, dead nodes removed, shapes inferred."""
    import onnxslim

    slimmed = onnxslim.slim(model)
    if slimmed is None:  # onnxslim returns None only when it gave up; keep the original
        slimmed = model
    try:
        slimmed = onnx.shape_inference.infer_shapes(slimmed)
    except Exception as exc:  # shape inference is best effort; the model stays valid without it
        log.info("shape inference skipped: %s", exc)
    return slimmed


class _ListReader:
    """onnxruntime CalibrationDataReader over a list of input dicts."""

    def __init__(self, samples: list[dict[str, np.ndarray]], report: Reporter) -> None:
        self.samples = samples
        self.index = 0
        self.report = report

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.index >= len(self.samples):
            return None
        self.report.progress(self.index / len(self.samples), f"Calibrating {self.index + 1}/{len(self.samples)}")
        sample = self.samples[self.index]
        self.index += 1
        return sample

    def rewind(self) -> None:
        self.index = 0


def calibration_samples(
    model: onnx.ModelProto, calib: str | Path | None, limit: int, warnings: list[str]
) -> list[dict[str, np.ndarray]]:
    if calib:
        return load_arrays(calib, model)[:limit]
    warnings.append(SYNTHETIC_WARNING)
    log.warning(SYNTHETIC_WARNING)
    return [synthetic_inputs(model, seed=i) for i in range(min(limit, 16))]


def quantize_int8_dynamic(source: Path, dest: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(dest), weight_type=QuantType.QInt8)


def quantize_int8_static(source: Path, dest: Path, samples: list[dict[str, np.ndarray]],
                         report: Reporter = NULL_REPORTER) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    quantize_static(
        str(source),
        str(dest),
        _ListReader(samples, report),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )


def _ensure_opset(model: onnx.ModelProto, minimum: int) -> onnx.ModelProto:
    # Per-channel QDQ writes DequantizeLinear with an axis attribute, which needs opset 13.
    if opset_of(model) >= minimum:
        return model
    try:
        return onnx.version_converter.convert_version(model, minimum)
    except Exception as exc:
        raise BadInput(
            f"The model uses opset {opset_of(model)} and could not be upgraded to {minimum} ({exc})",
            "Re-export the model with opset 13 or newer",
        ) from exc


def compress_model(
    model: str | Path,
    method: Method | str,
    out: str | Path,
    *,
    calib: str | Path | None = None,
    calib_limit: int = 100,
    force: bool = False,
    report: Reporter = NULL_REPORTER,
) -> CompressResult:
    """Clean up, then (for INT8 methods) quantize ``model`` and write the result to ``out``."""
    started = time.perf_counter()
    try:
        method = Method(method)
    except ValueError:
        choices = ", ".join(m.value for m in Method)
        raise BadInput(f"Unknown method '{method}'", f"Use one of: {choices}") from None
    source = resolve_model_path(model)
    out = Path(out).expanduser()
    if out.resolve() == source.resolve():
        raise OutputError("The output would overwrite the input model", "Choose another --out path")
    if out.is_dir():
        out = out / f"{source.stem}.{method.value}.onnx"
    if out.exists() and not force:
        raise OutputError(f"{out} already exists", "Choose another --out path or pass --force")

    report.progress(0.0, "Reading the model")
    original = load_model(source)
    warnings: list[str] = []
    samples = []
    if method is Method.INT8_STATIC:
        samples = calibration_samples(original, calib, calib_limit, warnings)

    report.progress(0.1, "Cleaning up the graph")
    cleaned = cleanup_model(original)
    if method is Method.INT8_STATIC:
        cleaned = _ensure_opset(cleaned, 13)

    with atomic_path(out, replace=force) as partial:
        if method is Method.CLEANUP:
            onnx.save(cleaned, str(partial))
        else:
            with tempfile.TemporaryDirectory(prefix="studio-") as tmp:
                staged = Path(tmp) / "cleaned.onnx"
                onnx.save(cleaned, str(staged))
                report.progress(0.3, "Quantizing to INT8")
                if method is Method.INT8_DYNAMIC:
                    quantize_int8_dynamic(staged, partial)
                else:
                    quantize_int8_static(staged, partial, samples, report.sub(0.3, 0.95))
        report.progress(0.97, "Checking the result")
        load_model(partial)
        size_after = model_file_size(partial)
        nodes_after = len(onnx.load(str(partial), load_external_data=False).graph.node)

    result = CompressResult(
        method=method,
        source=str(source),
        output=str(out),
        size_before=model_file_size(source),
        size_after=size_after,
        nodes_before=len(original.graph.node),
        nodes_after=nodes_after,
        seconds=time.perf_counter() - started,
        warnings=warnings,
    )
    report.progress(1.0, "Done")
    log.info("%s: %d → %d bytes", method.value, result.size_before, result.size_after)
    return result
