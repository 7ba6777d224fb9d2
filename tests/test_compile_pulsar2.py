"""`studio compile --chip axera-ax650n`: a Pulsar2 build kit validated against a schema written
from Axera's docs, with ops checked against the AX650 list and its attribute limits."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from studio.cli import main
from studio.cli.support import IN_PROCESS_ENV
from studio.core.bundle.folder import verify_bundle
from studio.core.compile.pulsar2 import validate_kit
from tests.support.models import make_mlp

CHIP = "axera-ax650n"


def _resize_model(path: Path) -> Path:
    """x[1,3,8,8] → Resize(nearest, default round_prefer_floor) → Relu: outside the AX650 limits."""
    scales = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1, 2, 2])
    nodes = [
        helper.make_node("Resize", ["x", "", "scales"], ["r"], name="up", mode="nearest"),
        helper.make_node("Relu", ["r"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "up",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 16, 16])],
        [scales],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_kit_has_static_model_config_calibration_and_build_line(tmp_path: Path) -> None:
    from studio.core.compile import compile_model

    model = make_mlp(tmp_path / "mlp.onnx")
    np.savez(
        tmp_path / "c.npz", x=np.random.default_rng(0).standard_normal((6, 16)).astype(np.float32)
    )
    out = tmp_path / "kit"
    result = compile_model(model, CHIP, out, calib=tmp_path / "c.npz", npu_mode="NPU3")
    assert result.check.ok and result.check.cpu_ops == [] and verify_bundle(out).ok
    assert result.input_shapes == {"x": [1, 16]}
    fixed = onnx.load(str(out / "model.onnx"))
    assert [d.dim_value for d in fixed.graph.input[0].type.tensor_type.shape.dim] == [1, 16]
    config = json.loads((out / "pulsar2" / "config.json").read_text())
    assert config["model_type"] == "ONNX" and config["npu_mode"] == "NPU3"
    first = config["quant"]["input_configs"][0]
    assert first["calibration_format"] == "Numpy" and first["tensor_name"] == "x"
    with tarfile.open(out / first["calibration_dataset"]) as tar:
        names = sorted(m.name for m in tar.getmembers())
        sample = np.load(io.BytesIO(tar.extractfile("0.npy").read()))
    assert len(names) == 6 and sample.shape == (1, 16) and sample.dtype == np.float32
    build = (out / "pulsar2" / "build.sh").read_text()
    assert (
        "pulsar2 build --input model.onnx --config pulsar2/config.json --output_dir "
        "pulsar2/output --target_hardware AX650 --npu_mode NPU3" in build
    )
    assert result.notes[0].startswith("Final compile runs in Axera's Pulsar2 (docker)")


def test_validation_catches_a_broken_config_and_a_wrong_sample(tmp_path: Path) -> None:
    from studio.core.compile import compile_model

    out = tmp_path / "kit"
    compile_model(make_mlp(tmp_path / "mlp.onnx"), CHIP, out)
    config_path = out / "pulsar2" / "config.json"
    good = config_path.read_text()
    config = json.loads(good)
    config["npu_mode"] = "NPU4"
    config_path.write_text(json.dumps(config))
    assert not validate_kit(out).ok
    config = json.loads(good)
    config["quant"]["input_configs"][0]["calibration_dataset"] = "data.rar"
    config_path.write_text(json.dumps(config))
    assert not validate_kit(out).ok
    config_path.write_text(good)
    tar_path = out / json.loads(good)["quant"]["input_configs"][0]["calibration_dataset"]
    with tarfile.open(tar_path, "w") as tar:
        buffer = io.BytesIO()
        np.save(buffer, np.zeros((1, 8), np.float32))
        info = tarfile.TarInfo("0.npy")
        info.size = buffer.tell()
        buffer.seek(0)
        tar.addfile(info, buffer)
    check = validate_kit(out)
    assert not check.ok and "the model takes [1, 16]" in check.problems[0]


def test_ops_outside_the_ax650_limits_are_named(tmp_path: Path) -> None:
    from studio.core.compile import compile_model

    result = compile_model(_resize_model(tmp_path / "up.onnx"), CHIP, tmp_path / "kit")
    problems = result.check.attribute_problems
    assert [(p.node, p.op_type) for p in problems] == [("up", "Resize")]
    assert "round_prefer_ceil" in problems[0].problem
    assert any("up (Resize)" in n for n in result.notes)


def test_bad_npu_mode_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.compile import compile_model
    from studio.core.errors import BadInput

    with pytest.raises(BadInput, match="not an AX650 NPU mode"):
        compile_model(make_mlp(tmp_path / "m.onnx"), CHIP, tmp_path / "k", npu_mode="NPU9")
    monkeypatch.setenv(IN_PROCESS_ENV, "1")
    code = main(
        [
            "compile",
            str(tmp_path / "m.onnx"),
            "--chip",
            CHIP,
            "--out",
            str(tmp_path / "k"),
            "--precision",
            "fp16",
            "-q",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--precision does not apply" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
