"""Leftovers of killed processes: removed by the next job, never those of a live process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.atomic import PARTIAL_PREFIX
from studio.core.bundle.recipe import Recipe, save_recipe
from tests.support.compress_models import make_cnn

REPO = Path(__file__).resolve().parent.parent


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    """Another process still at work (as a second studio would be)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield child.pid
    child.kill()
    child.wait()


def _partial(folder: Path, pid: int, name: str, aside: bool = False) -> Path:
    path = folder / f"{PARTIAL_PREFIX}{pid}-0123abcd{'~old' if aside else ''}-{name}"
    path.mkdir()
    (path / "weights.bin").write_bytes(b"x" * 1000)
    return path


def test_a_write_removes_partials_of_dead_owners_only(tmp_path: Path, live_pid: int) -> None:
    dead = _partial(tmp_path, _dead_pid(), "bundle")
    live = _partial(tmp_path, live_pid, "bundle")
    mine = _partial(tmp_path, os.getpid(), "other")
    # A job killed between moving the old output aside and moving the new one in: put back.
    moved_aside = _partial(tmp_path, _dead_pid(), "old-bundle", aside=True)
    save_recipe(Recipe(), tmp_path / "r.yaml")
    assert not dead.exists()
    assert live.exists() and mine.exists()
    assert not moved_aside.exists() and (tmp_path / "old-bundle" / "weights.bin").exists()


def test_a_command_removes_temporary_folders_of_dead_owners_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live_pid: int
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    dead = [temp / f"studio-{kind}-{_dead_pid()}-x1y2" for kind in ("work", "run", "profile")]
    live = temp / f"studio-work-{live_pid}-x1y2"
    other = temp / "ort.quant.unrelated"  # no owner named: never ours to judge
    for folder in [*dead, live, other]:
        folder.mkdir()
    assert main(["chips", "--json"]) == 0
    assert not any(p.exists() for p in dead)
    assert live.exists() and other.exists()
    assert sorted(p.name for p in temp.iterdir()) == sorted([live.name, other.name])


def _compress(model: Path, out: Path, temp: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(REPO)}
    args = ["compress", str(model), "--method", "auto", "--out", str(out), "--force", "-q"]
    return subprocess.Popen(
        [sys.executable, "-m", "studio", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkilled_compress_leaves_nothing_after_the_next_run(tmp_path: Path) -> None:
    model = make_cnn(tmp_path / "cnn.onnx", size=32)
    out_dir, temp = tmp_path / "out", tmp_path / "tmp"
    out_dir.mkdir()
    temp.mkdir()
    child = _compress(model, out_dir, temp)
    deadline = time.monotonic() + 120
    # Kill it once it has both a partial beside the output and a temporary folder.
    while time.monotonic() < deadline and child.poll() is None:
        partials = [p for p in out_dir.iterdir() if p.name.startswith(PARTIAL_PREFIX)]
        if partials and any(temp.iterdir()):
            os.kill(child.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    assert child.wait(60) == -signal.SIGKILL, "the compress finished before it could be killed"
    assert [p for p in out_dir.iterdir() if p.name.startswith(PARTIAL_PREFIX)]
    assert [p for p in temp.iterdir() if p.name.startswith(f"studio-work-{child.pid}-")]
    again = _compress(model, out_dir, temp)
    assert again.wait(300) == 0
    assert [p.name for p in out_dir.iterdir()] == ["cnn.auto.onnx"]
    # (A library leaves a 51-byte ".ses" file in the temporary folder at import; not ours.)
    assert [p.name for p in temp.iterdir() if p.name.startswith(("studio-", "ort.", "tmp"))] == []
