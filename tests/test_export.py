"""`studio export`: the projects it writes, the V2 codec they share with `studio serve`, and the
one-line refusals (tests/test_export_servers.py starts each project with its framework)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from studio.cli.main import main
from studio.core.bundle.folder import create_bundle, read_manifest, verify_bundle
from studio.core.errors import StudioError
from studio.core.serve import v2
from studio.core.serve.export import TARGETS, export_bundle
from studio.core.serve.model import ServedModel
from tests.support.models import make_mlp

SERVING = [t for t in TARGETS if t != "kfp"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    create_bundle(make_mlp(folder / "mlp.onnx"), folder / "bundle")
    return folder / "bundle"


def request_for(x: np.ndarray) -> dict:
    data = x.ravel().tolist()
    return {
        "id": "r1",
        "inputs": [{"name": "x", "shape": list(x.shape), "datatype": "FP32", "data": data}],
    }


@pytest.mark.parametrize("target", SERVING)
def test_each_target_writes_a_project_with_the_bundle_codec_and_readme(
    bundle: Path, tmp_path: Path, target: str
) -> None:
    out = tmp_path / target
    result = export_bundle(bundle, target, out)
    assert result.model == "mlp" and Path(result.out) == out
    for name in result.files:
        assert (out / name).is_file(), name
    assert verify_bundle(out / "bundle").ok
    # The codec is `studio serve`'s own module, byte for byte.
    assert (out / "edge_v2.py").read_bytes() == Path(v2.__file__).read_bytes()
    readme = (out / "README.md").read_text()
    assert result.command in readme and "/v2/models/mlp/infer" in readme and "curl" in readme
    assert not list(tmp_path.glob(".*partial*"))


def test_the_exported_codec_answers_exactly_as_studio_serve(bundle: Path, tmp_path: Path) -> None:
    export_bundle(bundle, "mlserver", tmp_path / "p")
    exported = v2.BundleModel(tmp_path / "p" / "bundle")
    served = ServedModel(bundle, read_manifest(bundle))
    x = np.random.default_rng(3).standard_normal((2, 16)).astype(np.float32)
    assert exported.infer(request_for(x)) == served.infer(request_for(x))
    assert exported.metadata() == served.metadata()
    bad = {"inputs": [{"name": "x", "shape": [2, 15], "datatype": "FP32", "data": [0.0] * 30}]}
    with pytest.raises(v2.RequestError) as mine:
        exported.infer(bad)
    with pytest.raises(v2.RequestError) as theirs:
        served.infer(bad)
    assert str(mine.value) == str(theirs.value) == "Input 'x' has shape 2×15; the model takes ?×16."


def test_a_bundle_changed_after_export_is_not_loaded(bundle: Path, tmp_path: Path) -> None:
    export_bundle(bundle, "kserve", tmp_path / "p")
    entry = tmp_path / "p" / "bundle" / read_manifest(bundle).entry
    entry.write_bytes(entry.read_bytes()[:-1] + b"\0")
    with pytest.raises(RuntimeError, match="does not match the bundle's manifest"):
        v2.BundleModel(tmp_path / "p" / "bundle")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["export", *argv])
    captured = capsys.readouterr()
    return code, captured.err.strip()


def test_an_unknown_target_is_one_line(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(capsys, str(bundle), "--to", "triton", "--out", str(tmp_path / "p"))
    assert code == 2 and err.count("\n") == 0
    assert "Unknown export target 'triton'" in err and "ray-serve" in err
    assert not (tmp_path / "p").exists()


def test_a_folder_with_files_is_never_replaced(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    for extra in ([], ["--force"]):
        code, err = run_cli(capsys, str(bundle), "--to", "bentoml", "--out", str(out), *extra)
        assert code == 2 and err.count("\n") == 0 and "not a studio export" in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "keep me"


def test_an_earlier_export_is_replaced_only_with_force(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p"
    assert run_cli(capsys, str(bundle), "--to", "bentoml", "--out", str(out))[0] == 0
    code, err = run_cli(capsys, str(bundle), "--to", "ray-serve", "--out", str(out))
    assert code == 2 and "already holds an export" in err and "--force" in err
    assert (out / "service.py").is_file()
    code = main(
        ["export", str(bundle), "--to", "ray-serve", "--out", str(out), "--force", "--json"]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["target"] == "ray-serve"
    assert (out / "app.py").is_file() and not (out / "service.py").exists()


def test_a_corrupt_or_hostile_bundle_is_one_line(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(bundle, changed)
    entry = changed / read_manifest(bundle).entry
    entry.write_bytes(entry.read_bytes() + b"\0")
    hostile = tmp_path / "hostile"
    shutil.copytree(bundle, hostile)
    manifest = json.loads((hostile / "manifest.json").read_text())
    manifest["entry"] = "../../etc/passwd"
    (hostile / "manifest.json").write_text(json.dumps(manifest))
    broken = tmp_path / "broken"
    shutil.copytree(bundle, broken)
    (broken / "manifest.json").write_text("{not json")
    for source, words in ((changed, "does not match"), (hostile, "unsafe path"), (broken, "JSON")):
        out = tmp_path / f"out-{source.name}"
        code, err = run_cli(capsys, str(source), "--to", "mlserver", "--out", str(out))
        assert code == 2 and err.count("\n") == 0 and words in err, err
        assert not out.exists()


def test_kfp_without_the_sdk_is_one_line_before_anything_is_written(
    bundle: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-python"
    with pytest.raises(StudioError, match="kfp SDK") as caught:
        export_bundle(bundle, "kfp", tmp_path / "p", kfp_python=str(missing))
    assert "\n" not in str(caught.value) and not (tmp_path / "p").exists()


def test_a_missing_framework_venv_fails_naming_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support import framework_envs

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(AssertionError, match="python -m tests.support.framework_envs --prepare"):
        framework_envs.bin_dir("ray-serve")
