"""MLflow's own web UI on 127.0.0.1 over the studio's runs, for the History panel's "Open in MLflow".

The ``[track]`` extra is mlflow-skinny, which has no UI server: the full ``mlflow`` must be in this
Python, or ``STUDIO_MLFLOW_PYTHON`` names a Python that has it. A team server
(``MLFLOW_TRACKING_URI`` over HTTP) already serves the UI: its address is used as it is.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from studio.core.errors import StudioError
from studio.core.privacy import keep_private
from studio.core.track import store

PYTHON_ENV = "STUDIO_MLFLOW_PYTHON"
HOST = "127.0.0.1"


def mlflow_python() -> str | None:
    given = os.environ.get(PYTHON_ENV)
    if given and Path(given).is_file():
        return given
    if importlib.util.find_spec("mlflow") and importlib.util.find_spec("flask"):
        return sys.executable
    return None


class MlflowUi:
    """One ``mlflow server`` on a free 127.0.0.1 port; ``start`` blocks until it answers."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 180) -> str:
        uri = store.tracking_uri()
        if uri.startswith(("http://", "https://")):
            self.url = uri
            return uri
        python = mlflow_python()
        if python is None:
            raise StudioError(
                "MLflow's web UI is not installed (the [track] extra has no server)",
                f'pip install "mlflow==3.18.0", or set {PYTHON_ENV} to a Python that has it',
            )
        store.open_store()  # tables and the experiment exist before the UI reads them
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            port = sock.getsockname()[1]
        env = keep_private(dict(os.environ))
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # a dozen workers the UI never uses
        command = [python, "-m", "mlflow", "server", "--host", HOST, "--port", str(port)]
        command += ["--workers", "1", "--backend-store-uri", uri]
        self.proc = subprocess.Popen(  # its own group: stop() ends uvicorn with it
            command,
            env=dict(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=sys.platform != "win32",
        )
        self.url = f"http://{HOST}:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StudioError("MLflow's web UI stopped as it started", "See the studio's log")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as reply:
                    if reply.status == 200:
                        return self.url
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise StudioError(f"MLflow's web UI did not start in {timeout:.0f} s", "Try again")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        if sys.platform == "win32":
            proc.terminate()
        else:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
