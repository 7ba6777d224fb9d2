"""Hostile recipe and chip files: alias bombs and huge values give one short line, fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.bundle.recipe import load_recipe
from studio.core.chips.catalogue import user_dir
from studio.core.errors import BadInput


def _billion_laughs(key_path: str) -> str:
    """Nine levels of nine aliases each: 9**9 (387 million) strings once expanded."""
    lines = [
        "version: 1",
        'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    lines.append(key_path)
    return "\n".join(lines) + "\n"


def _run_timed(args: list[str]) -> tuple[int, float]:
    start = time.perf_counter()
    code = main(args)
    return code, time.perf_counter() - start


def test_billion_laughs_recipe_is_refused_within_a_second(tmp_path: Path, capsys) -> None:
    recipe = tmp_path / "bomb.yaml"
    recipe.write_text(_billion_laughs("profile:\n  runs: *a8"), encoding="utf-8")
    code, seconds = _run_timed(["run", str(recipe), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and seconds < 1.0
    assert "bomb.yaml" in err and "aliases" in err and len(err) < 200
    assert not (tmp_path / "out").exists()


def test_billion_laughs_chip_file_is_refused_within_a_second(capsys) -> None:
    folder = user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bomb-board.yaml").write_text(
        _billion_laughs("id: bomb-board\nname: *a8"), encoding="utf-8"
    )
    code, seconds = _run_timed(["chips", "show", "bomb-board"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and seconds < 1.0
    # The line starts with the file's full path (a long temporary folder here); the rest is short.
    assert "bomb-board.yaml" in err and "aliases" in err
    assert len(err.replace(str(folder), "")) < 200


def test_an_alias_that_contains_itself_is_refused(tmp_path: Path) -> None:
    recipe = tmp_path / "loop.yaml"
    recipe.write_text("version: 1\nprofile: &p\n  runs: *p\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"loop\.yaml is refused: an alias refers to"):
        load_recipe(recipe)


def test_a_few_ordinary_aliases_still_load(tmp_path: Path) -> None:
    recipe = tmp_path / "ok.yaml"
    recipe.write_text(
        "version: 1\noptimize:\n  calib_limit: &n 20\nprofile:\n  runs: *n\n", encoding="utf-8"
    )
    assert load_recipe(recipe).profile.runs == 20


@pytest.mark.parametrize("value", ["x" * 5_000_000, ["many"] * 100_000], ids=["string", "list"])
def test_a_huge_bad_value_gives_a_short_line(tmp_path: Path, capsys, value) -> None:
    recipe = tmp_path / "huge.yaml"
    import yaml

    recipe.write_text(yaml.safe_dump({"version": 1, "profile": {"runs": value}}), encoding="utf-8")
    assert main(["run", str(recipe), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "huge.yaml" in err and "profile.runs" in err
    assert len(err) <= 200 and "\n" not in err


def test_a_file_too_big_to_be_a_recipe_is_refused_unread(tmp_path: Path) -> None:
    recipe = tmp_path / "big.yaml"
    with recipe.open("w", encoding="utf-8") as handle:
        handle.write("version: 1\n# " + "x" * (9 * 1024 * 1024) + "\n")
    with pytest.raises(BadInput, match=r"big\.yaml is larger than 8 MB"):
        load_recipe(recipe)


def test_billion_laughs_hub_settings_are_refused(tmp_path: Path) -> None:
    from studio.core.hubs.settings import load_settings

    path = tmp_path / "hub.yaml"
    path.write_text(_billion_laughs("local_folders: *a8"), encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(BadInput, match=r"hub\.yaml is refused: its aliases expand"):
        load_settings(path)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("version", ['"9"', "[1]", "null"])
def test_a_manifest_whose_version_is_not_a_number_is_one_line(
    tmp_path: Path, capsys, version: str
) -> None:
    (tmp_path / "manifest.json").write_text(f'{{"schema_version": {version}}}', encoding="utf-8")
    assert main(["verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "manifest.json" in err and "\n" not in err
