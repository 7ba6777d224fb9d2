"""Start a `studio export` project with its framework's own command on 127.0.0.1, from the venvs
of tests/support/framework_envs.py (used by tests/test_export_servers.py and benchmarks/bench_serve.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.support import framework_envs

SERVERS = ("bentoml", "mlserver", "kserve", "ray-serve")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def framework_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(BENTOML_DO_NOT_TRACK="True", RAY_USAGE_STATS_ENABLED="0", PYTHONUNBUFFERED="1")
    return env


@contextlib.contextmanager
def started(cmd: list[str], cwd: Path, ready: str, env: dict[str, str]) -> Iterator[Path]:
    """Run ``cmd`` in its own process group until ``ready`` answers 200; stop the group after."""
    log = cwd / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"{cmd[0]} exited {proc.returncode}: {log.read_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{cmd[0]} not ready in 240 s: {log.read_text()[-3000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(ready, timeout=10) as answer:
                if answer.status == 200:
                    break
            time.sleep(0.5)
        yield log
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:  # our own process group only
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    # Children the framework left behind (Ray's raylet, MLServer's workers).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


@contextlib.contextmanager
def serving(target: str, project: Path) -> Iterator[str]:
    """Run ``project`` (written by `studio export --to target`) as its README says; yield its URL."""
    bin_dir = framework_envs.bin_dir(target)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = framework_env()
    model = json.loads((project / ".studio-export.json").read_text())["model"]
    ready = f"{url}/v2/models/{model}/ready"
    if target == "bentoml":
        cmd = [str(bin_dir / "bentoml"), "serve", "service:EdgeModel", "--host", "127.0.0.1"]
        cmd += ["--port", str(port)]
        ready = f"{url}/readyz"
    elif target == "mlserver":
        env.update(
            MLSERVER_HTTP_PORT=str(port),
            MLSERVER_GRPC_PORT=str(free_port()),
            MLSERVER_METRICS_PORT=str(free_port()),
        )
        cmd = [str(bin_dir / "mlserver"), "start", "."]
    elif target == "kserve":
        cmd = [str(bin_dir / "python"), "model.py", "--http_port", str(port)]
        cmd += ["--grpc_port", str(free_port())]
    elif target == "ray-serve":
        config = project / "serve_config.yaml"
        config.write_text(config.read_text().replace("port: 8000", f"port: {port}"))
        cmd = [str(bin_dir / "serve"), "run", "serve_config.yaml"]
        # A Ray of its own: never joins a local cluster someone else started (short path: Ray's
        # unix sockets live under it and have a 107-byte limit).
        scratch = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
        env["RAY_TMPDIR"] = str(scratch)
    else:
        raise ValueError(f"{target} is not a server")
    try:
        with started(cmd, project, ready, env):
            yield url
    finally:
        if target == "ray-serve":
            shutil.rmtree(scratch, ignore_errors=True)
