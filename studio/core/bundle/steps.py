"""One typed entry per step: Optimize, Measure, Bundle, Deploy.

The wizard's pages (through the job runner), the CLI (`studio compress`, `profile`, `bundle`,
`run`, `deploy`) and ``run_recipe`` build the same request and call the same function, so a
bundle has one manifest layout whichever face made it. Each request is built from its recipe
section by ``from_recipe`` (the pages and recipes) or from flags (the CLI).

Compiling for an NPU (core/compile/, not written yet) is one more step here, between Measure and
Bundle: a ``CompileRequest`` with ``from_recipe`` and a ``compile`` function, called by a page,
a CLI command and ``run_recipe`` alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from studio.core.bundle.layout import manifest_reports
from studio.core.bundle.recipe import Optimize, ProfileSettings, Recipe
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.track.record import log_result
from studio.core.track.results import bundle_run, compress_run, profile_run

if TYPE_CHECKING:  # their modules load onnx: only a running step needs them
    from studio.core.analyze.profile import ProfileResult
    from studio.core.bundle.folder import Manifest
    from studio.core.compress import CompressResult
    from studio.core.devices.models import DeployResult


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def step_target(step: Callable[..., Any]) -> str:
    """The job runner's name for a step (``module:function``), for JobSpec and run_isolated."""
    return f"{step.__module__}:{step.__name__}"


class OptimizeRequest(_Request):
    model: Path
    out: Path
    settings: Optimize
    chip: str = "this-pc"
    shapes: dict[str, list[int]] = {}
    calibration: Path | None = None
    """settings.calibration as a path ('demo' and paths relative to a recipe resolved)."""
    evaluation: Path | None = None
    force: bool = False
    drift: bool = True

    @classmethod
    def from_recipe(
        cls, recipe: Recipe, model: Path, out: Path, base: Path | None = None
    ) -> OptimizeRequest:
        """``model``: the recipe's model, already resolved (a hub model is downloaded once)."""
        return cls(
            model=model,
            out=out,
            settings=recipe.optimize.model_copy(deep=True),  # the page keeps editing its own
            chip=recipe.target.chip,
            shapes=recipe.shapes,
            calibration=recipe.calibration_path(base),
            evaluation=recipe.evaluation_path(base),
        )


def optimize(request: OptimizeRequest, report: Reporter = NULL_REPORTER) -> CompressResult:
    from studio.core.compress import compress_model

    settings = request.settings
    result = compress_model(
        request.model,
        settings.method,
        request.out,
        calib=request.calibration,
        calib_limit=settings.calib_limit,
        evaluation=request.evaluation,
        options=settings.options(),
        shapes=request.shapes or None,
        chip=request.chip,
        force=request.force,
        drift=request.drift,
        report=report,
    )
    log_result(lambda: compress_run(result, request.chip), report)
    return result


class MeasureRequest(_Request):
    model: Path
    settings: ProfileSettings = ProfileSettings()
    shapes: dict[str, list[int]] = {}
    warmup: int = 3

    @classmethod
    def from_recipe(cls, recipe: Recipe, model: Path) -> MeasureRequest:
        """``model``: the file to measure (the optimized one, once there is one)."""
        return cls(model=model, settings=recipe.profile.model_copy(), shapes=recipe.shapes)


def measure(request: MeasureRequest, report: Reporter = NULL_REPORTER) -> ProfileResult:
    from studio.core.analyze.profile import profile_model

    result = profile_model(
        request.model,
        runs=request.settings.runs,
        threads=request.settings.threads,
        shapes=request.shapes or None,
        warmup=request.warmup,
        report=report,
    )
    log_result(lambda: profile_run(result), report)
    return result


class BundleRequest(_Request):
    model: Path
    out: Path
    chip: str = "this-pc"
    method: str = "none"
    source: str = "local"
    name: str | None = None
    recipe: Recipe | None = None
    reports: dict[str, Any] = {}
    """In the manifest's layout (bundle/layout.py: manifest_reports)."""
    force: bool = False

    @classmethod
    def from_recipe(
        cls,
        recipe: Recipe,
        source: Path,
        model: Path,
        out: Path,
        compressed: CompressResult | None = None,
        profiled: ProfileResult | None = None,
        *,
        force: bool = False,
    ) -> BundleRequest:
        """``source``: the recipe's model; ``model``: the file shipped (optimized or not)."""
        return cls(
            model=model,
            out=out,
            chip=recipe.target.chip,
            method=compressed.method.value if compressed is not None else "none",
            source=recipe.model.source if recipe.model.source != "local" else str(source),
            name=source.stem,
            recipe=recipe.model_copy(deep=True),
            reports=manifest_reports(compressed, profiled),
            force=force,
        )


def bundle(request: BundleRequest, report: Reporter = NULL_REPORTER) -> Manifest:
    from studio.core.bundle.folder import create_bundle

    recipe = request.recipe
    manifest = create_bundle(
        request.model,
        request.out,
        chip=request.chip,
        method=request.method,
        source=request.source,
        name=request.name,
        recipe=recipe.model_dump(mode="json", exclude_none=True) if recipe else None,
        reports=request.reports,
        force=request.force,
        report=report,
    )
    log_result(lambda: bundle_run(manifest, request.out), report)
    return manifest


class DeployRequest(_Request):
    bundle: Path
    device: str | None = None
    """A serial, 'this-pc', or None for the only device connected."""
    to: str | None = None
    """The folder on the device; None for the studio's default."""


def deploy(request: DeployRequest, report: Reporter = NULL_REPORTER) -> DeployResult:
    from studio.core.devices.deploy import deploy_bundle

    return deploy_bundle(request.bundle, request.device, request.to, report=report)
