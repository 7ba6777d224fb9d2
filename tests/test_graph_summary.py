"""The summary shown at once for big graphs: op-type and block groups with their time."""

from __future__ import annotations

from pathlib import Path

import pytest
from onnx import TensorProto, helper

from studio.core.analyze.graph_summary import MAX_GROUPS, choose_depth, prefix_of, summarize_graph
from studio.core.analyze.profile import profile_model
from tests.support.big_models import make_block_chain


def test_prefix_depth_follows_the_names() -> None:
    names = [f"/model/layers.{i}/attn/MatMul" for i in range(12)]
    assert choose_depth(names) == 2
    assert prefix_of(names[3], 2) == "model/layers.3"
    assert prefix_of("conv1", 1) == "(top level)"


def test_groups_add_up_to_the_profiled_total(demo_model: Path) -> None:
    profile = profile_model(demo_model, runs=2, threads=1)
    summary = summarize_graph(demo_model, profile)
    assert sum(g.nodes for g in summary.by_op_type) == summary.node_count == 12
    assert sum(g.share for g in summary.by_op_type) == pytest.approx(1.0)
    assert sum(g.share for g in summary.by_prefix) == pytest.approx(1.0)
    shares = [g.share for g in summary.by_op_type]
    assert shares == sorted(shares, reverse=True)  # slowest op type first (timings vary by run)
    assert {g.name for g in summary.by_op_type} >= {"Conv", "Gemm", "MaxPool"}
    assert not summary.large


def test_ten_thousand_nodes_summarised_quickly_as_ranges(tmp_path: Path) -> None:
    path = make_block_chain(tmp_path / "big.onnx", blocks=2500)
    summary = summarize_graph(path)  # its speed is measured by benchmarks/bench_profile.py
    assert summary.node_count == 10_001 and summary.large
    assert len(summary.by_prefix) <= MAX_GROUPS
    assert summary.by_prefix[0].name.startswith("encoder/block.0 … ")
    assert sum(g.nodes for g in summary.by_prefix) == 10_001


def test_quantizer_nodes_join_their_block_so_no_block_is_listed_twice() -> None:
    """A QDQ model names the exporter's nodes "/features/features.2/Conv" and the quantizer's
    "features.2.bias_DequantizeLinear": one block, not "features/2" beside "features/features.2"."""
    names = [
        "features.2.bias_DequantizeLinear",  # quantizers put their weight nodes first
        "features.2.weight_DequantizeLinear",
        "classifier.1.weight_DequantizeLinear",
        "image_QuantizeLinear",
        "/features/features.0/Conv",
        "/features/features.2/Conv",
        "/features/features.2/Relu",
        "/classifier/classifier.1/Gemm",
    ]
    nodes = [
        helper.make_node("Identity", [f"t{i}"], [f"t{i + 1}"], name=name)
        for i, name in enumerate(names)
    ]
    graph = helper.make_graph(
        nodes,
        "qdq_names",
        [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info(f"t{len(names)}", TensorProto.FLOAT, [1])],
    )
    summary = summarize_graph(helper.make_model(graph))
    blocks = {group.name: group.nodes for group in summary.by_prefix}
    assert list(blocks) == [
        "features/features.0",
        "features/features.2",
        "classifier/classifier.1",
        "(top level)",
    ]
    assert blocks["features/features.2"] == 4 and blocks["classifier/classifier.1"] == 2
