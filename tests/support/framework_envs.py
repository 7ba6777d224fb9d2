"""Per-framework virtual environments for the export tests (tests/test_export_servers.py).

BentoML, MLServer, KServe, Ray Serve and KFP pin their own web stacks (FastAPI, pydantic, protobuf,
uvicorn) at versions that do not fit the studio's pins nor, mostly, each other's, so each gets a venv
of its own under ``~/.cache/edge-studio-tests/venvs/<name>-<hash of its pins>``. ``--prepare``
builds the missing ones in parallel (.ci/run calls it before the tests); the tests never install
anything and fail with this command when a venv is missing.

    python -m tests.support.framework_envs --prepare
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# The exported projects need onnxruntime + numpy beside the framework; same pins as the studio's.
_RUNTIME = ["onnxruntime==1.32.0", "numpy==2.4.6"]
PINS: dict[str, list[str]] = {
    "bentoml": ["bentoml==1.4.40", *_RUNTIME],
    "mlserver": ["mlserver==1.7.1", *_RUNTIME],
    "kserve": ["kserve==0.21.0", *_RUNTIME],
    "ray-serve": ["ray[serve]==2.60.0", *_RUNTIME],
    "kfp": ["kfp==2.17.3"],
}
PREPARE = "python -m tests.support.framework_envs --prepare"
PYTHON = os.environ.get("STUDIO_TEST_ENVS_PYTHON", "python3.11")


def root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edge-studio-tests" / "venvs"


def venv_dir(name: str) -> Path:
    digest = hashlib.sha256("\n".join([PYTHON, *PINS[name]]).encode()).hexdigest()[:12]
    return root() / f"{name}-{digest}"


def bin_dir(name: str) -> Path:
    """The venv's bin folder; AssertionError naming the command to make it when it is missing."""
    folder = venv_dir(name)
    if not (folder / ".complete").is_file():
        raise AssertionError(f"The {name} test venv is missing: run `{PREPARE}`")
    return folder / "bin"


def _build(name: str) -> tuple[str, float, str]:
    folder = venv_dir(name)
    if (folder / ".complete").is_file():
        return name, 0.0, "ready"
    start = time.monotonic()
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Built under its final path (venvs hard-code it), marked complete only at the end.
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([PYTHON, "-m", "venv", str(folder)], check=True)
    pip = [
        str(folder / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    log = root() / f"{name}.log"
    with log.open("w") as out:
        done = subprocess.run([*pip, *PINS[name]], stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        return name, time.monotonic() - start, f"FAILED (see {log})"
    (folder / ".complete").write_text("\n".join(PINS[name]) + "\n")
    return name, time.monotonic() - start, "built"


def prepare(names: list[str]) -> int:
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = list(pool.map(_build, names))
    for name, seconds, state in results:
        print(f"{name:10} {state:8} {seconds:6.0f} s  {venv_dir(name)}")
    return 1 if any(state.startswith("FAILED") for _, _, state in results) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="build the missing venvs")
    parser.add_argument("names", nargs="*", help=f"some of {', '.join(PINS)} (default: all)")
    args = parser.parse_args(argv)
    names = args.names or list(PINS)
    unknown = [n for n in names if n not in PINS]
    if unknown:
        parser.error(f"unknown framework {unknown[0]!r}; choose from {', '.join(PINS)}")
    if args.prepare:
        return prepare(names)
    for name in names:
        print(venv_dir(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
