"""The drift report of a text encoder: token ids are not class indices of its hidden states."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from studio.core.analyze.drift import compare_models


def _encoder(path: Path) -> Path:
    """input_ids[1,6] → Gather(50-word table of width 4) → hidden[1,6,4], like a BERT's output."""
    table = np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["words", "input_ids"], ["hidden"], name="embed")],
        "encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, 6])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [1, 6, 4])],
        [numpy_helper.from_array(table, "words")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_hidden_states_of_token_ids_beyond_their_width_are_compared(tmp_path: Path) -> None:
    model = _encoder(tmp_path / "encoder.onnx")
    samples = [{"input_ids": np.array([[3, 17, 42, 8, 49, 1]], np.int64)}]
    report = compare_models(
        model, model, samples, sample_source="test", measure_latency=False, per_layer=False
    )
    assert report.outputs[0].cosine > 0.9999
    assert report.outputs[0].perplexity_before is None  # hidden states are not next-token logits
