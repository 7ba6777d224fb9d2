#!/usr/bin/env python3
"""Edge Deploy Studio's on-device runner. Needs only Python 3.8+ and onnxruntime (with numpy).

Started by the studio over adb (or directly on this PC) from the bundle folder:

    python3 runner/runner.py bench [--runs N] [--warmup N] [--threads N]
    python3 runner/runner.py generate [--prompt TEXT] [--max-tokens N] [--temperature T]
        [--top-p P] [--top-k K] [--repetition-penalty R] [--seed S]
    python3 runner.py hello    (no bundle: proves onnxruntime loads, for `studio device-setup`)

It prints one JSON object per line on stdout (protocol version 1, see
studio/core/bundle/runner_protocol.py): ``hello``, ``progress``, ``log``, ``timing``, ``token``,
``result``, ``error`` and finally ``done``. Exit code 0 on success, 1 on a failure, 2 on bad
arguments, 3 when something the bundle or device needs is missing.

``generate`` is a hook: a bundle that can generate text carries ``runner/generate.py`` defining
``generate(bundle: pathlib.Path, options: dict, emit) -> dict`` which streams ``token`` events
through ``emit(type, **fields)`` and returns the GenerateResult fields (text, tokens,
tokens_per_s, time_to_first_token_ms). ``options`` holds ``prompt`` and ``max_tokens`` and, when
given, the sampling settings ``temperature``, ``top_p``, ``top_k``, ``repetition_penalty`` and
``seed`` (runner 1.1 and later; the hook uses its own defaults for those left out).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

# 1.1: generate takes the sampling settings (the studio checks this before sending them).
RUNNER_VERSION = "1.1"
PROTOCOL = 1
HERE = Path(__file__).resolve().parent
# Generation settings passed through to the bundle's generate hook (name → type).
SAMPLING = {
    "temperature": float,
    "top_p": float,
    "top_k": int,
    "repetition_penalty": float,
    "seed": int,
}


def emit(kind: str, **fields: object) -> None:
    sys.stdout.write(json.dumps({"v": PROTOCOL, "type": kind, **fields}, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class Missing(Exception):
    def __init__(self, message: str, fix: str, code: str) -> None:
        super().__init__(message)
        self.fix = fix
        self.code = code


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise Missing(
            f"onnxruntime is not installed for {sys.executable} ({exc})",
            "Install it: pip install onnxruntime",
            "runtime_missing",
        ) from exc
    return onnxruntime


def _hello(mode: str, ort: object | None) -> None:
    emit(
        "hello",
        runner_version=RUNNER_VERSION,
        mode=mode,
        runtime=f"onnxruntime {getattr(ort, '__version__', '?')}" if ort else "none",
        python=platform.python_version(),
        providers=list(ort.get_available_providers()) if ort else [],
    )  # type: ignore[attr-defined]


_DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
}


def _inputs(session: object) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    feeds = {}
    for item in session.get_inputs():  # type: ignore[attr-defined]
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in item.shape]
        dtype = _DTYPES.get(item.type)
        if dtype is None:
            raise Missing(
                f"Input '{item.name}' has type {item.type}, which the runner cannot fill",
                "Benchmark this model on this PC instead",
                "unsupported_input",
            )
        if dtype.startswith("float"):
            feeds[item.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype == "bool":
            feeds[item.name] = np.zeros(shape, dtype=bool)
        else:
            feeds[item.name] = np.zeros(shape, dtype=dtype)
    return feeds


def _percentile(sorted_values: list, fraction: float) -> float:
    """Nearest-rank percentile (the value at or below which ``fraction`` of runs fall)."""
    rank = max(math.ceil(fraction * len(sorted_values)), 1)
    return sorted_values[rank - 1]


def _providers(ort: object, manifest: dict, options: object) -> list | None:
    """The CPU, or the NPU a compiled bundle (manifest reports.compile) was built for."""
    compiled = (manifest.get("reports") or {}).get("compile")
    if not compiled:
        return ["CPUExecutionProvider"]
    if compiled.get("all_on_npu"):
        options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")  # type: ignore[attr-defined]
    qnn = "QNNExecutionProvider"
    if qnn in ort.get_available_providers():  # type: ignore[attr-defined]
        # onnxruntime's own QNN build (Android): the EP is built in.
        return [(qnn, {"backend_type": "htp"}), "CPUExecutionProvider"]
    try:
        import onnxruntime_qnn
    except ImportError:
        raise Missing(
            "This bundle is compiled for the Snapdragon NPU, and this device's onnxruntime has "
            "no QNN execution provider",
            "On Windows on Snapdragon: pip install onnxruntime-qnn; on Android use onnxruntime's "
            "QNN build",
            "npu_runtime_missing",
        ) from None
    ort.register_execution_provider_library(qnn, onnxruntime_qnn.get_library_path())  # type: ignore[attr-defined]
    devices = [d for d in ort.get_ep_devices() if d.ep_name == qnn]  # type: ignore[attr-defined]
    options.add_provider_for_devices(devices, {"backend_type": "htp"})  # type: ignore[attr-defined]
    return None


def bench(bundle: Path, args: argparse.Namespace) -> None:
    ort = _import_onnxruntime()
    _hello("bench", ort)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    model = bundle / manifest["entry"]
    options = ort.SessionOptions()
    if args.threads:
        options.intra_op_num_threads = args.threads
    providers = _providers(ort, manifest, options)
    start = time.perf_counter()
    session = ort.InferenceSession(str(model), options, providers=providers)
    load_ms = (time.perf_counter() - start) * 1000
    emit("timing", name="load", ms=round(load_ms, 3))
    feeds = _inputs(session)
    for index in range(args.warmup):
        session.run(None, feeds)
        emit("progress", fraction=0.0, message=f"Warming up {index + 1}/{args.warmup}")
    times = []
    for index in range(args.runs):
        start = time.perf_counter()
        session.run(None, feeds)
        ms = (time.perf_counter() - start) * 1000
        times.append(ms)
        emit("timing", name="run", ms=round(ms, 4))
        emit("progress", fraction=(index + 1) / args.runs, message=f"Run {index + 1}/{args.runs}")
    ordered = sorted(times)
    emit(
        "result",
        mode="bench",
        data={
            "runs": args.runs,
            "warmup": args.warmup,
            "median_ms": round(_percentile(ordered, 0.5), 4),
            "p90_ms": round(_percentile(ordered, 0.9), 4),
            "mean_ms": round(sum(times) / len(times), 4),
            "min_ms": round(ordered[0], 4),
            "max_ms": round(ordered[-1], 4),
            "load_ms": round(load_ms, 3),
        },
    )


def generate(bundle: Path, args: argparse.Namespace) -> None:
    plugin = HERE / "generate.py"
    if not plugin.is_file():
        raise Missing(
            "This bundle has no text-generation model",
            "Build a generation bundle in the Demo step, or run `bench` instead",
            "no_generator",
        )
    sys.path.insert(0, str(HERE))
    import generate as plugin_module  # the bundle's own hook

    _hello("generate", _import_onnxruntime())
    options = {"prompt": args.prompt, "max_tokens": args.max_tokens}
    options.update({k: v for k, v in vars(args).items() if k in SAMPLING and v is not None})
    data = plugin_module.generate(bundle, options, emit)
    emit("result", mode="generate", data=data)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="runner.py", description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["bench", "generate", "hello"])
    parser.add_argument("--bundle", default=str(HERE.parent), help="bundle folder")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--prompt", default="")
    parser.add_argument("--max-tokens", type=int, default=128)
    for name, kind in SAMPLING.items():
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        emit("error", message="Bad runner arguments", fix="Update the studio", code="bad_args")
        return int(exc.code or 2)
    if args.runs < 1 or args.warmup < 0:
        emit(
            "error",
            message="--runs must be at least 1",
            fix="Choose 1 or more runs",
            code="bad_args",
        )
        return 2
    started = time.perf_counter()
    bundle = Path(args.bundle)
    try:
        if args.mode == "hello":
            _hello("hello", _import_onnxruntime())
        elif not (bundle / "manifest.json").is_file():
            raise Missing(
                f"{bundle} holds no manifest.json",
                "Deploy the bundle again from the studio",
                "no_bundle",
            )
        else:
            (bench if args.mode == "bench" else generate)(bundle, args)
    except Missing as exc:
        emit("error", message=str(exc), fix=exc.fix, code=exc.code)
        emit("done", ok=False, seconds=round(time.perf_counter() - started, 3))
        return 3
    except KeyboardInterrupt:
        emit("error", message="Stopped", fix="", code="cancelled")
        return 130
    except Exception as exc:  # report, never a bare traceback on the protocol stream
        emit(
            "error",
            message=f"{type(exc).__name__}: {exc}",
            fix="See the details in the job log",
            code="crash",
        )
        emit("done", ok=False, seconds=round(time.perf_counter() - started, 3))
        return 1
    emit("done", ok=True, seconds=round(time.perf_counter() - started, 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
