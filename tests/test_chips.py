"""The chip catalogue: every shipped profile validates and cites its numbers; user profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from studio.cli import main
from studio.core.chips.catalogue import (
    THIS_PC,
    ChipProfile,
    Fact,
    get_chip,
    list_chips,
    load_catalogue,
    load_chip_file,
    shipped_dir,
    user_dir,
)
from studio.core.errors import BadInput

NAMED = {
    "qualcomm-snapdragon-8-gen-3",
    "mediatek-dimensity-9300",
    "mediatek-dimensity-8300",
    "intel-core-ultra-meteor-lake",
    "axera-ax650n",
    "xindongli-azureblade-l",
    "hailo-10h",
    THIS_PC,
    "generic-arm64-android-cpu",
    "raspberry-pi-5",
}


def _facts(chip: ChipProfile) -> list[Fact]:
    facts = [chip.memory.bandwidth_gbs, chip.memory.capacity_gb]
    for acc in chip.accelerators:
        facts.extend(acc.peak_tops.values())
    return facts


@pytest.mark.parametrize("path", sorted(shipped_dir().glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_profile_validates_and_cites_its_numbers(path: Path) -> None:
    chip = load_chip_file(path)
    for fact in _facts(chip):
        if fact.value is not None:
            assert fact.source and fact.confidence, f"{path.name}: uncited number {fact.value}"
    for acc in chip.accelerators:
        if acc.supported_ops is not None:
            assert acc.supported_ops_source
    assert chip.recommended["default"].method


def test_catalogue_holds_every_named_chip() -> None:
    ids = {c.id for c in list_chips()}
    assert ids >= NAMED
    assert list_chips()[0].id == THIS_PC


def test_unknown_numbers_stay_null() -> None:
    blade = get_chip("xindongli-azureblade-l")
    assert all(f.value is None for f in _facts(blade))
    snapdragon = get_chip("qualcomm-snapdragon-8-gen-3")
    assert snapdragon.npu is not None and snapdragon.npu.peak_tops == {}


def test_this_pc_is_read_from_the_machine() -> None:
    pc = get_chip(THIS_PC)
    assert "cores" in pc.description
    assert pc.memory.capacity_gb.confidence is not None
    assert pc.memory.capacity_gb.confidence.value == "measured"
    assert pc.runtime and pc.name and pc.vendor  # the API the wizard uses


def test_a_number_without_a_source_is_rejected() -> None:
    with pytest.raises(ValueError, match="source"):
        Fact(value=3.0)


def _write_user(name: str, data: dict | str) -> Path:
    folder = user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def _valid_user_chip(chip_id: str = "my-board") -> dict:
    data = yaml.safe_load((shipped_dir() / "raspberry-pi-5.yaml").read_text(encoding="utf-8"))
    data["id"] = chip_id
    data["name"] = "My board"
    return data


def test_user_profile_is_added_to_the_catalogue() -> None:
    _write_user("my-board.yaml", _valid_user_chip())
    chip = get_chip("my-board")
    assert chip.name == "My board"
    assert chip.user_file and chip.user_file.endswith("my-board.yaml")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(colour="red"), "unknown key 'colour'"),
        (lambda d: d.pop("vendor"), "required key 'vendor'"),
        (
            lambda d: d["memory"].update(bandwidth_gbs={"value": "fast"}),
            "memory.bandwidth_gbs.value",
        ),
        (lambda d: d["memory"].update(bandwidth_gbs={"value": 10}), "source"),
        (lambda d: d["accelerators"][0].update(kind="tpu"), "accelerators.0.kind"),
        (lambda d: d["accelerators"][0].update(supported_ops=["Conv"]), "supported_ops_source"),
        (
            lambda d: d["accelerators"][0].update(
                supported_ops=["Conv", "If"],
                supported_ops_source="https://example.com/ops",
                ops_confidence="vendor",
                unsupported_ops=["If"],
            ),
            "If listed as both supported and unsupported",
        ),
        (
            lambda d: d["accelerators"][0].update(ops_confidence="sure"),
            "accelerators.0.ops_confidence",
        ),
    ],
    ids=[
        "unknown-key",
        "missing-key",
        "wrong-type",
        "uncited-number",
        "bad-enum",
        "op-list-uncited",
        "op-both-lists",
        "op-confidence-not-a-mark",
    ],
)
def test_bad_user_profile_names_file_and_field(mutate, expected: str, capsys) -> None:
    data = _valid_user_chip("broken-board")
    mutate(data)
    path = _write_user("broken-board.yaml", data)
    catalogue = load_catalogue()
    assert "broken-board" not in {c.id for c in catalogue.chips}
    assert len(catalogue.problems) == 1
    assert "broken-board.yaml" in catalogue.problems[0] and expected in catalogue.problems[0]
    with pytest.raises(BadInput, match=r"broken-board\.yaml"):
        get_chip("broken-board")
    # The listing still works and warns on stderr, naming the file.
    assert main(["chips"]) == 0
    captured = capsys.readouterr()
    assert str(path) in captured.err and expected in captured.err
    assert "raspberry-pi-5" in captured.out


def test_user_profile_that_is_not_yaml(capsys) -> None:
    _write_user("garbled.yaml", "id: [unclosed\n")
    assert main(["chips"]) == 0
    assert "garbled.yaml is not valid YAML" in capsys.readouterr().err


def test_user_profile_whose_id_differs_from_its_file_name() -> None:
    _write_user("other-name.yaml", _valid_user_chip("my-board"))
    problems = load_catalogue().problems
    assert problems and "other-name.yaml" in problems[0] and "'id'" in problems[0]


def test_cli_chips_json_lists_profiles_with_sources(capsys) -> None:
    assert main(["chips", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_id = {c["id"]: c for c in data["chips"]}
    hailo = by_id["hailo-10h"]["accelerators"][0]["peak_tops"]["int8"]
    assert hailo["value"] == 20 and hailo["source"].startswith("https://")


def test_cli_chips_show(capsys) -> None:
    assert main(["chips", "show", "axera-ax650n"]) == 0
    out = capsys.readouterr().out
    assert "72 TOPS" in out and "third-party" in out
    assert main(["chips", "show", "axera-ax650n", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["vendor"].startswith("Axera")


def test_cli_chips_show_unknown_chip_exits_2(capsys) -> None:
    assert main(["chips", "show", "no-such-chip"]) == 2
    err = capsys.readouterr().err
    assert "Unknown chip 'no-such-chip'" in err and err.count("\n") == 1
    assert main(["chips", "show"]) == 2


def test_catalogue_is_cached_until_a_profile_changes() -> None:
    first = load_catalogue()
    assert load_catalogue() is first  # nothing changed: no re-read
    _write_user("my-board.yaml", _valid_user_chip())
    assert get_chip("my-board").name == "My board"
    data = _valid_user_chip()
    data["name"] = "My renamed board"
    _write_user("my-board.yaml", data)
    assert get_chip("my-board").name == "My renamed board"


def test_this_pcs_memory_is_one_figure_on_target_and_deploy() -> None:
    from studio.core.chips.catalogue import get_chip
    from studio.core.devices.this_pc import ThisPC

    capacity = get_chip("this-pc").memory.capacity_gb.value
    assert capacity
    assert f"RAM {capacity:.1f} GB" in ThisPC().describe().summary()
