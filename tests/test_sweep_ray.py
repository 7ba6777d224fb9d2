"""Sweeps as Ray tasks on a real Ray started here on 127.0.0.1 with two CPUs (the [ray] extra)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.sweep.run import SweepResult, run_sweep
from studio.core.sweep.spec import SweepSpec, load_sweep
from tests.support.models import make_mlp

try:
    import ray
except ImportError as exc:  # a missing extra fails, never skips: .ci/run installs it
    raise ImportError('Ray is missing: pip install -e ".[ray]"') from exc

NPU_CHIP = "intel-core-ultra-meteor-lake"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Workers start with these and keep them: their own user folders, tracking off, no usage stats.
    root = tmp_path_factory.mktemp("ray-user")
    env = {name: str(root / name.lower()) for name in ("STUDIO_DATA_DIR", "STUDIO_CACHE_DIR")}
    env |= {"STUDIO_TRACKING": "off", "RAY_USAGE_STATS_ENABLED": "0"}
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        resources={"studio_timing": 1},
        runtime_env={"env_vars": env},
        logging_level="ERROR",
        log_to_driver=False,
    )
    yield
    ray.shutdown()


def _spec(tmp_path: Path, **fields: object) -> SweepSpec:
    make_mlp(tmp_path / "mlp.onnx", batch=1)
    data = {"models": ["mlp.onnx"], "chips": [NPU_CHIP]} | fields
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_sweep(path)


def _task_pids(name: str) -> list[int]:
    """Ray workers running ``name`` now: Ray titles a busy worker's process ray::<function>."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(f"ray::{name}".encode()):
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the worker through /proc")
def test_a_worker_killed_mid_trial_has_its_trial_run_again(cluster: None, tmp_path: Path) -> None:
    spec = _spec(tmp_path, methods=["fp16", "cleanup"], measure=False)
    outcome: list[SweepResult] = []
    runner = threading.Thread(target=lambda: outcome.append(run_sweep(spec, tmp_path, ray="auto")))
    runner.start()
    killed: list[int] = []
    deadline = time.monotonic() + 120
    while not killed and runner.is_alive() and time.monotonic() < deadline:
        for pid in _task_pids("work_task")[:1]:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        time.sleep(0.01)
    runner.join(300)
    assert killed, "no worker was caught running a trial"
    (result,) = outcome
    assert [t.status for t in result.trials] == ["done", "done"]
    assert all(Path(t.output).is_file() for t in result.trials)


def test_ray_runs_the_same_trials_with_timing_on_the_nodes_slot(
    cluster: None, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, methods=["fp16", "int8-dynamic"], runs=3)
    result = run_sweep(spec, tmp_path, ray="auto")
    assert result.where == "auto"
    assert [t.status for t in result.trials] == ["done", "done"]
    for trial in result.trials:
        assert Path(trial.output).is_file() and trial.output.startswith(
            str(Path(os.environ["STUDIO_DATA_DIR"]))
        )
        assert trial.metrics.host_latency_ms and trial.metrics.cosine is not None
    assert result.front
    again = run_sweep(spec, tmp_path, ray="auto")
    assert [t.status for t in again.trials] == ["cached", "cached"]
