"""Sweeps on the local process pool: the spec, trials, timing alone, cancel, cache, front, recipe."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from studio.cli.main import main
from studio.core.bundle.recipe import load_recipe, save_recipe
from studio.core.compress import CompressOptions, Method
from studio.core.errors import BadInput
from studio.core.progress import Reporter
from studio.core.sweep.run import SweepResult, run_sweep
from studio.core.sweep.spec import SweepSpec, load_sweep
from studio.core.sweep.table import mark_front, to_recipe
from studio.core.sweep.trial import Trial, TrialMetrics, TrialResult
from tests.support.models import make_mlp

NPU_CHIP = "intel-core-ultra-meteor-lake"


def _spec(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("version: 1\nmodels: [m.onnx]\nmethod: [fp16]\n", ["sweep.yaml", "'method'", "Remove"]),
        ("version: 1\nmodels: [m.onnx]\nmethods: [int9]\n", ["sweep.yaml", "'methods.0'"]),
        ("version: 2\nmodels: [m.onnx]\n", ["sweep.yaml", "'version'"]),
        ("version: 1\nmodels: [nope.onnx]\n", ["sweep.yaml", "'models.0'", "nope.onnx"]),
        ("version: 1\nmodels: [m.onnx]\nchips: [no-such-chip]\n", ["'chips.0'", "no-such-chip"]),
        ("version: 1\nmodels: [m.onnx, m.onnx]\n", ["'models'", "listed twice"]),
        (
            "version: 1\nmodels: [m.onnx]\nmethods: [fp16, int4, int8-dynamic, cleanup, prune]\n"
            "options: [" + ", ".join(["{}"] * 101) + "]\n",
            ["505 trials", "at most 500"],
        ),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
            "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
            ["sweep.yaml is refused", "aliases"],
        ),
    ],
)
def test_a_bad_sweep_file_names_the_file_the_field_and_the_fix(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    make_mlp(tmp_path / "m.onnx")
    with pytest.raises(BadInput) as caught:
        load_sweep(_spec(tmp_path, text))
    message = caught.value.message
    assert "\n" not in message
    for word in words:
        assert word in message


def _mlp_spec(tmp_path: Path, **fields: Any) -> tuple[SweepSpec, Path]:
    make_mlp(tmp_path / "mlp.onnx", batch=1)
    data = {"models": ["mlp.onnx"], "chips": ["this-pc", NPU_CHIP]} | fields
    path = _spec(tmp_path, json.dumps(data), "sweep.json")
    return load_sweep(path), tmp_path


def test_sweep_runs_every_trial_marks_the_front_and_reruns_only_what_changed(
    tmp_path: Path,
) -> None:
    spec, base = _mlp_spec(tmp_path, methods=["fp16"], measure=False)
    first = run_sweep(spec, base, workers=2)
    assert [t.status for t in first.trials] == ["done"] * 2
    assert [t.trial.chip for t in first.trials] == ["this-pc", NPU_CHIP]
    for trial in first.trials:
        assert Path(trial.output).is_file() and trial.metrics.cosine is not None
        assert trial.metrics.size_after and trial.metrics.size_after < trial.metrics.size_before
    npu = first.trials[1].metrics
    assert npu.predicted_ms is not None and npu.npu_share is not None and npu.unit == "NPU"
    assert first.front and all(t.status == "done" for t in first.front)

    again = run_sweep(spec, base, workers=2)
    assert [t.status for t in again.trials] == ["cached"] * 2
    assert [t.metrics for t in again.trials] == [t.metrics for t in first.trials]
    # New weights, same path and settings: the content hash differs, so every trial runs again.
    make_mlp(tmp_path / "mlp.onnx", batch=1, hidden=8)
    changed = run_sweep(spec, base, workers=2)
    assert [t.status for t in changed.trials] == ["done"] * 2
    assert changed.trials[0].metrics.size_before < first.trials[0].metrics.size_before


def test_timing_phases_run_with_nothing_beside_them(tmp_path: Path) -> None:
    spec, base = _mlp_spec(tmp_path, chips=[NPU_CHIP], methods=["fp16", "cleanup"], runs=3)
    result = run_sweep(spec, base, workers=2)
    assert [t.status for t in result.trials] == ["done"] * 2
    spans = [span for t in result.trials for span in t.spans]
    timings = [s for s in spans if s[0] == "timing"]
    assert len(timings) == 2 and all(t.metrics.host_latency_ms for t in result.trials)
    for timing in timings:
        for other in spans:
            if other is not timing:
                assert other[2] <= timing[1] or other[1] >= timing[2], (timing, other)
    # Compress phases did run side by side: the pool is not a queue of one.
    works = sorted(s for s in spans if s[0] == "work")
    assert any(a[2] > b[1] for a, b in itertools.pairwise(works))


def test_cancel_stops_every_trial_and_leaves_no_partial_output(tmp_path: Path) -> None:
    spec, base = _mlp_spec(tmp_path, methods=["fp16", "int8-dynamic", "cleanup"], measure=False)
    cancel = threading.Event()
    started = time.monotonic()
    report = Reporter(on_progress=lambda fraction, _: fraction > 0 and cancel.set())
    result = run_sweep(spec, base, workers=2, cancel=cancel, report=report)
    assert cancel.is_set() and time.monotonic() - started < 30
    statuses = [t.status for t in result.trials]
    assert "cancelled" in statuses and set(statuses) <= {"cancelled", "done"}
    assert not multiprocessing.active_children()
    from studio.core.paths import default_output_dir

    leftovers = [p for p in (default_output_dir() / "sweeps").rglob("*") if p.name.startswith(".")]
    assert leftovers == []
    for trial in result.trials:
        assert (trial.status == "done") == bool(trial.output)


def _result(index: int, size: int, ms: float, cosine: float, status: str = "done") -> TrialResult:
    trial = Trial(
        index=index,
        model="/m.onnx",
        model_sha256="0",
        chip="this-pc",
        method=Method.FP16,
        options=CompressOptions(),
    )
    metrics = TrialMetrics(size_after=size, host_latency_ms=ms, cosine=cosine)
    return TrialResult(trial=trial, status=status, metrics=metrics)  # type: ignore[arg-type]


def test_the_front_keeps_rows_no_other_row_beats_on_size_speed_and_drift_at_once() -> None:
    rows = [
        _result(0, 100, 1.0, 0.99),  # smallest
        _result(1, 200, 0.5, 0.99),  # fastest
        _result(2, 300, 2.0, 1.0),  # closest
        _result(3, 300, 2.0, 0.98),  # beaten by every other on all three
        _result(4, 50, 0.1, 1.0, status="failed"),
    ]
    assert [r.front for r in mark_front(rows)] == [True, True, True, False, False]


def test_a_row_becomes_a_recipe_that_loads_back(tmp_path: Path, demo_model: Path) -> None:
    row = _result(0, 100, 1.0, 0.99)
    options = CompressOptions.model_validate(
        {"keep_float": ["fc2"], "int8": {"per_channel": False}}
    )
    trial = row.trial.model_copy(
        update={"model": str(tmp_path / "m.onnx"), "chip": NPU_CHIP, "method": Method.INT8_STATIC}
    )
    trial = trial.model_copy(update={"options": options, "calibration": "/data/samples.npz"})
    recipe = to_recipe(row.model_copy(update={"trial": trial}))
    saved = load_recipe(save_recipe(recipe, tmp_path / "chosen.yaml"))
    assert saved.model.source == "local" and saved.model.path == str(tmp_path / "m.onnx")
    assert saved.target.chip == NPU_CHIP and saved.optimize.method is Method.INT8_STATIC
    assert saved.optimize.keep_float == ["fc2"] and not saved.optimize.int8.per_channel
    assert saved.optimize.calibration == "/data/samples.npz"
    demo = row.trial.model_copy(update={"model": str(demo_model)})
    assert to_recipe(row.model_copy(update={"trial": demo})).model.source == "demo"


def test_cli_sweep_json_lists_each_trial_and_the_front_and_saves_a_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _mlp_spec(tmp_path, chips=[NPU_CHIP], methods=["fp16", "int8-dynamic"], measure=False)
    recipe = tmp_path / "chosen.yaml"
    code = main(["sweep", str(tmp_path / "sweep.json"), "--json", f"--save-recipe=2={recipe}"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(t["method"], t["status"]) for t in out["trials"]] == [
        ("fp16", "done"),
        ("int8-dynamic", "done"),
    ]
    assert set(out["trials"][0]) >= {"model", "chip", "method", "status", "metrics"}
    assert out["front"] == [n for n, t in enumerate(out["trials"], 1) if t["front"]]
    assert load_recipe(recipe).optimize.method is Method.INT8_DYNAMIC

    assert main(["sweep", str(_spec(tmp_path, "version: 1\nmodels: []\n"))]) == 2
    assert "'models' has a wrong value" in capsys.readouterr().err


def test_sweep_result_front_is_the_marked_rows() -> None:
    rows = mark_front([_result(0, 100, 1.0, 0.99), _result(1, 200, 2.0, 0.98)])
    assert [r.trial.index for r in SweepResult(trials=rows).front] == [0]
