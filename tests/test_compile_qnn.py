"""`studio compile` for the Snapdragon NPU: onnxruntime-qnn's real HTP compiler and emulator.

The extra (onnxruntime-qnn, a plugin for the onnxruntime we pin) is installed by .ci/run; outside
CI these tests skip without it. Every bad input is one line, exit 2, nothing left behind.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from studio.core.compile import compile_model
from studio.core.errors import BadInput, OutputError
from tests.support.chip_models import make_conv_then
from tests.support.compress_models import cnn_samples, make_cnn, make_fp16, make_if

CHIP = "qualcomm-snapdragon-8-gen-3"


def _require_extra() -> None:
    if importlib.util.find_spec("onnxruntime_qnn") is None:
        missing = "onnxruntime-qnn (the [qnn] extra) is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}: .ci/run installs it")
        pytest.skip(f"{missing}; pip install -e '.[qnn]'")


@pytest.fixture(autouse=True)
def _qnn_extra() -> None:
    _require_extra()


def _only(folder: Path, *names: str) -> None:
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted(names), left


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=300,
    )


@pytest.fixture(scope="module")
def compiled_cnn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The CNN compiled once through the CLI: (its folder, the --json result)."""
    _require_extra()
    tmp_path = tmp_path_factory.mktemp("compiled")
    model = make_cnn(tmp_path / "cnn.onnx", constants=False, batch="batch")
    samples = cnn_samples(tmp_path / "samples.npz")
    out = tmp_path / "npu"
    # stdout carries only the JSON (Qualcomm's libraries print to file descriptor 1).
    run = _cli(
        "compile", str(model), "--chip", CHIP, "--out", str(out), "--calib", str(samples), "--json"
    )
    assert run.returncode == 0, run.stderr
    return out, json.loads(run.stdout)


def test_cnn_compiles_whole_onto_the_htp_and_matches_on_the_emulator(
    compiled_cnn: tuple[Path, dict],
) -> None:
    out, result = compiled_cnn
    model = out.parent / "cnn.onnx"
    assert result["all_on_npu"] and result["placement"]["strict"]
    assert {n["op_type"] for n in result["placement"]["nodes"]} >= {"Conv", "Gemm"}
    assert result["arch"] == "v75" and result["soc_model"] == 57
    assert result["input_shapes"] == {"image": [1, 3, 16, 16]}
    assert result["drift"]["outputs"][0]["cosine"] >= 0.99
    assert result["drift"]["latency_after_ms"] is None  # emulator time is never latency
    _only(out, "cnn.qdq.onnx", "cnn_ctx.onnx", "cnn_ctx_qnn.bin", "compile.json")
    compiled = onnx.load(str(out / "cnn_ctx.onnx"))
    assert [n.op_type for n in compiled.graph.node] == ["EPContext"]
    # It loads on the emulator with CPU fallback disabled, and answers like the float model.
    from studio.core.analyze.drift import session
    from studio.core.compile.qnn_runtime import open_on_emulator

    image = np.random.default_rng(0).random((1, 3, 16, 16), dtype=np.float32)
    npu = open_on_emulator(out / "cnn_ctx.onnx", strict=True).run(None, {"image": image})[0]
    cpu = session(model).run(None, {"image": image})[0]
    assert np.argmax(npu) == np.argmax(cpu)


def test_an_op_the_htp_lacks_is_named_and_the_split_kept_only_when_asked(tmp_path: Path) -> None:
    model = make_conv_then(tmp_path / "hardmax.onnx", "Hardmax")
    out = tmp_path / "npu"
    with pytest.raises(BadInput, match=r"fall back to the CPU: 'tested' \(Hardmax: .*not supp"):
        compile_model(model, CHIP, out)
    _only(tmp_path, "hardmax.onnx")
    result = compile_model(model, CHIP, out, allow_cpu=True, activations="uint8")
    assert not result.all_on_npu and 0 < result.npu_share < 1
    fallback = [n for n in result.placement.nodes if not n.on_npu]
    assert [(n.name, n.op_type) for n in fallback] == [("tested", "Hardmax")]
    assert "not supported by QNN EP" in fallback[0].reason
    assert result.drift is not None and result.drift.outputs[0].cosine > 0.9


