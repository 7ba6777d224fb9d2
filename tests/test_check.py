"""The compatibility check on models with known ops, shapes, control flow, dtypes and memory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import onnx
import pytest
import yaml

from studio.cli import main
from studio.core.chips.catalogue import shipped_dir, user_dir
from studio.core.chips.check import FallbackOp, check_model
from studio.core.chips.cost import graph_cost
from studio.core.chips.verdict import share_text
from studio.core.errors import BadInput, OutputError
from studio.core.model.fix_shapes import fix_shapes
from tests.support.chip_models import (
    make_conv_then,
    make_convnet,
    make_double_model,
    make_if_model,
    make_tiny_llm,
)

SNAPDRAGON = "qualcomm-snapdragon-8-gen-3"


@pytest.fixture(scope="session")
def _calibration_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This PC's micro-benchmarks take seconds: measure once for the whole session."""
    return tmp_path_factory.mktemp("calibration-cache")


@pytest.fixture
def shared_cache(
    _fresh_user_folders: None, _calibration_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(_calibration_cache))
    return _calibration_cache


def test_conv_flops_are_exact(tmp_path: Path) -> None:
    cost = graph_cost(make_convnet(tmp_path / "m.onnx"))
    conv = next(n for n in cost.nodes if n.op_type == "Conv")
    assert conv.flops == 2 * 8 * 32 * 32 * 3 * 3 * 3  # 2 × outputs × (Cin·kH·kW)
    gemm = next(n for n in cost.nodes if n.op_type == "Gemm")
    assert gemm.flops == 2 * 4 * 8
    assert cost.input_shapes == {"x": [1, 3, 32, 32]}
    assert [d.name for d in cost.dynamic] == ["batch"]


def test_unsupported_op_falls_back_with_its_compute_share(tmp_path: Path) -> None:
    model = make_convnet(tmp_path / "m.onnx", batch=1, erf=True)
    result = check_model(model, SNAPDRAGON)
    cost = graph_cost(model)
    erf = next(n for n in cost.nodes if n.op_type == "Erf")
    share = erf.flops / cost.total_flops
    assert [f.op_type for f in result.fallback_ops] == ["Erf"]
    assert result.fallback_ops[0].flops_share == pytest.approx(share)
    assert result.accelerator_share == pytest.approx(1 - share)
    assert result.verdict.startswith(
        f"Runs, 1 op falls back to the CPU ({share * 100:.0f}% of compute)"
    )
    assert result.unsupported_ops == ["Erf"]
    placement = {p.node: p.unit for p in result.placement}
    assert placement["conv"] == "npu" and placement["act"] == "cpu"


def test_supported_model_runs_fully_on_the_npu(tmp_path: Path) -> None:
    result = check_model(make_convnet(tmp_path / "m.onnx", batch=1), SNAPDRAGON)
    assert result.fallback_ops == [] and result.accelerator_share == 1.0
    assert result.verdict.startswith("Runs fully on the NPU")
    # float32 needs quantization for the Hexagon NPU: said, with the recipe.
    assert any("float32" in issue for issue in result.dtype_issues)
    assert result.recommended.method == "int8-static"
    # No published NPU peak: no invented latency.
    assert result.latency.low_ms is None and result.latency_text() == "cannot predict"


def test_dynamic_dims_must_be_fixed_for_a_static_npu(tmp_path: Path) -> None:
    model = make_convnet(tmp_path / "m.onnx")
    result = check_model(model, SNAPDRAGON)
    assert result.dynamic_inputs[0].input == "x" and result.dynamic_inputs[0].names == ["batch"]
    assert result.shape_suggestion == ["x=1x3x32x32"]
    assert any("input sizes" in t for t in result.todo)
    fixed = check_model(model, SNAPDRAGON, shapes={"x": [2, 3, 32, 32]})
    assert fixed.dynamic_inputs == [] and not any("input sizes" in t for t in fixed.todo)


def test_control_flow_falls_back_on_the_npu_but_not_on_the_cpu(
    tmp_path: Path, shared_cache: Path
) -> None:
    model = make_if_model(tmp_path / "if.onnx")
    npu = check_model(model, SNAPDRAGON)
    assert npu.control_flow == ["branch"]
    assert [f.op_type for f in npu.fallback_ops] == ["If"]
    assert "control flow" in npu.fallback_ops[0].reason
    cpu = check_model(model, "this-pc")
    assert cpu.fallback_ops == [] and cpu.verdict.startswith("Runs on the CPU")


