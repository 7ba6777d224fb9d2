"""The studio as a frozen app (packaging/): assets, python3 stand-in, export message.

The real frozen build is checked by packaging/smoke_test.py (too slow for the suite); these tests
fake ``sys.frozen`` / ``sys._MEIPASS`` the way PyInstaller's bootloader sets them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studio.core import frozen, paths
from studio.core.errors import BadInput

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def frozen_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake one-folder build: <tmp>/EdgeDeployStudio plus its _internal folder."""
    internal = tmp_path / "EdgeDeployStudio" / "_internal"
    (internal / "assets" / "chips").mkdir(parents=True)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "EdgeDeployStudio" / "EdgeDeployStudio"))
    return internal


def test_not_frozen_in_a_python_install() -> None:
    assert not frozen.is_frozen()
    assert frozen.frozen_root() is None
    assert frozen.python_command() == [sys.executable]
    assert paths.assets_dir() == REPO / "assets"


def test_frozen_assets_come_from_the_build_folder(frozen_app: Path) -> None:
    assert frozen.frozen_root() == frozen_app
    assert paths.assets_dir() == frozen_app / "assets"
    assert paths.demo_model_path() == frozen_app / "assets" / "demo" / "digits_cnn.onnx"


def test_frozen_user_data_never_goes_into_the_install_folder(
    frozen_app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("STUDIO_DATA_DIR", "STUDIO_CONFIG_DIR", "STUDIO_CACHE_DIR"):
        monkeypatch.delenv(name)
    monkeypatch.setattr(
        paths.platformdirs,
        "user_data_dir",
        lambda *a: str(frozen_app.parent.parent / "home" / "data"),
    )
    monkeypatch.setattr(
        paths.platformdirs,
        "user_config_dir",
        lambda *a: str(frozen_app.parent.parent / "home" / "config"),
    )
    monkeypatch.setattr(
        paths.platformdirs,
        "user_cache_dir",
        lambda *a: str(frozen_app.parent.parent / "home" / "cache"),
    )
    install = frozen_app.parent
    for folder in (
        paths.data_dir(),
        paths.config_dir(),
        paths.cache_dir(),
        paths.default_output_dir(),
    ):
        assert not folder.is_relative_to(install), folder


def test_frozen_without_meipass_uses_the_program_folder(
    frozen_app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(sys, "_MEIPASS")
    assert frozen.frozen_root() == frozen_app.parent


def test_frozen_build_missing_assets_says_reinstall(frozen_app: Path) -> None:
    (frozen_app / "assets" / "chips").rmdir()
    (frozen_app / "assets").rmdir()
    with pytest.raises(FileNotFoundError, match="reinstall"):
        paths.assets_dir()


def test_frozen_python3_is_the_app_with_the_script_flag(frozen_app: Path) -> None:
    assert frozen.python_command() == [sys.executable, frozen.RUN_SCRIPT_FLAG]


def test_this_pc_runs_python3_through_the_frozen_app(
    frozen_app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.devices import this_pc

    seen: list[list[str]] = []

    class Recorded(Exception):
        pass

    def fake_popen(argv: list[str], **kwargs: object) -> None:
        seen.append(argv)
        raise Recorded

    monkeypatch.setattr(this_pc.subprocess, "Popen", fake_popen)
    with pytest.raises(Recorded):
        this_pc.ThisPC().stream(["python3", "runner/runner.py", "bench"], cwd=str(frozen_app))
    assert seen == [[sys.executable, frozen.RUN_SCRIPT_FLAG, "runner/runner.py", "bench"]]


def test_run_script_runs_the_file_as_main_with_its_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(sys, "path", list(sys.path))
    out = tmp_path / "out.txt"
    script = tmp_path / "runner.py"
    script.write_text(
        "import sys, pathlib\n"
        "if __name__ == '__main__':\n"
        f"    pathlib.Path({str(out)!r}).write_text(' '.join(sys.argv[1:]) + '|' + sys.path[0])\n"
    )
    assert frozen.run_script_from_argv(
        ["app", frozen.RUN_SCRIPT_FLAG, str(script), "bench", "--runs", "3"]
    )
    assert out.read_text() == f"bench --runs 3|{tmp_path}"


def test_run_script_exit_code_is_the_scripts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(sys, "path", list(sys.path))
    script = tmp_path / "fails.py"
    script.write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(SystemExit) as exc:
        frozen.run_script_from_argv(["app", frozen.RUN_SCRIPT_FLAG, str(script)])
    assert exc.value.code == 3


def test_other_arguments_are_not_a_script_run() -> None:
    assert not frozen.run_script_from_argv(["app"])
    assert not frozen.run_script_from_argv(["app", "info", "model.onnx"])


@pytest.mark.parametrize("rest", [[], ["/no/such/runner.py"]])
def test_run_script_without_a_script_is_exit_2_with_one_line(
    rest: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        frozen.run_script_from_argv(["app", frozen.RUN_SCRIPT_FLAG, *rest])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs a Python script file" in err


def test_frozen_convert_says_export_needs_the_python_install(
    frozen_app: Path, tmp_path: Path
) -> None:
    from studio.core.model.convert import convert_model

    (tmp_path / "m.pt").write_bytes(b"x")
    with pytest.raises(BadInput) as exc:
        convert_model(tmp_path / "m.pt", "onnx", tmp_path / "m.onnx", shapes={"x": [1, 4]})
    assert "packaged app does not include" in exc.value.message
    assert "[export] extra" in exc.value.fix
    assert not (tmp_path / "m.onnx").exists()


def test_frozen_llm_export_says_export_needs_the_python_install(frozen_app: Path) -> None:
    from studio.core.generate.export import check_export_tools

    with pytest.raises(BadInput) as exc:
        check_export_tools()
    assert "packaged app does not include" in exc.value.message
    assert "pip install torch==2.13.0" in exc.value.fix


def test_frozen_modelscope_hint_does_not_say_pip_install_into_the_app(frozen_app: Path) -> None:
    from studio.core.hubs import modelscope

    assert "packaged app does not include" in modelscope.install_hint()


def test_entry_point_runs_a_script_and_the_cli(tmp_path: Path) -> None:
    """packaging/edge_deploy_studio.py as plain Python: --run-python-script, then the CLI."""
    entry = REPO / "packaging" / "edge_deploy_studio.py"
    script = tmp_path / "hello.py"
    script.write_text("import sys\nprint('hello', *sys.argv[1:])\n")
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(entry), frozen.RUN_SCRIPT_FLAG, str(script), "x"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "hello x\n")
    done = subprocess.run(
        [sys.executable, str(entry), "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("Edge Deploy Studio ")