def test_a_model_the_htp_takes_nothing_of_is_one_line(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Hardmax", ["x"], ["y"], name="only")],
        "hardmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "m.onnx"))
    with pytest.raises(BadInput, match=r"HTP took no part of this model: 'only' \(Hardmax: "):
        compile_model(tmp_path / "m.onnx", CHIP, tmp_path / "npu", allow_cpu=True)
    _only(tmp_path, "m.onnx")


def _dynamic_cnn(path: Path) -> Path:
    model = onnx.load(str(make_cnn(path, constants=False)))
    for axis in (2, 3):
        model.graph.input[0].type.tensor_type.shape.dim[axis].dim_param = f"side{axis}"
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (make_if, "cannot run control flow: node 'branch' is If"),
        (make_fp16, "float16"),
        (_dynamic_cnn, "needs fixed shapes, but input 'image' has dynamic axis 2"),
    ],
    ids=["control-flow", "float16", "dynamic-dims"],
)
def test_models_the_npu_cannot_take_are_refused_before_compiling(
    tmp_path: Path, make, message: str
) -> None:
    model = make(tmp_path / "m.onnx")
    with pytest.raises(BadInput, match=message):
        compile_model(model, CHIP, tmp_path / "npu")
    _only(tmp_path, "m.onnx")


def test_a_chip_without_an_npu_compiler_and_a_folder_of_the_users(tmp_path: Path) -> None:
    model = make_cnn(tmp_path / "cnn.onnx", constants=False)
    with pytest.raises(BadInput, match=f"cannot compile for .*Choose one of: .*{CHIP}"):
        compile_model(model, "raspberry-pi-5", tmp_path / "npu")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not a folder `studio compile` wrote"):
        compile_model(model, CHIP, mine, force=True)
    assert (mine / "notes.txt").read_text() == "keep me"
    _only(tmp_path, "cnn.onnx", "mine")


def test_without_the_extra_the_cli_says_what_to_install(tmp_path: Path) -> None:
    # An onnxruntime_qnn first on the path that fails to import, as an uninstalled one does.
    (tmp_path / "hide" / "onnxruntime_qnn").mkdir(parents=True)
    (tmp_path / "hide" / "onnxruntime_qnn" / "__init__.py").write_text("raise ImportError")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "hide"), env.get("PYTHONPATH", "")])
    model = make_cnn(tmp_path / "cnn.onnx", constants=False)
    run = _cli("compile", str(model), "--chip", CHIP, "--out", str(tmp_path / "npu"), env=env)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "error: Compiling for the Snapdragon NPU needs onnxruntime-qnn, which is not installed. "
        "Install the qnn extra: pip install 'edge-deploy-studio[qnn]' (it brings "
        "onnxruntime-qnn==2.7.0, Qualcomm's compiler and NPU emulator for onnxruntime)."
    ]
    _only(tmp_path, "cnn.onnx", "hide")


def test_a_cancelled_compile_leaves_nothing(tmp_path: Path) -> None:
    from studio.core.jobs import JobSpec, JobState, ProgressMessage
    from studio.core.jobs.runner import JobHandle

    model = make_cnn(tmp_path / "cnn.onnx", constants=False)
    out = tmp_path / "npu"
    spec = JobSpec(
        title="compile",
        target="studio.core.compile:compile_model",
        kwargs={"model": str(model), "chip": CHIP, "out": str(out)},
        outputs=[out],
    )
    handle = JobHandle(spec)
    seen = []
    for message in handle.events():
        if isinstance(message, ProgressMessage):
            seen.append(message.message)
            if message.message.startswith("Running the compiled model"):
                handle.cancel()
    assert handle.state is JobState.CANCELLED, seen[-3:]
    _only(tmp_path, "cnn.onnx")


