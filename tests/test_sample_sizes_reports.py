"""Compress, profile and check measure at the sizes samples/sizes.py chooses, and say so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx

from studio.core.chips.check import check_model
from studio.core.compress.run import compress_model
from studio.core.samples.sizes import choose_sizes
from tests.support import sample_models as sm
from tests.support.compress_models import make_cnn

FAST = {"measure_latency": False, "eval_limit": 4}


def test_flexible_conv_net_gets_a_typical_size_that_is_a_multiple_of_its_stride(
    tmp_path: Path,
) -> None:
    model = sm.make_strided_classifier(tmp_path / "cls.onnx", downsamples=6)
    sizes = choose_sizes(onnx.load(str(model)))
    # 224 is not a multiple of the total stride 2^6 = 64: the next multiple is used.
    assert sizes.shapes == {"x": [1, 3, 256, 256]}
    assert sizes.text() == "measured at 1×3×256×256"
    assert "image classifier" in sizes.source_text() and "total stride 64" in sizes.source_text()
    result = compress_model(model, "int8-dynamic", tmp_path / "out.onnx", options=FAST)
    assert result.input_shapes == {"x": [1, 3, 256, 256]}
    assert result.measured_at == "measured at 1×3×256×256"
    assert result.report is not None and result.report.measured_at.startswith("measured at 1×3×")


def test_the_cli_says_where_compress_and_profile_measured(tmp_path: Path) -> None:
    model = sm.make_strided_classifier(tmp_path / "cls.onnx", downsamples=5)
    run = [sys.executable, "-m", "studio"]
    out = subprocess.run(
        [*run, "compress", str(model), "--method", "fp16", "--out", str(tmp_path / "o.onnx")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "measured at 1×3×224×224 (batch 1; typical size for an image classifier" in out
    out = subprocess.run(
        [*run, "profile", str(model), "--runs", "2"], capture_output=True, text=True, check=True
    ).stdout
    assert "measured at x 1×3×224×224" in out and "typical size for an image classifier" in out


def test_samples_decide_the_size(tmp_path: Path) -> None:
    model = make_cnn(tmp_path / "cnn.onnx", size="S", batch="batch", constants=False)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "calib.npz", image=rng.standard_normal((6, 3, 40, 40)).astype(np.float32))
    result = compress_model(
        model,
        "int8-static",
        tmp_path / "out.onnx",
        calib=tmp_path / "calib.npz",
        options=FAST,
    )
    assert result.input_shapes == {"image": [1, 3, 40, 40]}
    assert result.shape_source == "your samples"
    assert result.report is not None and result.report.measured_at == "measured at 1×3×40×40"
    assert result.report.sizes_note == ""  # real samples: measured at their size only


def test_int8_drift_of_a_detector_is_measured_at_a_real_size(tmp_path: Path) -> None:
    model = sm.make_dbnet_like(tmp_path / "det.onnx")
    # At 1×1 (the old default) the probability map is one constant: INT8 looks perfect.
    tiny = compress_model(
        model,
        "int8-static",
        tmp_path / "tiny.onnx",
        shapes={"x": [1, 3, 1, 1]},
        options=FAST,
    )
    assert tiny.report is not None and tiny.report.min_cosine > 0.99999
    real = compress_model(model, "int8-static", tmp_path / "real.onnx", options=FAST)
    rep = real.report
    assert rep is not None
    assert real.input_shapes == {"x": [1, 3, 640, 640]}
    assert "detector or segmenter" in real.shape_source
    assert rep.min_cosine < 0.999  # the drift INT8 really adds
    assert rep.sizes_note.startswith("Checked at two sizes (1×3×640×640 and 1×3×320×320)")
    assert rep.measured_at in ("measured at 1×3×640×640", "measured at 1×3×320×320")


def test_check_suggests_the_size_the_studio_measures_at(tmp_path: Path) -> None:
    from studio.core.analyze.profile import profile_model

    model = sm.make_dbnet_like(tmp_path / "det.onnx")
    result = check_model(model, "this-pc", predict=False)
    assert result.shape_suggestion == ["x=1x3x640x640"]
    assert result.input_shapes == {"x": [1, 3, 640, 640]}
    assert result.measured_at == "measured at 1×3×640×640"
    assert profile_model(model, runs=1, warmup=0, threads=1).input_shapes == result.input_shapes
