"""The drift report's cost: the original opened and run once per compress run, the per-layer
pass inferring shapes once, and outputs that only look like logits left unscored."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from studio.core.analyze import drift, drift_layers
from studio.core.compress import compress_model
from tests.support.compress_models import make_cnn

FAST = {"measure_latency": False}


def _encoder(path: Path, vocab: int = 1000, width: int = 8) -> Path:
    """input_ids[1,seq] → Gather → MatMul → hidden[1,seq,width]: a sentence encoder's shape,
    whose last axis (width) is far smaller than the token ids (up to vocab)."""
    rng = np.random.default_rng(3)
    inits = [
        numpy_helper.from_array(rng.standard_normal((vocab, width)).astype(np.float32), "emb"),
        numpy_helper.from_array(rng.standard_normal((width, width)).astype(np.float32), "w"),
    ]
    nodes = [
        helper.make_node("Gather", ["emb", "input_ids"], ["e"], name="embed"),
        helper.make_node("MatMul", ["e", "w"], ["hidden"], name="proj"),
    ]
    graph = helper.make_graph(
        nodes,
        "encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "seq"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [1, "seq", width])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_hidden_states_over_token_ids_are_not_scored_as_logits(tmp_path: Path) -> None:
    # Token ids beyond the last axis showed the old code an "LM" and it crashed in perplexity.
    model = _encoder(tmp_path / "enc.onnx")
    result = compress_model(model, "int8-dynamic", tmp_path / "q.onnx", options=FAST)
    assert result.report is not None
    out = result.report.outputs[0]
    assert out.perplexity_before is None and out.top1 is None
    assert out.cosine > 0.9


def _count_sessions(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    opened: Counter[str] = Counter()
    real = drift.session

    def counting(path: Path):  # the real session, counted by file name
        opened[Path(path).name] += 1
        return real(path)

    monkeypatch.setattr(drift, "session", counting)
    return opened


def test_auto_opens_and_runs_the_original_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_cnn(tmp_path / "cnn.onnx", size=16, batch="n")
    opened = _count_sessions(monkeypatch)
    runs: Counter[int] = Counter()
    real_outputs = drift.Sessions.outputs

    def counting_outputs(self, path, sample, names, keep):
        if Path(path).name == "cnn.onnx":
            runs[id(sample)] += 1
        return real_outputs(self, path, sample, names, keep)

    monkeypatch.setattr(drift.Sessions, "outputs", counting_outputs)
    result = compress_model(model, "auto", tmp_path / "a.onnx", options=FAST)
    assert len([c for c in result.candidates if c.cosine is not None]) >= 2
    # Every candidate, the second size and the final report compared against one session;
    # the per-layer pass opens its own two (the models with every tensor exposed).
    assert opened["cnn.onnx"] == 1
    assert opened["layers_ref.onnx"] == opened["layers_new.onnx"] == 1
    # Asked once per candidate and per size, but the model ran once per sample.
    assert result.report is not None and result.report.worst_layers is not None
    assert max(runs.values()) >= 2


def test_the_winner_keeps_the_comparison_it_was_chosen_by(tmp_path: Path) -> None:
    # Timed once: compared and timed again, the report's figures would differ from the ones
    # auto chose by (and cost the comparison twice).
    model = make_cnn(tmp_path / "cnn.onnx")
    result = compress_model(model, "auto", tmp_path / "a.onnx")
    chosen = next(c for c in result.candidates if c.chosen)
    assert result.report is not None and chosen.latency_ms is not None
    assert result.report.latency_after_ms == chosen.latency_ms
    assert result.report.min_cosine <= (chosen.cosine or 0.0)


def test_per_layer_pass_infers_shapes_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = make_cnn(tmp_path / "cnn.onnx", constants=False)
    quantized = compress_model(model, "int8-dynamic", tmp_path / "q.onnx", drift=False)
    calls = []
    real = onnx.shape_inference.infer_shapes
    monkeypatch.setattr(
        onnx.shape_inference, "infer_shapes", lambda m, *a, **k: calls.append(1) or real(m)
    )
    sample = {"image": np.random.default_rng(0).random((1, 3, 16, 16), dtype=np.float32)}
    layers, _, note = drift_layers.layer_drift(
        model,
        Path(quantized.output),
        [sample],
        tmp_path / "layers",
        feeds_for=drift._feeds_for,
        session_factory=drift.session,
    )
    assert note == "" and layers
    assert len(calls) == 1
