"""A 12-trial sweep: the local pool vs one trial at a time, and Ray's overhead per trial (#24).

    python benchmarks/bench_sweep.py [--rounds 1] [--no-ray]

Trials are compress-only (measure: false): 2 models × 2 chips × 3 methods. Every run starts from
an empty results cache (its own data folder), so each trial really runs. Ray (the [ray] extra)
is started here with 2 CPUs; its row is the same sweep as Ray tasks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.core.privacy import keep_private

TRIALS = 12


def _spec(folder: Path) -> Path:
    from tests.support.models import make_mlp

    make_mlp(folder / "mlp.onnx", batch=1, hidden=256)
    data = {
        "models": ["demo", "mlp.onnx"],
        "chips": ["this-pc", "intel-core-ultra-meteor-lake"],
        "methods": ["fp16", "int8-dynamic", "cleanup"],
        "measure": False,
    }
    path = folder / "sweep.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _timed(spec_path: Path, *, workers: int | None = None, ray: str | None = None) -> float:
    from studio.core.sweep.run import run_sweep
    from studio.core.sweep.spec import load_sweep

    os.environ["STUDIO_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-sweep-")  # empty cache
    spec = load_sweep(spec_path)
    start = time.perf_counter()
    result = run_sweep(spec, spec_path.parent, workers=workers, ray=ray)
    seconds = time.perf_counter() - start
    bad = [t for t in result.trials if t.status != "done"]
    if len(result.trials) != TRIALS or bad:
        raise SystemExit(f"the sweep did not run every trial: {[t.error for t in bad]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    keep_private()
    os.environ["STUDIO_TRACKING"] = "off"
    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-spec-"))
    spec = _spec(folder)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    rows: dict[str, list[float]] = {"sequential (1 worker)": [], "pool (2 workers)": []}
    for _ in range(args.rounds):
        rows["sequential (1 worker)"].append(_timed(spec, workers=1))
        rows["pool (2 workers)"].append(_timed(spec, workers=2))
    if not args.no_ray:
        try:
            import ray
        except ImportError:
            print("ray is not installed: no Ray row")
        else:
            ray.init(num_cpus=2, include_dashboard=False, resources={"studio_timing": 1})
            _timed(spec, ray="auto")  # Ray's workers import onnx/onnxruntime once, here
            rows["Ray, 2 CPUs (workers warm)"] = [
                _timed(spec, ray="auto") for _ in range(args.rounds)
            ]
            ray.shutdown()
    base = min(rows["sequential (1 worker)"])
    print("| run | wall s (best) | s per trial | speed-up vs sequential |")
    print("|---|---|---|---|")
    for name, times in rows.items():
        best = min(times)
        print(f"| {name} | {best:.1f} | {best / TRIALS:.2f} | {base / best:.2f}× |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
