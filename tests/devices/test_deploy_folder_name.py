"""The device folder comes from the manifest's model name, never from the bundle path as typed.

`studio deploy .` (from inside the bundle) and `studio deploy ..` (from a child folder) once named
the folder '' and '..': the push landed in the deploy root itself or its parent and replaced the
user's files there, on a phone and on This PC alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.bundle.folder import MANIFEST, create_bundle
from studio.core.devices.deploy import deploy_bundle
from studio.core.devices.this_pc import ThisPC
from studio.core.errors import BadInput
from tests.support.virtual_adb import VirtualDevice

ROOT = "/data/local/tmp/edge-deploy-studio"
MINE = {"model.onnx": b"my own model", "README.md": b"my notes", MANIFEST: b"{}"}


def _plant(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in MINE.items():
        (folder / name).write_bytes(data)


def _untouched(folder: Path) -> bool:
    return all((folder / name).read_bytes() == data for name, data in MINE.items())


def _typed_paths(bundle: Path) -> list[tuple[Path, str]]:
    (bundle.parent / "child").mkdir(exist_ok=True)
    return [(bundle, "."), (bundle.parent / "child", "../digits-bundle"), (bundle / "runner", "..")]


def test_dot_and_dotdot_on_the_phone(
    phone: VirtualDevice, bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in (ROOT, ROOT.rsplit("/", 1)[0]):
        _plant(phone.device_path(folder))
    for cwd, typed in _typed_paths(bundle):
        monkeypatch.chdir(cwd)
        result = deploy_bundle(typed, phone.address)
        assert result.remote_dir == f"{ROOT}/digits-bundle", typed
    assert _untouched(phone.device_path(ROOT))
    assert _untouched(phone.device_path(ROOT.rsplit("/", 1)[0]))
    assert (phone.device_path(f"{ROOT}/digits-bundle") / MANIFEST).is_file()


def test_dot_and_dotdot_on_this_pc(
    bundle: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ThisPC().base_dir()
    for folder in (base, base.parent):
        _plant(folder)
    for cwd, typed in _typed_paths(bundle):
        monkeypatch.chdir(cwd)
        assert main(["deploy", typed, "--device", "this-pc", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["remote_dir"] == str(base / "digits-bundle")
    assert _untouched(base) and _untouched(base.parent)


@pytest.mark.parametrize(
    ("name", "folder"),
    [("team/my model", "team-my-model"), ("../../etc", "etc"), ("..\\x", "x")],
)
def test_the_model_name_becomes_one_plain_name(
    tmp_path: Path, demo_model: Path, name: str, folder: str
) -> None:
    bundle = tmp_path / "b"
    create_bundle(demo_model, bundle, name=name)
    result = deploy_bundle(bundle, "this-pc")
    assert Path(result.remote_dir) == ThisPC().base_dir() / folder


@pytest.mark.parametrize("name", ["..", ".", "", "/", "../.."])
def test_a_name_that_is_no_name_is_refused(tmp_path: Path, demo_model: Path, name: str) -> None:
    bundle = tmp_path / "b"
    create_bundle(demo_model, bundle, name=name or "x")
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["model"]["name"] = name  # a hand-edited manifest (its own hash is not listed)
    (bundle / MANIFEST).write_text(json.dumps(manifest))
    _plant(ThisPC().base_dir())
    with pytest.raises(BadInput, match=r"cannot name a folder on the device.*--to"):
        deploy_bundle(bundle, "this-pc")
    assert _untouched(ThisPC().base_dir())
    assert deploy_bundle(bundle, "this-pc", to=str(tmp_path / "chosen")).verified
