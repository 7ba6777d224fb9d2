"""Structured (channel) pruning: channels really go, outputs stay right where only dead channels go,
unsafe layers are skipped with a reason, speed is only ever reported as measured."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from studio.cli import main
from studio.core.compress import compress_model
from studio.core.compress.channel_plan import plan_model
from studio.core.errors import BadInput
from studio.core.jobs import JobSpec, run_job
from tests.support.channel_models import make_conv_bn, make_mlp, make_residual
from tests.support.compress_models import make_block, make_if

HALF = {"channels": {"ratio": 0.5}}


def _dims(path: Path) -> dict[str, list[int]]:
    model = onnx.load(str(path))
    return {i.name: list(i.dims) for i in model.graph.initializer}


def _run(path: Path, feeds: dict[str, np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def test_conv_bn_relu_conv_loses_dead_channels_and_keeps_outputs(tmp_path: Path) -> None:
    source = make_conv_bn(tmp_path / "cnn.onnx")
    out = tmp_path / "p.onnx"
    result = compress_model(source, "prune-channels", out, options=HALF)
    report = result.channels
    assert report is not None
    # (cleanup folds the BatchNormalization into conv1, which may rename it)
    pruned = sorted((layer.channels_before, layer.channels_after) for layer in report.layers)
    assert pruned == [(16, 8), (32, 16)]
    assert {s.node for s in report.skipped} == {"fc"}
    assert "model output 'logits'" in report.skipped[0].reason
    assert report.params_after < report.params_before
    assert result.size_after < result.size_before
    # The depthwise Conv followed its input's channels, group attribute included.
    model = onnx.load(str(out))
    dw = next(
        n
        for n in model.graph.node
        if n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
    )
    assert next(a.i for a in dw.attribute if a.name == "group") == 8
    # Only dead channels were removed, so the outputs are the same.
    image = np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)
    np.testing.assert_allclose(
        _run(out, {"image": image}), _run(source, {"image": image}), rtol=1e-4, atol=1e-5
    )
    assert result.report.min_cosine > 0.9999
    assert result.report.worst_layers == []  # no "keep in float" for pruned layers


def test_speed_is_reported_only_as_measured(tmp_path: Path) -> None:
    source = make_conv_bn(tmp_path / "cnn.onnx")
    measured = compress_model(source, "prune-channels", tmp_path / "a.onnx", options=HALF)
    rep = measured.report
    assert rep.latency_before_ms and rep.latency_after_ms
    assert measured.channels.speed.startswith("Measured on this PC: ")
    assert f"{rep.latency_after_ms:.2f} ms" in measured.channels.speed
    unmeasured = compress_model(
        source, "prune-channels", tmp_path / "b.onnx", options={**HALF, "measure_latency": False}
    )
    assert unmeasured.report.latency_after_ms is None
    assert "not measured, so no speed-up is claimed" in unmeasured.channels.speed
    assert "fine-tuned" in unmeasured.channels.note


def test_residual_block_is_skipped_and_the_stem_is_pruned(tmp_path: Path) -> None:
    source = make_residual(tmp_path / "res.onnx")
    out = tmp_path / "p.onnx"
    result = compress_model(source, "prune-channels", out, options=HALF)
    assert [layer.node for layer in result.channels.layers] == ["stem"]
    reasons = {s.node: s.reason for s in result.channels.skipped}
    assert set(reasons) == {"conv_a", "conv_b", "head"}
    assert "residual" in reasons["conv_a"] and "residual" in reasons["conv_b"]
    assert _dims(out)["wa"] == [16, 4, 3, 3]
    image = np.random.default_rng(1).random((1, 3, 16, 16), dtype=np.float32)
    np.testing.assert_allclose(
        _run(out, {"image": image}), _run(source, {"image": image}), rtol=1e-4, atol=1e-5
    )


def test_gemm_and_matmul_mlp_loses_hidden_units(tmp_path: Path) -> None:
    source = make_mlp(tmp_path / "mlp.onnx")
    out = tmp_path / "p.onnx"
    result = compress_model(source, "prune-channels", out, options=HALF)
    assert {layer.channels_after for layer in result.channels.layers} == {32}
    assert len(result.channels.layers) == 2
    assert [s.node for s in result.channels.skipped] == ["fc3"]
    x = np.random.default_rng(2).standard_normal((1, 32)).astype(np.float32)
    np.testing.assert_allclose(_run(out, {"x": x}), _run(source, {"x": x}), rtol=1e-4, atol=1e-5)


def test_live_channels_removed_give_drift_and_the_warning(tmp_path: Path) -> None:
    source = make_mlp(tmp_path / "mlp.onnx")
    result = compress_model(
        source, "prune-channels", tmp_path / "p.onnx", options={"channels": {"ratio": 0.8}}
    )
    assert result.report.min_cosine < 0.999  # live units went too
    assert "fine-tuned" in result.channels.note


def test_multiple_of_rounds_the_kept_channels_up(tmp_path: Path) -> None:
    source = make_mlp(tmp_path / "mlp.onnx", width=40)
    result = compress_model(
        source,
        "prune-channels",
        tmp_path / "p.onnx",
        options={"channels": {"ratio": 0.3, "multiple_of": 16}},
    )
    assert {layer.channels_after for layer in result.channels.layers} == {32}


def test_external_data_model(tmp_path: Path) -> None:
    source = make_mlp(tmp_path / "ext.onnx", external=True)
    out = tmp_path / "out" / "p.onnx"
    result = compress_model(source, "prune-channels", out, options=HALF)
    assert out.with_name("p.onnx.data").exists()
    assert result.report.min_cosine > 0.9999


def test_nothing_prunable_is_one_clear_line(tmp_path: Path) -> None:
    source = make_block(tmp_path / "block.onnx")
    with pytest.raises(BadInput) as info:
        compress_model(source, "prune-channels", tmp_path / "p.onnx", options=HALF)
    assert "Nothing in this model can lose channels safely" in str(info.value)
    assert "LayerNormalization" in str(info.value)
    assert not (tmp_path / "p.onnx").exists()


def test_channels_read_inside_if_branches_are_left_alone(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="'mm': its output is read inside an If/Loop branch"):
        compress_model(
            make_if(tmp_path / "if.onnx"), "prune-channels", tmp_path / "p.onnx", options=HALF
        )


@pytest.mark.parametrize("ratio", [0, 1, 1.5, -0.2])
def test_ratio_out_of_range_names_the_field(tmp_path: Path, ratio: float) -> None:
    source = make_mlp(tmp_path / "mlp.onnx")
    with pytest.raises(BadInput) as info:
        compress_model(
            source, "prune-channels", tmp_path / "p.onnx", options={"channels": {"ratio": ratio}}
        )
    assert "channels.ratio" in str(info.value)


def test_too_few_channels_for_the_ratio(tmp_path: Path) -> None:
    source = make_mlp(tmp_path / "mlp.onnx", width=4)
    with pytest.raises(BadInput, match="none to remove at this ratio"):
        compress_model(
            source, "prune-channels", tmp_path / "p.onnx", options={"channels": {"ratio": 0.1}}
        )


def test_plan_refuses_concat_reshape_and_shared_weights(tmp_path: Path) -> None:
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((8, 8), np.float32), "w")
    v = numpy_helper.from_array(np.ones((16, 8), np.float32), "v")
    shape = numpy_helper.from_array(np.array([1, 8], np.int64), "shape")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["a"], name="mm_concat"),
        helper.make_node("MatMul", ["x", "w"], ["b"], name="mm_shared"),
        helper.make_node("Concat", ["a", "b"], ["c"], name="cat", axis=1),
        helper.make_node("MatMul", ["c", "v"], ["d"], name="mm_reshape"),
        helper.make_node("Reshape", ["d", "shape"], ["y"], name="reshape"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
        [w, v, shape],
    )
    groups, skipped = plan_model(helper.make_model(graph))
    assert groups == []
    reasons = {s.node: s.reason for s in skipped}
    assert "shared" in reasons["mm_concat"] and "shared" in reasons["mm_shared"]
    assert "Reshape 'reshape' needs all channels" in reasons["mm_reshape"]


def test_job_reports_layers_in_order(tmp_path: Path) -> None:
    source = make_conv_bn(tmp_path / "cnn.onnx")
    seen: list[str] = []
    result = run_job(
        JobSpec(
            title="prune",
            target="studio.core.compress:compress_model",
            kwargs={
                "model": str(source),
                "method": "prune-channels",
                "out": str(tmp_path / "p.onnx"),
                "options": HALF,
            },
        ),
        on_progress=lambda f, m: seen.append(m),
    )
    assert result.channels.layers
    layers = [m for m in seen if m.startswith("removing channels")]
    assert layers[0] == "removing channels: 1 of 2 layers"
    assert layers[-1] == "removing channels: 2 of 2 layers"


def test_cli_prune_channels_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = make_conv_bn(tmp_path / "cnn.onnx")
    code = main(
        [
            "compress",
            str(source),
            "--method",
            "prune-channels",
            "--ratio",
            "0.5",
            "--out",
            str(tmp_path / "p.onnx"),
            "--json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["channels"]["layers"][0]["channels_after"] == 8
    assert data["channels"]["speed"].startswith("Measured on this PC")
    code = main(
        [
            "compress",
            str(source),
            "--method",
            "prune-channels",
            "--ratio",
            "0.5",
            "--out",
            str(tmp_path / "q.onnx"),
            "--no-latency",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert "(Conv): 16 → 8 channels" in captured.out
    assert "left alone: fc (Gemm)" in captured.out
    assert "no speed-up is claimed" in captured.out
    assert "fine-tuned" in captured.err


@pytest.mark.parametrize(
    ("model", "extra", "message"),
    [
        ("mlp", ["--ratio", "1.5"], "'channels.ratio' has a wrong value 1.5"),
        ("mlp", ["--ratio", "0"], "'channels.ratio' has a wrong value 0"),
        ("mlp", ["--channel-multiple", "0"], "'channels.multiple_of'"),
        ("block", [], "Nothing in this model can lose channels safely"),
    ],
)
def test_cli_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, model: str, extra: list[str], message: str
) -> None:
    source = make_mlp(tmp_path / "m.onnx") if model == "mlp" else make_block(tmp_path / "m.onnx")
    code = main(
        [
            "compress",
            str(source),
            "--method",
            "prune-channels",
            *extra,
            "--out",
            str(tmp_path / "o.onnx"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.onnx").exists()


def test_recipe_entry(tmp_path: Path) -> None:
    from studio.core.bundle.recipe import load_recipe

    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "version: 1\noptimize:\n  method: prune-channels\n  channels:\n"
        "    ratio: 0.25\n    multiple_of: 8\n"
    )
    loaded = load_recipe(recipe)
    assert loaded.optimize.method.value == "prune-channels"
    assert loaded.optimize.options().channels.ratio == 0.25
    recipe.write_text(
        "version: 1\noptimize:\n  method: prune-channels\n  channels:\n    ratio: 2\n"
    )
    with pytest.raises(BadInput, match="ratio"):
        load_recipe(recipe)
