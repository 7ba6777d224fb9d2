"""One manifest layout: a bundle of the old layout (version 1) still verifies and is read in the
new one. (The wizard and `studio run` writing the same layout: tests/test_gui_wizard.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.core.bundle.folder import MANIFEST, create_bundle, read_manifest, verify_bundle
from studio.core.bundle.layout import MANIFEST_VERSION
from studio.core.paths import assets_dir


def _old_bundle(tmp_path: Path, demo_model: Path, reports: dict[str, Any]) -> Path:
    """A bundle whose manifest is version 1, as the old code wrote it."""
    folder = tmp_path / "old"
    create_bundle(demo_model, folder)
    path = folder / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = 1
    data["reports"] = {**reports, "check": data["reports"]["check"]}
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return folder


DRIFT = {"outputs": [{"name": "logits", "cosine": 0.999}], "samples": 4}


def test_a_wizard_bundle_of_version_1_verifies_and_reads_in_the_new_layout(
    tmp_path: Path, demo_model: Path
) -> None:
    old = _old_bundle(
        tmp_path, demo_model, {"compress": {"method": "int8-static", "report": DRIFT}}
    )
    assert verify_bundle(old).ok
    manifest = read_manifest(old)
    assert manifest.schema_version == MANIFEST_VERSION
    assert manifest.reports["drift"] == DRIFT
    assert manifest.reports["compress"] == {"method": "int8-static"}
    assert json.loads((old / MANIFEST).read_text())["schema_version"] == 1  # file untouched


def test_a_studio_run_bundle_of_version_1_reads_the_same(tmp_path: Path, demo_model: Path) -> None:
    kept = _old_bundle(
        tmp_path, demo_model, {"compress": {"method": "int8-static"}, "drift": DRIFT}
    )
    assert verify_bundle(kept).ok
    assert read_manifest(kept).reports["drift"] == DRIFT
    none = _old_bundle(
        tmp_path / "b", demo_model, {"compress": {"method": "int8-static"}, "drift": None}
    )
    assert "drift" not in read_manifest(none).reports  # no report: absent, as in version 2


def test_the_shipped_demo_bundles_stay_version_1_and_verify() -> None:
    for name in ("lm", "lm_int8"):
        folder = assets_dir() / name
        assert json.loads((folder / MANIFEST).read_text())["schema_version"] == 1
        assert verify_bundle(folder).ok, name
        assert read_manifest(folder).reports["llm"]
