"""Each `studio export` project started with its own framework's command on 127.0.0.1 and asked the
same V2 request; the answer must equal onnxruntime's on the same input. The KFP pipeline is compiled
by the kfp SDK and run with kfp's local runner.

The frameworks live in their own venvs (tests/support/framework_envs.py); a missing venv fails
with the command that makes it. Nothing here reaches the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from studio.core.bundle.folder import create_bundle, read_manifest
from studio.core.serve.export import export_bundle
from tests.support import framework_envs
from tests.support.export_servers import SERVERS, framework_env, serving
from tests.support.models import make_mlp

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export-servers")
    create_bundle(make_mlp(folder / "mlp.onnx"), folder / "bundle")
    return folder / "bundle"


def call(url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    return status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode()


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


@pytest.mark.parametrize("target", SERVERS)
def test_each_export_started_by_its_framework_answers_v2_as_onnxruntime(
    bundle: Path, tmp_path: Path, target: str
) -> None:
    """`bentoml serve`, `mlserver start .`, `python model.py` (KServe), `serve run` (Ray)."""
    framework_envs.bin_dir(target)  # fails first, naming the command, when the venv is missing
    project = tmp_path / target
    export_bundle(bundle, target, project)
    with serving(target, project) as url:
        check_answers(url, bundle)


def test_kfp_pipeline_compiles_and_runs_with_the_local_runner(bundle: Path, tmp_path: Path) -> None:
    python = framework_envs.bin_dir("kfp") / "python"
    project = tmp_path / "kfp"
    result = export_bundle(bundle, "kfp", project, kfp_python=str(python))
    assert result.files == ["README.md", "pipeline.py", "pipeline.yaml"]
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
