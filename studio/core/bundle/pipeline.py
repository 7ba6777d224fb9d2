"""The whole wizard as one function: model → optimize → profile → bundle → verify."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import BaseModel

from studio.core.analyze.profile import ProfileResult, profile_model
from studio.core.atomic import temp_prefix
from studio.core.bundle.folder import Manifest, VerifyResult, create_bundle, verify_bundle
from studio.core.bundle.recipe import Recipe, load_recipe
from studio.core.compress import CompressResult, compress_model
from studio.core.progress import NULL_REPORTER, Reporter


class RunResult(BaseModel):
    bundle: str
    manifest: Manifest
    compress: CompressResult
    profile: ProfileResult
    verify: VerifyResult


def run_recipe(
    recipe: Recipe | str | Path,
    out: str | Path,
    *,
    force: bool = False,
    report: Reporter = NULL_REPORTER,
) -> RunResult:
    """Replay a recipe headless and write its bundle to ``out``."""
    base = None
    if not isinstance(recipe, Recipe):
        base = Path(recipe).expanduser().resolve().parent
        recipe = load_recipe(recipe)
    model_path = recipe.model_path(base)
    out = Path(out).expanduser()
    # Fail on a bad destination before spending minutes on quantization.
    from studio.core.bundle.folder import check_destination

    check_destination(out, force)
    with tempfile.TemporaryDirectory(prefix=temp_prefix("run")) as tmp:
        optimized = Path(tmp) / "model.onnx"
        compressed = compress_model(
            model_path,
            recipe.optimize.method,
            optimized,
            calib=recipe.calibration_path(base),
            calib_limit=recipe.optimize.calib_limit,
            evaluation=recipe.evaluation_path(base),
            options=recipe.optimize.options(),
            shapes=recipe.shapes or None,
            chip=recipe.target.chip,
            report=report.sub(0.0, 0.5),
        )
        profiled = profile_model(
            optimized,
            runs=recipe.profile.runs,
            threads=recipe.profile.threads,
            shapes=recipe.shapes or None,
            report=report.sub(0.5, 0.8),
        )
        manifest = create_bundle(
            optimized,
            out,
            chip=recipe.target.chip,
            method=recipe.optimize.method.value,
            source=recipe.model.source if recipe.model.source != "local" else str(model_path),
            name=Path(model_path).stem,
            recipe=recipe.model_dump(mode="json", exclude_none=True),
            reports={
                "compress": compressed.model_dump(
                    mode="json", exclude={"source", "output", "report", "options"}
                ),
                "drift": compressed.report.model_dump(mode="json") if compressed.report else None,
                "profile": profiled.bundle_summary(),
            },
            force=force,
            report=report.sub(0.8, 0.95),
        )
    verified = verify_bundle(out, report=report.sub(0.95, 1.0))
    return RunResult(
        bundle=str(out), manifest=manifest, compress=compressed, profile=profiled, verify=verified
    )
