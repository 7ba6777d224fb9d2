"""MediaTek Dimensity 9300 / 8300 and the AzureBlade L M.2 card: the honest path.

No compiler for these NPUs is reachable offline, so nothing here is labelled "compiled": the
bundle holds the static-shape ONNX and a runner that asks onnxruntime's NNAPI provider (Android's
route to the Dimensity APU) first and falls back to the CPU, saying which it used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from studio.core.bundle.folder import create_bundle
from studio.core.compile.common import SYNTHETIC_NOTE, check_out, static_model, work_folder
from studio.core.progress import NULL_REPORTER, Reporter
from studio.runner import compile_runner_files

MISSING = {
    "mediatek": (
        "Not compiled for the APU: MediaTek's NeuroPilot compiler is not reachable offline (its "
        "SDK downloads at build time, from MediaTek's NeuroPilot portal); on the phone, "
        "onnxruntime's NNAPI provider hands the ops it supports to the APU driver and runs the "
        "rest on the CPU."
    ),
    "xindongli": (
        "Not compiled for the AzureBlade L NPU: it has no public SDK (its compiler and runtime "
        "come only from the vendor, Xindongli); this ONNX is their compiler's input, and the "
        "runner uses the host's CPU until then."
    ),
}


class NnapiResult(BaseModel):
    chip: str
    backend: Literal["nnapi"] = "nnapi"
    compiled: bool = False
    """Always False: nothing here compiles for these NPUs (see ``missing``)."""
    bundle: str
    input_shapes: dict[str, list[int]]
    shape_source: str
    missing: str
    notes: list[str] = []
    warnings: list[str] = []


def compile_for_chip(
    model: str | Path,
    chip: str,
    out: str | Path,
    *,
    calib: str | Path | None = None,
    shapes: dict[str, list[int]] | None = None,
    force: bool = False,
    report: Reporter = NULL_REPORTER,
) -> NnapiResult:
    """A bundle at ``out``: static-shape ONNX and runner/nnapi.py (NNAPI, then CPU)."""
    out = check_out(out, force)
    missing = next((text for key, text in MISSING.items() if chip.startswith(key)), "")
    missing = missing or MISSING["mediatek"]
    report.progress(0.0, "Fixing the input sizes")
    with work_folder(out) as work:
        # Samples only choose the sizes here: nothing is calibrated for these NPUs.
        static = static_model(model, work, calib=calib, shapes=shapes)
        warnings = [w for w in static.warnings if w != SYNTHETIC_NOTE]
        result = NnapiResult(
            chip=chip,
            bundle=str(out),
            input_shapes=static.shapes,
            shape_source=static.sizes.source_text(),
            missing=missing,
            notes=[missing],
            warnings=warnings,
        )
        report.progress(0.5, "Writing the bundle")
        create_bundle(
            static.path,
            out,
            chip=chip,
            method="none",
            name=static.source.stem,
            reports={"compile": result.model_dump(mode="json")},
            extra_files={"runner/nnapi.py": compile_runner_files()["runner/nnapi.py"]},
            force=force,
        )
    report.progress(1.0, "Done")
    return result
