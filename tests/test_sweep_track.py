"""A sweep is one tracked run with a child run per trial (real MLflow, SQLite store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("mlflow", reason="the [track] extra is not installed")

from tests.support.models import make_mlp
from tests.test_track import empty_store, run, tracking  # noqa: F401  (fixtures)


def test_every_trial_is_a_child_run_of_the_sweeps_run(
    tracking: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    make_mlp(tmp_path / "mlp.onnx", batch=1)
    spec = tmp_path / "sweep.json"
    spec.write_text(
        json.dumps(
            {
                "models": ["mlp.onnx"],
                "chips": ["intel-core-ultra-meteor-lake"],
                "methods": ["fp16", "cleanup"],
                "measure": False,
            }
        ),
        encoding="utf-8",
    )
    code, _out, err = run(capsys, "sweep", str(spec), "--json", "-q")
    assert code == 0 and "Run tracking" not in err, err
    runs = json.loads(run(capsys, "runs", "--json")[1])
    (sweep,) = [r for r in runs if r["kind"] == "sweep"]
    trials = [r for r in runs if r["parent"] == sweep["id"]]
    assert sorted(r["kind"] for r in trials) == ["sweep-trial", "sweep-trial"]
    for trial in trials:
        steps = [r["kind"] for r in runs if r["parent"] == trial["id"]]
        assert steps == ["compress"]
