"""Comparing two models: structural diff, sizes, per-layer latency and drift."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from studio.core.analyze.diff import diff_models, load_drift_report
from studio.core.analyze.profile import profile_model
from studio.core.compress import compress_model
from studio.core.errors import BadInput
from tests.support.models import make_mlp


def test_identical_models_have_no_changes(tmp_path: Path) -> None:
    a = make_mlp(tmp_path / "a.onnx")
    result = diff_models(a, a)
    assert result.identical and result.unchanged == 4
    assert result.a.file_size == result.b.file_size == a.stat().st_size


def test_added_removed_and_changed_nodes_are_named(tmp_path: Path) -> None:
    a = make_mlp(tmp_path / "a.onnx")
    model = onnx.load(str(a))
    nodes = model.graph.node
    relu = next(n for n in nodes if n.name == "relu1")
    relu.op_type = "Sigmoid"  # changed op type
    bias = next(n for n in nodes if n.name == "bias1")
    bias.name = "bias_renamed"  # looks removed + added
    onnx.save(model, str(tmp_path / "b.onnx"))
    result = diff_models(a, tmp_path / "b.onnx")
    changed = {c.name: c.changes for c in result.changed}
    assert changed == {"relu1": ["op type Relu → Sigmoid"]}
    assert [n.name for n in result.removed] == ["bias1"]
    assert [n.name for n in result.added] == ["bias_renamed"]
    assert result.unchanged == 2


def test_quantized_model_shows_replacements_latency_and_size(
    tmp_path: Path, demo_model: Path
) -> None:
    quantized = tmp_path / "q.onnx"
    compress_model(demo_model, "int8-dynamic", quantized)
    pa = profile_model(demo_model, runs=2, threads=1)
    pb = profile_model(quantized, runs=2, threads=1)
    result = diff_models(demo_model, quantized, profile_a=pa, profile_b=pb)
    replaced = [c for c in result.changed if c.replaced_by]
    assert replaced, "Conv/Gemm should be reported as replaced by their quantized forms"
    assert any("ConvInteger" in c.changes[0] for c in replaced)
    assert result.b.file_size < result.a.file_size
    assert result.end_to_end_ms == (pa.end_to_end_ms, pb.end_to_end_ms)
    conv_rows = [row for row in result.latency if "/features/features.2/Conv" in row.names]
    assert len(conv_rows) == 1 and conv_rows[0].ms_a > 0 and conv_rows[0].ms_b > 0


def test_drift_report_formats(tmp_path: Path) -> None:
    listed = tmp_path / "r1.json"
    listed.write_text(json.dumps({"report": {"per_layer": [{"name": "fc1", "cosine": 0.98}]}}))
    mapped = tmp_path / "r2.json"
    mapped.write_text(json.dumps({"layer_drift": {"fc1": 0.1, "fc2": 0.2}}))
    assert [(d.name, d.metric, d.value) for d in load_drift_report(listed)] == [
        ("fc1", "cosine", 0.98)
    ]
    assert {d.name for d in load_drift_report(mapped)} == {"fc1", "fc2"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not a JSON file"),
        ('{"other": 1}', "holds no per-layer drift"),
        ('{"per_layer": [3]}', "must be a list of objects"),
        ('{"per_layer": [{"name": "x"}]}', "has no name or no number"),
    ],
)
def test_bad_drift_reports(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(BadInput, match=message):
        load_drift_report(path)


def test_missing_drift_report_and_model(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        load_drift_report(tmp_path / "none.json")
    with pytest.raises(BadInput, match="does not exist"):
        diff_models(tmp_path / "a.onnx", tmp_path / "b.onnx")
