"""The runner inside every shipped bundle is the studio's current source (they must not drift),
and refreshing a bundle's runner keeps it verifiable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studio.core.bundle.folder import read_manifest, verify_bundle
from studio.core.errors import BadInput
from studio.core.generate import runner_refresh
from studio.core.generate.llm_bundle import demo_lm_path, demo_lm_reference_path
from studio.core.generate.runner_refresh import refresh_llm_runner, stale_runner_files
from studio.core.paths import assets_dir

SHIPPED = sorted(p for p in assets_dir().iterdir() if (p / "runner").is_dir())


def test_both_demo_lms_are_among_the_shipped_bundles() -> None:
    assert demo_lm_path() in SHIPPED and demo_lm_reference_path() in SHIPPED


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_shipped_runner_equals_the_source(folder: Path) -> None:
    stale = stale_runner_files(folder)
    assert not stale, (
        f"{folder.name}: {stale} differ from the studio's runner; "
        "run `PYTHONPATH=. python scripts/refresh_demo_runners.py`"
    )
    assert verify_bundle(folder).ok


def test_refresh_replaces_a_stale_runner_and_still_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "lm"
    shutil.copytree(demo_lm_path(), bundle)
    newer = tmp_path / "llm_runner.py"
    newer.write_text(runner_refresh.RUNNER_SOURCE.read_text() + "\n# a newer runner\n")
    monkeypatch.setattr(runner_refresh, "RUNNER_SOURCE", newer)
    model_before = (bundle / "model.onnx.data").read_bytes()

    assert stale_runner_files(bundle) == ["runner/generate.py"]
    assert refresh_llm_runner(bundle) == ["runner/generate.py"]

    assert (bundle / "runner" / "generate.py").read_text().endswith("# a newer runner\n")
    assert verify_bundle(bundle).ok
    assert (bundle / "model.onnx.data").read_bytes() == model_before
    entry = next(f for f in read_manifest(bundle).files if f.path == "runner/generate.py")
    assert entry.size == newer.stat().st_size
    assert refresh_llm_runner(bundle) == []  # already current
    assert not list(tmp_path.glob(".studio-partial-*"))


def test_refresh_refuses_a_damaged_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "lm"
    shutil.copytree(demo_lm_path(), bundle)
    (bundle / "tokenizer_config.json").write_text("{}")
    with pytest.raises(BadInput, match="fails its check"):
        refresh_llm_runner(bundle)
    assert (bundle / "tokenizer_config.json").read_text() == "{}"  # left as it was


def test_refresh_refuses_a_bundle_that_is_not_a_language_model(
    tmp_path: Path, demo_model: Path
) -> None:
    from studio.core.bundle.folder import create_bundle

    create_bundle(demo_model, tmp_path / "digits")
    with pytest.raises(BadInput, match="not a language model bundle"):
        refresh_llm_runner(tmp_path / "digits")
