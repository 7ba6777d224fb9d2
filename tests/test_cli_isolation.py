"""The CLI runs onnxruntime work in a child process: a native crash there fails the command with
one line and a log file, and the command itself lives to say so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_a_worker_that_segfaults_is_one_line_and_exit_1(demo_model: Path, tmp_path: Path) -> None:
    env = dict(os.environ, STUDIO_CACHE_DIR=str(tmp_path / "cache"))
    command = [sys.executable, "-m", "studio", "profile", str(demo_model), "--runs", "10000"]
    cli = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    worker = None
    while worker is None and time.monotonic() < deadline and cli.poll() is None:
        # The spawn start method runs a resource tracker too; the worker is the one that runs
        # the job (its command line names multiprocessing.spawn).
        for pid in _children(cli.pid):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                worker = pid
        time.sleep(0.1)
    assert worker is not None, "the profile never started a worker"
    time.sleep(2)  # well inside the session, where onnxruntime's native code runs
    os.kill(worker, signal.SIGSEGV)
    _, err = cli.communicate(timeout=60)
    lines = [line for line in err.splitlines() if line.strip()]
    assert cli.returncode == 1, err
    assert len(lines) == 1 and lines[0].startswith("error: profile failed: the worker crashed")
    logs = list((tmp_path / "cache" / "logs").glob("profile-*.log"))
    assert len(logs) == 1 and str(logs[0]) in lines[0]


def test_a_user_error_in_the_worker_keeps_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model at all")
    result = subprocess.run(
        [sys.executable, "-m", "studio", "profile", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "bad.onnx" in result.stderr
