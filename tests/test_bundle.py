"""Bundles: written whole or not at all, verified file by file, never over a user's files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.core.bundle.folder import create_bundle, read_manifest, sha256_file, verify_bundle
from studio.core.bundle.layout import MANIFEST_VERSION
from studio.core.errors import BadInput, OutputError
from tests.support.models import make_mlp


@pytest.fixture
def bundle(tmp_path: Path, demo_model: Path) -> Path:
    out = tmp_path / "bundle"
    create_bundle(
        demo_model,
        out,
        chip="this-pc",
        method="none",
        source="demo",
        recipe={"version": 1},
        reports={"note": "x"},
    )
    return out


def test_bundle_has_manifest_readme_and_hashes(bundle: Path, demo_model: Path) -> None:
    manifest = read_manifest(bundle)
    names = {f.path for f in manifest.files}
    # runner/runner.py: every bundle carries the on-device runner (issue 7).
    assert names == {"model.onnx", "recipe.yaml", "README.md", "runner/runner.py"}
    entry = next(f for f in manifest.files if f.path == "model.onnx")
    assert entry.sha256 == sha256_file(demo_model)
    assert manifest.schema_version == MANIFEST_VERSION and manifest.chip == "this-pc"
    assert manifest.inputs[0].name == "image"
    assert "studio verify" in (bundle / "README.md").read_text()
    assert verify_bundle(bundle).ok


def test_verify_names_changed_missing_and_extra_files(bundle: Path) -> None:
    (bundle / "recipe.yaml").write_text("tampered")
    (bundle / "README.md").unlink()
    (bundle / "stray.bin").write_bytes(b"x")
    result = verify_bundle(bundle)
    assert not result.ok
    assert result.changed == ["recipe.yaml"]
    assert result.missing == ["README.md"]
    assert result.extra == ["stray.bin"]


def test_manifest_with_path_traversal_is_rejected(bundle: Path) -> None:
    data = json.loads((bundle / "manifest.json").read_text())
    data["files"][0]["path"] = "../../etc/passwd"
    (bundle / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(BadInput, match="unsafe path"):
        verify_bundle(bundle)


def test_manifest_with_unknown_field_names_file_and_field(bundle: Path) -> None:
    data = json.loads((bundle / "manifest.json").read_text())
    data["colour"] = "red"
    (bundle / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(BadInput, match=r"manifest.json: unknown key 'colour'"):
        read_manifest(bundle)


def test_existing_bundle_needs_force_and_is_then_replaced(bundle: Path, tmp_path: Path) -> None:
    other = make_mlp(tmp_path / "mlp.onnx")
    before = (bundle / "model.onnx").read_bytes()
    with pytest.raises(OutputError, match="already holds a bundle"):
        create_bundle(other, bundle)
    assert (bundle / "model.onnx").read_bytes() == before
    create_bundle(other, bundle, force=True)
    assert (bundle / "model.onnx").read_bytes() == other.read_bytes()
    assert verify_bundle(bundle).ok
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".studio")] == []


def test_folder_with_user_files_is_never_replaced_even_with_force(
    tmp_path: Path, demo_model: Path
) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(OutputError, match="not a studio bundle"):
        create_bundle(demo_model, out, force=True)
    assert (out / "holiday.jpg").read_bytes() == b"precious"


def test_unwritable_output_location(tmp_path: Path, demo_model: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="Cannot create the output folder"):
        create_bundle(demo_model, blocker / "bundle")


def test_unknown_chip_is_refused_before_writing(tmp_path: Path, demo_model: Path) -> None:
    with pytest.raises(BadInput, match="Unknown chip"):
        create_bundle(demo_model, tmp_path / "b", chip="snapdragon-99")
    assert not (tmp_path / "b").exists()


def test_verify_rejects_non_bundles(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="has no manifest.json"):
        verify_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text("{ not json")
    with pytest.raises(BadInput, match="not valid JSON"):
        verify_bundle(tmp_path)


def _relist(bundle: Path, rel: str, target: Path) -> None:
    """Make the manifest list ``rel`` with ``target``'s size and hash, as a forger would."""
    data = json.loads((bundle / "manifest.json").read_text())
    for entry in data["files"]:
        if entry["path"] == rel:
            entry.update(size=target.stat().st_size, sha256=sha256_file(target))
    (bundle / "manifest.json").write_text(json.dumps(data))


def test_a_symlinked_model_fails_naming_the_file(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.cli import main

    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2")
    (bundle / "model.onnx").unlink()
    (bundle / "model.onnx").symlink_to(secret)
    _relist(bundle, "model.onnx", secret)  # the hashes match what the link points to
    result = verify_bundle(bundle)
    assert not result.ok and result.symlinks == ["model.onnx"]
    assert result.missing == [] and result.changed == []
    assert main(["verify", str(bundle)]) == 1
    assert "symlink (not allowed in a bundle): model.onnx" in capsys.readouterr().out


def test_symlinked_folders_and_unlisted_entries_are_reported(bundle: Path, tmp_path: Path) -> None:
    import os
    import shutil

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(bundle / "runner", elsewhere)
    (elsewhere / "json.py").write_text("import os  # would shadow the standard library")
    shutil.rmtree(bundle / "runner")
    (bundle / "runner").symlink_to(elsewhere, target_is_directory=True)
    (bundle / "notes").mkdir()
    (bundle / "notes" / "unlisted.txt").write_text("x")
    os.mkfifo(bundle / "pipe")
    result = verify_bundle(bundle)
    assert not result.ok
    assert result.symlinks == ["runner"]
    assert result.missing == []  # runner/runner.py is reported through its link, not as missing
    assert result.extra == ["notes/unlisted.txt", "pipe"]


def test_a_listed_fifo_is_changed_and_never_opened(bundle: Path) -> None:
    import os

    (bundle / "recipe.yaml").unlink()
    os.mkfifo(bundle / "recipe.yaml")
    assert verify_bundle(bundle).changed == ["recipe.yaml"]  # returns instead of blocking


def test_readme_of_a_compressed_model_says_its_precision_and_no_missing_recipe(
    tmp_path: Path,
) -> None:
    from studio.core.compress.run import compress_model

    int8 = tmp_path / "int8.onnx"
    compress_model(make_mlp(tmp_path / "mlp.onnx"), "int8-dynamic", int8, drift=False)
    manifest = create_bundle(int8, tmp_path / "bundle")  # as `studio bundle` does
    readme = (tmp_path / "bundle" / "README.md").read_text()
    assert manifest.precision.startswith("INT8") and f"Precision: {manifest.precision}" in readme
    assert "fp32" not in readme and "recipe.yaml" not in readme
    create_bundle(int8, tmp_path / "with-recipe", recipe={"version": 1})
    assert "`recipe.yaml` rebuilds" in (tmp_path / "with-recipe" / "README.md").read_text()
