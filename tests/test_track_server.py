"""The team path against a REAL `mlflow server` on 127.0.0.1 (tests/support/mlflow_server.py):
runs and a registered bundle go through it, and a server stopped in the middle of a job fails
nothing: the job says so in one line, its run waits in the spool and is sent once it is back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.bundle.recipe import Optimize
from studio.core.bundle.steps import OptimizeRequest, optimize
from studio.core.paths import assets_dir
from studio.core.progress import Reporter
from tests.support.mlflow_server import PREPARE, MlflowServer, mlflow_command

pytest.importorskip("mlflow", reason="the [track] extra is not installed")

DEMO = assets_dir() / "demo" / "digits_cnn.onnx"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowServer]:
    if mlflow_command() is None:
        pytest.fail(f"The mlflow server venv is missing: run `{PREPARE}` (.ci/run does)")
    folder = tmp_path / "server"
    folder.mkdir()
    found = MlflowServer(folder)
    found.start()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", found.uri)
    monkeypatch.setenv("STUDIO_TRACKING", "on")
    monkeypatch.setenv("STUDIO_CLI_IN_PROCESS", "1")
    try:
        yield found
    finally:
        found.stop()


def _sent(timeout: float = 120) -> bool:
    """The detached sender emptied the spool (it imports mlflow: seconds on a busy PC)."""
    from studio.core.track import spool

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not spool.pending() and not (spool.queue_folder() / spool.LOCK).exists():
            return True
        time.sleep(0.2)
    return False


def _runs(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["runs", "--json"]) == 0
    runs: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return runs


def test_runs_and_a_bundle_go_through_a_real_server_which_may_stop_mid_job(
    server: MlflowServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["bundle", str(DEMO), "--out", str(tmp_path / "b"), "-q"]) == 0
    assert "Run tracking" not in capsys.readouterr().err
    assert _sent()  # by the background sender alone
    (bundled,) = _runs(capsys)
    assert bundled["kind"] == "bundle"
    back = tmp_path / "back"
    assert main(["bundle", "--from-registry", "digits_cnn-this-pc/1", "--out", str(back)]) == 0
    assert main(["verify", str(back)]) == 0
    capsys.readouterr()

    # The server goes away while a compress job runs: the job still writes its model.
    lines: list[str] = []

    def stop_once(fraction: float, message: str) -> None:
        if server.proc is not None:
            server.stop()

    request = OptimizeRequest(
        model=DEMO, out=tmp_path / "a.onnx", settings=Optimize(method="fp16"), drift=False
    )
    optimize(request, Reporter(on_progress=stop_once, on_log=lines.append))
    assert (tmp_path / "a.onnx").is_file()
    notes = [line for line in lines if line.startswith("Run tracking:")]
    assert len(notes) == 1 and "unreachable" in notes[0] and "kept in" in notes[0], lines
    from studio.core.track import spool

    assert len(spool.pending()) == 1

    # Back on the same port: the next job's sender sends the kept run with its own.
    server.start()
    assert main(["compress", str(DEMO), "--method", "fp16", "--out", str(tmp_path / "c.onnx")]) == 0
    assert "Run tracking" not in capsys.readouterr().err
    assert _sent()
    kinds = sorted(str(r["kind"]) for r in _runs(capsys))
    assert kinds == ["bundle", "compress", "compress"]
