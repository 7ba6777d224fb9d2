"""A real ``mlflow server`` on 127.0.0.1 for the team-server tests (tests/test_track_server.py).

The studio's ``[track]`` extra is mlflow-skinny, which has no server; the full ``mlflow`` (Flask,
pandas, pyarrow, scikit-learn...) lives in its own cached venv so the app's install stays small.
``python -m tests.support.mlflow_server --prepare`` builds it once (.ci/run calls it); the tests
never reach the network and fail with that command when it is missing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

MLFLOW = "mlflow==3.18.0"  # the same version as the [track] extra's mlflow-skinny
PINS = ["SQLAlchemy==2.1.9", "alembic==1.20.1"]
PREPARE = "python -m tests.support.mlflow_server --prepare"


def venv_dir() -> Path:
    default = Path.home() / ".cache" / "studio-ci" / "mlflow-server"
    return Path(os.environ.get("STUDIO_MLFLOW_SERVER_VENV", default))


def mlflow_command() -> list[str] | None:
    bin_dir = venv_dir() / ("Scripts" if sys.platform == "win32" else "bin")
    python = bin_dir / ("python.exe" if sys.platform == "win32" else "python")
    ready = venv_dir() / "ready"
    return [str(python), "-m", "mlflow"] if python.is_file() and ready.is_file() else None


def prepare() -> None:
    folder = venv_dir()
    if mlflow_command():
        print(f"mlflow server venv ready: {folder}")
        return
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    pip = folder / ("Scripts" if sys.platform == "win32" else "bin") / "pip"
    subprocess.run([str(pip), "install", "-q", MLFLOW, *PINS], check=True)
    (folder / "ready").write_text(MLFLOW, encoding="utf-8")
    print(f"mlflow server venv ready: {folder}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class MlflowServer:
    """``mlflow server`` with a SQLite store in ``folder``; stop() and start() again on its port."""

    def __init__(self, folder: Path) -> None:
        command = mlflow_command()
        if command is None:
            raise RuntimeError(f"No mlflow server venv at {venv_dir()}: run `{PREPARE}` first")
        self.command = command
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 240) -> None:
        # No job runner: it starts a dozen huey consumers the tests never use (slow to start).
        env = {
            **os.environ,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }
        db = (self.folder / "server.db").as_posix()
        self.proc = subprocess.Popen(
            [
                *self.command,
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--backend-store-uri",
                f"sqlite:///{db}",
                "--artifacts-destination",
                (self.folder / "artifacts").as_uri(),
            ],
            env=env,
            start_new_session=True,  # stop() ends uvicorn and its workers with it
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "server.log").open("ab"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited; see {self.folder / 'server.log'}")
            try:
                with urllib.request.urlopen(self.uri + "/health", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"mlflow server did not answer in {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is None:
            return
        # `mlflow server` runs uvicorn as a child: the whole process group goes.
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # a worker that outlived its parent
        self.proc = None


if __name__ == "__main__":
    if sys.argv[1:] != ["--prepare"]:
        print(f"usage: {PREPARE}", file=sys.stderr)
        raise SystemExit(2)
    prepare()