def test_float64_is_flagged(tmp_path: Path) -> None:
    result = check_model(make_double_model(tmp_path / "d.onnx"), "hailo-10h")
    assert any("float64" in issue for issue in result.dtype_issues)
    assert result.level == "warning"


def test_kv_cache_at_a_context_length(tmp_path: Path) -> None:
    model = make_tiny_llm(tmp_path / "llm.onnx", heads=2, head_dim=8)
    result = check_model(model, "raspberry-pi-5", context=1024)
    assert result.is_llm
    assert result.memory.kv_cache_bytes == 2 * (1 * 2 * 1024 * 8 * 4)  # key + value, float32
    assert result.memory.context == 1024
    llm = result.latency.llm
    assert llm is not None and llm.decode_high_tok_s and llm.decode_low_tok_s
    per_token = llm.weight_bytes + llm.kv_cache_bytes
    assert llm.decode_high_tok_s == pytest.approx(17.1e9 * 0.8 / per_token)
    assert result.recommended.method == "int4"
    default = check_model(model, "raspberry-pi-5")
    assert default.memory.context == 2048
    assert any("2048-token context" in a for a in default.assumptions)


def _tiny_memory_chip() -> str:
    data = yaml.safe_load((shipped_dir() / "raspberry-pi-5.yaml").read_text(encoding="utf-8"))
    data["id"] = "tiny-ram"
    data["memory"]["capacity_gb"] = {"value": 0.00001, "source": "test", "confidence": "vendor"}
    user_dir().mkdir(parents=True, exist_ok=True)
    (user_dir() / "tiny-ram.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return "tiny-ram"


def test_wont_fit_when_memory_is_too_small(tmp_path: Path) -> None:
    result = check_model(make_convnet(tmp_path / "m.onnx", batch=1), _tiny_memory_chip())
    assert result.level == "bad" and result.memory.fits is False
    assert result.verdict.startswith("Won't fit: needs ") and "chip has 10 KB" in result.verdict


def test_this_pc_prediction_is_calibrated_and_cached(tmp_path: Path, shared_cache: Path) -> None:
    result = check_model(make_convnet(tmp_path / "m.onnx", batch=1), "this-pc")
    pred = result.latency
    assert pred.calibrated and pred.complete
    assert 0 < pred.low_ms < pred.high_ms
    assert sum(n.low_ms for n in pred.nodes) <= pred.low_ms  # plus the per-run overhead
    assert list((shared_cache / "calibration").glob("this-pc-*.json"))
    assert any("Calibrated on this PC" in a for a in pred.assumptions)


def test_fix_shapes_writes_a_new_model_with_inferred_sizes(tmp_path: Path) -> None:
    source = make_convnet(tmp_path / "m.onnx")
    before = source.read_bytes()
    out = tmp_path / "fixed.onnx"
    result = fix_shapes(source, {"x": [1, 3, 32, 32]}, out)
    assert result.inputs == {"x": [1, 3, 32, 32]} and result.still_flexible == []
    model = onnx.load(str(out))
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in model.graph.value_info
    }
    assert shapes["c"] == [1, 8, 32, 32]
    assert model.graph.output[0].type.tensor_type.shape.dim[0].dim_value == 1
    assert source.read_bytes() == before  # the user's model is untouched
    assert check_model(out, SNAPDRAGON).dynamic_inputs == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".studio-partial")]


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ({"image": [1, 3, 32, 32]}, "no input named 'image'"),
        ({"x": [1, 3, 32]}, "has 4 dimensions"),
        ({"x": [1, 3, 64, 64]}, "fixed size 32 on axis 2"),
        ({}, "No sizes given"),
    ],
)
def test_fix_shapes_bad_sizes(tmp_path: Path, shapes: dict, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        fix_shapes(make_convnet(tmp_path / "m.onnx"), shapes, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()


def test_fix_shapes_never_overwrites(tmp_path: Path) -> None:
    source = make_convnet(tmp_path / "m.onnx")
    with pytest.raises(OutputError, match="overwrite the original"):
        fix_shapes(source, {"x": [1, 3, 32, 32]}, source)
    existing = tmp_path / "taken.onnx"
    existing.write_text("mine")
    with pytest.raises(OutputError, match="already exists"):
        fix_shapes(source, {"x": [1, 3, 32, 32]}, existing)
    assert existing.read_text() == "mine"


def test_cli_check_json(tmp_path: Path, capsys, shared_cache: Path) -> None:
    model = make_convnet(tmp_path / "m.onnx", erf=True)
    assert (
        main(["check", str(model), "--chip", SNAPDRAGON, "--shape", "x=1x3x32x32", "--json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"].startswith("Runs, 1 op falls back")
    assert {
        "verdict",
        "placement",
        "unsupported_ops",
        "dynamic_inputs",
        "memory",
        "latency",
        "recommended",
    } <= set(data)
    assert data["unsupported_ops"] == ["Erf"] and data["dynamic_inputs"] == []
    assert "low_ms" in data["latency"] and "high_ms" in data["latency"]
    assert main(["check", str(model), "--chip", "this-pc"]) == 0
    out = capsys.readouterr().out
    assert "This PC (CPU): Runs on the CPU" in out and "predicted latency" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chip", "nope"], "Unknown chip 'nope'"),
        (["--chip", SNAPDRAGON, "--shape", "x=1xAx3"], "is not NAME=DIMS"),
        (["--chip", SNAPDRAGON, "--shape", "y=1x3x32x32"], "no input named 'y'"),
        (["--chip", SNAPDRAGON, "--context", "0"], "context must be at least 1"),
    ],
)
def test_cli_check_bad_input_exits_2(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    model = make_convnet(tmp_path / "m.onnx")
    assert main(["check", str(model), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_check_missing_model_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["check", str(tmp_path / "missing.onnx"), "--chip", SNAPDRAGON]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_fix_shapes(tmp_path: Path, capsys) -> None:
    model = make_convnet(tmp_path / "m.onnx")
    out = tmp_path / "fixed.onnx"
    assert main(["fix-shapes", str(model), "--shape", "x=1x3x32x32", "--out", str(out)]) == 0
    assert out.is_file() and "wrote" in capsys.readouterr().out
    assert main(["fix-shapes", str(model), "--shape", "x=1x3x32x32", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_compare_every_chip_at_once(tmp_path: Path, shared_cache: Path) -> None:
    from studio.core.chips.catalogue import list_chips
    from studio.core.chips.compare import compare_chips

    model = make_convnet(tmp_path / "m.onnx", erf=True)
    table = compare_chips(model)
    rows = {r.chip: r for r in table.rows}
    assert set(rows) == {c.id for c in list_chips()}
    assert rows["this-pc"].verdict == "Runs on the CPU" and rows["this-pc"].low_ms
    snap = rows[SNAPDRAGON]
    assert snap.verdict.startswith("Runs, 1 op falls back") and "sizes are fixed" in snap.verdict
    assert snap.latency == "cannot predict" and snap.memory.endswith("of 12.0 GB")
    assert rows["xindongli-azureblade-l"].memory.endswith("(chip size not published)")


def test_a_qdq_model_counts_as_quantized(tmp_path: Path) -> None:
    from tests.support.chip_models import make_qdq_convnet

    model = make_qdq_convnet(tmp_path / "qdq.onnx", tmp_path)
    cost = graph_cost(model)
    conv = next(n for n in cost.nodes if n.op_type == "Conv")
    assert conv.dtype in ("uint8", "int8")
    result = check_model(model, SNAPDRAGON)
    assert result.dtype_issues == [] and result.verdict == "Runs fully on the NPU"
    assert result.level == "good"


def test_int4_matmul_compute_is_counted_and_falls_back_on_qnn(tmp_path: Path) -> None:
    from tests.support.chip_models import make_int4_llm_layer

    model = make_int4_llm_layer(tmp_path / "int4.onnx", k=64, n=128)
    cost = graph_cost(model, {"x": [1, 1, 64]})  # one token
    assert cost.nodes[0].flops == 2 * 64 * 128 and cost.nodes[0].dtype == "int4"
    # Without a size the sequence is a typical text length, never 1 silently.
    assert graph_cost(model).input_shapes["x"] == [1, 128, 64]
    result = check_model(model, SNAPDRAGON, shapes={"x": [1, 1, 64]})
    assert result.verdict.startswith("Mostly on the CPU: 1 op falls back (100% of compute)")
    assert result.is_llm and result.recommended.method == "int4"


def test_qdq_pairs_inside_the_graph_are_fused_for_the_cpu_prediction(
    tmp_path: Path, shared_cache: Path
) -> None:
    from tests.support.chip_models import make_qdq_convnet

    model = make_qdq_convnet(tmp_path / "qdq.onnx", tmp_path)
    nodes = graph_cost(model).nodes
    boundary = [n for n in nodes if n.op_type == "QuantizeLinear" and not n.fused]
    assert len(boundary) == 1  # the model input's Q still runs; inner pairs fold into kernels
    assert any(n.fused for n in nodes if n.op_type == "DequantizeLinear")
    # Without onnxruntime's own plan the rule above decides what is free …
    from studio.core.analyze.profile import default_threads
    from studio.core.chips.catalogue import get_chip
    from studio.core.chips.ort_plan import runtime_plan
    from studio.core.chips.predict import predict_latency

    cost = graph_cost(model)
    by_rule = predict_latency(cost, get_chip("this-pc"), plan=None)
    fused = [p for p in by_rule.nodes if p.name in {n.name for n in nodes if n.fused}]
    assert fused and all(p.low_ms == 0 for p in fused)
    # … with it, the nodes onnxruntime folds into its integer kernels are.
    plan = runtime_plan(model, cost, threads=default_threads())
    assert plan is not None and plan.folded
    result = check_model(model, "this-pc")
    free = {p.name for p in result.latency.nodes if p.low_ms == 0}
    assert set(plan.folded) <= free
    assert any("own rewrite" in a for a in result.latency.assumptions)


def test_float16_is_not_predicted_faster_than_float32_on_this_pc(
    tmp_path: Path, shared_cache: Path
) -> None:
    """This CPU has no float16 math: onnxruntime computes in float32 plus casts, so halving the
    bytes (as a chip with float16 units would) predicted FP16 models far too fast."""
    import onnx

    from studio.core.compress.fp16 import convert_fp16
    from studio.core.compress.options import Fp16Settings
    from tests.support.chip_models import make_swish

    source = make_swish(tmp_path / "swish.onnx")
    half = tmp_path / "swish16.onnx"
    convert_fp16(onnx.load(str(source)), half, Fp16Settings(keep_io_types=True), [], False)
    fp32 = check_model(source, "this-pc").latency
    fp16 = check_model(half, "this-pc").latency
    assert fp16.estimate_ms >= 0.9 * fp32.estimate_ms
    assert any("float16 ops run as float32" in a for a in fp16.assumptions)


def test_calibration_measures_the_families_the_prediction_uses(shared_cache: Path) -> None:
    from studio.core.analyze.profile import default_threads
    from studio.core.chips.calibrate_pc import calibrate, rate_at

    calib = calibrate(default_threads())
    assert {"norm", "elementwise", "transcendental", "softmax", "data", "copy"} <= set(calib.memory)
    assert {"conv_dqw", "conv_int8", "conv_k1", "conv_int8_k1", "matmul"} <= set(calib.compute)
    # Transposes are strided copies: never faster than block copies of the same bytes (a chain
    # of Transposes that onnxruntime cancelled once made them look free).
    big = max(p.work for p in calib.memory["data"])
    assert rate_at(calib.memory["data"], big) <= 1.5 * rate_at(calib.memory["copy"], big)
    assert set(calib.fp16_ratio) == {"compute", "memory"}
    assert all(r > 0 for r in calib.fp16_ratio.values())
    assert calib.peak_flops > 0 and calib.bandwidth_bytes > 0


def test_sizes_after_a_cast_of_constant_resize_scales_are_known(tmp_path: Path) -> None:
    """FP16 converters cast Resize's scales from a float16 constant; the cost model must still
    know every size after the Resize (it used to count those nodes as free)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    scales16 = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float16), "s16")
    nodes = [
        helper.make_node("Constant", [], ["s16"], value=scales16),
        helper.make_node("Cast", ["s16"], ["scales"], to=TensorProto.FLOAT),
        helper.make_node("Resize", ["x", "", "scales"], ["r"], name="resize", mode="nearest"),
        helper.make_node("Relu", ["r"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "resize_fp16_scales",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        # Named sizes only: the output must not give the answer away, and an output without any
        # shape is one onnx's checker (so info, compress and check alike) refuses.
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "c", "h", "w"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    cost = graph_cost(path)
    relu = next(n for n in cost.nodes if n.name == "relu")
    assert relu.known and relu.flops == 1 * 2 * 8 * 8
    assert all(n.known for n in cost.nodes)


def _weights_outside_folder(tmp_path: Path) -> Path:
    from tests.support.compress_models import make_block

    (tmp_path / "sub").mkdir()
    model = make_block(tmp_path / "sub" / "ext.onnx", external=True)
    (tmp_path / "sub" / "ext.onnx.data").rename(tmp_path / "outside.data")
    proto = onnx.load(str(model), load_external_data=False)
    for tensor in proto.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../outside.data"
    onnx.save(proto, str(model))
    return model


def _unknown_rank(tmp_path: Path) -> Path:
    model = make_convnet(tmp_path / "rank.onnx")
    proto = onnx.load(str(model))
    proto.graph.input[0].type.tensor_type.ClearField("shape")
    onnx.save(proto, str(model))
    return model


@pytest.mark.parametrize(
    ("make", "chip", "message"),
    [
        (_weights_outside_folder, SNAPDRAGON, "points outside the directory"),
        (_weights_outside_folder, "this-pc", "points outside the directory"),
        (_unknown_rank, SNAPDRAGON, "'shape' of 'type' is required"),
        (_unknown_rank, "this-pc", "'shape' of 'type' is required"),
    ],
    ids=["outside-npu", "outside-pc", "rank-npu", "rank-pc"],
)
def test_check_refuses_what_info_and_compress_refuse(
    tmp_path: Path, capsys, make, chip: str, message: str
) -> None:
    """check read the graph past onnx's checker and gave a verdict (exit 0) for these."""
    model = make(tmp_path)
    assert main(["info", str(model)]) == 2
    info_error = capsys.readouterr().err
    assert main(["check", str(model), "--chip", chip, "-q"]) == 2
    err = capsys.readouterr().err
    assert message in err and err == info_error


def test_check_on_this_pc_refuses_an_unknown_custom_op(tmp_path: Path, capsys) -> None:
    from tests.support.compress_models import make_custom_op

    model = make_custom_op(tmp_path / "custom.onnx")
    assert main(["check", str(model), "--chip", "this-pc", "-q"]) == 2
    assert "custom op (com.example::Mystery)" in capsys.readouterr().err
    # A vendor runtime may provide it: other chips still get a verdict, with the op on the CPU.
    assert check_model(model, SNAPDRAGON).fallback_ops[0].op_type == "Mystery"


def test_cli_check_says_share_ops_and_range_consistently(tmp_path: Path, capsys) -> None:
    """#23: '1 op falls back' sat next to 'on the NPU 100% of compute'; attention was
    recommended for a CNN; a range like '0.0129–0.676 ms' said nothing of what it meant."""
    model = make_conv_then(tmp_path / "m.onnx", "Erf", kernel=7)
    assert main(["check", str(model), "--chip", SNAPDRAGON]) == 0
    out = capsys.readouterr().out
    assert re.search(r"on the NPU +\d+\.\d% of compute; 1 op falls back to the CPU", out), out
    erf = FallbackOp(op_type="Erf", count=1, flops_share=0.0004, reason="")
    assert share_text(0.9996, [erf]) == ">99.9%" and share_text(0.996, [erf]) == "99.6%"
    assert share_text(1.0, []) == "100%"
    cnn = make_convnet(tmp_path / "cnn.onnx", batch=1)
    assert main(["check", str(cnn), "--chip", "axera-ax650n"]) == 0
    out = capsys.readouterr().out
    assert "attention" not in out.lower()
    assert "fast end:" in out and "slow end:" in out
