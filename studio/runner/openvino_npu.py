#!/usr/bin/env python3
"""Run a studio OpenVINO bundle on an Intel Core Ultra PC: NPU first, then GPU, then CPU.

    python runner/openvino_npu.py [--device NPU|GPU|CPU] [--runs N]

Needs Python 3.8+ and `pip install openvino numpy`. The NPU blob is compiled from
openvino/model.xml by Intel's NPU driver on this PC the first time (a minute or more for a big
model) and kept in model_cache/ beside the bundle, so later starts load it in seconds. Prints one
line naming the device it used, then the median latency of N runs on made-up inputs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

BUNDLE = Path(__file__).resolve().parent.parent
ORDER = ("NPU", "GPU", "CPU")


def compile_first(core, xml: Path, devices: tuple[str, ...], cache: Path):
    """Compile for the first device that works; the reason each earlier one failed is kept."""
    reasons = []
    for device in devices:
        if device != "CPU" and device not in core.available_devices:
            reasons.append(f"{device}: not present (driver not installed?)")
            continue
        try:
            config = {"CACHE_DIR": str(cache)} if device != "CPU" else {}
            return device, core.compile_model(str(xml), device, config), reasons
        except RuntimeError as exc:  # the plugin refuses the model (an op, a shape)
            reasons.append(f"{device}: {str(exc).splitlines()[0][:160]}")
    raise SystemExit("no OpenVINO device could load the model: " + "; ".join(reasons))


def feeds_for(compiled) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    feeds = {}
    for port in compiled.inputs:
        shape = [int(d) for d in port.get_shape()]
        dtype = port.get_element_type().to_dtype()
        if np.issubdtype(dtype, np.integer):
            feeds[port.get_any_name()] = np.zeros(shape, dtype)
        else:
            feeds[port.get_any_name()] = rng.standard_normal(shape).astype(dtype)
    return feeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=ORDER, help="only this device (default: NPU→GPU→CPU)")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    try:
        import openvino as ov
    except ImportError:
        print("openvino is not installed: pip install openvino numpy", file=sys.stderr)
        return 3
    core = ov.Core()
    cache = BUNDLE / "model_cache"
    devices = (args.device,) if args.device else ORDER
    device, compiled, reasons = compile_first(
        core, BUNDLE / "openvino" / "model.xml", devices, cache
    )
    skipped = f" ({'; '.join(reasons)})" if reasons else ""
    print(f"running on {device}{skipped}", flush=True)
    request = compiled.create_infer_request()
    feeds = feeds_for(compiled)
    request.infer(feeds)
    times = []
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        request.infer(feeds)
        times.append((time.perf_counter() - start) * 1000)
    print(f"median latency {statistics.median(times):.3f} ms over {len(times)} runs on {device}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
