"""Every method on a model over 2 GB (weights in an external data file): success, time, peak RSS.

    PYTHONPATH=. python benchmarks/bench_large_model.py [--layers 36] [--width 4096]
        [--methods cleanup,int8-dynamic,...] [--keep DIR]

The model is generated in a temporary folder (deleted at the end unless --keep): x[1,8,W] →
layers × (MatMul W×W → Add bias → Relu) → y, weights written straight to `model.onnx.data` so the
generator itself never holds a 2 GB protobuf. Each method runs through the studio's own
`compress_model` (cleanup, method, drift report with latency) in a fresh child process, so the
peak resident memory of each is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METHODS = ["cleanup", "int8-dynamic", "int8-static", "int4", "fp16", "prune-channels"]
SEQ = 8


def make_large_model(folder: Path, layers: int, width: int) -> Path:
    import onnx
    from onnx import TensorProto, helper

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    data_name = "model.onnx.data"
    rng = np.random.default_rng(0)
    inits, nodes = [], []
    current = "x"
    with open(folder / data_name, "wb") as data:

        def external(name: str, array: np.ndarray) -> None:
            offset = data.tell()
            data.write(array.tobytes())
            tensor = TensorProto(name=name, dims=list(array.shape), data_type=TensorProto.FLOAT)
            tensor.data_location = TensorProto.EXTERNAL
            for key, value in (
                ("location", data_name),
                ("offset", str(offset)),
                ("length", str(array.nbytes)),
            ):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
            inits.append(tensor)

        for i in range(layers):
            weight = rng.standard_normal((width, width), dtype=np.float32)
            weight *= np.float32(np.sqrt(2.0 / width))
            external(f"w{i}", weight)
            external(f"b{i}", (rng.standard_normal(width) * 0.01).astype(np.float32))
            nodes += [
                helper.make_node(
                    "MatMul", [current, f"w{i}"], [f"mm{i}"], name=f"/layer.{i}/MatMul"
                ),
                helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"add{i}"], name=f"/layer.{i}/Add"),
                helper.make_node("Relu", [f"add{i}"], [f"h{i}"], name=f"/layer.{i}/Relu"),
            ]
            current = f"h{i}"
    nodes.append(helper.make_node("Identity", [current], ["y"], name="/output"))
    graph = helper.make_graph(
        nodes,
        "large",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, SEQ, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, SEQ, width])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def make_samples(path: Path, count: int, width: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    np.savez(path, x=rng.standard_normal((count, 1, SEQ, width)).astype(np.float32))
    return path


def child(method: str, model: Path, out: Path, calib: Path, evaluation: Path) -> None:
    """Runs in a fresh process: one method, then one JSON line with the outcome."""
    from studio.core.compress import compress_model
    from studio.core.errors import StudioError

    started = time.perf_counter()
    row: dict = {"method": method}
    try:
        result = compress_model(
            model,
            method,
            out,
            calib=calib,
            evaluation=evaluation,
            options={"eval_limit": 2},
            force=True,
        )
        rep = result.report
        row.update(
            ok=True,
            size_before=result.size_before,
            size_after=result.size_after,
            external=out.with_name(out.name + ".data").exists(),
            cosine=rep.min_cosine if rep else None,
            latency_before_ms=rep.latency_before_ms if rep else None,
            latency_after_ms=rep.latency_after_ms if rep else None,
            warnings=result.warnings,
        )
    except StudioError as exc:
        row.update(ok=False, error=exc.message)
    except Exception as exc:  # recorded, not hidden: this is what the benchmark is for
        row.update(ok=False, error=f"{type(exc).__name__}: {str(exc)[:300]}")
    row["seconds"] = time.perf_counter() - started
    row["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps(row), flush=True)


def table(rows: list[dict], model_bytes: int) -> str:
    lines = [
        f"Source: {model_bytes / 1e9:.2f} GB of weights in an external data file.",
        "",
        "| method | result | size after | external data | cosine | latency ms before → "
        "after | time s | peak RSS GB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if not r.get("ok"):
            lines.append(
                f"| {r['method']} | **failed**: {r.get('error', '?')[:120]} | — | — | — "
                f"| — | {r.get('seconds', 0):.0f} | {r.get('peak_rss_gb', 0):.1f} |"
            )
            continue
        latency = (
            f"{r['latency_before_ms']:.0f} → {r['latency_after_ms']:.0f}"
            if r["latency_after_ms"]
            else "—"
        )
        cosine = f"{r['cosine']:.4f}" if r["cosine"] is not None else "—"
        lines.append(
            f"| {r['method']} | ok | {r['size_after'] / 1e9:.2f} GB | "
            f"{'yes' if r['external'] else 'no'} | {cosine} | {latency} | "
            f"{r['seconds']:.0f} | {r['peak_rss_gb']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=36)
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--keep", help="generate into this folder and keep it")
    parser.add_argument(
        "--child",
        nargs=5,
        metavar=("METHOD", "MODEL", "OUT", "CALIB", "EVAL"),
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args()
    if args.child:
        method, *paths = args.child
        child(method, *(Path(p) for p in paths))
        return
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-large-"))
    rows = []
    try:
        started = time.perf_counter()
        model = make_large_model(folder, args.layers, args.width)
        model_bytes = (folder / "model.onnx.data").stat().st_size
        print(
            f"generated {model_bytes / 1e9:.2f} GB in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        calib = make_samples(folder / "calib.npz", 4, args.width, seed=0)
        evaluation = make_samples(folder / "eval.npz", 2, args.width, seed=1)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for method in args.methods.split(","):
            out = folder / "out" / method / "model.onnx"
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    method,
                    str(model),
                    str(out),
                    str(calib),
                    str(evaluation),
                ],
                capture_output=True,
                text=True,
                env=env,
            )
            lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
            row = (
                json.loads(lines[-1])
                if lines
                else {
                    "method": method,
                    "ok": False,
                    "error": f"child exited {proc.returncode}: {proc.stderr.strip()[-200:]}",
                }
            )
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows.append(row)
            shutil.rmtree(out.parent, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(table(rows, model_bytes))


if __name__ == "__main__":
    main()
