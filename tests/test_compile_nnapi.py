"""`studio compile` for MediaTek Dimensity and the AzureBlade card: ONNX and an NNAPI runner with
CPU fallback, one sentence on what is missing, and never a "compiled" label."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.bundle.folder import read_manifest, verify_bundle
from tests.support.models import make_mlp


@pytest.mark.parametrize(
    ("chip", "says"),
    [("mediatek-dimensity-9300", "NeuroPilot"), ("xindongli-azureblade-l", "no public SDK")],
)
def test_honest_bundle_and_runner_falls_back_to_cpu(tmp_path: Path, chip: str, says: str) -> None:
    from studio.core.compile import compile_model

    out = tmp_path / "b"
    result = compile_model(make_mlp(tmp_path / "m.onnx"), chip, out)
    assert result.backend == "nnapi" and result.compiled is False
    assert says in result.missing and result.missing.startswith("Not compiled")
    assert result.input_shapes == {"x": [1, 16]}
    assert verify_bundle(out).ok
    manifest = read_manifest(out)
    assert manifest.precision == "fp32" and "compiled" not in manifest.method
    run = subprocess.run(
        [sys.executable, str(out / "runner" / "nnapi.py"), "--runs", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == "running on CPU (this onnxruntime has no NNAPI provider)"
