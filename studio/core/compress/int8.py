"""INT8 with onnxruntime's quantizer: dynamic (weights only) and static QDQ (calibrated)."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

import numpy as np

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


def _quant_type(value: ActivationType):
    from onnxruntime.quantization import QuantType

    return {
        ActivationType.UINT8: QuantType.QUInt8,
        ActivationType.UINT16: QuantType.QUInt16,
        ActivationType.INT8: QuantType.QInt8,
    }[value]


def _calibrate_method(value: CalibrateMethod):
    from onnxruntime.quantization import CalibrationMethod

    return {
        CalibrateMethod.MINMAX: CalibrationMethod.MinMax,
        CalibrateMethod.ENTROPY: CalibrationMethod.Entropy,
        CalibrateMethod.PERCENTILE: CalibrationMethod.Percentile,
    }[value]


def quantize_int8_dynamic(
    source: Path, dest: Path, settings: Int8Settings, exclude: list[str], external: bool
) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source), str(dest), weight_type=QuantType.QInt8, per_channel=settings.per_channel,
        reduce_range=settings.reduce_range, nodes_to_exclude=exclude,
        use_external_data_format=external,
    )


def quantize_int8_static(
    source: Path,
    dest: Path,
    samples: list[dict[str, np.ndarray]],
    settings: Int8Settings,
    exclude: list[str],
    external: bool,
    qnn: bool = False,
    report: Reporter = NULL_REPORTER,
) -> None:
    """Static QDQ: weights INT8 per channel, activations from calibration ranges."""
    # The calibrators print progress to stdout, which would corrupt `--json` output.
    with contextlib.redirect_stdout(sys.stderr):
        _quantize_static(source, dest, samples, settings, exclude, external, qnn, report)


def _quantize_static(
    source: Path, dest: Path, samples: list[dict[str, np.ndarray]], settings: Int8Settings,
    exclude: list[str], external: bool, qnn: bool, report: Reporter,
) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize, quantize_static

    reader = ListReader(samples, report)
    activation = _quant_type(settings.activations)
    method = _calibrate_method(settings.calibrate_method)
    # Entropy/percentile keep every intermediate output of every batch in memory; cap it.
    extra = {"CalibMaxIntermediateOutputs": 64} if settings.calibrate_method != "minmax" else {}
    if qnn:
        from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config

        # QNN's HTP wants unsigned 8-bit weights whatever the activation type.
        weight = QuantType.QUInt8
        config = get_qnn_qdq_config(
            str(source), reader, calibrate_method=method, activation_type=activation,
            weight_type=weight, per_channel=settings.per_channel, nodes_to_exclude=exclude,
        )
        config.use_external_data_format = external
        config.extra_options.update(extra)
        quantize(str(source), str(dest), config)
        return
    extra["ActivationSymmetric"] = False
    # 16-bit activations need the com.microsoft Q/DQ ops on opsets before 21.
    if activation in (QuantType.QUInt16, QuantType.QInt16):
        extra["UseQDQContribOps"] = True
    quantize_static(
        str(source), str(dest), reader, quant_format=QuantFormat.QDQ,
        per_channel=settings.per_channel, reduce_range=settings.reduce_range,
        activation_type=activation, weight_type=QuantType.QInt8, nodes_to_exclude=exclude,
        use_external_data_format=external, calibrate_method=method, extra_options=extra,
    )
