"""INT8 with onnxruntime's quantizer: dynamic (weights only) and static QDQ (calibrated)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from studio.core.atomic import partial_path_for, remove_path
from studio.core.compress.node_progress import NodeCounter, counting_calls
from studio.core.compress.options import ActivationType, CalibrateMethod, Int8Settings
from studio.core.progress import NULL_REPORTER, Reporter

log = logging.getLogger("studio")


class ListReader:
    """onnxruntime CalibrationDataReader over a list of input dicts, reporting each batch."""

    def __init__(self, samples: list[dict[str, np.ndarray]], report: Reporter) -> None:
        self.samples = samples
        self.index = 0
        self.report = report

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.index >= len(self.samples):
            return None
        total = len(self.samples)
        self.report.progress(self.index / total, f"Calibrating batch {self.index + 1}/{total}")
        sample = self.samples[self.index]
        self.index += 1
        return sample

    def rewind(self) -> None:
        self.index = 0

    def __len__(self) -> int:
        return len(self.samples)


def _quant_type(value: ActivationType) -> Any:
    from onnxruntime.quantization import QuantType

    return {
        ActivationType.UINT8: QuantType.QUInt8,
        ActivationType.UINT16: QuantType.QUInt16,
        ActivationType.INT8: QuantType.QInt8,
    }[value]


def _calibrate_method(value: CalibrateMethod) -> Any:
    from onnxruntime.quantization import CalibrationMethod

    return {
        CalibrateMethod.MINMAX: CalibrationMethod.MinMax,
        CalibrateMethod.ENTROPY: CalibrationMethod.Entropy,
        CalibrateMethod.PERCENTILE: CalibrationMethod.Percentile,
    }[value]


def quantize_int8_dynamic(
    source: Path,
    dest: Path,
    settings: Int8Settings,
    exclude: list[str],
    external: bool,
    nodes: int = 0,
    report: Reporter = NULL_REPORTER,
) -> None:
    from onnxruntime.quantization import QuantType, onnx_quantizer, quantize_dynamic

    # The quantizer builds one op-quantizer per node (which quantizes that node's weights).
    counter = NodeCounter(report, nodes, "quantizing weights")
    with counting_calls(onnx_quantizer, "CreateOpQuantizer", counter):
        quantize_dynamic(
            str(source),
            str(dest),
            weight_type=QuantType.QInt8,
            per_channel=settings.per_channel,
            reduce_range=settings.reduce_range,
            nodes_to_exclude=exclude,
            use_external_data_format=external,
        )


def static_counts(model: onnx.ModelProto, exclude: list[str]) -> tuple[int, int]:
    """(nodes, weights) the QDQ quantizer will visit: nodes of an op type it knows that are not
    kept in float, and the float weights they read (for the progress totals)."""
    from onnxruntime.quantization.registry import QDQRegistry, QLinearOpsRegistry

    known = set(QDQRegistry) | set(QLinearOpsRegistry)
    skip = set(exclude)
    nodes = [n for n in model.graph.node if n.op_type in known and n.name not in skip]
    floats = {i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT}
    return len(nodes), len({name for n in nodes for name in n.input if name in floats})


def quantize_int8_static(
    source: Path,
    dest: Path,
    samples: list[dict[str, np.ndarray]],
    settings: Int8Settings,
    exclude: list[str],
    external: bool,
    qnn: bool = False,
    report: Reporter = NULL_REPORTER,
    nodes: int = 0,
    weight_count: int = 0,
) -> None:
    """Static QDQ: weights INT8 per channel, activations from calibration ranges."""
    from onnxruntime.quantization import qdq_quantizer

    # Calibration batches fill most of the bar; then one op-quantizer per quantized node, then
    # one Q/DQ pair per weight.
    layers = NodeCounter(report.sub(0.7, 0.8), nodes, "quantizing layers")
    weights = NodeCounter(
        report.sub(0.8, 1.0),
        weight_count or nodes,
        "quantizing weights",
        unit="weights",
        follows=layers,
    )
    # The calibrators print progress to stdout, which would corrupt `--json` output.
    with (
        contextlib.redirect_stdout(sys.stderr),
        counting_calls(qdq_quantizer, "CreateQDQQuantizer", layers),
        counting_calls(qdq_quantizer.QDQQuantizer, "_add_qdq_nodes_for_initializer", weights),
    ):
        _quantize_static(
            source, dest, samples, settings, exclude, external, qnn, report.sub(0.0, 0.7)
        )


def import_qnn_tools() -> None:
    """Import onnxruntime's QNN quantization tools without torch: their package
    onnxruntime.tools imports torch (seconds) for one export helper they never use."""
    if "onnxruntime.tools" in sys.modules:
        return
    real = importlib.util.find_spec

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "torch" else real(name, *args, **kwargs)

    importlib.util.find_spec = no_torch
    try:
        import onnxruntime.tools  # noqa: F401
    finally:
        importlib.util.find_spec = real


def _qnn_preprocess(source: Path, dest: Path, external: bool) -> bool:
    """onnxruntime's QNN pre-pass: Erf sequences become Gelu, ReduceL2 ones LpNormalization and
    (opset 17+) ReduceMean ones LayerNormalization, which the HTP runs as single ops. True when
    it wrote ``dest``."""
    import_qnn_tools()
    from onnxruntime.quantization.execution_providers.qnn import qnn_preprocess_model

    model = onnx.load(str(source))
    # onnxruntime 1.32's pre-pass fails on a model that carries metadata_props (REFERENCES.md).
    del model.metadata_props[:]
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    return bool(
        qnn_preprocess_model(
            model,
            dest,
            fuse_layernorm=opset >= 17,
            save_as_external_data=external,
            all_tensors_to_one_file=True,
            external_data_location=f"{dest.name}.data",
        )
    )


def _quantize_static(
    source: Path,
    dest: Path,
    samples: list[dict[str, np.ndarray]],
    settings: Int8Settings,
    exclude: list[str],
    external: bool,
    qnn: bool,
    report: Reporter,
) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize, quantize_static

    reader = ListReader(samples, report)
    activation = _quant_type(settings.activations)
    method = _calibrate_method(settings.calibrate_method)
    # Entropy/percentile keep every intermediate output of every batch in memory; cap it.
    extra = {"CalibMaxIntermediateOutputs": 64} if settings.calibrate_method != "minmax" else {}
    if qnn:
        import_qnn_tools()
        from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config

        fused = partial_path_for(dest.with_name(f"qnn-{dest.name}"))
        try:
            if _qnn_preprocess(source, fused, external):
                source = fused
            # QNN's HTP wants unsigned 8-bit weights whatever the activation type.
            weight = QuantType.QUInt8
            config = get_qnn_qdq_config(
                str(source),
                reader,
                calibrate_method=method,
                activation_type=activation,
                weight_type=weight,
                per_channel=settings.per_channel,
                nodes_to_exclude=exclude,
            )
            config.use_external_data_format = external
            config.extra_options.update(extra)
            quantize(str(source), str(dest), config)
        finally:
            remove_path(fused)
            remove_path(fused.with_name(fused.name + ".data"))
        return
    extra["ActivationSymmetric"] = False
    # 16-bit activations need the com.microsoft Q/DQ ops on opsets before 21.
    if activation in (QuantType.QUInt16, QuantType.QInt16):
        extra["UseQDQContribOps"] = True
    quantize_static(
        str(source),
        str(dest),
        reader,
        quant_format=QuantFormat.QDQ,
        per_channel=settings.per_channel,
        reduce_range=settings.reduce_range,
        activation_type=activation,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=exclude,
        use_external_data_format=external,
        calibrate_method=method,
        extra_options=extra,
    )
