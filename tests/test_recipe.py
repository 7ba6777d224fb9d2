"""Recipes: versioned, strict, and replayed headless to the same bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.bundle.recipe import Recipe, load_recipe, save_recipe
from studio.core.errors import BadInput
from studio.core.paths import assets_dir


def test_demo_recipe_loads() -> None:
    recipe = load_recipe(assets_dir() / "recipes" / "demo.yaml")
    assert recipe.model.source == "demo"
    assert recipe.optimize.method.value == "int8-static"


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    recipe = Recipe()
    recipe.optimize.calib_limit = 7
    path = save_recipe(recipe, tmp_path / "r.yaml")
    assert load_recipe(path) == recipe


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\noptimise:\n  method: int8-static\n", "r.yaml: unknown key 'optimise'"),
        ("version: 1\noptimize:\n  methd: int8-static\n", "r.yaml: unknown key 'optimize.methd'"),
        ("version: 1\nprofile:\n  runs: many\n", "r.yaml: 'profile.runs' has a wrong value 'many'"),
        ("version: 1\noptimize:\n  method: int3\n", "'optimize.method' has a wrong value 'int3'"),
        ("version: 2\n", "'version' has a wrong value 2"),
        ("version: 1\noutput:\n  name: ../../etc\n", "'output.name'"),
        ("version: 1\nmodel: [unclosed\n", "not valid YAML at line"),
        ("- just\n- a list\n", "must hold a mapping"),
    ],
)
def test_bad_recipes_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(BadInput, match=message.replace(".", r"\.").replace("[", r"\[")):
        load_recipe(path)


def test_missing_recipe_file(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        load_recipe(tmp_path / "nope.yaml")
