"""What each job's run holds: its settings as params, its figures as metrics, its reports as files.

Built from the step's request and result only; nothing here runs a model again.
"""

from __future__ import annotations

import csv
import io
import json
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from studio.core.track.record import RunRecord, dump
from studio.core.track.registry import registration

if TYPE_CHECKING:
    from studio.core.analyze.profile import ProfileResult
    from studio.core.bundle.folder import Manifest
    from studio.core.chips.check import CheckResult
    from studio.core.compress import CompressResult
    from studio.core.devices.run import RunOutcome
    from studio.core.generate.session import GenerationSummary


def versions() -> dict[str, str]:
    from studio import __version__

    found = {"version.studio": __version__}
    for package in ("onnx", "onnxruntime"):
        try:
            found[f"version.{package}"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[f"version.{package}"] = "not installed"
    return found


def _record(kind: str, model: str | Path, params: dict[str, Any]) -> RunRecord:
    base = {"model": str(model), **versions()}
    base.update({k: v if isinstance(v, str) else dump(v) for k, v in params.items()})
    return RunRecord(
        name=f"{kind} {Path(model).name}",
        kind=kind,
        params=base,
        started_ms=int(time.time() * 1000),
    )


def compress_run(result: CompressResult, chip: str) -> RunRecord:
    record = _record(
        "compress",
        result.source,
        {
            "method": result.method.value,
            "chosen": result.chosen.value,
            "chip": chip,
            "options": result.options,
            "input_shapes": result.input_shapes,
        },
    )
    record.metrics.update(
        size_before=result.size_before,
        size_after=result.size_after,
        nodes_after=result.nodes_after,
        seconds=result.seconds,
    )
    drift = result.report
    if drift is not None:
        record.metrics["cosine_min"] = drift.min_cosine
        top1 = [o.top1 for o in drift.outputs if o.top1 is not None]
        if top1:
            record.metrics["top1"] = min(top1)
        if drift.outputs:
            record.metrics["snr_db_min"] = min(o.snr_db for o in drift.outputs)
        for output in drift.outputs[:1]:  # labels score the first output (the class scores)
            for name in ("accuracy_before", "accuracy_after"):
                if (value := getattr(output, name)) is not None:
                    record.metrics[name] = value
        for name, value in (
            ("latency_before_ms", drift.latency_before_ms),
            ("latency_after_ms", drift.latency_after_ms),
        ):
            if value is not None:
                record.metrics[name] = value
        record.artifacts["drift_report.json"] = drift.model_dump_json(indent=2)
    return record


def profile_run(result: ProfileResult) -> RunRecord:
    record = _record(
        "profile",
        result.model,
        {
            "runs": str(result.runs),
            "threads": str(result.threads),
            "input_shapes": result.input_shapes,
        },
    )
    record.metrics.update(
        latency_median_ms=result.end_to_end_ms, latency_p90_ms=result.end_to_end_p90_ms
    )
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["op_type", "name", "median_ms", "share", "provider"])
    for node in result.nodes:
        writer.writerow(
            [node.op_type, node.name, f"{node.median_ms:.6f}", f"{node.share:.6f}", node.provider]
        )
    record.artifacts["profile.csv"] = text.getvalue()
    return record


def check_run(result: CheckResult) -> RunRecord:
    record = _record(
        "check", result.model, {"chip": result.chip, "input_shapes": result.input_shapes}
    )
    record.params["verdict"] = result.level
    record.metrics["share_on_npu"] = result.accelerator_share
    record.artifacts["check.json"] = result.model_dump_json(indent=2)
    return record


def bundle_run(manifest: Manifest, out: Path) -> RunRecord:
    record = _record(
        "bundle",
        manifest.model.name,
        {"chip": manifest.chip, "method": manifest.method, "precision": manifest.precision},
    )
    record.params["bundle"] = str(out)
    record.metrics["files"] = len(manifest.files)
    record.metrics["size"] = sum(f.size for f in manifest.files)
    record.artifacts["manifest.json"] = manifest.model_dump_json(indent=2)
    record.registry = registration(out)
    return record


# The compiler each backend runs, by the package that ships it (versions logged with the run).
COMPILER_PACKAGES = {"qnn": "onnxruntime-qnn", "openvino": "openvino", "nnapi": "onnxruntime"}


def compile_run(result: BaseModel, chip: str, model: str | Path) -> RunRecord:
    data = result.model_dump(mode="json")
    backend = str(data.get("backend", ""))
    params: dict[str, Any] = {"chip": chip, "backend": backend}
    for key in ("activations", "precision", "npu_mode", "input_shapes", "arch"):
        if data.get(key) not in (None, "", {}):
            params[key] = data[key]
    package = next((p for k, p in COMPILER_PACKAGES.items() if k in backend.lower()), None)
    if package:
        try:
            params["version.compiler"] = f"{package} {metadata.version(package)}"
        except metadata.PackageNotFoundError:
            params["version.compiler"] = f"{package} not installed"
    record = _record("compile", model, params)
    for key in ("npu_share", "quantize_seconds", "compile_seconds"):
        if isinstance(data.get(key), int | float):
            record.metrics["share_on_npu" if key == "npu_share" else key] = float(data[key])
    drift = data.get("drift")
    if isinstance(drift, dict):
        if isinstance(drift.get("min_cosine"), int | float):
            record.metrics["cosine_min"] = float(drift["min_cosine"])
        record.artifacts["drift_report.json"] = json.dumps(drift, indent=2)
    record.artifacts["compile.json"] = result.model_dump_json(indent=2)
    return record


def device_run(outcome: RunOutcome, manifest: Manifest, options: dict[str, Any]) -> RunRecord:
    """``studio device-run`` bench (latency) or generate (tokens/s, time to first token)."""
    kind = "device-bench" if outcome.mode == "bench" else "device-generate"
    params = {
        "chip": manifest.chip,
        "method": manifest.method,
        "precision": manifest.precision,
        "device": outcome.serial,
        "runtime": outcome.runtime.description,
        **{k: v for k, v in options.items() if k in ("runs", "warmup", "threads", "max_tokens")},
    }
    record = _record(kind, manifest.model.name, params)
    result = outcome.result or {}
    names = {
        "median_ms": "latency_median_ms",
        "p90_ms": "latency_p90_ms",
        "mean_ms": "latency_mean_ms",
        "load_ms": "load_ms",
        "tokens": "tokens",
        "tokens_per_s": "tokens_per_s",
        "time_to_first_token_ms": "ttft_ms",
    }
    for key, name in names.items():
        if isinstance(result.get(key), int | float):
            record.metrics[name] = float(result[key])
    record.metrics["seconds"] = outcome.seconds
    return record


def generate_run(summary: GenerationSummary, settings: dict[str, Any]) -> RunRecord:
    """``studio generate`` on this PC: one generation's speed figures."""
    record = _record("generate", summary.model or "model", {"where": summary.where, **settings})
    figures = {
        "tokens": summary.tokens,
        "prompt_tokens": summary.prompt_tokens,
        "tokens_per_s": summary.decode_tokens_per_s,
        "prompt_tokens_per_s": summary.prompt_tokens_per_s,
        "ttft_ms": summary.ttft_s * 1000 if summary.ttft_s is not None else None,
        "seconds": summary.total_s,
        "memory_bytes": summary.memory_bytes,
    }
    record.metrics.update({k: float(v) for k, v in figures.items() if v is not None})
    return record
