"""Compression as a background job: progress, cancel leaves nothing behind, recipes replay it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.core.jobs import JobSpec, JobState, ProgressMessage
from studio.core.jobs.runner import JobHandle
from tests.support.compress_models import make_block, make_cnn


@pytest.mark.parametrize("drift", [True, False])  # a staging folder, or partial files beside
def test_cancel_during_calibration_leaves_no_output(tmp_path: Path, drift: bool) -> None:
    model = make_cnn(tmp_path / "cnn.onnx", size=64, constants=False)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "many.npz", image=rng.random((400, 3, 64, 64), dtype=np.float32))
    out = tmp_path / "out" / "q.onnx"
    spec = JobSpec(
        title="compress",
        target="studio.core.compress:compress_model",
        kwargs={
            "model": str(model),
            "method": "int8-static",
            "out": str(out),
            "calib": str(tmp_path / "many.npz"),
            "calib_limit": 400,
            "options": {"int8": {"calibrate_method": "entropy"}},
            "drift": drift,
        },
        outputs=[out],
    )
    handle = JobHandle(spec)
    messages = []
    for message in handle.events():
        if isinstance(message, ProgressMessage):
            messages.append(message.message)
            if message.message.startswith("Calibrating batch 3/"):
                handle.cancel()
    assert handle.state is JobState.CANCELLED, messages[-3:]
    assert not out.exists()
    assert not out.parent.exists() or not list(out.parent.iterdir())


def test_job_reports_progress_and_returns_the_report(tmp_path: Path) -> None:
    from studio.core.jobs import run_job

    model = make_block(tmp_path / "block.onnx")
    seen: list[str] = []
    result = run_job(
        JobSpec(
            title="compress",
            target="studio.core.compress:compress_model",
            kwargs={"model": str(model), "method": "int8-dynamic", "out": str(tmp_path / "d.onnx")},
        ),
        on_progress=lambda f, m: seen.append(m),
    )
    assert result.report.outputs[0].name == "y"
    assert "Cleaning up the graph" in seen and "Done" in seen


def test_recipe_with_new_options_replays_into_a_bundle(tmp_path: Path) -> None:
    import json

    from studio.core.bundle.pipeline import run_recipe
    from studio.core.bundle.recipe import load_recipe

    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "version: 1\nmodel: {source: demo}\noptimize:\n  method: int8-static\n"
        "  calibration: demo\n  calib_limit: 20\n  keep_float: [Gemm]\n"
        "  int8: {calibrate_method: minmax, activations: uint8}\nprofile: {runs: 2}\n",
        encoding="utf-8",
    )
    assert load_recipe(recipe).optimize.keep_float == ["Gemm"]
    result = run_recipe(recipe, tmp_path / "bundle")
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    drift = manifest["reports"]["drift"]
    assert drift["outputs"][0]["cosine"] > 0.99
    assert result.compress.kept_float


def test_recipe_with_a_bad_option_names_the_key(tmp_path: Path) -> None:
    import pytest

    from studio.core.bundle.recipe import load_recipe
    from studio.core.errors import BadInput

    recipe = tmp_path / "r.yaml"
    recipe.write_text("version: 1\noptimize:\n  int8: {calibrate: fast}\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"r.yaml: unknown key 'optimize.int8.calibrate'"):
        load_recipe(recipe)
