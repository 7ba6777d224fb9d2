"""Each `studio export` project started with its own framework's command on 127.0.0.1 and asked the
same V2 request; the answer must equal onnxruntime's on the same input. The KFP pipeline is compiled
by the kfp SDK and run with kfp's local runner.

The frameworks live in their own venvs (tests/support/framework_envs.py); a missing venv fails
with the command that makes it. Nothing here reaches the network.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from studio.core.bundle.folder import create_bundle, read_manifest
from studio.core.serve.export import export_bundle
from tests.support import framework_envs
from tests.support.models import make_mlp

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export-servers")
    create_bundle(make_mlp(folder / "mlp.onnx"), folder / "bundle")
    return folder / "bundle"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    return status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode()


def framework_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(BENTOML_DO_NOT_TRACK="True", RAY_USAGE_STATS_ENABLED="0", PYTHONUNBUFFERED="1")
    return env


@contextlib.contextmanager
def started(cmd: list[str], cwd: Path, ready: str, env: dict[str, str]) -> Iterator[Path]:
    """Run ``cmd`` in its own process group until ``ready`` answers 200; stop the group after."""
    log = cwd / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"{cmd[0]} exited {proc.returncode}: {log.read_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{cmd[0]} not ready in 240 s: {log.read_text()[-3000:]}")
            try:
                if call(ready)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        yield log
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:  # our own process group only
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    # Children the framework left behind (Ray's raylet, MLServer's workers).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def check_answers(url: str, bundle: Path) -> None:
    """The same V2 request as every export gets; answers as onnxruntime's, bad input a 400."""
    manifest = read_manifest(bundle)
    x = np.random.default_rng(7).standard_normal((2, 16)).astype(np.float32)
    request = {
        "inputs": [{"name": "x", "shape": [2, 16], "datatype": "FP32", "data": x.ravel().tolist()}]
    }
    status, answer = call(f"{url}/v2/models/mlp/infer", request)
    assert status == 200, answer
    session = ort.InferenceSession(str(bundle / manifest.entry), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"x": x})[0]
    (output,) = answer["outputs"]
    assert output["name"] == "y" and output["datatype"] == "FP32" and output["shape"] == [2, 4]
    np.testing.assert_allclose(
        np.array(output["data"]).reshape(2, 4), expected, rtol=1e-5, atol=1e-6
    )
    bad = {"inputs": [{"name": "x", "shape": [2, 15], "datatype": "FP32", "data": [0.0] * 30}]}
    status, answer = call(f"{url}/v2/models/mlp/infer", bad)
    assert status == 400 and "Input 'x' has shape 2×15; the model takes ?×16" in json.dumps(
        answer, ensure_ascii=False
    )


def test_bentoml_serve_answers_v2_as_onnxruntime(bundle: Path, tmp_path: Path) -> None:
    bin_dir = framework_envs.bin_dir("bentoml")
    project = tmp_path / "bentoml"
    export_bundle(bundle, "bentoml", project)
    port = free_port()
    cmd = [str(bin_dir / "bentoml"), "serve", "service:EdgeModel", "--host", "127.0.0.1"]
    url = f"http://127.0.0.1:{port}"
    with started([*cmd, "--port", str(port)], project, f"{url}/readyz", framework_env()):
        check_answers(url, bundle)


def test_mlserver_start_answers_v2_as_onnxruntime(bundle: Path, tmp_path: Path) -> None:
    bin_dir = framework_envs.bin_dir("mlserver")
    project = tmp_path / "mlserver"
    export_bundle(bundle, "mlserver", project)
    port, grpc, metrics = free_port(), free_port(), free_port()
    env = framework_env()
    env.update(
        MLSERVER_HTTP_PORT=str(port),
        MLSERVER_GRPC_PORT=str(grpc),
        MLSERVER_METRICS_PORT=str(metrics),
    )
    url = f"http://127.0.0.1:{port}"
    cmd = [str(bin_dir / "mlserver"), "start", "."]
    with started(cmd, project, f"{url}/v2/models/mlp/ready", env):
        check_answers(url, bundle)


def test_kserve_model_server_answers_v2_as_onnxruntime(bundle: Path, tmp_path: Path) -> None:
    bin_dir = framework_envs.bin_dir("kserve")
    project = tmp_path / "kserve"
    export_bundle(bundle, "kserve", project)
    port, grpc = free_port(), free_port()
    cmd = [str(bin_dir / "python"), "model.py", "--http_port", str(port), "--grpc_port", str(grpc)]
    url = f"http://127.0.0.1:{port}"
    with started(cmd, project, f"{url}/v2/models/mlp/ready", framework_env()):
        check_answers(url, bundle)


def test_ray_serve_run_answers_v2_as_onnxruntime(bundle: Path, tmp_path: Path) -> None:
    bin_dir = framework_envs.bin_dir("ray-serve")
    project = tmp_path / "ray"
    export_bundle(bundle, "ray-serve", project)
    port = free_port()
    config = project / "serve_config.yaml"
    config.write_text(config.read_text().replace("port: 8000", f"port: {port}"))
    url = f"http://127.0.0.1:{port}"
    cmd = [str(bin_dir / "serve"), "run", "serve_config.yaml"]
    with started(cmd, project, f"{url}/v2/models/mlp/ready", framework_env()):
        check_answers(url, bundle)


def test_kfp_pipeline_compiles_and_runs_with_the_local_runner(bundle: Path, tmp_path: Path) -> None:
    python = framework_envs.bin_dir("kfp") / "python"
    project = tmp_path / "kfp"
    result = export_bundle(bundle, "kfp", project, kfp_python=str(python))
    assert "pipeline.yaml" in result.files
    spec = (project / "pipeline.yaml").read_text()
    for step in ("optimize", "check", "bundle", "verify"):
        assert f"exec-{step}:" in spec
    # Each step runs `studio`: here this checkout's, as the studio image would provide it.
    shim = tmp_path / "bin" / "studio"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m studio "$@"\n')
    shim.chmod(0o755)
    env = framework_env()
    env["PATH"] = f"{shim.parent}{os.pathsep}{env['PATH']}"
    run = (
        "from kfp import local; import pipeline; "
        f"local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root={str(tmp_path / 'root')!r}); "
        f"print('RESULT', pipeline.edge_bundle(model_uri='bundle/{read_manifest(bundle).entry}').output)"
    )
    done = subprocess.run(
        [str(python), "-c", run], cwd=project, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "RESULT OK: all" in done.stdout
    (made,) = (tmp_path / "root").glob("*/bundle/folder")
    assert read_manifest(made).inputs == read_manifest(bundle).inputs
