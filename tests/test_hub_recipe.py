"""`source: huggingface` in a recipe: `studio run` fetches the .onnx, and offline uses the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.bundle.recipe import load_recipe
from studio.core.errors import BadInput
from tests.support.hub_fixtures import *  # noqa: F403

RECIPE = """version: 1
model:
  source: huggingface
  repo: acme/tiny-mlp
  file: onnx/model.onnx
optimize:
  method: cleanup
  calibration: null
profile:
  runs: 2
output:
  name: mlp
"""


@pytest.fixture(autouse=True)
def _endpoint(hub_server, memory_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub_server.endpoint)


def test_run_fetches_only_the_model_file_then_works_offline(
    tmp_path: Path, hub_server, capsys, monkeypatch
) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    assert main(["run", str(recipe), "--out", str(tmp_path / "b1"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["verify"]["ok"]
    fetched = {p for m, p, _ in hub_server.hub.requests if m == "GET" and "/resolve/" in p}
    assert {p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1] for p in fetched} == {
        "onnx/model.onnx"
    }

    before = len(hub_server.hub.requests)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["run", str(recipe), "--out", str(tmp_path / "b2"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verify"]["ok"]
    assert len(hub_server.hub.requests) == before


def test_offline_without_a_downloaded_copy_says_what_to_do(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    assert main(["run", str(recipe), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "not downloaded on this computer" in err and "studio hub download acme/tiny-mlp" in err
    assert not (tmp_path / "b").exists()


def test_hub_source_without_file_names_the_field(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE.replace("  file: onnx/model.onnx\n", ""), encoding="utf-8")
    with pytest.raises(BadInput, match=r"r.yaml: 'model'.*needs both repo .* and file"):
        load_recipe(recipe)


def test_wrong_file_in_repo_is_bad_input(tmp_path: Path, capsys) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE.replace("onnx/model.onnx", "onnx/nope.onnx"), encoding="utf-8")
    assert main(["run", str(recipe), "--out", str(tmp_path / "b")]) == 2
    assert "No file in acme/tiny-mlp matches onnx/nope.onnx" in capsys.readouterr().err


def test_a_branch_is_resolved_once_per_session(hub_server) -> None:
    from studio.core.hubs.resolve import resolve_hub_file

    first = resolve_hub_file("acme/tiny-mlp", "onnx/model.onnx")
    requests = len(hub_server.hub.requests)
    assert resolve_hub_file("acme/tiny-mlp", "onnx/model.onnx") == first
    assert len(hub_server.hub.requests) == requests
