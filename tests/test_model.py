"""Reading models: the summary, and every kind of bad model file a user can give."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.errors import BadInput
from studio.core.model.loader import summarize
from tests.support.models import make_mlp


def test_demo_model_summary(demo_model: Path) -> None:
    summary = summarize(demo_model)
    assert summary.inputs[0].name == "image"
    assert summary.inputs[0].shape == ["batch", 1, 16, 16]
    assert summary.outputs[0].dtype == "float32"
    assert summary.opset == 17
    assert summary.op_histogram["Conv"] == 3
    assert 100_000 < summary.parameter_count < 1_000_000
    assert summary.file_size == demo_model.stat().st_size


def test_folder_with_a_model_is_accepted(tmp_path: Path) -> None:
    make_mlp(tmp_path / "model.onnx")
    summary = summarize(tmp_path)
    assert summary.op_histogram == {"MatMul": 2, "Add": 1, "Relu": 1}
    assert summary.parameter_count == 16 * 32 + 32 + 32 * 4


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p / "missing.onnx", "does not exist"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "holds no .onnx model"),
        (lambda p: _write(p / "zero.onnx", b""), "is empty"),
        (lambda p: _write(p / "notes.onnx", b"hello, not a model"), "not"),
        (lambda p: _write(p / "x.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64), "not"),
    ],
    ids=["missing", "empty-folder", "zero-bytes", "text-file", "png-file"],
)
def test_bad_model_inputs_give_one_clear_line(tmp_path: Path, setup, message: str) -> None:
    with pytest.raises(BadInput, match=message) as info:
        summarize(setup(tmp_path))
    assert "\n" not in info.value.message


def test_truncated_model_is_reported(tmp_path: Path, demo_model: Path) -> None:
    data = demo_model.read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInput, match="cut.onnx"):
        summarize(cut)
