"""PyTorch → ONNX export (needs the [export] extra; skipped where torch is not installed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from studio.core.errors import BadInput
from studio.core.model.convert import convert_model

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="the [export] extra (torch) is not installed"
)


@needs_torch
def test_torchscript_to_onnx(tmp_path: Path) -> None:
    import onnxruntime as ort
    import torch

    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    example = torch.randn(1, 4)
    torch.jit.trace(module, example).save(str(tmp_path / "m.pt"))
    result = convert_model(tmp_path / "m.pt", "onnx", tmp_path / "m.onnx", shapes={"x": [1, 4]})
    assert result.source_kind == "torchscript"
    session = ort.InferenceSession(result.output, providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": example.numpy()})[0]
    np.testing.assert_allclose(got, module(example).detach().numpy(), rtol=1e-5, atol=1e-6)


@needs_torch
def test_transformers_folder_to_onnx(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    import onnxruntime as ort
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    config.architectures = ["BertModel"]
    BertModel(config).save_pretrained(str(tmp_path / "bert"))
    result = convert_model(tmp_path / "bert", "onnx", tmp_path / "bert.onnx")
    assert result.source_kind == "transformers"
    session = ort.InferenceSession(result.output, providers=["CPUExecutionProvider"])
    ids = np.array([[1, 2, 3, 4, 5]], dtype=np.int64)
    out = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
    assert out.shape == (1, 5, 16)


def test_missing_export_extra_says_how_to_install(tmp_path: Path, monkeypatch) -> None:
    import studio.core.model.convert as convert

    real = importlib.util.find_spec
    monkeypatch.setattr(
        convert.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else real(name, *a),
    )
    (tmp_path / "m.pt").write_bytes(b"x")
    with pytest.raises(BadInput, match=r"pip install torch==2\.13\.0"):
        convert_model(tmp_path / "m.pt", "onnx", tmp_path / "m.onnx", shapes={"x": [1, 4]})
    assert not (tmp_path / "m.onnx").exists()
