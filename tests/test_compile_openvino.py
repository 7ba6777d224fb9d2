"""`studio compile` for the Intel Core Ultra NPU: an OpenVINO IR bundle checked on OpenVINO's CPU
device, a runner that falls back NPU → GPU → CPU, and one plain line for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from studio.cli import main
from studio.cli.support import IN_PROCESS_ENV
from studio.core.bundle.folder import read_manifest, verify_bundle
from studio.core.jobs import JobSpec, JobState, ProgressMessage
from studio.core.jobs.runner import JobHandle
from tests.support.models import make_mlp

pytest.importorskip("openvino")
CHIP = "intel-core-ultra-meteor-lake"


def test_int8_ir_bundle_with_drift_latency_and_a_runner(tmp_path: Path) -> None:
    from studio.core.compile import compile_model

    model = make_mlp(tmp_path / "mlp.onnx")  # batch is flexible: the IR must be static
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "calib.npz", x=rng.standard_normal((20, 16)).astype(np.float32))
    out = tmp_path / "bundle"
    result = compile_model(model, CHIP, out, calib=tmp_path / "calib.npz")
    assert result.backend == "openvino" and result.precision == "int8"
    assert result.input_shapes == {"x": [1, 16]}
    assert result.report.sample_source.startswith("held-out calibration samples")
    assert result.report.min_cosine > 0.9  # 16 inputs, 16 calibration samples
    assert result.latency_onnxruntime_ms > 0 and result.latency_openvino_ms > 0
    assert "compiled by Intel's NPU driver on the target PC" in result.npu_note
    xml = (out / "openvino" / "model.xml").read_text()
    assert "FakeQuantize" in xml or "fake_quantize" in xml.lower()  # NNCF's INT8, not FP32
    assert verify_bundle(out).ok
    manifest = read_manifest(out)
    assert (
        manifest.method == "openvino-int8" and manifest.reports["compile"]["backend"] == "openvino"
    )
    # The runner on this PC (no NPU, no GPU) says so in one line and runs on the CPU.
    run = subprocess.run(
        [sys.executable, str(out / "runner" / "openvino_npu.py"), "--runs", "3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert first.startswith("running on CPU (NPU: ") and "GPU: " in first


def test_int4_weights_and_cli_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(IN_PROCESS_ENV, "1")  # the child path is the cancel test's
    model = make_mlp(tmp_path / "mlp.onnx", hidden=64, batch=1)
    out = tmp_path / "b4"
    code = main(
        [
            "compile",
            str(model),
            "--chip",
            CHIP,
            "--out",
            str(out),
            "--precision",
            "int4-weights",
            "--json",
            "-q",
        ]
    )
    data = json.loads(capsys.readouterr().out)  # NNCF's progress bars must not reach stdout
    assert code == 0 and data["precision"] == "int4-weights"
    assert data["report"]["sample_source"] == "random inputs"
    assert (
        "u4" in (out / "openvino" / "model.xml").read_text()
        or "i4" in (out / "openvino" / "model.xml").read_text()
    )


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["missing.onnx", "--chip", CHIP], "does not exist"),
        (["MODEL", "--chip", "no-such-chip"], "no-such-chip"),
        (["MODEL", "--chip", "raspberry-pi-5"], "has no backend for raspberry-pi-5"),
        (["MODEL", "--chip", CHIP, "--precision", "int3"], "not an OpenVINO precision"),
        (["MODEL", "--chip", CHIP, "--shape", "nope=1x16"], "no input named 'nope'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    says: str,
) -> None:
    monkeypatch.setenv(IN_PROCESS_ENV, "1")  # one child start per case would cost 10 s each
    model = make_mlp(tmp_path / "mlp.onnx")
    argv = [
        str(model) if a == "MODEL" else str(tmp_path / a) if a == "missing.onnx" else a
        for a in argv
    ]
    out = tmp_path / "out"
    code = main(["compile", *argv, "--out", str(out), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0], err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.onnx"]


def test_a_folder_of_the_users_is_never_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(IN_PROCESS_ENV, "1")
    model = make_mlp(tmp_path / "mlp.onnx")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code = main(["compile", str(model), "--chip", CHIP, "--out", str(out), "--force", "-q"])
    assert code == 2 and "not a studio bundle" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_cancel_during_conversion_leaves_nothing(tmp_path: Path) -> None:
    model = make_mlp(tmp_path / "mlp.onnx", hidden=256)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "calib.npz", x=rng.standard_normal((64, 16)).astype(np.float32))
    out = tmp_path / "out"
    spec = JobSpec(
        title="compile",
        target="studio.core.compile:compile_model",
        kwargs={
            "model": str(model),
            "chip": CHIP,
            "out": str(out),
            "calib": str(tmp_path / "calib.npz"),
        },
        outputs=[out],
    )
    handle = JobHandle(spec)
    for message in handle.events():
        if isinstance(message, ProgressMessage) and message.message.startswith(
            "Converting to OpenVINO"
        ):
            handle.cancel()
    assert handle.state is JobState.CANCELLED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calib.npz", "mlp.onnx"]


def _if_with_a_1x1_condition(path: Path) -> Path:
    """Valid ONNX (an If's condition may be any one-element tensor) that OpenVINO's ONNX reader
    refuses (it wants rank 0 or 1): as openWakeWord's hey-jarvis model does."""
    from onnx import TensorProto, helper

    def branch(name: str, op: str) -> onnx.GraphProto:
        node = helper.make_node(op, ["x"], [f"{name}_y"])
        out = helper.make_tensor_value_info(f"{name}_y", TensorProto.FLOAT, [1, 4])
        return helper.make_graph([node], name, [], [out])

    nodes = [
        helper.make_node("ReduceSum", ["x"], ["s"], keepdims=1),
        helper.make_node("Greater", ["s", "zero"], ["cond"]),
        helper.make_node(
            "If",
            ["cond"],
            ["y"],
            then_branch=branch("then", "Relu"),
            else_branch=branch("else", "Neg"),
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "if11",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor("zero", TensorProto.FLOAT, [1, 1], [0.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_a_model_openvino_cannot_read_is_one_line_naming_the_op(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(IN_PROCESS_ENV, "1")
    model = _if_with_a_1x1_condition(tmp_path / "if.onnx")
    out = tmp_path / "out"
    code = main(
        ["compile", str(model), "--chip", "intel-core-ultra-meteor-lake", "--out", str(out), "-q"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "OpenVINO cannot convert the model" in err[0] and "If" in err[0]
    assert not out.exists()
