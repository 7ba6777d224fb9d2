"""Models that arrive quantized are recognised, reported, and not quantized again; Auto never
hands over a result it measured slower than the original without saying so."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from studio.cli import main
from studio.core.compress import Method, compress_model
from studio.core.compress.auto import Candidate, _pick
from studio.core.errors import BadInput
from studio.core.generate.llm_bundle import demo_lm_path
from studio.core.model.loader import summarize
from studio.core.model.precision import model_precision
from tests.support.compress_models import cnn_samples, make_block, make_cnn

FAST = {"measure_latency": False}


@pytest.fixture(scope="module")
def quantized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same small nets quantized the three ways onnxruntime writes INT8."""
    folder = tmp_path_factory.mktemp("quantized")
    cnn = make_cnn(folder / "cnn.onnx")
    block = make_block(folder / "block.onnx")
    samples = cnn_samples(folder / "s.npz")
    return {
        "float": cnn,
        "dynamic": Path(
            compress_model(block, "int8-dynamic", folder / "dyn.onnx", drift=False).output
        ),
        "qdq": Path(
            compress_model(
                cnn, "int8-static", folder / "qdq.onnx", calib=samples, drift=False
            ).output
        ),
    }


def test_precision_names_the_scheme_and_counts_its_ops(quantized: dict[str, Path]) -> None:
    assert model_precision(onnx.load(quantized["float"])).kind == "float32"
    dynamic = model_precision(onnx.load(quantized["dynamic"]))
    assert dynamic.kind == "integer" and dynamic.quantized
    assert dynamic.quantized_ops["MatMulInteger"] >= 1
    qdq = model_precision(onnx.load(quantized["qdq"]))
    assert qdq.kind == "qdq" and "QuantizeLinear" in qdq.summary()
    nbits = summarize(demo_lm_path()).precision
    assert nbits.kind == "nbits" and nbits.quantized_ops["MatMulNBits"] > 0


def test_info_shows_the_precision(
    quantized: dict[str, Path], capsys: pytest.CaptureFixture
) -> None:
    assert main(["info", str(quantized["dynamic"])]) == 0
    assert "precision   INT8 (dynamic, integer ops): " in capsys.readouterr().out


@pytest.mark.parametrize("method", ["int8-dynamic", "int8-static", "int4", "fp16"])
def test_quantizing_a_quantized_model_again_is_refused(
    quantized: dict[str, Path], tmp_path: Path, method: str
) -> None:
    with pytest.raises(BadInput, match="already quantized"):
        compress_model(quantized["dynamic"], method, tmp_path / "again.onnx", options=FAST)
    assert not (tmp_path / "again.onnx").exists()


def test_auto_keeps_a_quantized_model_as_it_is(quantized: dict[str, Path], tmp_path: Path) -> None:
    result = compress_model(quantized["qdq"], "auto", tmp_path / "auto.onnx", options=FAST)
    assert result.method is Method.AUTO and result.chosen is Method.CLEANUP
    assert any("already quantized" in w for w in result.warnings)
    before, after = onnx.load(quantized["qdq"]), onnx.load(result.output)
    assert model_precision(after) == model_precision(before)
    # Cleanup may merge equal constants (zero points), but no op is dequantized or added.
    assert _ops(after) == _ops(before)


def _ops(model: onnx.ModelProto) -> list[str]:
    return sorted(n.op_type for n in model.graph.node)


def _good(*latencies: float, size: int = 100) -> list[tuple[Candidate, Path]]:
    return [
        (Candidate(method=m, size=size * (i + 1), latency_ms=ms, within_budget=True), Path(m.value))
        for i, (m, ms) in enumerate(zip([Method.INT8_STATIC, Method.FP16], latencies, strict=False))
    ]


def test_auto_with_goal_fastest_never_picks_a_slower_result() -> None:
    assert _pick(_good(15.0, 12.0), "fastest", baseline_ms=10.0) is None
    picked = _pick(_good(15.0, 9.0), "fastest", baseline_ms=10.0)
    assert picked is not None and picked[0].method is Method.FP16


def test_auto_with_goal_smallest_marks_a_slower_result() -> None:
    good = _good(15.0, 12.0)
    picked = _pick(good, "smallest", baseline_ms=10.0)
    assert picked is not None and picked[0].method is Method.INT8_STATIC
    assert all("slower than the original" in c.note for c, _ in good)
