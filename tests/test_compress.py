"""Cleanup and INT8 compression on real models, and the bad inputs around them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from studio.core.compress import SYNTHETIC_WARNING, compress_model
from studio.core.errors import BadInput, OutputError
from tests.support.models import make_mlp


def _predict(model: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_int8_static_on_demo_model_keeps_answers(
    tmp_path: Path, demo_model: Path, demo_samples: Path
) -> None:
    out = tmp_path / "int8.onnx"
    result = compress_model(demo_model, "int8-static", out, calib=demo_samples)
    assert out.exists() and result.warnings == []
    assert result.size_after < result.size_before / 3
    evaluation = np.load(demo_samples)["evaluation"][:50]
    before = _predict(demo_model, evaluation).argmax(1)
    after = _predict(out, evaluation).argmax(1)
    assert (before == after).mean() >= 0.96


def test_int8_dynamic_and_cleanup(tmp_path: Path) -> None:
    model = make_mlp(tmp_path / "mlp.onnx", hidden=64)
    x = np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32)
    cleaned = compress_model(model, "cleanup", tmp_path / "clean.onnx")
    np.testing.assert_allclose(
        _predict(Path(cleaned.output), x), _predict(model, x), rtol=1e-5, atol=1e-5
    )
    dynamic = compress_model(model, "int8-dynamic", tmp_path / "dyn.onnx")
    assert dynamic.size_after < dynamic.size_before
    assert (
        np.corrcoef(_predict(Path(dynamic.output), x).ravel(), _predict(model, x).ravel())[0, 1]
        > 0.99
    )


def test_static_without_calibration_warns_loudly(tmp_path: Path) -> None:
    model = make_mlp(tmp_path / "mlp.onnx")
    result = compress_model(model, "int8-static", tmp_path / "q.onnx")
    assert result.warnings == [SYNTHETIC_WARNING]


def test_existing_output_is_not_overwritten_without_force(tmp_path: Path) -> None:
    model = make_mlp(tmp_path / "mlp.onnx")
    out = tmp_path / "q.onnx"
    out.write_text("user's file")
    with pytest.raises(OutputError, match="already exists"):
        compress_model(model, "cleanup", out)
    assert out.read_text() == "user's file"


def test_force_replaces_the_output_and_leaves_no_staging_behind(tmp_path: Path) -> None:
    model = make_mlp(tmp_path / "mlp.onnx")
    out = tmp_path / "q.onnx"
    out.write_text("an older result")
    compress_model(model, "int8-dynamic", out, force=True, drift=False)
    assert onnx.load(str(out)).graph.node
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.onnx", "q.onnx"]


def test_output_that_appears_during_the_run_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.compress.run as run

    model = make_mlp(tmp_path / "mlp.onnx")
    out = tmp_path / "q.onnx"
    real = run.run_method

    def user_saves_meanwhile(*args, **kwargs):
        path = real(*args, **kwargs)
        out.write_text("saved by the user meanwhile")
        return path

    monkeypatch.setattr(run, "run_method", user_saves_meanwhile)
    with pytest.raises(OutputError, match="already exists"):
        compress_model(model, "int8-dynamic", out, drift=False)
    assert out.read_text() == "saved by the user meanwhile"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.onnx", "q.onnx"]


def test_output_equal_to_input_is_refused(tmp_path: Path) -> None:
    model = make_mlp(tmp_path / "mlp.onnx")
    with pytest.raises(OutputError, match="overwrite the input"):
        compress_model(model, "cleanup", model, force=True)


def test_unknown_method(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="Unknown method 'int3'"):
        compress_model(make_mlp(tmp_path / "m.onnx"), "int3", tmp_path / "o.onnx")


@pytest.mark.parametrize(
    ("calib", "message"),
    [
        ("missing.npz", "does not exist"),
        ("empty.npz", "holds no samples"),
        ("wrong.npz", "does not match input"),
        ("text.csv", "not a .npy or .npz"),
    ],
)
def test_bad_calibration_data(tmp_path: Path, calib: str, message: str) -> None:
    model = make_mlp(tmp_path / "mlp.onnx")
    np.savez(tmp_path / "empty.npz", x=np.zeros((0, 16), np.float32))
    np.savez(tmp_path / "wrong.npz", x=np.zeros((5, 7), np.float32))
    (tmp_path / "text.csv").write_text("1,2,3")
    with pytest.raises(BadInput, match=message):
        compress_model(model, "int8-static", tmp_path / "q.onnx", calib=tmp_path / calib)
    assert not (tmp_path / "q.onnx").exists()
