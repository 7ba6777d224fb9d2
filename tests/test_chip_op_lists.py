"""NPU op lists: where a vendor publishes one the check uses it; where none is public it says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.chips.catalogue import get_chip
from studio.core.chips.check import check_model
from tests.support.chip_models import make_conv_then, make_if_model

AXERA = "axera-ax650n"
UNLISTED = ("intel-core-ultra-meteor-lake", "hailo-10h")


def _units(result) -> dict[str, str]:
    return {p.node: p.unit for p in result.placement}


def test_axera_list_is_the_vendors_and_cited() -> None:
    npu = get_chip(AXERA).main
    assert npu.supported_ops is not None and len(npu.supported_ops) > 80
    assert npu.supported_ops_source and "op_support_list_ax650" in npu.supported_ops_source
    assert npu.ops_confidence is not None and npu.ops_confidence.value == "vendor"
    # Ops Axera lists for its NPU, including the Transformer ones the issue names.
    for op in ("Conv", "MatMul", "Softmax", "LayerNormalization", "Gelu", "TopK"):
        assert op in npu.supported_ops


def test_axera_runs_a_listed_op_and_falls_back_on_an_unlisted_one(tmp_path: Path) -> None:
    listed = check_model(make_conv_then(tmp_path / "gelu.onnx", "Sigmoid"), AXERA)
    assert _units(listed) == {"conv": "npu", "tested": "npu"}
    assert listed.verdict.startswith("Runs fully on the NPU")
    unlisted = check_model(make_conv_then(tmp_path / "selu.onnx", "Selu"), AXERA)
    assert _units(unlisted) == {"conv": "npu", "tested": "cpu"}
    assert unlisted.unsupported_ops == ["Selu"]
    assert "list of supported ops" in unlisted.fallback_ops[0].reason
    assert any("op_support_list_ax650" in a for a in unlisted.assumptions)


def test_axera_control_flow_is_known_unsupported(tmp_path: Path) -> None:
    result = check_model(make_if_model(tmp_path / "if.onnx"), AXERA)
    assert _units(result)["branch"] == "cpu" and _units(result)["relu"] == "npu"


@pytest.mark.parametrize("chip", UNLISTED)
def test_chips_without_a_public_list_say_so_in_file_and_check(chip: str, tmp_path: Path) -> None:
    npu = get_chip(chip).main
    assert npu.supported_ops is None
    assert npu.ops_note and "Not encoded" in npu.ops_note
    # Honest default: standard ops run on the NPU, control flow does not, and the report says
    # the list is an assumption.
    standard = check_model(make_conv_then(tmp_path / "selu.onnx", "Selu"), chip)
    assert _units(standard) == {"conv": "npu", "tested": "npu"}
    assert any("not public or not encoded" in a for a in standard.assumptions)
    branchy = check_model(make_if_model(tmp_path / "if.onnx"), chip)
    # The If's body runs where the If runs (its work is counted since #18).
    assert _units(branchy) == {"relu": "npu", "branch": "cpu", "branch/Mul_0": "cpu"}


@pytest.mark.parametrize("chip", (AXERA, *UNLISTED))
def test_onnxruntime_only_ops_fall_back_on_every_npu(chip: str, tmp_path: Path) -> None:
    path = make_conv_then(tmp_path / "gelu.onnx", "Gelu", domain="com.microsoft")
    result = check_model(path, chip)
    assert _units(result) == {"conv": "npu", "tested": "cpu"}
