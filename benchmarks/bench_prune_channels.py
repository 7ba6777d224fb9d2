"""Structured channel pruning on real models: what is cut, what it saves, how much faster it runs.

    PYTHONPATH=. python benchmarks/bench_prune_channels.py [--models "PP-OCR cls"]
        [--ratios 0.3,0.5] [--multiple 1,8] [--seconds 4] [--json out.json]

Each result comes from `compress_model(..., "prune-channels")` (the studio's own path). Latency is
timed again here, original and pruned *interleaved* run by run in one process on one thread, so a
load change on this shared machine hits both alike; the table shows medians and the ratio of
medians. Drift is over 8 evaluation samples made with another seed than calibration would use.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.real_models import MODELS, RealModel, fetch, sample_data
from studio.core.compress import compress_model
from studio.core.errors import StudioError


def interleaved_ms(
    original: Path, pruned: Path, feeds: dict, seconds: float
) -> tuple[float, float]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sessions = [
        ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"])
        for p in (original, pruned)
    ]
    feeds_for = [{i.name: feeds[i.name] for i in s.get_inputs()} for s in sessions]
    for s, f in zip(sessions, feeds_for, strict=True):
        s.run(None, f)
    times: list[list[float]] = [[], []]
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times[0]) < 5:
        for index, (s, f) in enumerate(zip(sessions, feeds_for, strict=True)):
            start = time.perf_counter()
            s.run(None, f)
            times[index].append((time.perf_counter() - start) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def first_sample(model: RealModel, evaluation: Path) -> dict:
    import onnx

    from studio.core.compress.options import ImageSettings
    from studio.core.samples.calibration import load_samples

    header = onnx.load(str(model.path()), load_external_data=False)
    return load_samples(
        evaluation,
        header,
        model_path=model.path(),
        limit=1,
        image=ImageSettings(**(model.image or {})),
        shapes=dict(model.shapes),
        warnings=[],
        key="evaluation",
    )[0]


def run_one(
    model: RealModel, ratio: float, multiple: int, work: Path, evaluation: Path, seconds: float
) -> dict:
    row: dict = {"model": model.name, "ratio": ratio, "multiple_of": multiple}
    out = work / f"pruned-{ratio}-{multiple}.onnx"
    started = time.perf_counter()
    try:
        result = compress_model(
            model.path(),
            "prune-channels",
            out,
            evaluation=evaluation,
            shapes=model.shapes,
            options={
                "image": model.image or {},
                "measure_latency": False,
                "channels": {"ratio": ratio, "multiple_of": multiple},
            },
            force=True,
        )
    except StudioError as exc:
        row.update(error=exc.message, seconds=time.perf_counter() - started)
        return row
    seconds_taken = time.perf_counter() - started
    before, after = interleaved_ms(model.path(), out, first_sample(model, evaluation), seconds)
    report, channels = result.report, result.channels
    assert report is not None and channels is not None
    row.update(
        pruned=len(channels.layers),
        skipped=len(channels.skipped),
        weights_ratio=channels.params_after / channels.params_before,
        size_ratio=result.size_after / result.size_before,
        before_ms=before,
        after_ms=after,
        latency_ratio=after / before,
        cosine=report.min_cosine,
        top1=report.min_top1,
        seconds=seconds_taken,
        skipped_reasons=sorted({s.reason.split("'")[0].strip() for s in channels.skipped}),
    )
    return row


def table(rows: list[dict]) -> str:
    lines = [
        "| model | ratio / multiple of | layers cut / left | weights × | size × | "
        "latency × (ms, 1 thread, interleaved) | cosine | top-1 | time s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        setting = f"{r['ratio']} / {r['multiple_of']}"
        if "error" in r:
            lines.append(
                f"| {r['model']} | {setting} | — | — | — | — | — | — | "
                f"{r['seconds']:.1f} refused: {r['error'][:100]} |"
            )
            continue
        top1 = f"{r['top1']:.0%}" if r["top1"] is not None else "—"
        lines.append(
            f"| {r['model']} | {setting} | {r['pruned']} / {r['skipped']} | "
            f"{r['weights_ratio']:.2f} | {r['size_ratio']:.2f} | {r['latency_ratio']:.2f} "
            f"({r['before_ms']:.1f} → {r['after_ms']:.1f}) | {r['cosine']:.4f} | {top1} | "
            f"{r['seconds']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", help="comma-separated model names (default: all)")
    parser.add_argument("--ratios", default="0.3,0.5")
    parser.add_argument("--multiple", default="1,8", help="channel multiples to try")
    parser.add_argument("--seconds", type=float, default=4.0, help="timing budget per result")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    wanted = set(args.models.split(",")) if args.models else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-prune-") as tmp:
        for model in MODELS:
            if wanted and model.name not in wanted:
                continue
            fetch(model)
            work = Path(tmp) / model.name.replace(" ", "_")
            work.mkdir()
            evaluation = sample_data(model, work, 8, seed=1)
            for multiple in (int(m) for m in args.multiple.split(",")):
                for ratio in (float(r) for r in args.ratios.split(",")):
                    row = run_one(model, ratio, multiple, work, evaluation, args.seconds)
                    print(json.dumps(row), file=sys.stderr, flush=True)
                    rows.append(row)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
