"""Cold start: from a fresh interpreter to a shown, idle main window (goal ≤ 1.5 s), and the
CLI's `studio --version` / `studio --help` (goal < 0.3 s each).

Runs the real `studio` GUI entry in a child interpreter N times (offscreen) and reports the
median; also lists whether onnxruntime / QtWebEngine were imported before the window was usable
(they must load lazily). The CLI rows time whole `python -m studio ...` processes, bytecode
cached as in an installed copy.
Usage: python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, os, sys, time
t0 = float(sys.argv[1])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from studio.ui.main_window import MainWindow
from studio.ui.theme import apply_theme
app = QApplication([])
apply_theme(app)
w = MainWindow()
w.show()
def done():
    heavy = [m for m in ("onnxruntime", "PySide6.QtWebEngineWidgets", "torch") if m in sys.modules]
    print(json.dumps({"seconds": time.time() - t0, "heavy_imports": heavy}))
    w.jobs.shutdown()
    app.quit()
QTimer.singleShot(0, done)
app.exec()
"""


def _time_cli(argv: list[str], runs: int) -> float:
    # PYTHONDONTWRITEBYTECODE would make every run compile the sources: not what users see.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-m", "studio", *argv]
    subprocess.run(command, env=env, capture_output=True, check=True)  # writes the .pyc files
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        seconds.append(time.perf_counter() - start)
    return round(statistics.median(seconds), 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = dict(
        os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_CONFIG_DIR="/tmp/studio-bench-config"
    )
    cli = {" ".join(a): _time_cli(a, args.runs) for a in (["--version"], ["--help"])}
    results = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, repr(time.time())],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    seconds = [r["seconds"] for r in results]
    print(
        json.dumps(
            {
                "median_s": round(statistics.median(seconds), 3),
                "max_s": round(max(seconds), 3),
                "runs": args.runs,
                "heavy_imports_before_usable": results[-1]["heavy_imports"],
                "cli_median_s": cli,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
