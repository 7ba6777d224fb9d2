"""What each job's run holds: its settings as params, its figures as metrics, its reports as files.

Built from the step's request and result only; nothing here runs a model again.
"""

from __future__ import annotations

import csv
import io
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core.track.record import RunRecord, dump
from studio.core.track.registry import registration

if TYPE_CHECKING:
    from studio.core.analyze.profile import ProfileResult
    from studio.core.bundle.folder import Manifest
    from studio.core.chips.check import CheckResult
    from studio.core.compress import CompressResult


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
