"""What run tracking adds to a job (issue #24 goal: ≤ 3 %).

Times whole `studio compress` commands (a job child, as users run it) with tracking off and on,
each in a fresh data folder, alternating so load changes hit both alike. With tracking on the
job only writes its run to the spool; a detached sender uploads it afterwards, so the row also
reports how long that sender took (waited for before the next command, so it does not share the
CPU with it).
Usage: python -m benchmarks.bench_track [--runs 5] [--method int8-dynamic]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from studio.core.paths import assets_dir

DEMO = assets_dir() / "demo" / "digits_cnn.onnx"


def _one(tracking: bool, method: str, root: Path) -> tuple[float, float]:
    """(job seconds, seconds until the spool was sent) for one compress in a fresh data folder."""
    data = Path(tempfile.mkdtemp(dir=root))
    env = dict(
        os.environ,
        STUDIO_DATA_DIR=str(data),
        STUDIO_TRACKING="on" if tracking else "off",
        PYTHONDONTWRITEBYTECODE="",
    )
    env.pop("MLFLOW_TRACKING_URI", None)
    out = data / "out.onnx"
    command = [sys.executable, "-m", "studio", "compress", str(DEMO), "--method", method]
    start = time.perf_counter()
    subprocess.run([*command, "--out", str(out), "-q"], env=env, check=True, capture_output=True)
    job = time.perf_counter() - start
    queue = data / "tracking" / "queue"
    while tracking and (list(queue.glob("*.json*")) or (queue / "sender.lock").exists()):
        time.sleep(0.05)
    return job, time.perf_counter() - start - job


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--method", default="int8-dynamic")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _one(True, args.method, root)  # bytecode and the page cache, for both
        off, on, sender = [], [], []
        for _ in range(args.runs):
            off.append(_one(False, args.method, root)[0])
            job, sent = _one(True, args.method, root)
            on.append(job)
            sender.append(sent)
    row = {
        "method": args.method,
        "runs": args.runs,
        "job_off_s": round(statistics.median(off), 3),
        "job_on_s": round(statistics.median(on), 3),
        "overhead_pct": round(100 * (statistics.median(on) / statistics.median(off) - 1), 1),
        "sender_after_job_s": round(statistics.median(sender), 2),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
