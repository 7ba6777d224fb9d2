"""`studio compile` on real models (benchmarks/corpus, cached in ~/.cache/studio-bench).

For each model: OpenVINO CPU latency against onnxruntime CPU latency of the same FP32 model on
this PC (same thread count, one run each in turn, interleaved: core/analyze/drift.time_pair),
NNCF INT8 drift against onnxruntime static INT8 drift (both on the same made-up calibration
samples, measured by the same drift report), and whether the AX650N Pulsar2 kit validates.

    python -m benchmarks.bench_compile [--models NAME ...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.corpus.catalog import by_name
from benchmarks.corpus.fetch import extract

MODELS = [
    "PP-OCR cls",
    "PP-OCRv4 cls",
    "PP-OCRv4 rec",
    "OWW embedding",
    "OWW hey jarvis",
    "ddddocr common",
    "PP-OCRv4 det",
]


def _row(name: str, work: Path) -> str:
    from studio.core.compile import compile_model
    from studio.core.compress.run import compress_model
    from studio.core.errors import StudioError

    model = extract(by_name(name), download_missing=False)
    cells = [name]
    try:
        fp32 = compile_model(model, "intel-core-ultra-meteor-lake", work / "fp32", precision="fp32")
        cells.append(fp32.measured_at if hasattr(fp32, "measured_at") else fp32.report.measured_at)
        ort_ms, ov_ms = fp32.latency_onnxruntime_ms, fp32.latency_openvino_ms
        cells += [f"{ort_ms:.2f}", f"{ov_ms:.2f}", f"{ov_ms / ort_ms:.2f}"]
        int8 = compile_model(model, "intel-core-ultra-meteor-lake", work / "int8")
        cells.append(f"{int8.report.min_cosine:.4f}")
    except StudioError as exc:
        cells += ["—"] * 5
        cells[-1] = f"failed: {exc.message[:60]}"
    try:
        ort8 = compress_model(model, "int8-static", work / "ort8.onnx")
        cells.append(f"{ort8.report.min_cosine:.4f}")
    except StudioError as exc:
        cells.append(f"failed: {exc.message[:60]}")
    try:
        kit = compile_model(model, "axera-ax650n", work / "kit")
        cpu = ", ".join(kit.check.cpu_ops) or "none"
        cells.append(f"{'valid' if kit.check.ok else 'INVALID'}; not in AX650 list: {cpu}")
    except StudioError as exc:
        cells.append(f"failed: {exc.message[:60]}")
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=MODELS)
    args = parser.parse_args(argv)
    print(
        "| model | sizes | onnxruntime FP32 ms | OpenVINO FP32 ms | OV/ORT | NNCF INT8 cosine "
        "| onnxruntime INT8 cosine | Pulsar2 kit |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in args.models:
        with tempfile.TemporaryDirectory() as folder:
            print(_row(name, Path(folder)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
