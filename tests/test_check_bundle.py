"""`studio bundle` records the chip and its compatibility check in the manifest."""

from __future__ import annotations

import json
from pathlib import Path

from studio.cli import main
from studio.core.bundle.folder import create_bundle, read_manifest, verify_bundle
from tests.support.chip_models import make_convnet, make_if_model


def test_bundle_manifest_records_the_check(tmp_path: Path) -> None:
    model = make_convnet(tmp_path / "m.onnx", erf=True)
    manifest = create_bundle(model, tmp_path / "b", chip="qualcomm-snapdragon-8-gen-3")
    check = manifest.reports["check"]
    assert manifest.chip == "qualcomm-snapdragon-8-gen-3"
    assert check["verdict"].startswith("Runs, 1 op falls back to the CPU")
    assert check["unsupported_ops"] == ["Erf"]
    assert check["dynamic_inputs"][0]["input"] == "x"
    assert check["predicted_latency_ms"] == {"low": None, "high": None}  # no published NPU peak
    assert read_manifest(tmp_path / "b").reports["check"] == check
    assert verify_bundle(tmp_path / "b").ok


def test_bundle_for_this_pc_does_not_run_micro_benchmarks(tmp_path: Path) -> None:
    create_bundle(make_if_model(tmp_path / "if.onnx"), tmp_path / "b", chip="this-pc")
    check = read_manifest(tmp_path / "b").reports["check"]
    assert check["verdict"] == "Runs on the CPU"
    assert check["predicted_latency_ms"]["low"] is None
    assert "Latency was not predicted for this report" in check["assumptions"]


def test_cli_bundle_json_includes_the_check(tmp_path: Path, capsys) -> None:
    model = make_convnet(tmp_path / "m.onnx", batch=1)
    out = tmp_path / "bundle"
    args = ["bundle", str(model), "--chip", "raspberry-pi-5", "--out", str(out), "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    check = data["manifest"]["reports"]["check"]
    assert check["chip"] == "raspberry-pi-5" and check["verdict"] == "Runs on the CPU"
    assert check["predicted_latency_ms"]["low"] > 0
