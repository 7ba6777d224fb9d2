"""What onnxruntime fuses and adds, read from its own rewrite of the graph (This PC's plan)."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.chips import ort_plan
from studio.core.chips.cost import graph_cost
from studio.core.chips.ort_plan import runtime_plan
from tests.support.chip_models import (
    make_conv_then,
    make_convnet,
    make_dq_weight_conv,
    make_swish,
)


def test_activation_after_conv_runs_inside_the_conv(tmp_path: Path) -> None:
    path = make_convnet(tmp_path / "m.onnx", batch=1)
    plan = runtime_plan(path, graph_cost(path), threads=1)
    assert plan is not None
    assert "act" in plan.folded and "conv" not in plan.folded


def test_swish_pair_is_one_kernel(tmp_path: Path) -> None:
    path = make_swish(tmp_path / "swish.onnx")
    plan = runtime_plan(path, graph_cost(path), threads=1)
    assert plan is not None and plan.folded == ["mul"]  # the Sigmoid carries the work


def test_a_model_onnxruntime_cannot_load_has_no_plan(tmp_path: Path) -> None:
    path = make_conv_then(tmp_path / "custom.onnx", "Mystery", domain="com.example")
    assert runtime_plan(path, graph_cost(path), threads=1) is None


def test_a_model_too_large_to_optimize_quickly_has_no_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_convnet(tmp_path / "m.onnx", batch=1)
    monkeypatch.setattr(ort_plan, "MAX_MODEL_BYTES", 10)
    assert runtime_plan(path, graph_cost(path), threads=1) is None


def test_float_conv_with_dequantized_weights_is_marked(tmp_path: Path) -> None:
    conv = next(
        n for n in graph_cost(make_dq_weight_conv(tmp_path / "m.onnx")).nodes if n.op_type == "Conv"
    )
    assert conv.dq_weights and conv.dtype == "float"


def test_one_by_one_convolutions_are_marked_pointwise(tmp_path: Path) -> None:
    from tests.support.chip_models import make_conv_then

    three = next(
        n
        for n in graph_cost(make_convnet(tmp_path / "a.onnx", batch=1)).nodes
        if n.op_type == "Conv"
    )
    assert not three.pointwise
    path = make_conv_then(tmp_path / "b.onnx", "Relu", kernel=1)
    assert next(n for n in graph_cost(path).nodes if n.op_type == "Conv").pointwise
