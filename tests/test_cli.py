"""The CLI: every command, human and --json output, and exit code 2 with one line on bad input."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio import __version__
from studio.cli import main
from studio.cli.main import build_parser
from studio.core.paths import assets_dir
from tests.support.models import make_mlp


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_via_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "studio", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_info_human_and_json(capsys: pytest.CaptureFixture[str], demo_model: Path) -> None:
    code, out, _ = run(capsys, "info", str(demo_model))
    assert code == 0 and "image" in out and "Conv 3" in out
    code, out, _ = run(capsys, "info", str(demo_model), "--json")
    assert json.loads(out)["inputs"][0]["shape"] == ["batch", 1, 16, 16]


def test_compress_profile_bundle_verify(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, demo_model: Path, demo_samples: Path
) -> None:
    q = tmp_path / "q.onnx"
    code, out, _ = run(
        capsys,
        "compress",
        str(demo_model),
        "--method",
        "int8-static",
        "--calib",
        str(demo_samples),
        "--out",
        str(q),
        "--json",
    )
    assert code == 0 and json.loads(out)["size_after"] < json.loads(out)["size_before"]

    code, out, _ = run(capsys, "profile", str(q), "--runs", "3", "--json")
    data = json.loads(out)
    assert code == 0 and data["end_to_end_ms"] > 0
    assert sum(n["share"] for n in data["nodes"]) == pytest.approx(1.0)
    code, out, _ = run(capsys, "profile", str(q), "--runs", "3")
    assert "end to end" in out

    bundle = tmp_path / "bundle"
    code, out, _ = run(capsys, "bundle", str(q), "--chip", "this-pc", "--out", str(bundle))
    assert code == 0 and "verified" in out
    code, out, _ = run(capsys, "verify", str(bundle))
    assert code == 0 and out.startswith("OK")
    (bundle / "model.onnx").write_bytes(b"changed")
    code, out, _ = run(capsys, "verify", str(bundle), "--json")
    assert code == 1 and json.loads(out)["changed"] == ["model.onnx"]


def test_run_recipe_twice_gives_the_same_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    recipe = assets_dir() / "recipes" / "demo.yaml"
    hashes = []
    for name in ("a", "b"):
        code, out, _ = run(capsys, "run", str(recipe), "--out", str(tmp_path / name), "--json")
        assert code == 0, out
        data = json.loads(out)
        assert data["verify"]["ok"]
        hashes.append({f["path"]: f["sha256"] for f in data["manifest"]["files"]}["model.onnx"])
    assert hashes[0] == hashes[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["info", "{tmp}/missing.onnx"], "does not exist"),
        (["info", "{tmp}/notes.txt"], "not a valid ONNX model"),
        (["info", "{tmp}/truncated.onnx"], "truncated.onnx"),
        (["info", "{tmp}/emptydir"], "holds no .onnx model"),
        (["compress", "{mlp}", "--method", "int9", "--out", "{tmp}/o.onnx"], "Unknown method"),
        (
            [
                "compress",
                "{mlp}",
                "--method",
                "int8-static",
                "--calib",
                "{tmp}/none.npz",
                "--out",
                "{tmp}/o.onnx",
            ],
            "does not exist",
        ),
        (
            ["compress", "{mlp}", "--method", "cleanup", "--out", "{tmp}/notes.txt/o.onnx"],
            "Cannot create",
        ),
        (["profile", "{mlp}", "--runs", "0"], "runs must be at least 1"),
        (["profile", "{mlp}", "--shape", "x=1xbanana"], "is not NAME=DIMS"),
        (["bundle", "{mlp}", "--out", "{tmp}/userdir"], "not a studio bundle"),
        (["bundle", "{mlp}", "--chip", "nope", "--out", "{tmp}/b"], "Unknown chip"),
        (["verify", "{tmp}/emptydir"], "has no manifest.json"),
        (["run", "{tmp}/typo.yaml", "--out", "{tmp}/b"], "typo.yaml: unknown key 'optimise'"),
        (["run", "{tmp}/wrongtype.yaml", "--out", "{tmp}/b"], "'profile.runs' has a wrong value"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    demo_model: Path,
    argv: list[str],
    message: str,
) -> None:
    mlp = make_mlp(tmp_path / "mlp.onnx")
    (tmp_path / "notes.txt").write_text("not a model")
    (tmp_path / "truncated.onnx").write_bytes(demo_model.read_bytes()[:5000])
    (tmp_path / "emptydir").mkdir()
    (tmp_path / "userdir").mkdir()
    (tmp_path / "userdir" / "mine.txt").write_text("keep me")
    (tmp_path / "typo.yaml").write_text("version: 1\noptimise: {}\n")
    (tmp_path / "wrongtype.yaml").write_text("version: 1\nprofile:\n  runs: lots\n")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    args = [a.format(tmp=tmp_path, mlp=mlp) for a in argv]
    code, _, err = run(capsys, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written
    assert (tmp_path / "userdir" / "mine.txt").read_text() == "keep me"


def _arguments_without_help(parser: argparse.ArgumentParser, path: str) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                missing += _arguments_without_help(child, f"{path} {name}")
        elif not action.help and not isinstance(action, argparse._HelpAction):
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_cli_argument_has_help_text() -> None:
    assert _arguments_without_help(build_parser(), "studio") == []


def test_commands_are_listed_in_workflow_order_and_share_the_token_flag() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    listed = [choice.dest for choice in commands._choices_actions]
    assert listed[:4] == ["hub", "info", "convert", "chips"] and listed[-1] == "run"
    assert listed.index("compress") < listed.index("profile") < listed.index("bundle")
    for argv in (["generate", "--prompt", "hi"], ["device-run", "B", "--device", "S", "generate"]):
        args = parser.parse_args([*argv, "--max-new-tokens", "7"])
        assert (getattr(args, "max_new_tokens", None) or args.max_tokens) == 7
    old = parser.parse_args(["device-run", "B", "--device", "S", "generate", "--max-tokens", "5"])
    assert old.max_tokens == 5
