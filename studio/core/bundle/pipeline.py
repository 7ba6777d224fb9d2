"""The whole wizard as one function: model → optimize → measure → bundle → verify, through the
same steps (bundle/steps.py) the pages and the CLI call."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

from studio.core.analyze.profile import ProfileResult
from studio.core.atomic import temp_prefix
from studio.core.bundle.folder import Manifest, VerifyResult, check_destination, verify_bundle
from studio.core.bundle.recipe import Recipe, load_recipe
from studio.core.bundle.steps import (
    BundleRequest,
    MeasureRequest,
    OptimizeRequest,
    bundle,
    measure,
    optimize,
)
from studio.core.compress import CompressResult
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.track.record import RunRecord, parent_run


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
    check_destination(out, force)
    parent = RunRecord(
        name=f"run {model_path.name}",
        kind="run",
        params={"recipe": recipe.model_dump_json(exclude_none=True), "chip": recipe.target.chip},
        started_ms=int(time.time() * 1000),
    )
    # One replay = one parent run; each step's run is its child (sent together at the end).
    with (
        parent_run(parent, report),
        tempfile.TemporaryDirectory(prefix=temp_prefix("run")) as tmp,
    ):
        optimized = Path(tmp) / "model.onnx"
        compressed = optimize(
            OptimizeRequest.from_recipe(recipe, model_path, optimized, base), report.sub(0.0, 0.5)
        )
        profiled = measure(MeasureRequest.from_recipe(recipe, optimized), report.sub(0.5, 0.8))
        manifest = bundle(
            BundleRequest.from_recipe(
                recipe, model_path, optimized, out, compressed, profiled, force=force
            ),
            report.sub(0.8, 0.95),
        )
    verified = verify_bundle(out, report=report.sub(0.95, 1.0))
    return RunResult(
        bundle=str(out), manifest=manifest, compress=compressed, profile=profiled, verify=verified
    )
