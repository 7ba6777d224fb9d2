#!/usr/bin/env python3
"""Run a studio bundle with onnxruntime's NNAPI provider (Android), falling back to the CPU.

    python3 runner/nnapi.py [--runs N] [--cpu]

Needs Python 3.8+ and onnxruntime with numpy. NNAPI hands the ops it supports to the phone's
NPU driver (the APU on MediaTek Dimensity) and leaves the rest to the CPU; an onnxruntime build
without the NNAPI provider runs everything on the CPU. The first line names what was used.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

BUNDLE = Path(__file__).resolve().parent.parent
NNAPI = "NnapiExecutionProvider"


def open_session(ort, model: Path, cpu_only: bool):
    """(session, one line naming the providers used and why)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if cpu_only:
        why = "CPU (--cpu)"
    elif NNAPI not in ort.get_available_providers():
        why = "CPU (this onnxruntime has no NNAPI provider)"
    else:
        try:
            session = ort.InferenceSession(
                str(model), options, providers=[NNAPI, "CPUExecutionProvider"]
            )
            return session, "NNAPI with CPU fallback for the ops NNAPI does not take"
        except Exception as exc:  # the provider refuses the model: run it on the CPU instead
            why = f"CPU (NNAPI refused the model: {str(exc).splitlines()[0][:120]})"
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"]), why


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cpu", action="store_true", help="skip NNAPI")
    args = parser.parse_args(argv)
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime is not installed", file=sys.stderr)
        return 3
    session, used = open_session(ort, BUNDLE / "model.onnx", args.cpu)
    print(f"running on {used}", flush=True)
    types = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64}
    rng = np.random.default_rng(0)
    feeds = {
        i.name: rng.standard_normal(i.shape).astype(types.get(i.type, np.float32))
        for i in session.get_inputs()
    }
    session.run(None, feeds)
    times = []
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000)
    print(f"median latency {statistics.median(times):.3f} ms over {len(times)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
