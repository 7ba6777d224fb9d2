"""`studio compile` for the Snapdragon 8 Gen 3 NPU (HTP v75) on the demo CNN and real models.

    PYTHONPATH=. python benchmarks/bench_compile_qnn.py [--models NAME ...] [--activations uint8]

Needs the qnn extra (onnxruntime-qnn) and the corpus cache (python -m benchmarks.corpus.fetch).
Each model is one `studio compile --allow-cpu --json` subprocess, as a user would type it, with
the flexible sizes the studio's own sample sizes choose (core/samples) passed as --shape. Reports
the share of the model's nodes the HTP took (and in how many parts), quantize and compile time,
and the compiled model's outputs on the HTP emulator against FP32, next to the same quantized
model on the CPU. Goals (issue #19): ≥ 90% of nodes on the HTP for CNNs, emulator cosine ≥ 0.99
with 16-bit activations, compile ≤ 2× the quantization time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.corpus.catalog import CORPUS  # noqa: E402
from benchmarks.corpus.fetch import extract  # noqa: E402

CHIP = "qualcomm-snapdragon-8-gen-3"
REAL = [
    "PP-OCR cls",
    "PP-OCRv4 rec",
    "orientation",
    "NudeNet 320n",
    "OWW embedding",
    "MiniLM-L3 paraphrase",
    "magika",
    "ddddocr det",
]


@dataclass
class Row:
    name: str
    kind: str
    shapes: str = ""
    share: float | None = None
    parts: int | None = None
    strict: bool = False
    quantize_s: float | None = None
    compile_s: float | None = None
    cosine: float | None = None
    cpu_cosine: float | None = None
    line: str = ""


def _shapes(model: Path) -> list[str]:
    """--shape arguments for every flexible dim, as the studio's sample sizes choose them."""
    import onnx

    from studio.core.samples.sizes import choose_sizes

    sizes = choose_sizes(onnx.load(str(model), load_external_data=False))
    return [f"{name}={'x'.join(map(str, dims))}" for name, dims in sizes.shapes.items()]


def _token_samples(model: Path, shapes: list[str], folder: Path) -> Path | None:
    """Made-up token ids (inside a BERT vocabulary) for a text encoder: the studio asks for real
    samples when it cannot tell an ids input's range."""
    import numpy as np

    sizes = {s.split("=", 1)[0]: [int(d) for d in s.split("=", 1)[1].split("x")] for s in shapes}
    if "input_ids" not in sizes:
        return None
    rng = np.random.default_rng(0)
    arrays = {}
    for name, dims in sizes.items():
        shape = (16, *dims[1:])
        if name == "input_ids":
            arrays[name] = rng.integers(1000, 8000, shape, dtype=np.int64)
        elif "mask" in name:
            arrays[name] = np.ones(shape, np.int64)
        else:
            arrays[name] = np.zeros(shape, np.int64)
    np.savez(folder / "tokens.npz", **arrays)
    return folder / "tokens.npz"


def run(name: str, kind: str, model: Path, calib: Path | None, activations: str) -> Row:
    row = Row(name, kind)
    shapes = _shapes(model)
    row.shapes = ", ".join(s.split("=", 1)[1] for s in shapes)
    with tempfile.TemporaryDirectory() as folder:
        calib = calib or _token_samples(model, shapes, Path(folder))
        args = [sys.executable, "-m", "studio", "compile", str(model), "--chip", CHIP]
        args += ["--out", str(Path(folder) / "out"), "--allow-cpu", "--json", "-q"]
        args += ["--activations", activations]
        args += [a for s in shapes for a in ("--shape", s)]
        args += ["--calib", str(calib)] if calib else []
        done = subprocess.run(args, capture_output=True, text=True, timeout=1800, cwd=ROOT)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        row.line = (lines[-1] if lines else f"exit {done.returncode}")[:160]
        return row
    data = json.loads(done.stdout)
    row.share, row.parts = data["npu_share"], data["placement"]["npu_partitions"]
    row.strict = data["placement"]["strict"]
    row.quantize_s, row.compile_s = data["quantize_seconds"], data["compile_seconds"]
    row.cosine = min(o["cosine"] for o in data["drift"]["outputs"])
    row.cpu_cosine = min(o["cosine"] for o in data["quantized_drift"]["outputs"])
    fallback = sorted({n["op_type"] for n in data["placement"]["nodes"] if not n["on_npu"]})
    row.line = ("CPU: " + ", ".join(fallback)) if fallback else ""
    return row


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def table(rows: list[Row]) -> str:
    head = (
        "| model | kind | compiled at | nodes on HTP | parts | quantize s | compile s "
        "| compile/quantize | emulator cosine | CPU QDQ cosine | note |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    body = []
    for r in rows:
        share = "—" if r.share is None else f"{r.share:.0%}" + (" (proven)" if r.strict else "")
        ratio = f"{r.compile_s / r.quantize_s:.2f}" if r.compile_s and r.quantize_s else "—"
        body.append(
            f"| {r.name} | {r.kind} | {r.shapes} | {share} | {_num(r.parts, 'd')} "
            f"| {_num(r.quantize_s, '.1f')} | {_num(r.compile_s, '.1f')} | {ratio} "
            f"| {_num(r.cosine, '.4f')} | {_num(r.cpu_cosine, '.4f')} | {r.line} |"
        )
    return head + "\n".join(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="*", default=REAL)
    parser.add_argument("--activations", default="uint16", choices=["uint16", "uint8"])
    args = parser.parse_args()
    from studio.core.paths import demo_model_path, demo_samples_path

    rows = [
        run("demo CNN", "vision: digits", demo_model_path(), demo_samples_path(), args.activations)
    ]
    print(table(rows), flush=True)
    by_name = {m.name: m for m in CORPUS}
    for name in args.models:
        model = by_name[name]
        rows.append(run(name, model.kind, extract(model), None, args.activations))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
