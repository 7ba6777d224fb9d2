"""Every compression method on models built here, with the drift report checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from studio.core.compress import CompressOptions, Method, compress_model, method_params
from tests.support.compress_models import cnn_samples, make_block, make_cnn

FAST = {"measure_latency": False}


def _ops(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}


@pytest.fixture
def cnn(tmp_path: Path) -> Path:
    return make_cnn(tmp_path / "cnn.onnx")


@pytest.fixture
def block(tmp_path: Path) -> Path:
    return make_block(tmp_path / "block.onnx")


def test_cleanup_moves_constants_and_keeps_outputs(cnn: Path, tmp_path: Path) -> None:
    result = compress_model(cnn, "cleanup", tmp_path / "out.onnx", options=FAST)
    assert "Constant" not in _ops(Path(result.output))
    assert result.nodes_after < result.nodes_before
    assert result.report is not None and result.report.min_cosine > 0.99999
    assert result.report.sample_source == "random inputs"
    assert any("random inputs" in w for w in result.report.warnings)


def test_int8_static_upgrades_opset_and_writes_qdq(cnn: Path, tmp_path: Path) -> None:
    samples = cnn_samples(tmp_path / "s.npz")
    result = compress_model(cnn, "int8-static", tmp_path / "q.onnx", calib=samples)
    model = onnx.load(result.output)
    assert {"QuantizeLinear", "DequantizeLinear"} <= _ops(Path(result.output))
    assert next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 13
    report = result.report
    assert report.sample_source.startswith("held-out")
    assert report.samples == 2  # 12 samples: 10 calibrate, 2 held out
    assert report.outputs[0].top1 is not None and report.outputs[0].top5 is not None
    assert report.latency_before_ms and report.latency_after_ms
    assert report.min_cosine > 0.95
    assert result.size_after < result.size_before


@pytest.mark.parametrize("calibrate", ["entropy", "percentile"])
def test_int8_static_calibration_methods(cnn: Path, tmp_path: Path, calibrate: str) -> None:
    samples = cnn_samples(tmp_path / "s.npz", count=4)
    options = {**FAST, "int8": {"calibrate_method": calibrate}}
    result = compress_model(
        cnn, "int8-static", tmp_path / "q.onnx", calib=samples, options=options, drift=False
    )
    assert "QuantizeLinear" in _ops(Path(result.output))


def test_int8_static_uint16_activations(cnn: Path, tmp_path: Path) -> None:
    options = {**FAST, "int8": {"activations": "uint16"}}
    result = compress_model(
        cnn,
        "int8-static",
        tmp_path / "q.onnx",
        options=options,
        calib=cnn_samples(tmp_path / "s.npz", count=4),
    )
    model = onnx.load(result.output)
    zero_points = [i for i in model.graph.initializer if i.data_type == onnx.TensorProto.UINT16]
    assert zero_points, "activations should use uint16 zero points"
    assert result.report.min_cosine > 0.99


def test_int8_static_qnn_config(cnn: Path, tmp_path: Path) -> None:
    options = {**FAST, "int8": {"qnn": True, "activations": "uint16"}}
    result = compress_model(
        cnn,
        "int8-static",
        tmp_path / "q.onnx",
        options=options,
        calib=cnn_samples(tmp_path / "s.npz", count=4),
    )
    assert "QuantizeLinear" in _ops(Path(result.output))


def test_synthetic_calibration_warns_loudly(cnn: Path, tmp_path: Path) -> None:
    result = compress_model(cnn, "int8-static", tmp_path / "q.onnx", options=FAST, drift=False)
    assert any("RANDOM inputs" in w for w in result.warnings)


def test_int8_dynamic_on_matmuls(block: Path, tmp_path: Path) -> None:
    result = compress_model(block, "int8-dynamic", tmp_path / "d.onnx", options=FAST)
    assert "MatMulInteger" in _ops(Path(result.output)) or "DynamicQuantizeLinear" in _ops(
        Path(result.output)
    )
    assert result.report.min_cosine > 0.98


def test_int4_matmulnbits(block: Path, tmp_path: Path) -> None:
    result = compress_model(block, "int4", tmp_path / "i4.onnx", options=FAST)
    assert "MatMulNBits" in _ops(Path(result.output))
    assert result.size_after < result.size_before
    assert result.report.min_cosine > 0.95


def test_int4_refuses_model_without_big_matmuls(cnn: Path, tmp_path: Path) -> None:
    from studio.core.errors import BadInput

    with pytest.raises(BadInput, match="INT4 changes only MatMul"):
        compress_model(cnn, "int4", tmp_path / "i4.onnx", options=FAST)
    assert not list(tmp_path.glob("i4*"))


@pytest.mark.parametrize("keep_io", [True, False])
def test_fp16_keeps_io_types_when_asked(block: Path, tmp_path: Path, keep_io: bool) -> None:
    options = {**FAST, "fp16": {"keep_io_types": keep_io}}
    result = compress_model(block, "fp16", tmp_path / "h.onnx", options=options)
    session = ort.InferenceSession(result.output, providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].type == ("tensor(float)" if keep_io else "tensor(float16)")
    assert result.report.min_cosine > 0.999
    assert result.size_after < result.size_before * 0.7


def test_keep_float_by_op_type_and_name(block: Path, tmp_path: Path) -> None:
    result = compress_model(
        block,
        "int8-static",
        tmp_path / "m.onnx",
        options=FAST,
        keep_float=["Softmax", "proj_o"],
        drift=False,
    )
    model = onnx.load(result.output)
    assert set(result.kept_float) == {"softmax", "proj_o"}
    # proj_o stays a float MatMul fed by no DequantizeLinear on its weight.
    proj = next(n for n in model.graph.node if n.name == "proj_o")
    assert proj.input[1] == "wo"


def test_prune_reports_sparsity_and_zeroes_weights(block: Path, tmp_path: Path) -> None:
    report_only = compress_model(block, "prune", tmp_path / "p0.onnx", options=FAST)
    assert report_only.sparsity.zeros_after == pytest.approx(0.0, abs=0.01)
    assert "no faster" in report_only.sparsity.note
    pruned = compress_model(
        block, "prune", tmp_path / "p5.onnx", options={**FAST, "prune": {"sparsity": 0.5}}
    )
    assert pruned.sparsity.zeros_after == pytest.approx(0.5, abs=0.02)
    wq = next(i for i in onnx.load(pruned.output).graph.initializer if i.name == "wq")
    assert np.mean(onnx.numpy_helper.to_array(wq) == 0) == pytest.approx(0.5, abs=0.02)


def test_auto_tries_candidates_and_picks_one_within_budget(cnn: Path, tmp_path: Path) -> None:
    result = compress_model(
        cnn, "auto", tmp_path / "a.onnx", calib=cnn_samples(tmp_path / "s.npz"), options=FAST
    )
    tried = {c.method for c in result.candidates}
    assert {Method.INT8_STATIC, Method.FP16} <= tried
    chosen = [c for c in result.candidates if c.chosen]
    assert len(chosen) == 1 and chosen[0].method == result.chosen
    assert chosen[0].within_budget


def test_auto_keeps_float_when_nothing_meets_budget(block: Path, tmp_path: Path) -> None:
    options = {**FAST, "auto": {"min_cosine": 1.0}}
    result = compress_model(block, "auto", tmp_path / "a.onnx", options=options)
    assert result.chosen is Method.CLEANUP
    assert any("no candidate" in c.note for c in result.candidates)


@pytest.mark.parametrize(
    "method", ["cleanup", "int8-dynamic", "int8-static", "int4", "fp16", "prune", "auto"]
)
def test_external_data_models_work_with_every_method(tmp_path: Path, method: str) -> None:
    source = make_block(tmp_path / "ext.onnx", external=True)
    assert (tmp_path / "ext.onnx.data").exists()
    out = tmp_path / "out" / "model.onnx"
    result = compress_model(source, method, out, options=FAST)
    data = out.with_name("model.onnx.data")
    assert data.exists(), "external-data models stay external"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".studio-partial")]
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    y = session.run(None, {"x": np.ones((1, 3, 64), np.float32)})[0]
    assert y.shape == (1, 3, 64)
    assert result.report.min_cosine > 0.9


def test_every_method_declares_documented_params() -> None:
    for method in Method:
        params = method_params(method)
        assert params and all(p.description for p in params)
    names = {p.name for p in method_params("int8-static")}
    assert {"int8.calibrate_method", "int8.activations", "image.mean", "keep_float"} <= names
    assert CompressOptions().int4.block_size == 32


@pytest.mark.parametrize("method", ["fp16", "int8-static", "int8-dynamic"])
def test_force_rerun_over_external_data_from_the_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """onnx checks a weight-file name against the working folder; a second --force run from
    the output folder (where the previous result's .data sits) used to crash there."""
    (tmp_path / "src").mkdir()
    source = make_block(tmp_path / "src" / "ext.onnx", external=True)
    original = {p.name: p.read_bytes() for p in source.parent.iterdir()}
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    monkeypatch.chdir(out_dir)
    for _ in range(2):
        result = compress_model(source, method, out_dir, options=FAST, force=True)
    out = Path(result.output)
    assert sorted(p.name for p in out_dir.iterdir()) == [out.name, f"{out.name}.data"]
    # The result names its weight file by its final name, and runs.
    proto = onnx.load(str(out), load_external_data=False)
    locations = {
        e.value for t in proto.graph.initializer for e in t.external_data if e.key == "location"
    }
    assert locations == {f"{out.name}.data"}
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.run(None, {"x": np.ones((1, 3, 64), np.float32)})[0].shape == (1, 3, 64)
    assert {p.name: p.read_bytes() for p in source.parent.iterdir()} == original


def test_the_gui_verdict_and_auto_share_one_rule_for_close() -> None:
    from studio.core.analyze.closeness import is_close
    from studio.core.analyze.drift import drift_verdict
    from studio.core.compress.options import AutoSettings

    defaults = AutoSettings()
    # INT8 with cosine 0.995 but only 7 of 8 samples keeping their top class: auto rejects it,
    # and the verdict the GUI shows no longer calls it close.
    assert not is_close(0.995, 0.875, defaults.min_cosine, defaults.min_top1)
    assert drift_verdict(0.995, 0.875).startswith("Outputs drift noticeably")
    assert drift_verdict(0.9995, 0.875).startswith("Outputs drift noticeably")
    assert drift_verdict(0.995, 1.0).startswith("Outputs stay close")
    assert drift_verdict(0.995).startswith("Outputs stay close")
    assert drift_verdict(0.9995, 1.0).startswith("Outputs match the original closely")