def _erf_gelu(path: Path) -> Path:
    """Conv → GELU written out as x·0.5·(1+erf(x/√2)), as PyTorch exports it."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(np.array(1.4142135, np.float32), "sqrt2"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Div", ["c", "sqrt2"], ["d"], name="div"),
        helper.make_node("Erf", ["d"], ["e"], name="erf"),
        helper.make_node("Add", ["e", "one"], ["a"], name="add"),
        helper.make_node("Mul", ["c", "a"], ["m"], name="mul"),
        helper.make_node("Mul", ["m", "half"], ["y"], name="half_mul"),
    ]
    graph = helper.make_graph(
        nodes,
        "gelu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_an_erf_gelu_is_fused_so_the_htp_takes_it_whole(tmp_path: Path) -> None:
    # The HTP has no Erf: onnxruntime's qnn_preprocess_model turns the sequence into one Gelu.
    result = compile_model(_erf_gelu(tmp_path / "gelu.onnx"), CHIP, tmp_path / "npu")
    assert result.all_on_npu and result.placement.strict
    assert "Gelu" in {n.op_type for n in result.placement.nodes}


def test_check_asks_the_compiler_and_says_so(tmp_path: Path) -> None:
    from studio.core.chips.check import check_model

    model = make_conv_then(tmp_path / "hardmax.onnx", "Hardmax")
    result = check_model(model, CHIP, compiler=True, predict=False)
    assert result.placement_source == "checked by Qualcomm's compiler"
    assert [(f.op_type, f.count) for f in result.fallback_ops] == [("Hardmax", 1)]
    assert "not supported by QNN EP" in result.fallback_ops[0].reason
    flow = check_model(make_if(tmp_path / "if.onnx"), CHIP, compiler=True, predict=False)
    assert flow.placement_source.startswith(
        "predicted from the published op list: the chip's compiler could not take the model "
        "(The chip's NPU cannot run control flow"
    )
    assert check_model(model, CHIP, predict=False).placement_source == (
        "predicted from the published op list"
    )
    _only(tmp_path, "hardmax.onnx", "if.onnx")


def test_a_compiled_model_bundles_with_its_bin_and_runs_on_the_npu(
    tmp_path: Path, compiled_cnn: tuple[Path, dict]
) -> None:
    from studio.core.bundle.folder import create_bundle, verify_bundle

    compiled = compiled_cnn[0] / compiled_cnn[1]["model_file"]
    bundle = tmp_path / "bundle"
    manifest = create_bundle(compiled, bundle, chip=CHIP)
    assert "cnn_ctx_qnn.bin" in {f.path for f in manifest.files}
    assert manifest.reports["compile"]["all_on_npu"] is True
    (bundle / "cnn_ctx_qnn.bin").write_bytes(b"tampered")
    assert verify_bundle(bundle).changed == ["cnn_ctx_qnn.bin"]
    create_bundle(compiled, bundle, chip=CHIP, force=True)
    # The bundle's own runner loads it with the QNN EP (here: the HTP emulator) ...
    runner = [sys.executable, str(bundle / "runner" / "runner.py"), "bench", "--runs", "2"]
    done = subprocess.run(runner, capture_output=True, text=True, timeout=300)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0, done.stdout + done.stderr
    assert events[-1]["type"] == "done" and events[-1]["ok"]
    assert any(e["type"] == "result" and e["data"]["median_ms"] > 0 for e in events)
    # ... and says plainly when the device's onnxruntime has no QNN EP.
    (tmp_path / "hide" / "onnxruntime_qnn").mkdir(parents=True)
    (tmp_path / "hide" / "onnxruntime_qnn" / "__init__.py").write_text("raise ImportError")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "hide"))
    done = subprocess.run(runner, capture_output=True, text=True, timeout=300, env=env)
    errors = [json.loads(line) for line in done.stdout.splitlines() if '"error"' in line]
    assert done.returncode == 3 and errors[0]["code"] == "npu_runtime_missing", done.stdout
    assert errors[0]["message"].startswith("This bundle is compiled for the Snapdragon NPU")


def test_check_inside_a_job_asks_the_compiler_without_a_child_of_its_own(tmp_path: Path) -> None:
    # A job child is a daemon process, which may not start processes (the GUI checks in jobs).
    from studio.core.jobs import JobSpec, run_job

    model = make_conv_then(tmp_path / "hardmax.onnx", "Hardmax")
    spec = JobSpec(
        title="check",
        target="studio.core.chips.check:check_model",
        kwargs={"model": str(model), "chip": CHIP, "compiler": True, "predict": False},
    )
    result = run_job(spec)
    assert result.placement_source == "checked by Qualcomm's compiler"
    assert [f.op_type for f in result.fallback_ops] == ["Hardmax"]


@pytest.mark.parametrize(
    ("chip", "arch", "soc_model"),
    [("qualcomm-snapdragon-8-elite", "v79", 69), ("qualcomm-snapdragon-x-elite", "v73", 60)],
)
def test_the_newer_snapdragons_compile_for_their_own_htp_and_run_on_the_emulator(
    tmp_path: Path, chip: str, arch: str, soc_model: int
) -> None:
    """8 Elite (SM8750) and X Elite (SC8380XP): each profile's arch and SoC model reach the
    compiler, and the compiled model answers like the float one on the emulator."""
    model = make_cnn(tmp_path / "cnn.onnx", constants=False)
    result = compile_model(model, chip, tmp_path / "npu", calib=cnn_samples(tmp_path / "s.npz"))
    assert (result.arch, result.soc_model) == (arch, soc_model)
    assert result.all_on_npu and result.placement.strict
    assert result.drift is not None and result.drift.outputs[0].cosine >= 0.99
    stored = json.loads((tmp_path / "npu" / "compile.json").read_text())
    assert (stored["arch"], stored["soc_model"]) == (arch, soc_model)
