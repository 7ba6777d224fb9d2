"""What the drift report costs on a big real model: direct `quantize_dynamic` vs `studio
compress --method int8-dynamic` with the drift report on, profiled with cProfile in one process.

    python -m benchmarks.bench_drift_cost [--model "MiniLM-L3 paraphrase"]

Prints the direct call's time, the studio's, and the cumulative time of the stages that matter
(per-layer drift, output comparison, cleanup, quantization, onnxruntime runs).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from benchmarks.corpus.catalog import by_name
from benchmarks.corpus.fetch import extract

STAGES = ("layer_drift", "compare_models", "cleanup_model", "quantize_dynamic")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="MiniLM-L3 paraphrase")
    args = parser.parse_args(argv)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from studio.core.compress.run import compress_model

    model = extract(by_name(args.model), download_missing=False)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        started = time.perf_counter()
        quantize_dynamic(str(model), str(work / "direct.onnx"), weight_type=QuantType.QInt8)
        print(f"direct quantize_dynamic: {time.perf_counter() - started:.1f} s")
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        compress_model(model, "int8-dynamic", work / "studio.onnx", drift=True, force=True)
        profile.disable()
        print(f"studio compress, drift report on: {time.perf_counter() - started:.1f} s")
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (file, _line, name), (_calls, _primitive, _own, cumulative, _callers) in stats.items():
        if name in STAGES or "onnxruntime_pybind11_state.run" in name:
            print(f"  {name} ({Path(file).name}): {cumulative:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
