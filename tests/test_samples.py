"""Sample inputs the studio makes: real sizes for flexible dims, values with meaning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from studio.core.errors import BadInput
from studio.core.samples.calibration import synthetic_inputs
from studio.core.samples.sizes import choose_sizes
from tests.support import sample_models as sm


def _run(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """onnxruntime accepts the made-up sample (indices in range, audio long enough)."""
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)


def test_text_model_gets_ids_inside_its_tables_masks_of_ones_and_types_of_zeros(
    tmp_path: Path,
) -> None:
    model = sm.make_text_encoder(tmp_path / "text.onnx", vocab=100, positions=64)
    proto = onnx.load(str(model))
    sizes = choose_sizes(proto)
    # 128 tokens would run past the 64-row position table.
    assert sizes.shapes["input_ids"] == [1, 64]
    assert "position table (64 rows)" in sizes.source_text()
    for seed in range(5):
        feeds = synthetic_inputs(proto, seed=seed)
        assert feeds["input_ids"].max() < 100 and feeds["input_ids"].min() >= 0
        assert feeds["position_ids"].max() < 64
        assert np.all(feeds["attention_mask"] == 1)
        assert np.all(feeds["token_type_ids"] == 0)
        _run(model, feeds)
    assert synthetic_inputs(proto, seed=1)["input_ids"].max() >= 10  # not just 0..9


def test_gather_and_scatter_indices_stay_inside_the_dim_they_index(tmp_path: Path) -> None:
    model = sm.make_scatter_gather(tmp_path / "graph.onnx", nodes_count=5)
    proto = onnx.load(str(model))
    for seed in range(10):
        feeds = synthetic_inputs(proto, seed=seed)
        assert feeds["src"].shape == (16,) and feeds["dst"].shape == (16, 8)
        assert feeds["src"].max() < 5 and feeds["dst"].max() < 5
        _run(model, feeds)  # out-of-range indices made onnxruntime fail here before


def test_an_index_whose_range_is_unknown_asks_for_real_samples(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    # Gather into a tensor made at run time from a shape the graph reads from the input.
    nodes = [
        helper.make_node("NonZero", ["flags"], ["where"]),
        helper.make_node("Gather", ["where", "pick"], ["y"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "unknown",
        [
            helper.make_tensor_value_info("flags", TensorProto.FLOAT, [8]),
            helper.make_tensor_value_info("pick", TensorProto.INT64, [3]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(BadInput, match="input 'pick'.*real samples"):
        synthetic_inputs(proto)


def test_recurrent_state_is_zeros_and_audio_is_long_enough_for_the_padding(
    tmp_path: Path,
) -> None:
    model = sm.make_vad_like(tmp_path / "vad.onnx", pad=600)
    proto = onnx.load(str(model))
    sizes = choose_sizes(proto)
    # A reflect pad of 600 needs more than 600 samples: 512 would fail in onnxruntime.
    assert sizes.shapes == {"input": [1, 1201], "state": [2, 1, 16], "sr": []}
    feeds = synthetic_inputs(proto)
    assert np.all(feeds["state"] == 0)
    assert int(feeds["sr"]) == 16_000
    assert np.abs(feeds["input"]).max() < 0.5  # a tone with a little noise, not N(0, 1)
    _run(model, feeds)
    short = sm.make_vad_like(tmp_path / "vad_short.onnx", pad=100)
    assert choose_sizes(onnx.load(str(short))).shapes["input"] == [1, 512]


def test_a_length_input_matches_the_sequence(tmp_path: Path) -> None:
    model = sm.make_length_model(tmp_path / "len.onnx")
    proto = onnx.load(str(model))
    feeds = synthetic_inputs(proto)
    assert feeds["x"].shape == (1, 128, 8)
    assert feeds["length"].tolist() == [128]
    given = synthetic_inputs(proto, {"x": [1, 50, 8]})
    assert given["length"].tolist() == [50]


def _lstm_with_plain_names(path: Path) -> Path:
    """An LSTM whose state and length inputs have names that say nothing ("a", "b", "n")."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
        for name, shape in (("W", [1, 32, 4]), ("R", [1, 32, 8]))
    ]
    node = helper.make_node(
        "LSTM", ["x", "W", "R", "", "n", "a", "b"], ["y", "yh", "yc"], hidden_size=8
    )
    graph = helper.make_graph(
        [node],
        "lstm",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 1, 4]),
            helper.make_tensor_value_info("n", TensorProto.INT32, [1]),
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 1, 8]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 1, 8]),
        ],
        [helper.make_tensor_value_info("yh", TensorProto.FLOAT, [1, 1, 8])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_recurrent_state_and_length_are_recognised_by_structure_not_only_by_name(
    tmp_path: Path,
) -> None:
    from studio.core.samples.graph_facts import GraphFacts
    from studio.core.samples.roles import input_role

    path = _lstm_with_plain_names(tmp_path / "lstm.onnx")
    proto = onnx.load(str(path))
    facts = GraphFacts(proto)
    roles = {v.name: input_role(v, facts) for v in proto.graph.input}
    assert roles == {"x": "other", "n": "length", "a": "state", "b": "state"}
    feeds = synthetic_inputs(proto)
    assert not feeds["a"].any() and not feeds["b"].any()  # a state starts at zero
    assert 1 <= int(feeds["n"][0]) <= 5  # no longer than the sequence
    _run(path, feeds)
