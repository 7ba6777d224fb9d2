"""The wheels a device needs, fetched on this PC with pip and kept in the studio's cache.

The cache is asked first, offline (``--no-index``): a second board of the same kind, or a booth
without internet, installs from it. Only when it cannot satisfy every requirement does pip go to
the index (the user's pip configuration, so a mirror set there is used). A download lands in a
hidden folder and is moved into the cache only when complete.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from studio.core.devices.setup.probe import DevicePlatform
from studio.core.errors import BadInput, JobCancelled, OutputError
from studio.core.messages import message
from studio.core.paths import cache_dir

REQUIREMENTS = ("onnxruntime", "onnxruntime-genai", "numpy")
# pip's words when the index could not be reached at all (urllib3 / requests errors).
_NETWORK = re.compile(
    r"NewConnectionError|Failed to establish|Max retries|Could not fetch URL|"
    r"Temporary failure in name resolution|Network is unreachable|Connection refused|timed out",
    re.IGNORECASE,
)


def wheel_cache(plat: DevicePlatform) -> Path:
    return cache_dir() / "device-runtime" / plat.cache_key()


def _pip(
    plat: DevicePlatform, dest: Path, extra: list[str], vendor: tuple[str, ...] = ()
) -> list[str]:
    major, minor = plat.python_tuple
    platforms = [arg for tag in plat.pip_platforms() for arg in ("--platform", tag)]
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--no-input",
        "--only-binary=:all:",
        *platforms,
        "--python-version",
        f"{major}.{minor}",
        "--implementation",
        "cp",
        "--abi",
        f"cp{major}{minor}",
        "-d",
        str(dest),
        *extra,
        *REQUIREMENTS,
        *vendor,
    ]


def _run(argv: list[str], cancel: threading.Event | None) -> tuple[int, str]:
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
    )
    while proc.poll() is None:
        if cancel is not None and cancel.is_set():
            proc.kill()
            proc.wait()
            raise JobCancelled("Runtime download cancelled", "Nothing was put in the cache")
        time.sleep(0.1)
    out = proc.stdout.read() if proc.stdout else ""
    return proc.returncode, out


def _wheels(folder: Path, listing: str) -> list[Path]:
    """The wheels pip chose, by the names its output mentions (the cache may hold others)."""
    names = set(re.findall(r"[\w.+-]+\.whl", listing))
    return sorted(p for p in folder.glob("*.whl") if p.name in names)


def fetch_wheels(
    plat: DevicePlatform, cancel: threading.Event | None = None, vendor: tuple[str, ...] = ()
) -> list[Path]:
    """The wheel files for the device (``vendor``: the chip maker's runtime wheel too), from the
    cache or downloaded into it."""
    folder = wheel_cache(plat)
    if folder.is_dir():
        code, out = _run(
            _pip(plat, folder, ["--no-index", "--find-links", str(folder)], vendor), cancel
        )
        if code == 0 and _wheels(folder, out):
            return _wheels(folder, out)
    partial = folder.parent / f".{folder.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        # Two retries, so an offline PC answers in seconds (and pip then names the connection
        # error it met, which is how "offline" is told from "no such wheel").
        code, out = _run(_pip(plat, partial, ["--retries", "2"], vendor), cancel)
        if code != 0:
            raise _pip_error(plat, out, folder)
        folder.mkdir(exist_ok=True)
        for wheel in partial.glob("*.whl"):
            wheel.replace(folder / wheel.name)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return _wheels(folder, out)


def _pip_error(plat: DevicePlatform, out: str, folder: Path) -> BadInput | OutputError:
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")] or lines[-1:]
    detail = (errors[0] if errors else "no output").removeprefix("ERROR: ").rstrip(".")
    if _NETWORK.search(out):
        reason = re.search(r"new connection: ([^'\"]+)", out)
        detail = reason.group(1).strip() if reason else "no connection"
        return BadInput(
            msg=message(
                "device_setup.offline", platform=plat.describe(), detail=detail, cache=str(folder)
            )
        )
    if "from versions: none" in out:
        return BadInput(
            msg=message("device_setup.no_wheels", serial=plat.serial, platform=plat.describe())
        )
    return OutputError(
        msg=message("device_setup.pip_failed", platform=plat.describe(), detail=detail)
    )
